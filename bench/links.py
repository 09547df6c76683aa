"""Links upkeep: relinking only the deposits that changed, against a full rebuild, in one run.

Why: the links (every deposit's access, nearest SEZ and nearest port by network distance) are
rebuilt when their sources change, and a reader waits for it. A full rebuild routes every
deposit; when only deposits changed (an edit through the API, a load of a few rows) the graph
and the targets stand, and only the changed deposits are relinked (geo/network.py). This prints
both side by side, on synthetic deposits (bench/synthetic.py, labelled synthetic) with the
sample corridors, SEZs and facilities, on a throwaway embedded cluster removed at the end.

    python bench/links.py                          # 100,000 deposits; 1, 100, 1,000 edits
    python bench/links.py --rows 1000000 --edits 1,1000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))

from bench import ogc  # noqa: E402
from cli.main import ProgressPrinter  # noqa: E402
from geo import network  # noqa: E402
from geo.load import SAMPLES  # noqa: E402

TARGET_LAYERS = ("corridors", "facilities", "sezs")  # sample layers the links are built from
MOVE = "UPDATE deposits SET geom = ST_Translate(geom, 0.01, 0.01) WHERE id IN (SELECT id FROM deposits ORDER BY md5(id::text || %s) LIMIT %s)"  # noqa: E501


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ogc.common_arguments(parser)
    parser.set_defaults(rows=100_000)
    parser.add_argument("--edits", default="1,100,1000", help="deposits moved per partial run")
    parser.add_argument("--runs", type=int, default=3, help="runs per partial size (median)")
    args = parser.parse_args(argv)
    args.edits = [int(n) for n in args.edits.split(",") if n]
    args.candidate = []  # bench/ogc.py's option, read by its machine description
    return args


def add_targets(url: str) -> None:
    emining = Path(sys.executable).with_name("emining")
    for layer in TARGET_LAYERS:
        subprocess.run(
            [str(emining), "load", str(SAMPLES / f"{layer}.geojson"), "--layer", layer,
             "--no-network"],
            env={**os.environ, "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def timed_build(conn: psycopg.Connection, force: bool = False) -> tuple[float, object]:
    started = time.perf_counter()
    report = network.build(conn, force=force, progress=ProgressPrinter("links", minimum=10_000))
    return time.perf_counter() - started, report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = ogc.synthetic_file(args.rows, args.seed)
    with ogc.loaded_cluster(path, args, "emining-links-") as (_, url, context):
        add_targets(url)
        rows = []
        with psycopg.connect(url, autocommit=True) as conn:
            print("full build (every deposit routed)", file=sys.stderr)
            full, report = timed_build(conn, force=True)
            rows.append(("full rebuild", report.relinked, full, full))
            unchanged, none = timed_build(conn)
            assert none is None
            rows.append(("nothing changed (version check)", 0, unchanged, unchanged))
            for n in args.edits:
                times = []
                for run in range(args.runs):
                    conn.execute(MOVE, [f"{n}-{run}", n])
                    seconds, report = timed_build(conn)
                    assert report.partial and report.relinked == n, report
                    times.append(seconds)
                rows.append((f"{n:,} deposit(s) moved", n, statistics.median(times), max(times)))
    print(f"{args.rows:,} synthetic deposits; sample corridors, SEZs and facilities")
    print(context)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
    print()
    print("| links upkeep | deposits linked | seconds (median) | max | ÷ full rebuild |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for what, linked, median, worst in rows:
        print(f"| {what} | {linked:,} | {median:.3f} | {worst:.3f} | {median / full:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
