"""Replicas on one machine: read throughput and p99 through HAProxy with 0, 1 and 2 synchronous
replicas, write latency with and without synchronous replication, and a failover timeline.

    PYTHONPATH=. .venv/bin/python bench/replicas.py [--rows 200000] [--seconds 10]

One run starts its own cluster (geo/ha.py: etcd ×3, Patroni ×3, HAProxy, two API processes,
fsync on), loads synthetic deposits into its empty store (bench/synthetic.py, labelled
synthetic), and measures:

* reads: pgbench (C, 8 clients, 2 threads) through HAProxy's read-only port, a bbox page of 10
  deposits as the items endpoint asks for it; with 2 synchronous replicas, then 1 (one replica
  stopped), then 0 (both stopped: HAProxy falls back to the primary);
* writes: one-row INSERTs, one client, sequential, through the read-write port, with the
  cluster's ``synchronous_commit = remote_apply`` (both replicas apply before the commit returns)
  and with ``local`` (the replicas still stream, nobody waits for them);
* failover: 8 readers and 2 writers through the API while the primary is killed (kill -9 of its
  Patroni and PostgreSQL), as in tests/test_ha.py.

Every process shares the machine's cores (2 here): replicas add no CPU, they compete for it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import synthetic_deposits, write_gpkg
from geo import access
from geo.embedded import find_bindir
from geo.ha import HACluster
from geo.ha_config import MEMBERS
from geo.load import load_file
from tests.ha_load import Load

READ_SQL = """\\set x random(6200, 7400)
\\set y random(2400, 3600)
SELECT id, name, ST_AsGeoJSON(geom) FROM deposits
 WHERE geom && ST_MakeEnvelope(:x / 100.0, :y / 100.0, :x / 100.0 + 0.25, :y / 100.0 + 0.25, 4326)
 ORDER BY id LIMIT 10;
