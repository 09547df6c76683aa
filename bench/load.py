"""Load benchmark: ``emining load`` against ``ogr2ogr`` on the same synthetic GeoPackage.

Why this comparison: ogr2ogr is what a GIS person would otherwise use to put a file into PostGIS,
so it is the bar the platform's loader must clear (issue target: emining's rows/s >= ogr2ogr's).
Both tools run as subprocesses, end to end, against one throwaway embedded cluster with the
platform's settings (geo/embedded.py: durable, fsync on, wal_level=minimal), and load the same
file into tables of one database; a third run (ogr2ogr into a copy of the deposits table)
separates the tools from the schema.

    python bench/load.py --reuse          # 1,000,000 rows (the file is generated once)
    python bench/load.py --rows 100000 --reuse --stages
    python bench/load.py --reuse --setting maintenance_work_mem=256MB

The cluster lives in a fresh folder directly under /tmp (the postgres user must reach it when we
run as root) and is stopped and removed at the end, also on errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))

from bench.cpu import server_cpu  # noqa: E402
from bench.stages import add_setting_option, time_stages  # noqa: E402
from bench.synthetic import LAYER, synthetic_deposits, write_gpkg  # noqa: E402
from cli.main import ProgressPrinter  # noqa: E402
from geo import db  # noqa: E402
from geo.embedded import Cluster  # noqa: E402

OUT = BENCH / "out"
OGR_TABLE = "deposits_ogr"
SAME_TABLE = "deposits_ogr_schema"
PASSWORD = re.compile(r"password=('(?:[^'\\]|\\.)*'|\S+)")


@dataclass
class Run:
    """One timed subprocess: wall seconds, CPU seconds and the peak memory of that process alone.

    ``server_cpu``: CPU seconds of every process of the cluster meanwhile (None if unreadable).
    """

    tool: str
    command: list[str]
    seconds: float
    cpu: float
    server_cpu: float | None
    peak_rss_mb: float
    returncode: int
    output: str
    rows: int = 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic deposits")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the GeoPackage")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the GeoPackage for these rows and seed"
    )
    parser.add_argument(
        "--transport",
        choices=("tcp", "socket"),
        default="tcp",
        help="how both tools reach the server (the same for both, for a fair comparison)",
    )
    parser.add_argument(
        "--no-same-schema",
        dest="same_schema",
        action="store_false",
        help="skip the third run (ogr2ogr appending into a copy of the deposits table)",
    )
    add_setting_option(parser)
    parser.add_argument(
        "--stages",
        action="store_true",
        help="afterwards, time the stages of geo.load.load_file in-process (bench/stages.py)",
    )
    args = parser.parse_args(argv)

    path = args.out / f"deposits-{args.rows}-seed{args.seed}.gpkg"
    if args.reuse and path.exists():
        print(f"reusing {path}", file=sys.stderr)
    else:
        generate(args.rows, args.seed, path)

    # SIGTERM becomes SystemExit so the ``finally`` below still removes the cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    home = Path(tempfile.mkdtemp(prefix="emining-bench-", dir="/tmp"))
    cluster = Cluster(home, extra_settings=dict(args.setting))
    try:
        print(f"starting a throwaway cluster in {home}", file=sys.stderr)
        cluster.start()
        db.migrate(cluster.url())
        load_before = os.getloadavg()[0]
        url = cluster.url(tcp=args.transport == "tcp")
        data = cluster.datadir
        runs = [
            timed("emining", emining_command(path), url, data, env={"DATABASE_URL": url}),
            timed("ogr2ogr", ogr2ogr_command(path, pg_dsn(url)), url, data),
        ]
        tables = ["deposits", OGR_TABLE]
        if args.same_schema:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"CREATE TABLE {SAME_TABLE} (LIKE deposits INCLUDING ALL)")
            command = ogr2ogr_same_schema_command(path, pg_dsn(url))
            runs.append(timed("ogr2ogr*", command, url, data))
            tables.append(SAME_TABLE)
        with psycopg.connect(url) as conn:
            for run, table in zip(runs, tables, strict=True):
                run.rows = count(conn, table)
            sizes = {table: size_mb(conn, table) for table in tables}
        report(runs, args.rows, sizes, args.transport, load_before, args.setting)
        if args.stages:
            time_stages(cluster.url(), path, datadir=cluster.datadir)
        return 0 if all(r.returncode == 0 and r.rows == args.rows for r in runs) else 1
    finally:
        print(f"stopping and removing the cluster in {home}", file=sys.stderr)
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


def generate(rows: int, seed: int, path: Path) -> None:
    """Build the synthetic frame and write it, with progress on stderr."""
    started = time.perf_counter()
    print(f"generating {rows:,} synthetic deposits (seed {seed})", file=sys.stderr)
    frame = synthetic_deposits(rows, seed)
    print(f"generated in {time.perf_counter() - started:.1f} s; writing {path}", file=sys.stderr)
    write_gpkg(frame, path, progress=ProgressPrinter(f"write {path.name}", minimum=0))
    size = path.stat().st_size / 2**20
    print(f"{path}: {size:,.0f} MiB in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def emining_command(path: Path) -> list[str]:
    """The real CLI from this venv: read, check, Hilbert sort, COPY, commit, ANALYZE.

    ``--no-network``: the links of a million deposits (geo/network.py) are derived data that
    ``emining load`` rebuilds afterwards by default; ogr2ogr builds nothing of the kind, so the
    comparison stops where the file is stored.
    """
    executable = Path(sys.executable).with_name("emining")
    return [str(executable), "load", str(path), "--layer", "deposits", "--no-network"]


def ogr2ogr_command(path: Path, dsn: str) -> list[str]:
    """A default-ish ogr2ogr import into a new table, with the emining table's names.

    COPY is ogr2ogr's default for a new PostgreSQL table (PG_USE_COPY, stated here anyway);
    ``-gt`` is left at its default (100,000 features per transaction); ``-nlt POINT`` and
    ``FID=id`` only give the table the same geometry type and key name as ``deposits``.
    """
    return [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        dsn,
        str(path),
        LAYER,
        "-nln",
        OGR_TABLE,
        "-nlt",
        "POINT",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "SPATIAL_INDEX=GIST",
        "-lco",
        "FID=id",
        "--config",
        "PG_USE_COPY",
        "YES",
    ]


def ogr2ogr_same_schema_command(path: Path, dsn: str) -> list[str]:
    """ogr2ogr appending into a copy of ``deposits`` (same indexes and CHECKs): tool vs tool.

    Why the ``-sql``: GDAL falls back from COPY to one INSERT per row when a column with a
    default (``updated_at``, the tile rank ``minzoom``) is left unset, so the query sets them
    (ogr2ogr cannot rank: 0, and the copy has no triggers to correct it); ``commodities`` needs
    nothing, as GDAL turns the JSON text into the ``text[]`` column's list itself.
    """
    return [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        dsn,
        str(path),
        "-append",
        "-nln",
        SAME_TABLE,
        "-sql",
        f"SELECT *, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS updated_at, 0 AS minzoom FROM {LAYER}",
        "--config",
        "PG_USE_COPY",
        "YES",
    ]


def pg_dsn(url: str) -> str:
    """GDAL's ``PG:`` connection string from a libpq URL (TCP with password, or socket)."""
    parts = urlsplit(url)
    query = dict(item.split("=", 1) for item in parts.query.split("&") if item)
    fields = {
        "host": unquote(parts.hostname or query.get("host", "")),
        "port": str(parts.port or query.get("port", "")),
        "dbname": unquote(parts.path.lstrip("/")),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }
    return "PG:" + " ".join(f"{k}={_conninfo_value(v)}" for k, v in fields.items() if v)


