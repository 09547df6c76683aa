"""OGC API benchmark: this API, TiPg, pygeoapi and the raw SQL, on one PostGIS, in one run.

Why: the API's cost should be judged against the database alone (the very statement it runs,
driven by ``pgbench -M prepared``: API / raw is our overhead) and against its peers serving the
same table. One run sets everything up on a throwaway embedded cluster, so the figures are
comparable with each other: 1,000,000 synthetic deposits (bench/synthetic.py, labelled
synthetic), loaded by ``emining load`` (Hilbert order, i.e. clustered as the store does); then
the same load for each server in turn: 8 connections, random 1°×1° box inside Pakistan's extent.

    python bench/ogc.py                      # everything, 2 worker processes per server
    python bench/ogc.py --workers 1 --seconds 10 --servers emining,tipg
    python bench/ogc.py --no-nodelay         # uvicorn as shipped (see ogc_servers.NODELAY_SHIM)
    python bench/ogc.py --profile            # also py-spy on this API under the bbox load
    python bench/ogc.py --servers emining --candidate /tmp/patched-copy   # try a change

Queries: ``bbox`` (limit=100, exact numberMatched), ``item`` (one feature by random id),
``cql2`` (``A_CONTAINS(commodities, ('copper'))`` plus the box, limit=100). The peers are
installed from PyPI into bench/out/venvs/ (git-ignored) on first use; wrk (Debian package) and
pgbench (postgresql-client) must be installed. The cluster is removed at the end, also on errors,
Ctrl-C and SIGTERM. Notes and figures: bench/OGC.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from starlette.datastructures import QueryParams

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))
# --candidate folders come first here too, before the project is imported: "raw" must be the
# SQL the candidate runs, not the project's.
sys.path[:0] = [
    str(Path(value).resolve())
    for flag, value in zip(sys.argv, sys.argv[1:], strict=False)
    if flag == "--candidate"
]

from api.ogc.params import items_query  # noqa: E402
from bench import ogc_servers as servers  # noqa: E402
from bench.ogc_drive import Result, pgbench, profile, wrk  # noqa: E402
from bench.synthetic import synthetic_deposits, write_gpkg  # noqa: E402
from geo import db  # noqa: E402
from geo.crs import DEFAULT  # noqa: E402
from geo.embedded import Cluster  # noqa: E402
from geo.query import item_statement, items_statement  # noqa: E402
from layers.catalogue import get  # noqa: E402

OUT = BENCH / "out"
QUERIES = ("bbox", "item", "cql2")
SERVERS = ("emining", "tipg", "pygeoapi")
SANITY_BOX = (71.0, 33.0, 72.0, 34.0)  # 1,097 synthetic deposits (around Peshawar and Kohat)
SANITY_ID = 123_456
RAW = "raw SQL"


def common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options bench/ogc.py and bench/tiles.py share: data, servers, load, TCP_NODELAY."""
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42, help="data and load generator seed")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds before each")
    parser.add_argument(
        "--nodelay",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give every server's uvicorn listener TCP_NODELAY, so that with --workers > 1 "
        "responses are not held ~40 ms by Nagle's algorithm (ogc_servers.NODELAY_SHIM); "
        "--no-nodelay runs the servers exactly as shipped",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser)
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset")
    parser.add_argument("--queries", default=",".join(QUERIES), help="comma-separated subset")
    parser.add_argument("--no-raw", dest="raw", action="store_false", help="skip pgbench")
    parser.add_argument("--profile", action="store_true", help="py-spy this API under bbox load")
    parser.add_argument(
        "--candidate",
        type=Path,
        action="append",
        default=[],
        help="run this API with this folder first on PYTHONPATH, e.g. a patched copy of the "
        "project (repeatable); the raw SQL is then the candidate's too",
    )
    args = parser.parse_args(argv)
    args.queries = [q for q in args.queries.split(",") if q]
    args.servers = [s for s in args.servers.split(",") if s]
    if unknown := (set(args.queries) - set(QUERIES)) | (set(args.servers) - set(SERVERS)):
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        parser.error("wrk not found: apt-get install -y wrk")
    return args


