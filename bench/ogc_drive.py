"""Load drivers for bench/ogc.py: wrk for the HTTP servers, pgbench for the raw SQL, py-spy.

Why two tools and one shape of result: the servers and the database are driven with the same
load (8 connections, 2 threads, a random 1°×1° box inside Pakistan's extent per request) and
both report requests per second and per-request latency percentiles, so the ratio API / raw is
the API's own overhead. wrk's boxes come from Lua's RNG and pgbench's from its own: the same
distribution, not the same sequence.
"""

from __future__ import annotations

import collections
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PGBENCH = Path("/usr/lib/postgresql/15/bin/pgbench")
# Lower-left corners at 0.01° steps, so every box lies inside lon 61–77, lat 24–36.
LON_RANGE, LAT_RANGE = (6100, 7600), (2400, 3500)
IDS = (1, 1_000_000)
THREADS = 2  # wrk threads (the machine's cores)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
FRAME = re.compile(r"^(.+) \((.+?):\d+\)$")  # py-spy: "function (path/file.py:line)"

# Each wrk thread learns its number (1, 2, ...) as ``id``.
WRK_THREAD_IDS = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
"""
WRK_SCRIPT = (
    WRK_THREAD_IDS
    + """
local template = "%(template)s"
local seed = %(seed)d
function init(args)
  math.randomseed(seed * 1000 + (id or 0))
end
function request()
  local x = math.random(%(lon0)d, %(lon1)d) / 100
  local y = math.random(%(lat0)d, %(lat1)d) / 100
  local box = string.format("%%.2f,%%.2f,%%.2f,%%.2f", x, y, x + 1, y + 1)
  local path = template:gsub("{bbox}", box):gsub("{id}", tostring(math.random(%(id0)d, %(id1)d)))
  return wrk.format("GET", path)
end
"""
)

# A fixed list of paths (bench/tiles.py: the same random tiles for every server), walked in
# order; each wrk thread starts at its own share of the list so the threads do not repeat
# each other's requests.
WRK_LIST_SCRIPT = (
    WRK_THREAD_IDS
    + """
local paths = {%(paths)s}
function init(args)
  counter = math.floor((id - 1) * #paths / %(threads)d)
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter - 1) %% #paths + 1])
end
"""
)

PGBENCH_HEADER = """\\set x1 random(%d, %d) / 100.0
\\set y1 random(%d, %d) / 100.0
\\set x2 :x1 + 1.0
\\set y2 :y1 + 1.0
\\set id random(%d, %d)
"""


@dataclass
class Result:
    """Throughput and latency of one measured run; ``errors`` counts failed or non-2xx requests."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int = 0
    note: str = ""


def lua_script(template: str, seed: int, folder: Path) -> Path:
    """The wrk script filling ``{bbox}`` and ``{id}`` of ``template`` per request."""
    if '"' in template or "\\" in template:
        raise ValueError(f"the path template must not hold quotes: {template!r}")
    script = WRK_SCRIPT % {
        "template": template,
        "seed": seed,
        "lon0": LON_RANGE[0],
        "lon1": LON_RANGE[1],
        "lat0": LAT_RANGE[0],
        "lat1": LAT_RANGE[1],
        "id0": IDS[0],
        "id1": IDS[1],
    }
    path = folder / "request.lua"
    path.write_text(script)
    return path


def list_script(paths: list[str], folder: Path) -> Path:
    """The wrk script requesting ``paths`` in order (per thread: its own starting share)."""
    if any('"' in p or "\\" in p for p in paths):
        raise ValueError("paths must not hold quotes")
    folder.mkdir(exist_ok=True)
    path = folder / "paths.lua"
    text = WRK_LIST_SCRIPT % {"paths": ",".join(f'"{p}"' for p in paths), "threads": THREADS}
    path.write_text(text)
    return path


def wrk_paths(
    base: str, paths: list[str], warm: list[str], seconds: int, warmup: int, connections: int = 8
) -> Result:
    """Drive ``base`` with ``paths`` in order with wrk, after a warm-up on the other list ``warm``.

    Why a separate warm-up list: a warm-up over the measured paths would fill a server's cache
    with exactly the requests then measured.
    """
    with tempfile.TemporaryDirectory(prefix="ogc-wrk-") as folder:
        measured = list_script(paths, Path(folder))
        warm_script = list_script(warm, Path(folder) / "warm") if warm else None
        return drive(base, measured, warm_script, seconds, warmup, connections)


