"""Reads in service per client address: all a caller may have when it is alone, an equal share
of the worker when others are about, so that a flood from one address leaves the others the
worker they would have without it.

Why not a cap on the caller's requests in flight alone (api.guard's ``per_caller``): a flooder
within it keeps its 8 reads in service and an ordinary reader gets a ninth of the worker
(bench/abuse.py measured 7-15x its p99). Why not one queue for all with a few turns (tried,
2026-12-07): two slow reads of anyone, waiting on the database rather than the CPU, then held
every other reader up; here a caller's own reads are all that ever wait for it.

Why by address and not by credential: a made-up key costs nothing, an address does (an IPv6
caller is counted by its /64, the block one subscriber is given). An office behind one NAT
shares a share; it is only a share while others are active, and only per worker process.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import Counter, OrderedDict, deque

ACTIVE_SECONDS = 1.0
"""How long after its last read a caller still counts as active: a reader who sends one request
after another is never in service between two of them, yet must not lose its share then."""


def share_key(address: str) -> str:
    """What shares are counted by: the IPv4 address, or the IPv6 /64 it is in."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    except ValueError:
        return address


class Shares:
    """``slots`` reads in service, divided equally among the active callers (at least one
    each); a caller alone may have ``alone``. A read over its caller's share waits, in its
    caller's own line (first come, first served), for one of that caller's reads to end."""

    def __init__(self, slots: int, alone: int, active_seconds: float = ACTIVE_SECONDS):
        self.slots, self.alone, self.active_seconds = max(1, slots), alone, active_seconds
        self.serving: Counter[str] = Counter()
        self.waiting: dict[str, deque[asyncio.Future]] = {}
        self.seen: OrderedDict[str, float] = OrderedDict()  # oldest first

    def share(self) -> int:
        """A caller's share now (the caller asking has always just been counted active)."""
        active = self.active()
        return self.alone if active <= 1 else max(1, self.slots // active)

    def active(self) -> int:
        """Callers with a read in service or waiting, or one within ``active_seconds``."""
        now = time.monotonic()
        while self.seen:
            who, when = next(iter(self.seen.items()))
            if when >= now - self.active_seconds:
                break
            if who in self.serving or who in self.waiting:  # still active: keep, as of now
                self.touch(who, now)
            else:
                del self.seen[who]
        return len(self.seen)

    def touch(self, who: str, now: float | None = None) -> None:
        self.seen[who] = time.monotonic() if now is None else now
        self.seen.move_to_end(who)

    async def acquire(self, who: str, seconds: float) -> bool:
        """True once in service; False when ``seconds`` passed first (nothing then held)."""
        self.touch(who)
        if who not in self.waiting and self.serving[who] < self.share():
            self.serving[who] += 1
            return True
        turn = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(who, deque()).append(turn)
        try:
            await asyncio.wait([turn], timeout=seconds)
        except BaseException:  # cancelled (the client went): leave, or pass the turn on
            if turn.done() and not turn.cancelled():
                self.release(who)
            else:
                self.leave(who, turn)
            raise
        if turn.done():
            return True
        self.leave(who, turn)
        return False

    def leave(self, who: str, turn: asyncio.Future) -> None:
        turn.cancel()
        line = self.waiting.get(who)
        if line is not None and turn in line:
            line.remove(turn)
            if not line:
                del self.waiting[who]

    def release(self, who: str) -> None:
        """One of ``who``'s reads is out of service: its next ones start, up to its share."""
        self.serving[who] -= 1
        if self.serving[who] <= 0:
            del self.serving[who]
        self.touch(who)
        line = self.waiting.get(who)
        while line and self.serving[who] < self.share():
            turn = line.popleft()
            if not turn.done():
                turn.set_result(None)
                self.serving[who] += 1
        if line is not None and not line:
            del self.waiting[who]
        if not self.serving[who]:
            del self.serving[who]