def synthetic_file(rows: int, seed: int) -> Path:
    """The synthetic deposits' GeoPackage, generated on first use and kept (bench/out)."""
    path = OUT / f"deposits-{rows}-seed{seed}.gpkg"
    if not path.exists():
        print(f"generating {rows:,} synthetic deposits into {path}", file=sys.stderr)
        write_gpkg(synthetic_deposits(rows, seed), path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = synthetic_file(args.rows, args.seed)
    # Before the cluster starts: the first install takes a while.
    for name in [n for n in ("tipg", "pygeoapi") if n in args.servers] + ["tools"] * args.profile:
        servers.venv(name)

    running: list[servers.Server] = []
    with loaded_cluster(path, args, "emining-ogc-") as (home, url, context):
        try:
            before = os.getloadavg()
            results: dict[tuple[str, str], Result | str] = {}
            if args.raw:
                for query, text in raw_statements(url, args.queries).items():
                    print(f"{RAW}: {query}", file=sys.stderr)
                    results[(RAW, query)] = pgbench(url, text, args.seconds, args.warmup, args.seed)
            sanity: dict[str, dict] = {}
            for name in args.servers:
                server = build(name, url, home, args)
                running.append(server)
                sanity[server.name] = serve_and_drive(server, args, results)
            sanity["SQL"] = sql_counts(url)
            print(report(results, sanity, args, before, context))
            return 0
        finally:
            for server in running:
                servers.stop(server)


@contextmanager
def loaded_cluster(
    path: Path, args: argparse.Namespace, prefix: str
) -> Iterator[tuple[Path, str, str]]:
    """A throwaway cluster with the deposits of ``path`` loaded: (its folder, URL, versions).

    Removed at the end, also on errors, Ctrl-C and SIGTERM.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so ``finally`` still runs
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    home.chmod(0o711)  # as root the server runs as postgres, which must reach the folder
    cluster = Cluster(home)
    try:
        url = load(cluster, path)
        context = machine(args, url)
        print(context, file=sys.stderr)
        yield home, url, context
    finally:
        print(f"stopping and removing the cluster in {home}", file=sys.stderr)
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


def serve_and_drive(
    server: servers.Server, args: argparse.Namespace, results: dict[tuple[str, str], Result | str]
) -> dict:
    """Start one server, check its answers, drive each query, stop it; return the checks.

    One server at a time, so an idle one does not take CPU from the one being measured.
    """
    log = OUT / "ogc" / f"{server.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    servers.start(server, log, ready=server.paths["item"].format(id=SANITY_ID))
    try:
        found = check(server)
        for query in args.queries:
            print(f"{server.name}: {query}", file=sys.stderr)
            results[(server.name, query)] = drive(server, query, args)
        if args.profile and server.name == "emining":
            print(
                profile(
                    servers.worker_pids(server),
                    server.base,
                    server.paths["bbox"],
                    args.seed + 1,
                    servers.VENVS / "tools" / "bin" / "py-spy",
                    OUT / "ogc",
                ),
                file=sys.stderr,
            )
    finally:
        servers.stop(server)
    return found


def load(cluster: Cluster, path: Path) -> str:
    """Start the cluster, load the deposits with the real CLI; return the loopback TCP URL.

    Why VACUUM after the load: a freshly loaded table has no visibility map and unset hint bits,
    so the first readers would pay for writing them; every server should see the same settled
    table. Why TCP for everyone: TiPg (asyncpg) and pygeoapi take host and port, and the
    comparison is fairer when the API and pgbench reach the server the same way.
    """
    print(f"starting a throwaway cluster in {cluster.home}", file=sys.stderr)
    cluster.start()
    db.migrate(cluster.url())
    emining = Path(sys.executable).with_name("emining")
    started = time.perf_counter()
    subprocess.run(
        [str(emining), "load", str(path), "--layer", "deposits"],
        env={**os.environ, "DATABASE_URL": cluster.url()},
        check=True,
    )
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) deposits")
        rows = conn.execute("SELECT count(*) FROM deposits").fetchone()[0]
    print(f"loaded {rows:,} rows in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return cluster.url(tcp=True)


def machine(args: argparse.Namespace, url: str) -> str:
    """Versions and settings: figures from a shared 2-core machine need their context."""
    with psycopg.connect(url) as conn:
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    peers = [
        f"{name} {servers.version(servers.VENVS / name, name)}"
        for name in ("tipg", "pygeoapi")
        if (servers.VENVS / name).exists()
    ]
    shim = "on" if args.nodelay and args.workers > 1 else "off"
    extra = f"; emining PYTHONPATH += {[str(c) for c in args.candidate]}" if args.candidate else ""
    return (
        f"PostgreSQL {postgres}, PostGIS {postgis}, {', '.join(peers)}; {args.workers} uvicorn "
        f"worker process(es) per server, TCP_NODELAY shim {shim}{extra}"
    )


def build(name: str, url: str, home: Path, args: argparse.Namespace) -> servers.Server:
    """The server's command line and environment (plus the shim and candidates on PYTHONPATH)."""
    if name == "emining":
        server = servers.emining(url, args.workers)
    elif name == "tipg":
        server = servers.tipg(url, args.workers)
    else:
        server = servers.pygeoapi(url, args.workers, home / "pygeoapi")
    paths = [servers.nodelay_path(OUT / "ogc")] if args.nodelay and args.workers > 1 else []
    if server.name == "emining":
        paths += [str(folder.resolve()) for folder in args.candidate]
    if paths:
        server.env["PYTHONPATH"] = os.pathsep.join(paths)
    return server


def fill(template: str, box: tuple[float, ...], feature_id: int) -> str:
    return template.replace("{bbox}", ",".join(map(str, box))).replace("{id}", str(feature_id))


def check(server: servers.Server) -> dict:
    """What the server answers for one known box, filter and id, before it is loaded.

    A query the server cannot answer (an error status) is marked n/a with its reason rather
    than benchmarked: its errors would be fast and meaningless.
    """
    found: dict = {}
    for query, template in server.paths.items():
        status, body = servers.get_json(server.base + fill(template, SANITY_BOX, SANITY_ID))
        if status != 200 or not isinstance(body, dict):
            detail = body.get("description", body) if isinstance(body, dict) else body
            reason = f"HTTP {status}: {str(detail)[:80]}"
            server.missing[query] = (
                f"{reason}; {server.why[query]}" if query in server.why else reason
            )
            found[query] = reason
        elif query == "item":
            properties = body.get("properties", {})
            found[query] = f"id {body.get('id')}, {properties.get('name')}, {len(properties)} props"
        else:
            ids = [feature.get("id") for feature in body.get("features", [])]
            span = f"ids {ids[0]}..{ids[-1]}" if ids else "no features"
            found[query] = (
                f"matched {body.get('numberMatched')}, returned {body.get('numberReturned')}, "
                f"{span}"
            )
    return found


def sql_counts(url: str) -> dict:
    """The truth for the sanity box, filter and id, straight from SQL."""
    box = "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
    found = {}
    with psycopg.connect(url) as conn:
        for query, where in (("bbox", box), ("cql2", f"{box} AND commodities @> '{{copper}}'")):
            matched, first, last = conn.execute(
                f"SELECT (SELECT count(*) FROM deposits WHERE {where}), min(id), max(id) "
                f"FROM (SELECT id FROM deposits WHERE {where} ORDER BY id LIMIT 100) AS page",
                SANITY_BOX * 2,
            ).fetchone()
            found[query] = f"matched {matched}, ids {first}..{last}"
        name = conn.execute("SELECT name FROM deposits WHERE id = %s", [SANITY_ID]).fetchone()
        found["item"] = f"id {SANITY_ID}, {name[0]}"
    return found


def drive(server: servers.Server, query: str, args: argparse.Namespace) -> Result | str:
    """wrk on one query; a failure of the tool is reported in the table, not fatal to the run."""
    if query in server.missing:
        return f"n/a ({server.missing[query]})"
    try:
        return wrk(server.base, server.paths[query], args.seconds, args.warmup, args.seed)
    except (subprocess.CalledProcessError, AttributeError, KeyError, ValueError) as error:
        return f"failed ({type(error).__name__}: {error})"


def raw_statements(url: str, queries: list[str]) -> dict[str, str]:
    """The SQL the API runs for each query, with pgbench variables in place of the box and id.

    Built by the API's own code (``items_query`` parses the same parameters as a request, then
    ``items_statement``/``item_statement``), rendered by psycopg; every parameter equal to a
    coordinate of the box becomes :x1 :y1 :x2 :y2, the id :id, the others (filter values,
    limit, offset) literals.
    """
    source = get("deposits").source
    box = ",".join(map(str, SANITY_BOX))
    variables = dict(zip(SANITY_BOX, (":x1", ":y1", ":x2", ":y2"), strict=True))
    texts: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        for query in queries:
            if query == "item":
                text = item_statement(source, DEFAULT).as_string(conn)
                texts[query] = substitute(conn, text, [SANITY_ID], [":id"])
                continue
            params = {"limit": "100", "bbox": box}
            if query == "cql2":
                params |= {"filter-lang": "cql2-text", "filter": servers.CQL}
            statement, values = items_statement(source, items_query(source, QueryParams(params)))
            names = [variables.get(v) if isinstance(v, float) else None for v in values]
            assert set(names) >= set(variables.values()), values  # every corner is a variable
            texts[query] = substitute(conn, statement.as_string(conn), values, names)
    return texts


def substitute(conn: psycopg.Connection, text: str, values: list, names: list[str | None]) -> str:
    """Replace the n-th ``%s`` by the n-th name, or by the n-th value's literal if it has none."""
    pieces = text.replace("%%", "\0").split("%s")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"{len(pieces) - 1} placeholders for {len(values)} values")
    out = [pieces[0]]
    for value, name, piece in zip(values, names, pieces[1:], strict=True):
        out += [name or psycopg.sql.Literal(value).as_string(conn), piece]
    return "".join(out).replace("\0", "%")


