"""What one caller may take of the platform: body sizes, concurrent requests, request rates.

Why in the app and not only in the reverse proxy (deploy/nginx.conf): the app is also served
on its own (``emining serve``, the tests, a developer's machine), and only the app knows who a
caller is (their API key or token, not just their address). The proxy adds a coarser net in
front. The policy (figures, and why) is stated in docs/security.md.

Everything here is per worker process: with ``--workers N`` a caller gets N times the
allowance. The limits are small enough that N× is still harmless for a 10-connection pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import multiprocessing
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import orjson
from fastapi import HTTPException, Request

from geo.settings import (  # noqa: F401
    CHECK_BURST,
    CHECKS_PER_HOUR,
    PER_ADDRESS,
    PER_CALLER,
    SERVING_SLOTS,
    SERVING_WAIT,
)

T = TypeVar("T")

AUTH_BODY_MAX = 8 * 2**10  # bytes: an e-mail, a password and a path fit many times over
BODY_SECONDS = 30.0  # a body must have arrived in full within this (slow-trickle bodies)
HEAVY_PER_CALLER = 4
"""Expensive requests (``HEAVY``: conflict checks, writes, logins) one caller may have in flight."""
HEAVY_SHARE = 0.2
"""Of the pool's connections, the share expensive requests may hold together (2 of 10): the
rest is kept for reads, so a flood of checks or writes never leaves readers waiting, and the
database's CPU is not all theirs either (bench/abuse.py: limit-sized checks took the readers'
p99 to 2.9x with half the pool, 1.7x with a fifth)."""
HEAVY_WAIT = 10.0  # seconds an expensive request queues for its share before a 429
BLOCK_BYTES = 256 * 2**10  # an application's body: a block of BLOCK_VERTICES fits 10 times
LOGIN_WINDOW = 15 * 60.0  # seconds over which failed logins are counted
LOGIN_FAILURES_PER_ACCOUNT = 5
LOGIN_FAILURES_PER_ADDRESS = 30
HELD_SECONDS = 1.0
"""How long a refusal for being over a concurrency limit is held before it is sent, which is
also its Retry-After: a client that ignores Retry-After and asks again at once (a flood of 64
connections got 2,600 refusals a second, a third of the worker's time) is paced to it."""
HELD_PER_ADDRESS = 64  # refusals held at once per address; more are answered at once
HELD_TOTAL = 2_048  # refusals held at once in a worker (each is an open connection)
TRACKED = 50_000  # callers remembered per table; the least recently seen are forgotten


class LimitError(HTTPException):
    """A request over a limit: 413, 408 or 429 (with Retry-After) in OGC exception JSON."""

    def __init__(self, status: int, description: str, retry_after: float | None = None):
        headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after else None
        super().__init__(status, description, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as it streams in and refused (413) as soon as it passes ``limit`` bytes,
    or when Content-Length announces more; 408 when it has not arrived within BODY_SECONDS.

    Why not ``request.body()``: it keeps whatever is sent (a 1.5 GB chunked POST took the
    server to 3.35 GB) before any length can be looked at."""
    too_big = f"the body is over {limit:,} bytes"
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise LimitError(413, too_big)
    chunks, size = [], 0
    try:
        with anyio.fail_after(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise LimitError(413, too_big)
                chunks.append(chunk)
    except TimeoutError:
        raise LimitError(408, f"the body did not arrive within {BODY_SECONDS:.0f} s") from None
    return b"".join(chunks)


def caller_key(headers: dict[bytes, bytes], address: str) -> str:
    """Who a request counts against: its credential (hashed, never kept as given), else its
    address. A made-up credential is a caller of its own, but PER_ADDRESS still holds."""
    for name in (b"x-api-key", b"authorization", b"cookie"):
        value = headers.get(name)
        if value:
            return name.decode() + ":" + hashlib.blake2b(value, digest_size=12).hexdigest()
    return "address:" + address


@dataclass
class Window:
    """Events per key within a sliding window (failed logins), bounded in keys."""

    seconds: float
    events: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def _recent(self, key: str, now: float) -> deque[float]:
        queue = self.events.get(key)
        if queue is None:
            queue = self.events[key] = deque()
            if len(self.events) > TRACKED:
                self.events.popitem(last=False)
        self.events.move_to_end(key)
        while queue and queue[0] <= now - self.seconds:
            queue.popleft()
        return queue

    def wait(self, key: str, allowed: int, now: float | None = None) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        queue = self._recent(key, now)
        return 0.0 if len(queue) < allowed else queue[-allowed] + self.seconds - now

    def add(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(key, now).append(now)

    def clear(self, key: str) -> None:
        self.events.pop(key, None)


@dataclass
class Bucket:
    """A token bucket per key: ``rate`` tokens per second up to ``burst``."""

    rate: float
    burst: int
    state: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def take(self, key: str) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        now = time.monotonic()
        tokens, then = self.state.pop(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        self.state[key] = (tokens, now)
        if len(self.state) > TRACKED:
            self.state.popitem(last=False)
        if tokens >= 1:
            self.state[key] = (tokens - 1, now)
            return 0.0
        return (1 - tokens) / self.rate


def too_many(description: str, retry_after: float, status: int = 429) -> tuple[int, list, bytes]:
    code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
    body = orjson.dumps({"code": code, "description": description})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"retry-after", b"%d" % max(1, math.ceil(retry_after))),
               (b"cache-control", b"no-store")]  # fmt: skip
    return status, headers, body


def heavy(method: str, path: str) -> bool:
    """Requests that cost the database (or a password hash) far more than a read."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return path.startswith(("/applications", "/licences", "/collections", "/auth/token",
                            "/auth/session"))  # fmt: skip


