"""One address's flood leaves the others their share of a worker: reads are served in equal
shares by address when several are about (api.shares), refusals over a concurrency limit are
held for their Retry-After (api.guard), and a full garbage collection does not walk what lives
as long as the process (api.app).

The guard is driven directly with ASGI messages, in front of an app whose requests start and
end when the test lets them: what was admitted, and in what order, is observed, not timed.
"""

from __future__ import annotations

import asyncio
import gc
import time

import orjson
from fastapi.testclient import TestClient

from api import limits
from api.app import create_app
from api.guard import CallerGuard
from api.shares import Shares, share_key
from geo.settings import Settings

FLOODER, READER = "10.0.0.1", "10.0.0.2"


class Held:
    """An app whose requests answer when the test lets each of them (by path)."""

    def __init__(self, stream: bool = False):
        self.entered: list[str] = []
        self.go: dict[str, asyncio.Event] = {}
        self.stream = stream

    def gate(self, path: str) -> asyncio.Event:
        return self.go.setdefault(path, asyncio.Event())

    async def __call__(self, scope, receive, send):
        self.entered.append(scope["path"])
        if self.stream:  # the head at once, the body when let go
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await self.gate(scope["path"]).wait()
        else:
            await self.gate(scope["path"]).wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


async def ask(guard: CallerGuard, path: str, address: str, key: bytes | None = None) -> list:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    headers = [(b"x-api-key", key)] if key else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers,
             "client": (address, 1)}  # fmt: skip
    await guard(scope, None, send)
    return sent


async def settle() -> None:
    for _ in range(10):  # let every task that can run reach its next wait
        await asyncio.sleep(0)


def test_a_flooders_reads_over_its_share_wait_while_another_address_is_served():
    asyncio.run(asyncio.wait_for(flooder_and_reader(), 10))


async def flooder_and_reader() -> None:
    app = Held()
    guard = CallerGuard(app, pool_max=10, serving_slots=2)
    flood = [f"/flood/{n}" for n in range(limits.PER_CALLER)]
    tasks = [asyncio.create_task(ask(guard, path, FLOODER, b"em_flood")) for path in flood]
    await settle()
    assert app.entered == flood  # alone, an address is held to nothing but per_caller
    reader = asyncio.create_task(ask(guard, "/reader", READER))
    await settle()
    assert app.entered[-1] == "/reader"  # at once: behind none of the flood
    app.gate(flood[0]).set()
    await settle()
    tasks.append(asyncio.create_task(ask(guard, "/flood/next", FLOODER, b"em_flood")))
    await settle()
    assert "/flood/next" not in app.entered  # 7 in service, its share now 1: it waits
    for path in flood[1:-1]:
        app.gate(path).set()
    await settle()
    assert "/flood/next" not in app.entered
    app.gate(flood[-1]).set()
    await settle()
    assert app.entered[-1] == "/flood/next"  # its own last read ended: its turn
    app.gate("/reader").set()
    app.gate("/flood/next").set()
    answers = await asyncio.gather(reader, *tasks)
    assert [sent[0]["status"] for sent in answers] == [200] * (limits.PER_CALLER + 2)
    shares = guard.shares()
    assert not guard.in_flight and not shares.serving and not shares.waiting


def test_a_read_over_its_share_that_waits_too_long_is_503_and_leaves_nothing():
    asyncio.run(asyncio.wait_for(waited_too_long(), 10))