"""


def pgbench_reads(url: str, seconds: int, folder: Path) -> tuple[float, float, float]:
    """(transactions/s, p50 ms, p99 ms) of the read query under 8 clients."""
    script = folder / "read.sql"
    script.write_text(READ_SQL)
    prefix = folder / f"log-{time.monotonic_ns()}"
    result = subprocess.run(
        [str(find_bindir() / "pgbench"), "-n", "-c", "8", "-j", "2", "-T", str(seconds),
         "-f", str(script), "-l", "--log-prefix", str(prefix), url],
        capture_output=True, text=True, cwd=folder, check=True,
    )  # fmt: skip
    tps = float(next(line for line in result.stdout.splitlines() if line.startswith("tps"))
                .split("=")[1].split()[0])  # fmt: skip
    latencies = sorted(
        int(line.split()[2]) / 1000
        for log in folder.glob(prefix.name + "*")
        for line in log.read_text().splitlines()
    )
    for log in folder.glob(prefix.name + "*"):
        log.unlink()
    p99 = latencies[int(len(latencies) * 0.99)]
    return tps, statistics.median(latencies), p99


def write_latencies(url: str, commit: str, n: int) -> tuple[float, float]:
    """(median ms, p99 ms) of single-row INSERT commits with ``synchronous_commit = commit``."""
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_writes (id bigserial, at timestamptz)")
        conn.execute(f"SET synchronous_commit = {commit}")
        for _ in range(n):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_writes (at) VALUES (now())")
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def failover(cluster: HACluster, key: str) -> dict[str, float]:
    old = cluster.leader()
    with Load(cluster.topology.api_url, key, readers=8, writers=2) as load:
        time.sleep(5)
        killed = time.monotonic()
        cluster.kill(old)
        deadline = killed + 60
        while cluster.leader() in (None, old) and time.monotonic() < deadline:
            time.sleep(0.1)
        promoted = time.monotonic()
        resumed = load.wait_for_ok("write", killed, timeout=60)
        time.sleep(3)
    ended = time.monotonic()
    lost = set(load.acknowledged) - names_in(cluster, load.acknowledged)
    return {
        "last good write (s before the kill)": killed - load.last_ok_before("write", killed),
        "promotion seen (s after the kill)": promoted - killed,
        "first good write (s after the kill)": (resumed or ended) - killed,
        "longest stretch without a read (s)": load.longest_gap("read", killed, ended),
        "reads failed": len(load.failures("read")),
        "reads done": len(load.done("read")),
        "writes acknowledged": len(load.acknowledged),
        "acknowledged writes lost": len(lost),
    }


def names_in(cluster: HACluster, names: list[str]) -> set[str]:
    with psycopg.connect(cluster.topology.write_url) as conn:
        rows = conn.execute("SELECT name FROM deposits WHERE name = ANY(%s)", [names])
        return {name for (name,) in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="synthetic deposits to load")
    parser.add_argument("--seconds", type=int, default=10, help="length of each read run")
    parser.add_argument("--writes", type=int, default=300, help="INSERTs per write run")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="emining-bench-ha-"))
    os.chmod(folder, 0o755)
    cluster = HACluster(folder / "cluster")
    try:
        started = time.monotonic()
        cluster.up(samples=False)  # an empty store: the synthetic load takes the bulk path
        print(f"cluster up in {time.monotonic() - started:.0f} s (etcd ×3, Patroni ×3, "
              f"HAProxy, 2 APIs) on {os.cpu_count()} cores", flush=True)  # fmt: skip
        topology = cluster.topology
        gpkg = write_gpkg(synthetic_deposits(args.rows), folder / "synthetic.gpkg")
        with psycopg.connect(topology.write_url, autocommit=True) as conn:
            started = time.monotonic()
            load_file(conn, gpkg, "deposits")
            conn.execute("ANALYZE deposits")
            size = conn.execute("SELECT pg_total_relation_size('deposits')").fetchone()[0]
            org = access.ensure_organisation(conn, "bench authority", "authority")
            access.add_user(conn, "bench@example.org", org, "editor")
            key = access.add_key(conn, "bench@example.org")
        print(f"{args.rows:,} synthetic deposits loaded in {time.monotonic() - started:.0f} s "
              "(one transaction, applied by both replicas before it returned); table and "
              f"indexes {size / 2**20:,.0f} MiB, {size / args.rows:,.0f} bytes a row")  # fmt: skip

        print("\nreads through HAProxy's read-only port (pgbench, 8 clients, bbox page of 10)")
        print(f"{'synchronous replicas':>22} {'reads/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        replicas = cluster.replicas()
        for stopped in ([], replicas[:1], replicas):
            cluster.stop(*[m for m in stopped if cluster.pid(m)])
            cluster.wait(lambda s=stopped: len(cluster.replicas()) == 2 - len(s),
                         time.monotonic() + 30, "replicas")  # fmt: skip
            time.sleep(2)  # HAProxy's checks (every 0.5 s) have followed
            tps, p50, p99 = pgbench_reads(topology.read_url, args.seconds, folder)
            label = f"{2 - len(stopped)}" + (" (primary serves)" if len(stopped) == 2 else "")
            print(f"{label:>22} {tps:9.0f} {p50:8.2f} {p99:8.2f}", flush=True)
        for member in MEMBERS:
            cluster.start_member(member)
        cluster.wait_replicas(2, time.monotonic() + 120)

        print(f"\nwrites: one-row INSERT commits, 1 client, {args.writes} each")
        print(f"{'synchronous_commit':>22} {'p50 ms':>8} {'p99 ms':>8}")
        for commit in ("remote_apply", "on", "local"):
            p50, p99 = write_latencies(topology.write_url, commit, args.writes)
            print(f"{commit:>22} {p50:8.2f} {p99:8.2f}", flush=True)

        print("\nfailover: kill -9 the primary under 8 readers + 2 writers through the API")
        for label, value in failover(cluster, key).items():
            print(f"  {label:>38}: {value:.2f}" if isinstance(value, float) else
                  f"  {label:>38}: {value}")  # fmt: skip
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
