"""The gate every request passes: per-caller and per-address concurrency, reads served by
address in equal shares when several are about (api.shares), and a share of the database pool
for expensive requests, so that no caller can starve the others.

Why an ASGI middleware (not Starlette's BaseHTTPMiddleware): it must hold its count until a
streamed response has been sent in full, and add nothing to the path of an ordinary read but
two dictionary updates. Over a limit the answer is a 429 in OGC exception JSON with
Retry-After, before any database work, given only when that Retry-After has passed (a client
that ignores it cannot make the worker answer thousands of refusals a second; how many are held
so is bounded). The figures are api.limits'; docs/security.md says why.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

from api import limits
from api.shares import Shares, share_key


class CallerGuard:
    def __init__(
        self,
        app: ASGIApp,
        pool_max: int,
        per_caller: int = limits.PER_CALLER,
        per_address: int = limits.PER_ADDRESS,
        serving_slots: int = limits.SERVING_SLOTS,
        serving_wait: float = limits.SERVING_WAIT,
    ):
        self.app = app
        self.per_caller, self.per_address = per_caller, per_address
        self.serving_slots, self.serving_wait = serving_slots, serving_wait
        self.holding: Counter[str] = Counter()  # refusals held back, by address
        self.held = 0  # and in all
        self.in_flight: Counter[str] = Counter()
        self.heavy_in_flight: Counter[str] = Counter()
        self.heavy_slots = max(1, int(pool_max * limits.HEAVY_SHARE))
        # One semaphore per event loop: tests run one app under several loops in turn.
        self._heavy: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._shares: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def shares(self) -> Shares:
        loop = asyncio.get_running_loop()
        found = self._shares.get(loop)
        if found is None:
            found = self._shares[loop] = Shares(self.serving_slots, self.per_caller)
        return found

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self._heavy.get(loop)
        if found is None:
            found = self._heavy[loop] = asyncio.Semaphore(self.heavy_slots)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Static files (scripts, styles, fonts) never touch the database, and a map page asks
        # for a dozen at once: counting them would refuse a browser its own page.
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        who = limits.caller_key(dict(scope["headers"]), address)
        where = "address:" + address
        if self.in_flight[who] >= self.per_caller or (
            who != where and self.in_flight[where] >= self.per_address
        ):
            await self.hold(address)
            await refuse(send, f"at most {self.per_caller} requests at once per caller "
                         f"({self.per_address} per address); wait for the others")  # fmt: skip
            return
        is_heavy = limits.heavy(scope["method"], scope["path"])
        if is_heavy and self.heavy_in_flight[who] >= limits.HEAVY_PER_CALLER:
            await self.hold(address)
            await refuse(send, f"at most {limits.HEAVY_PER_CALLER} checks, writes or sign-ins "
                         "at once per caller; wait for the others")  # fmt: skip
            return
        self.in_flight[who] += 1
        if who != where:
            self.in_flight[where] += 1
        try:
            if scope["method"] in ("GET", "HEAD"):
                await self.read(share_key(address), scope, receive, send)
                return
            if not is_heavy:
                await self.app(scope, receive, send)
                return
            self.heavy_in_flight[who] += 1
            try:
                await self.heavy(scope, receive, send)
            finally:
                release(self.heavy_in_flight, who)
        finally:
            release(self.in_flight, who)
            if who != where:
                release(self.in_flight, where)

    async def hold(self, address: str) -> None:
        """Wait the Retry-After a refusal will name, unless too many are held already (then it
        is answered at once: a held refusal is a connection kept open)."""
        if self.holding[address] >= limits.HELD_PER_ADDRESS or self.held >= limits.HELD_TOTAL:
            return
        self.holding[address] += 1
        self.held += 1
        try:
            await asyncio.sleep(limits.HELD_SECONDS)
        finally:
            release(self.holding, address)
            self.held -= 1

    async def read(self, where: str, scope: Scope, receive: Receive, send: Send) -> None:
        """A read, once its address is within its share (api.shares); its place is given up
        when the response starts.

        Why not when it ends: a download is paced by its client, and a few slow ones would
        otherwise hold a caller's share while the worker idles. The handler's work (the
        queries, the encoding of a page) is done before an ordinary response starts; a
        streamed body's is not counted, and ``per_caller`` still bounds how many one has."""
        shares = self.shares()
        if not await shares.acquire(where, self.serving_wait):
            await refuse(send, "the platform is busy with your other reads; try again shortly",
                         status=503)  # fmt: skip
            return
        held = True

        def give_up() -> None:
            nonlocal held
            if held:
                held = False
                shares.release(where)

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                give_up()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            give_up()

    async def heavy(self, scope: Scope, receive: Receive, send: Send) -> None:
        slots = self.semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), limits.HEAVY_WAIT)
        except TimeoutError:
            await refuse(send, "the platform is busy with checks and writes; try again shortly")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


def release(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


async def refuse(send: Send, description: str, retry_after: float = 1.0, status: int = 429) -> None:
    """429 TooManyRequests, or 503 ServiceUnavailable when the worker rather than the caller's
    own count is the limit; OGC exception JSON with Retry-After either way."""
    status, headers, body = limits.too_many(description, retry_after, status)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