async def waited_too_long() -> None:
    app = Held()
    guard = CallerGuard(app, pool_max=10, serving_slots=2, serving_wait=0.2)
    first = asyncio.create_task(ask(guard, "/first", FLOODER))
    reader = asyncio.create_task(ask(guard, "/reader", READER))
    await settle()
    sent = await ask(guard, "/second", FLOODER)
    assert sent[0]["status"] == 503 and "/second" not in app.entered
    headers = dict(sent[0]["headers"])
    assert headers[b"retry-after"] == b"1" and int(headers[b"content-length"]) == len(
        sent[1]["body"]
    )
    assert orjson.loads(sent[1]["body"])["code"] == "ServiceUnavailable"
    gone = asyncio.create_task(ask(guard, "/gone", FLOODER))
    await settle()
    gone.cancel()  # a client that left while waiting gives up its place and holds nothing
    await settle()
    assert not guard.shares().waiting
    for path in ("/first", "/reader"):
        app.gate(path).set()
    assert [(await t)[0]["status"] for t in (first, reader)] == [200, 200]
    assert not guard.shares().serving and not guard.in_flight


def test_a_streamed_read_gives_up_its_place_when_its_response_starts():
    """A slow download keeps its caller's count (per_caller) until its last byte, not its
    place in the share: the same address's next read is served meanwhile."""
    asyncio.run(asyncio.wait_for(streamed(), 10))


async def streamed() -> None:
    app = Held(stream=True)
    guard = CallerGuard(app, pool_max=10, serving_slots=2)
    other = asyncio.create_task(ask(guard, "/other-address", READER))
    download = asyncio.create_task(ask(guard, "/download", FLOODER))
    await settle()
    assert not guard.shares().serving  # both started their responses
    app.gate("/next").set()
    assert (await ask(guard, "/next", FLOODER))[-1]["body"] == b"done"
    assert not download.done() and guard.in_flight["address:" + FLOODER] == 1
    app.gate("/download").set()
    app.gate("/other-address").set()
    await asyncio.gather(download, other)
    assert not guard.in_flight


def test_shares_divide_the_slots_among_active_addresses_and_forget_the_idle():
    async def run() -> None:
        shares = Shares(slots=4, alone=8, active_seconds=0.2)
        assert await shares.acquire("a", 1) and shares.share() == 8
        assert await shares.acquire("b", 1) and shares.share() == 2
        assert await shares.acquire("c", 1) and shares.share() == 1
        for who in "bc":
            shares.release(who)
        await asyncio.sleep(0.3)  # b and c idle past active_seconds; a is still in service
        assert shares.share() == 8 and shares.active() == 1
        shares.release("a")

    asyncio.run(run())


def test_ipv6_callers_share_by_their_64():
    assert share_key("2001:db8::1") == share_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert share_key("2001:db8:0:1::1") != share_key("2001:db8::1")
    assert share_key("10.0.0.1") == "10.0.0.1" and share_key("unknown") == "unknown"


def test_refusals_over_a_concurrency_limit_are_held_for_their_retry_after(monkeypatch):
    monkeypatch.setattr(limits, "HELD_SECONDS", 0.3)
    monkeypatch.setattr(limits, "HELD_PER_ADDRESS", 1)
    asyncio.run(asyncio.wait_for(held_refusals(), 10))


async def held_refusals() -> None:
    app = Held()
    guard = CallerGuard(app, pool_max=10, per_caller=1)
    busy = asyncio.create_task(ask(guard, "/busy", FLOODER, b"em_key"))
    await settle()
    started = time.monotonic()
    held = asyncio.create_task(ask(guard, "/again", FLOODER, b"em_key"))
    await settle()
    assert not held.done()  # not answered at once
    at_once = await ask(guard, "/more", FLOODER, b"em_key")  # one held per address already
    assert at_once[0]["status"] == 429 and not held.done()
    sent = await held
    assert sent[0]["status"] == 429 and time.monotonic() - started >= 0.3
    assert dict(sent[0]["headers"])[b"retry-after"] == b"1"
    assert not guard.holding and app.entered == ["/busy"]
    app.gate("/busy").set()
    assert (await busy)[0]["status"] == 200


def test_what_lives_as_long_as_the_server_is_kept_from_full_collections(samples_url):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(Settings(samples_url))) as client:
        assert client.get("/conformance").status_code == 200
        assert gc.get_freeze_count() > 10_000  # the modules and the app, at least
    assert gc.get_freeze_count() == 0  # given back when the app stops