def report(
    results: dict[tuple[str, str], Result | str],
    sanity: dict[str, dict],
    args: argparse.Namespace,
    before: tuple[float, float, float],
    context: str,
) -> str:
    """One Markdown table (query × server) with ratios to this API, then the sanity checks."""
    after = os.getloadavg()
    lines = [
        f"{args.rows:,} synthetic deposits; 8 connections (wrk -t2, pgbench -j2); "
        f"{args.seconds} s measured after {args.warmup} s warm-up",
        context,
        f"{os.cpu_count()} cores, load average {before[0]:.2f} before, {after[0]:.2f} after "
        "(other work on this machine skews the figures: compare rows of one run)",
        "",
        "| query | server | req/s | p50 ms | p99 ms | errors | emining ÷ this |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    order = ["emining", "TiPg", "pygeoapi", RAW]
    for query in args.queries:
        ours = results.get(("emining", query))
        for name in order:
            result = results.get((name, query))
            if result is None:
                continue
            if isinstance(result, str):
                lines.append(f"| {query} | {name} | {result} | | | | |")
                continue
            ratio = (
                f"{ours.rps / result.rps:.3g}"
                if isinstance(ours, Result) and name != "emining" and result.rps
                else ""
            )
            lines.append(
                f"| {query} | {name} | {result.rps:.1f} | {result.p50_ms:.1f} | "
                f"{result.p99_ms:.1f} | {result.errors} | {ratio} |"
            )
    lines += ["", f"sanity: box {SANITY_BOX}, id {SANITY_ID}: {agreement(sanity)}"]
    for name, found in sanity.items():
        lines += [f"  {name:<9} " + "; ".join(f"{q}: {v}" for q, v in found.items())]
    return "\n".join(lines)


def agreement(sanity: dict[str, dict]) -> str:
    """Whether every server that answered says what SQL says (numberMatched, page ids, name)."""
    truth = sanity.get("SQL", {})
    differ = [
        f"{name} {query}"
        for name, found in sanity.items()
        for query, said in found.items()
        if not said.startswith("HTTP")
        and re.sub(r"returned \d+, |, \d+ props", "", said) != truth.get(query)
    ]
    return "all answers agree with SQL" if not differ else "DIFFER: " + ", ".join(differ)


if __name__ == "__main__":
    sys.exit(main())