def drive(
    base: str, script: Path, warm: Path | None, seconds: int, warmup: int, connections: int
) -> Result:
    """wrk with ``warm`` for ``warmup`` seconds (unmeasured), then ``script`` measured."""
    if warmup and warm is not None:
        subprocess.run(wrk_command(warm, base, warmup, connections), capture_output=True,
                       check=True)  # fmt: skip
    done = subprocess.run(
        wrk_command(script, base, seconds, connections),
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_wrk(done.stdout)


def wrk_command(script: Path, base: str, seconds: int, connections: int = 8) -> list[str]:
    return [
        "wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency",
        "-s", str(script), base,
    ]  # fmt: skip


def wrk(
    base: str, template: str, seconds: int, warmup: int, seed: int, connections: int = 8
) -> Result:
    """Drive ``base + template`` ({bbox} and {id} filled per request) with wrk, after a warm-up."""
    with tempfile.TemporaryDirectory(prefix="ogc-wrk-") as folder:
        script = lua_script(template, seed, Path(folder))
        return drive(base, script, script, seconds, warmup, connections)


def _duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> Result:
    """Requests/sec, the 50% and 99% lines of ``--latency``, and every kind of error."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))  # "1.20s "
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in found.groups())
    return Result(
        rps, _duration_ms(percentiles["50"]), _duration_ms(percentiles["99"]), requests, errors
    )


def pgbench_script(sql_text: str) -> str:
    """A pgbench script: the random box (and id) as variables, then the statement."""
    header = PGBENCH_HEADER % (*LON_RANGE, *LAT_RANGE, *IDS)
    return header + sql_text.strip().rstrip(";") + ";\n"


def pgbench(
    url: str, sql_text: str, seconds: int, warmup: int, seed: int, clients: int = 8
) -> Result:
    """``pgbench -M prepared`` on one statement; percentiles from its per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="ogc-pgbench-") as folder:
        script = Path(folder) / "query.sql"
        script.write_text(pgbench_script(sql_text))
        command = [
            str(PGBENCH), "-n", "-M", "prepared", f"-c{clients}", "-j2",
            f"--random-seed={seed}", "-f", str(script),
        ]  # fmt: skip
        if warmup:
            subprocess.run([*command, f"-T{warmup}", url], capture_output=True, check=True)
        done = subprocess.run(
            [*command, f"-T{seconds}", "--log", f"--log-prefix={folder}/tx", url],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{done.stderr[-2000:]}")
        latencies = sorted(
            int(line.split()[2]) / 1000.0
            for log in Path(folder).glob("tx.*")
            for line in log.read_text().splitlines()
        )
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return Result(
        tps,
        percentile(latencies, 50),
        percentile(latencies, 99),
        len(latencies),
        int(failed.group(1)) if failed else 0,
    )


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted values (NaN when there are none)."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, round(percent / 100 * len(values) + 0.5) - 1))
    return values[rank]


def profile(
    pids: list[int], base: str, template: str, seed: int, spy: Path, folder: Path, seconds: int = 10
) -> str:
    """py-spy on every worker while wrk drives ``template``; where the workers' CPU goes.

    ``--gil``: only samples holding the GIL, i.e. Python's own CPU time. Without it py-spy
    counts a worker blocked in a C call (libpq's send, a socket write) as busy, and a worker
    at a third of a core looks saturated. A separate run from the measured one (sampling stops
    each process briefly); the collapsed stacks are kept as FOLDER/profile-PID.txt for a flame
    graph.
    """
    outs = [folder / f"profile-{pid}.txt" for pid in pids]
    with tempfile.TemporaryDirectory(prefix="ogc-profile-") as scratch:
        script = lua_script(template, seed, Path(scratch))
        load = subprocess.Popen(
            wrk_command(script, base, seconds + 4), stdout=subprocess.PIPE, text=True
        )
        try:
            time.sleep(2)
            spies = [
                subprocess.Popen(
                    [str(spy), "record", "--gil", "-r", "200", "-d", str(seconds), "-f", "raw",
                     "-o", str(out), "--pid", str(pid)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid, out in zip(pids, outs, strict=True)
            ]  # fmt: skip
            for spy_process in spies:
                spy_process.wait()
        finally:
            under = parse_wrk(load.communicate()[0])
    cpu = f"under py-spy: {under.rps:.1f} req/s"
    return cpu + "\n" + summarise(outs, seconds * 200 * len(pids))


def summarise(paths: list[Path], possible: int, top: int = 25) -> str:
    """Self and inclusive share of samples per function, from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in (line for path in paths for line in path.read_text().splitlines()):
        stack, _, count = line.rpartition(" ")
        # Thread and process names do not match FRAME and are left out.
        frames = [
            f"{m.group(1)} ({Path(m.group(2)).name})"
            for m in map(FRAME.match, stack.split(";"))
            if m
        ]
        total += int(count)
        if frames:
            own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [
        f"py-spy: {total} samples holding the GIL of {possible} possible "
        f"({100 * total / max(possible, 1):.0f}% of the workers' time) in "
        f"{', '.join(map(str, paths))}",
        "self%  function (share of the samples holding the GIL)",
    ]
    lines += [f"{100 * n / total:5.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["incl%  function"]
    lines += [f"{100 * n / total:5.1f}  {f}" for f, n in inclusive.most_common(top * 3)]
    return "\n".join(lines)
