"""Load and abuse: does an ordinary reader stay served while abusive callers attack?

    PYTHONPATH=. .venv/bin/python bench/abuse.py [--seconds 6] [--scale 1] [--against DIR]

One ``emining serve`` (one worker, the platform's own server settings) over an embedded
PostgreSQL with the samples. In each phase a separate process runs N abusive callers for
``--seconds`` while this process sends ordinary anonymous bbox requests one after another
(``/collections/deposits/items?bbox=…&limit=100``); the figure is their p99 latency, printed
beside the same figure with no abuse (phase "none"), measured in the same run. Target: within
2× of it. With ``--against DIR`` (another checkout, e.g. ``git worktree add
/tmp/before main``) a second server runs that code over the same database, and each phase is
measured on both, one after the other, so that a change is seen beside its baseline under the
same load.

Attacks (all on loopback, bounded in count and time; abusers bind their own 127.0.0.x source
addresses, as separate machines would be):
- big login bodies: chunked 64 MiB POSTs to /auth/token;
- wrong logins: concurrent wrong passwords for real and made-up accounts;
- huge checks: 10,000-part MultiPolygons (13 MB) to /applications/check, and blocks at the
  part and vertex limits (real PostGIS work) from several keys;
- one caller's flood: 64 requests at once with one key;
- trickling headers: 2,000 connections sending a request head a byte a second.

The abusers run at nice 19: on loopback they share the server's cores, which real attackers on
their own machines would not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from api.server import HEADER_SECONDS  # noqa: E402
from geo import access, db  # noqa: E402
from geo.embedded import Cluster  # noqa: E402
from geo.licensing import BLOCK_PARTS, BLOCK_VERTICES  # noqa: E402
from geo.load import load_samples  # noqa: E402

ORDINARY = "/collections/deposits/items?bbox=60,23,78,37&limit=100"
PASSWORD = "bench password, synthetic"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per phase")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the abusers")
    parser.add_argument("--only", default=None, help="comma-separated attacks (default: all)")
    parser.add_argument(
        "--against", type=Path, default=None, help="another checkout, measured beside this one"
    )
    return parser.parse_args(argv)


def multipolygon(parts: int, vertices_each: int = 4) -> dict:
    """``parts`` small disjoint squares in Balochistan, each ring of ``vertices_each`` + 1."""
    polygons = []
    for i in range(parts):
        x, y = 64.0 + 0.002 * (i % 100), 27.0 + 0.002 * (i // 100)
        n = max(vertices_each, 4)
        side = [[x + 0.001 * k / (n // 4), y] for k in range(n // 4)]
        ring = (side + [[x + 0.001, y + 0.001 * k / (n - n // 4)] for k in range(n - n // 4)]
                + [[x, y + 0.001], [x, y]])  # fmt: skip
        polygons.append([ring])
    return {"type": "MultiPolygon", "coordinates": polygons}


def application(geometry: dict) -> bytes:
    return json.dumps({"type": "Feature", "geometry": geometry, "properties": {
        "licence_type": "exploration", "commodities": ["copper"]}}).encode()  # fmt: skip


# ---- the abusers (run in a child process) -----------------------------------------------------


def client(base: str, address: int, **headers: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{address}")
    return httpx.AsyncClient(base_url=base, transport=transport, headers=headers, timeout=30)


async def forever(deadline: float, send, seen: Counter) -> None:
    while time.monotonic() < deadline:
        try:
            seen[await send()] += 1
        except (httpx.HTTPError, OSError) as error:
            seen[type(error).__name__] += 1
            await asyncio.sleep(0.05)


MIB = b"x" * 2**20


async def big_bodies(base: str, n: int, deadline: float, seen: Counter, _: dict) -> None:
    async def body():
        for _ in range(64):
            yield MIB

    async def one(i: int) -> None:
        async with client(base, 10 + i % 40) as c:
            await forever(deadline, lambda: post_status(c, "/auth/token", body()), seen)

    await asyncio.gather(*(one(i) for i in range(n)))


async def post_status(c: httpx.AsyncClient, path: str, content, **headers) -> int:
    return (await c.post(path, content=content, headers=headers)).status_code


async def wrong_logins(base: str, n: int, deadline: float, seen: Counter, people: dict) -> None:
    async def one(i: int) -> None:
        email = people["emails"][i % len(people["emails"])] if i % 2 else f"nobody{i}@x.example"
        form = {"username": email, "password": f"wrong guess {i}"}
        async with client(base, 10 + i % 40) as c:
            await forever(deadline, lambda: status(c.post("/auth/token", data=form)), seen)

    await asyncio.gather(*(one(i) for i in range(n)))


async def status(request) -> int:
    return (await request).status_code


async def huge_checks(base: str, n: int, deadline: float, seen: Counter, people: dict) -> None:
    huge = application(multipolygon(10_000))
    # A ring of k corners has k + 2 coordinates (two closing it): just under both limits.
    at_limit = application(multipolygon(BLOCK_PARTS, BLOCK_VERTICES // BLOCK_PARTS - 3))
    geojson = {"Content-Type": "application/geo+json"}

    async def one(i: int) -> None:
        key = people["keys"][i % len(people["keys"])]
        body = huge if i % 2 else at_limit
        async with client(base, 10 + i % 40, **{"X-API-Key": key}) as c:
            await forever(deadline, lambda: post_status(c, "/applications/check", body,
                                                        **geojson), seen)  # fmt: skip

    await asyncio.gather(*(one(i) for i in range(n)))


async def raw_status(port: int, address: int, request: bytes) -> int:
    """One request on a fresh connection from 127.0.0.``address``, with no client library (a
    flood's cost should be the server's, not httpx's): the status code."""
    source = (f"127.0.0.{address}", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=source)
    try:
        writer.write(request)
        line = await reader.readline()
        return int(line.split()[1])
    finally:
        writer.close()


async def flood(base: str, n: int, deadline: float, seen: Counter, people: dict) -> None:
    port = int(base.rsplit(":", 1)[1])
    request = (f"GET {ORDINARY} HTTP/1.1\r\nHost: x\r\nX-API-Key: {people['keys'][0]}\r\n"
               "Connection: close\r\n\r\n").encode()  # fmt: skip

    async def one(i: int) -> None:
        await forever(deadline, lambda: raw_status(port, 60, request), seen)

    await asyncio.gather(*(one(i) for i in range(n)))


async def trickle(base: str, n: int, deadline: float, seen: Counter, _: dict) -> None:
    """Connections that send a request head a byte a second; what each was answered."""
    port = int(base.rsplit(":", 1)[1])
    head = b"GET /collections HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200

    async def one(i: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(f"127.0.0.{100 + i % 100}", 0))  # fmt: skip
        except OSError as error:
            seen[type(error).__name__] += 1
            return
        try:
            for byte in head:
                if time.monotonic() > deadline or reader.at_eof():
                    break
                writer.write(bytes([byte]))
                await asyncio.sleep(1.0)
            answer = await asyncio.wait_for(reader.read(12), 0.1)
            seen[answer.decode(errors="replace").strip() or "closed"] += 1
        except (OSError, TimeoutError) as error:
            seen[type(error).__name__ if not isinstance(error, TimeoutError) else "open"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(one(i) for i in range(n)))


ATTACKS = {
    "big login bodies": (big_bodies, 6),
    "wrong logins": (wrong_logins, 32),
    "huge checks": (huge_checks, 12),
    "one caller's flood": (flood, 64),
    "trickling headers": (trickle, 2000),
}


def abuse(name: str, base: str, n: int, seconds: float, people: dict, out) -> None:
    """In the child process, at the lowest CPU priority: on a real attack the abusers' own CPU is
    theirs, not the server's, so here it must not take the cores the server measures on."""
    os.nice(19)
    attack = ATTACKS[name][0]
    seen: Counter = Counter()
    asyncio.run(attack(base, n, time.monotonic() + seconds, seen, people))
    out.put(dict(seen))


# ---- the ordinary reader and the run ----------------------------------------------------------


def ordinary(base: str, seconds: float) -> tuple[float, float, int, Counter]:
    """p50 and p99 (ms) of sequential anonymous bbox reads for ``seconds``."""
    times, statuses = [], Counter()
    with httpx.Client(base_url=base, timeout=60) as c:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            statuses[c.get(ORDINARY).status_code] += 1
            times.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(times, n=100)
    return cuts[49], cuts[98], len(times), statuses


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants (a server's checking process), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += sum(cpu_seconds(int(c)) for c in (task / "children").read_text().split())
    except (OSError, IndexError, ValueError):
        return 0.0
    return total


def settle(pids: list[int], idle: float = 0.1, most: float = 30.0) -> None:
    """Wait until every server uses less than ``idle`` of a core: requests queued by the last
    phase's abusers (up to the guard's 10 s) would otherwise be served during the next phase,
    which may be the other server's."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        before = [cpu_seconds(pid) for pid in pids]
        time.sleep(0.5)
        if all(cpu_seconds(pid) - b < idle * 0.5 for pid, b in zip(pids, before, strict=True)):
            return


def phase(name: str, base: str, args, people: dict, pids: list[int]) -> tuple:
    settle(pids)
    if name == "none":  # no abuse: the baseline, measured first and again last
        time.sleep(0.5)
        return (name, 0, *ordinary(base, args.seconds), {})
    n = max(1, round(ATTACKS[name][1] * args.scale))
    out = multiprocessing.Queue()
    # Trickling connections are cut off after the server's header deadline: let them reach it.
    lasts = args.seconds + 1.5 if name != "trickling headers" else HEADER_SECONDS + 2
    child = multiprocessing.Process(target=abuse, args=(name, base, n, lasts, people, out))
    child.start()
    time.sleep(1.0)  # the attack is under way
    measured = ordinary(base, args.seconds)
    seen = out.get(timeout=120)
    child.join(timeout=30)
    return (name, n, *measured, seen)


def command_module(tree: Path) -> str:
    return "cli.main" if (tree / "cli" / "main.py").exists() else "api.cli"


def serve(url: str, home: Path, tree: Path, label: str) -> tuple[subprocess.Popen, str]:
    """``emining serve`` of the code in ``tree`` (this checkout, or ``--against``)."""
    with socket_port() as port:
        pass
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(tree)}
    log = (home / f"server-{label}.log").open("w")
    process = subprocess.Popen(
        # A checkout from before the command moved to cli/ has it in api/cli.py.
        [sys.executable, "-c", f"from {command_module(tree)} import main; main()", "serve",
         "--no-samples", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tree,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not start; see {log.name}")


class socket_port:
    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="emining-abuse-", dir="/tmp"))
    home.chmod(0o711)
    cluster = Cluster(home)
    processes = []
    try:
        cluster.start()
        url = cluster.url()
        db.migrate(url)
        people = {"emails": [], "keys": []}
        with psycopg.connect(url, autocommit=True) as conn:
            load_samples(conn)
            org = access.ensure_organisation(conn, "Bench Applicants (synthetic)", "enterprise")
            for i in range(6):
                email = f"applicant{i}@bench.example"
                access.add_user(conn, email, org, "editor", password=PASSWORD)
                people["emails"].append(email)
                people["keys"].append(access.add_key(conn, email))
        trees = {"this": REPO} | ({"against": args.against.resolve()} if args.against else {})
        bases = {}
        for label, tree in trees.items():
            process, bases[label] = serve(url, home, tree, label)
            processes.append(process)
        chosen = args.only.split(",") if args.only else list(ATTACKS)
        rows = {label: [] for label in bases}
        for name in ("none", *chosen, "none"):
            for label, base in bases.items():
                rows[label].append(phase(name, base, args, people, [p.pid for p in processes]))
        print(
            "\n\n".join(report(found, args, label, trees[label]) for label, found in rows.items())
        )
        return 0
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


def report(rows: list, args: argparse.Namespace, label: str, tree: Path) -> str:
    """The ratio is to the mean of the two unabused phases (first and last): on a shared
    machine the baseline itself moves, and the two show by how much."""
    baseline = (rows[0][3] + rows[-1][3]) / 2
    lines = [
        f"server: {label} ({tree}, {revision(tree)})",
        f"ordinary reader: sequential anonymous GET {ORDINARY}, {args.seconds:g} s per phase; "
        f"one uvicorn worker, {os.cpu_count()} CPUs, loadavg {os.getloadavg()[0]:.1f}",
        "",
        "| attack | abusers | reads | p50 ms | p99 ms | p99 / no abuse | reads not 200 | "
        "abusers' answers |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, n, p50, p99, count, statuses, seen in rows:
        bad = sum(v for k, v in statuses.items() if k != 200)
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(seen.items(), key=lambda kv: -kv[1]))
        lines.append(f"| {name} | {n} | {count} | {p50:.1f} | {p99:.1f} | "
                     f"{p99 / baseline:.2f}× | {bad} | {answers or '—'} |")  # fmt: skip
    lines.append(
        f"\np99 with no abuse: {rows[0][3]:.1f} ms first, {rows[-1][3]:.1f} ms last; "
        f"ratios are to their mean, {baseline:.1f} ms"
    )
    return "\n".join(lines)


def revision(tree: Path) -> str:
    """The checkout's commit, and whether it has changes not committed."""

    def git(*args: str) -> str:
        found = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
        return found.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "not a git checkout"
    return commit + (
        " with uncommitted changes"
        if git("status", "--porcelain", "--", "api", "geo", "layers")
        else ""
    )


if __name__ == "__main__":
    sys.exit(main())