def per_loop(owner: object, name: str, make):
    """``make()`` once per event loop, kept on ``owner`` (an app's state): locks and limiters
    belong to the loop they were made in, and tests run one app under several loops."""
    import asyncio

    loop = asyncio.get_running_loop()
    found = getattr(owner, name, None)
    if found is None or found[0] is not loop:
        found = (loop, make())
        setattr(owner, name, found)
    return found[1]


@dataclass
class Logins:
    """Failed sign-ins per account and per address (api.auth): checked before any hash."""

    accounts: Window = field(default_factory=lambda: Window(LOGIN_WINDOW))
    addresses: Window = field(default_factory=lambda: Window(LOGIN_WINDOW))

    def wait(self, account: str, address: str) -> float:
        return max(self.accounts.wait(account, LOGIN_FAILURES_PER_ACCOUNT),
                   self.addresses.wait(address, LOGIN_FAILURES_PER_ADDRESS))  # fmt: skip

    def failed(self, account: str, address: str) -> None:
        self.accounts.add(account)
        self.addresses.add(address)

    def succeeded(self, account: str) -> None:
        self.accounts.clear(account)


class Turns:
    """At most ``slots`` at once in a worker process, whoever asks; up to ``queue`` more wait
    their turn, each at most ``seconds``; one more, or one that waited too long, is a 503 with
    Retry-After in OGC exception JSON.

    Why process-wide and not per caller: on a machine of two cores, work that takes a core for
    tens of milliseconds (a conflict check, a password hash) slows every reader once a few
    callers send it at once, however little each may send (bench/abuse.py). Why a short,
    bounded queue: an unbounded one would hold a request (and its body) for as long as a flood
    lasts; a client told 503 and when to come back can do better than wait."""

    def __init__(self, slots: int, queue: int, seconds: float, what: str):
        self.queue, self.seconds, self.what = queue, seconds, what
        self.free = asyncio.Semaphore(max(1, slots))
        self.waiting = 0

    def busy(self) -> LimitError:
        return LimitError(503, f"the platform is busy with {self.what}; try again shortly",
                          retry_after=self.seconds)  # fmt: skip

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if not self.free.locked():
            await self.free.acquire()  # a free slot: taken at once, no suspension
        elif self.waiting >= self.queue:
            raise self.busy()
        else:
            self.waiting += 1
            try:
                await asyncio.wait_for(self.free.acquire(), self.seconds)
            except TimeoutError:
                raise self.busy() from None
            finally:
                self.waiting -= 1
        try:
            yield
        finally:
            self.free.release()


def lower_priority(nice: int) -> None:
    """Run the calling thread ``nice`` steps below the process (Linux keeps a niceness per
    thread, and threads it starts inherit it). An unprivileged process can lower a thread's
    priority but never raise it again, which is why this thread does nothing else."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    me = threading.get_native_id()
    with suppress(OSError):  # not allowed: the thread runs at the process's priority
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + nice))


class Hashing:
    """The threads that compute password hashes (argon2: 64 MiB and up to a core-second each),
    ``threads`` of them at ``nice`` below the server: never on the event loop, never more than
    ``threads`` at once, and only on the CPU the readers leave."""

    def __init__(self, threads: int, nice: int):
        self.pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="password-hash",
                                       initializer=lower_priority, initargs=(nice,))  # fmt: skip

    async def run(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, work, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def lower_process_priority(nice: int) -> None:
    """A worker process's initializer: run ``nice`` steps below the server."""
    with suppress(OSError, AttributeError):
        os.nice(max(0, nice))


class Offloaded:
    """``processes`` processes of their own, ``nice`` steps below the server, for CPU-bound
    Python work that a request cannot be refused for: checking an application's block (the
    loader's checks, pandas and shapely: 15-50 ms a block, nearly all of it holding the GIL).

    Why a process and not a thread: a thread would still take the interpreter lock from the
    event loop every few milliseconds, so an ordinary read waited behind the check just the
    same. Started on first use (an app that is never asked to check starts none), by
    ``spawn`` (the server has threads: a fork would copy their locks)."""

    def __init__(self, processes: int, nice: int):
        self.processes, self.nice = max(1, processes), nice
        self.pool: ProcessPoolExecutor | None = None

    async def run(self, work: Callable[..., T], *args: object) -> T:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=lower_process_priority, initargs=(self.nice,),
            )  # fmt: skip
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, work, *args)
        except BrokenProcessPool:  # its process died (killed, out of memory): a new one next
            self.pool = None
            raise LimitError(503, "the checking process stopped; try again",
                             retry_after=1) from None  # fmt: skip

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