def _conninfo_value(value: str) -> str:
    """Quote a libpq keyword value when it needs it (spaces, quotes, backslashes)."""
    if value and not any(c in value for c in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def timed(
    tool: str, command: list[str], url: str, datadir: Path, env: dict[str, str] | None = None
) -> Run:
    """Run ``command`` after a CHECKPOINT; wall time, and CPU and peak RSS from ``wait4``.

    The CHECKPOINT keeps one run's dirty pages from being flushed on the other's clock.
    Stderr (progress) goes straight to the terminal; stdout is captured and echoed.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    print(f"\n$ {shlex.join(_redacted(command))}", file=sys.stderr)
    server = server_cpu(datadir)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    assert process.stdout is not None
    try:
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:  # Ctrl-C or SIGTERM: end our child before the cluster goes away
        process.kill()
        process.wait()
        raise
    seconds = time.perf_counter() - started
    server_after = server_cpu(datadir)
    process.returncode = os.waitstatus_to_exitcode(status)
    print(output, end="", file=sys.stderr)
    return Run(
        tool,
        command,
        seconds,
        usage.ru_utime + usage.ru_stime,
        None if server is None or server_after is None else server_after - server,
        usage.ru_maxrss / 1024,
        process.returncode,
        output.strip(),
    )


def count(conn: psycopg.Connection, table: str) -> int:
    try:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        return 0


def size_mb(conn: psycopg.Connection, table: str) -> float:
    found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
    if found is None:
        return 0.0
    return conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[0] / 2**20


def report(
    runs: list[Run],
    rows: int,
    sizes: dict[str, float],
    transport: str,
    load_before: float,
    settings: list[tuple[str, str]],
) -> None:
    """The figures table; ``x ogr2ogr`` is the run's rows/s over ogr2ogr's (higher is better)."""
    print(f"\nload benchmark: {rows:,} synthetic deposits, every tool over {transport}")
    if settings:
        print(
            "server settings on top of geo/embedded.py's: "
            + ", ".join(f"{k}={v}" for k, v in settings)
        )
    print(
        f"{os.cpu_count()} CPUs; 1-minute load average {load_before:.1f} before the runs,"
        f" {os.getloadavg()[0]:.1f} after (other work on the machine skews the figures)"
    )
    ogr = runs[1]
    same = next((run for run in runs if run.tool == "ogr2ogr*"), None)
    width = max(9, *(len(run.tool) for run in runs))
    header = (
        f"{'tool':<{width}} {'rows in table':>13} {'seconds':>8} {'rows/s':>9} {'CPU s':>6}"
        f" {'server CPU s':>12} {'peak RSS':>9} {'x ogr2ogr':>9}"
        + (f" {'x ogr2ogr*':>10}" if same else "")
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        server = "?" if run.server_cpu is None else f"{run.server_cpu:.1f}"
        print(
            f"{run.tool:<{width}} {run.rows:>13,} {run.seconds:>8.1f} {rows / run.seconds:>9,.0f}"
            f" {run.cpu:>6.1f} {server:>12} {run.peak_rss_mb:>6,.0f} MB"
            f" {ogr.seconds / run.seconds:>9.2f}"
            + (f" {same.seconds / run.seconds:>10.2f}" if same else "")
            + ("" if run.returncode == 0 else "  FAILED")
        )
    print(f"emining/ogr2ogr rows/s: {ogr.seconds / runs[0].seconds:.2f} (target: >= 1)")
    print("ogr2ogr: a new table with a primary key and a GiST index, nothing else")
    if same:
        print("ogr2ogr*: ogr2ogr -append into a copy of deposits (the same 5 indexes and CHECKs)")
    print(
        "CPU s: the tool's own user + system seconds; server CPU s: every process of the"
        " cluster meanwhile (its session, parallel index builds, checkpointer, autovacuum)"
    )
    print("table + indexes: " + ", ".join(f"{table} {mb:,.0f} MiB" for table, mb in sizes.items()))
    for run in runs:
        ok = "ok" if run.rows == rows else f"MISMATCH (expected {rows:,})"
        print(f"SELECT count(*) after {run.tool}: {run.rows:,} {ok}")


def _redacted(command: list[str]) -> list[str]:
    """The command as shown: the password of a ``PG:`` string replaced by ``***``."""
    return [
        PASSWORD.sub("password=***", part) if part.startswith("PG:") else part for part in command
    ]


if __name__ == "__main__":
    sys.exit(main())
