"""CPU seconds spent by a PostgreSQL cluster's processes, read from /proc (Linux only).

Why CPU seconds next to wall seconds: the benchmark machine has 2 cores and is shared, so wall
time swings with whatever else runs; CPU seconds of our process and of the server change much
less, and their sum against the wall time shows how well client and server overlap.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _fields(pid: int | str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, or not Linux
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 0


def server_cpu(datadir: Path) -> float | None:
    """User + system seconds of the cluster so far: the postmaster, its live children, and
    (through the postmaster's cutime/cstime) every child it has reaped: sessions that ended,
    parallel index-build workers. None when unreadable."""
    try:
        postmaster = int((Path(datadir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    own = _fields(postmaster)
    if own is None:
        return None
    ticks = sum(int(own[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    for entry in os.scandir("/proc"):
        if (
            entry.name.isdigit()
            and (fields := _fields(entry.name))
            and fields[1] == str(postmaster)
        ):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / TICK
