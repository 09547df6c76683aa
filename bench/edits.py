"""Concurrent editing: OGC API – Features Part 4 writes against the same cycle in bare SQL.

    .venv/bin/python bench/edits.py [--editors 50] [--writes 20] [--workers 2]

Two cases, each run by ``--editors`` threads at once:
- **one feature**: every editor adds 1 to the same deposit's tonnage, reading it, then writing
  with ``If-Match`` and retrying on 412, until their one write succeeds. Afterwards the tonnage
  must equal the number of editors (no lost update); the figures are the wall time and the
  412s it took.
- **own features**: each editor makes ``--writes`` such edits to a deposit of their own (no
  contention): writes per second and latency.

Peers, in the same run, over the same store: the same read → lock → compare → update cycle as
bare SQL from psycopg (one connection per editor: the floor the API adds its HTTP, checks and
history to), and a naive read-modify-write without a lock or a version check, to show what a
lost update looks like. pygeoapi (0.21) is not a peer: its PostgreSQL provider has no create,
update or delete; TiPg serves reads only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

from geo import access, db
from geo.embedded import Cluster
from geo.load import load_samples

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))

from bench import ogc_servers as servers  # noqa: E402

GEOJSON = {"Content-Type": "application/geo+json"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--writes", type=int, default=20, help="edits per editor (own features)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    return parser.parse_args(argv)


def deposit(name: str) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [66.5, 27.5]},
            "properties": {"name": name, "commodities": ["copper"], "status": "occurrence",
                           "coord_quality": "approximate", "source": "synthetic (bench/edits.py)",
                           "tonnage_mt": 0.0}}  # fmt: skip


def api_edit(base: str, key: str, path: str) -> Callable[[], tuple[int, float]]:
    """One successful +1 through the API: (412s on the way, seconds of the successful write)."""
    local = threading.local()

    def once() -> tuple[int, float]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120)
        conflicts = 0
        while True:
            started = time.perf_counter()
            read = local.client.get(path)
            change = {"properties": {"tonnage_mt": read.json()["properties"]["tonnage_mt"] + 1}}
            tag = {**GEOJSON, "If-Match": read.headers["etag"]}
            answer = local.client.patch(path, json=change, headers=tag)
            if answer.status_code == 204:
                return conflicts, time.perf_counter() - started
            if answer.status_code != 412:
                raise RuntimeError(f"{answer.status_code}: {answer.text}")
            conflicts += 1

    return once


def sql_edit(url: str, fid: int, locked: bool) -> Callable[[], tuple[int, float]]:
    """The same +1 in bare SQL: locked (FOR UPDATE, then compare) or naive (read, then write)."""
    local = threading.local()
    lock = " FOR UPDATE" if locked else ""

    def once() -> tuple[int, float]:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url)
        started = time.perf_counter()
        with local.conn.transaction():
            (tonnage,) = local.conn.execute(
                f"SELECT tonnage_mt FROM deposits WHERE id = %s{lock}", [fid]
            ).fetchone()
            local.conn.execute("UPDATE deposits SET tonnage_mt = %s WHERE id = %s",
                               [tonnage + 1, fid])  # fmt: skip
        return 0, time.perf_counter() - started

    return once


def run(editors: int, tasks: list[Callable[[], tuple[int, float]]], repeat: int = 1) -> dict:
    """Each task on a thread of its own, ``repeat`` times in a row; figures per write."""
    started = time.perf_counter()
    with ThreadPoolExecutor(editors) as pool:
        results = [r for rs in pool.map(lambda task: [task() for _ in range(repeat)], tasks)
                   for r in rs]  # fmt: skip
    wall = time.perf_counter() - started
    latencies = sorted(seconds for _, seconds in results)
    return {
        "wall": wall,
        "writes": len(results),
        "conflicts": sum(c for c, _ in results),
        "p50": statistics.median(latencies) * 1e3,
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1e3,
    }


def tonnage(url: str, fid: int) -> float:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT tonnage_mt FROM deposits WHERE id = %s", [fid]).fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="emining-edits-", dir="/tmp"))
    home.chmod(0o711)
    cluster = Cluster(home)
    server = None
    try:
        cluster.start()
        url = cluster.url()
        db.migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            load_samples(conn)
            org = access.ensure_organisation(conn, "Bench Editors (synthetic)", "enterprise")
            access.add_user(conn, "editor@bench.example", org, "editor")
            key = access.add_key(conn, "editor@bench.example")
        server = servers.emining(url, args.workers)
        servers.start(server, home / "server.log", "/healthz")
        with httpx.Client(base_url=server.base, headers={"X-API-Key": key}) as c:
            created = [c.post("/collections/deposits/items", json=deposit(f"bench {i}"),
                              headers=GEOJSON).headers["location"]
                       for i in range(args.editors + 3)]  # fmt: skip
        paths = [p.removeprefix(server.base) for p in created]
        fids = [int(p.rsplit("/", 1)[1]) for p in paths]
        before = os.getloadavg()
        rows = []
        e = args.editors
        cases = (
            ("emining API, If-Match", "one", [api_edit(server.base, key, paths[0])] * e, fids[0]),
            ("bare SQL, FOR UPDATE", "one", [sql_edit(url, fids[1], True)] * e, fids[1]),
            ("bare SQL, naive", "one", [sql_edit(url, fids[2], False)] * e, fids[2]),
        )
        for name, case, tasks, fid in cases:
            result = run(e, tasks)
            rows.append((name, case, result, tonnage(url, fid)))
        own_api = [api_edit(server.base, key, p) for p in paths[3:]]
        own_sql = [sql_edit(url, f, True) for f in fids[3:]]
        for name, per_editor in (("emining API, If-Match", own_api),
                                 ("bare SQL, FOR UPDATE", own_sql)):  # fmt: skip
            rows.append((name, "own", run(e, per_editor, args.writes), None))
        print(report(rows, args, before))
        return 0
    finally:
        if server is not None:
            servers.stop(server)
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


def report(rows: list, args: argparse.Namespace, before: tuple) -> str:
    lines = [
        f"# Concurrent edits: {args.editors} editors, {args.workers} API workers, "
        f"{os.cpu_count()} cores; load average before {before[0]:.2f}, after "
        f"{os.getloadavg()[0]:.2f}",
        "",
        f"One feature, each editor adds 1 once (the result must be {args.editors}):",
        "",
        "| who | wall s | 412s | result | lost updates | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, case, r, result in rows:
        if case == "one":
            lost = args.editors - int(result)
            lines.append(f"| {name} | {r['wall']:.2f} | {r['conflicts']} | {result:.0f} | "
                         f"{lost} | {r['p50']:.1f} | {r['p99']:.1f} |")  # fmt: skip
    lines += ["", f"Own features, {args.writes} edits per editor (no contention):", ""]
    lines += ["| who | writes | wall s | writes/s | p50 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for name, case, r, _ in rows:
        if case == "own":
            rate = r["writes"] / r["wall"]
            lines.append(f"| {name} | {r['writes']} | {r['wall']:.2f} | {rate:.0f} | "
                         f"{r['p50']:.1f} | {r['p99']:.1f} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
