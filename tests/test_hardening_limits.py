"""No caller can starve the platform: geometry and body limits on
applications and writes, the hourly budget of conflict checks, per-caller concurrency, the
share of the pool expensive requests may hold, and the server's header deadline, header size
limit and connections per address.

Over the real app under uvicorn (tests.conftest.LiveServer, which serves it with api.server's
settings) and PostgreSQL. Slow clients are made with raw sockets that send a request's head and
hold back the rest, so a request stays in flight as long as the test needs, without timing.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import psycopg
import pytest

from api import limits, server
from api.guard import CallerGuard
from geo import access, licensing
from tests.applicants import GEOJSON, application, cell
from tests.conftest import LiveServer, fresh_database

POOL = 25  # so that one caller's HEAVY_PER_CALLER leaves others a slot
SLOTS = max(1, int(POOL * limits.HEAVY_SHARE))  # expensive requests at once (api.guard)


@pytest.fixture(scope="module")
def store(cluster) -> Iterator[dict]:
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        org = access.ensure_organisation(conn, "Alpha Mining (test)", "enterprise")
        keys = {}
        for person in ("alpha", "beta", "gamma", "budget"):
            access.add_user(conn, f"{person}@example.org", org, "editor")
            keys[person] = access.add_key(conn, f"{person}@example.org")
    with LiveServer(url, pool_max=POOL, checks_per_hour=60, check_burst=3) as live:
        yield {"url": url, "server": live, "keys": keys}


def post(store, who: str, path: str, body: object) -> httpx.Response:
    with httpx.Client(base_url=store["server"].url, timeout=30) as c:
        return c.post(path, json=body, headers={**GEOJSON, "X-API-Key": store["keys"][who]})


def concessions(store) -> int:
    with psycopg.connect(store["url"]) as conn:
        return conn.execute("SELECT count(*) FROM concessions").fetchone()[0]


def many_parts(parts: int, vertices_each: int = 4) -> dict:
    """A MultiPolygon of ``parts`` tiny squares inside Pakistan (valid, disjoint)."""
    squares = []
    for i in range(parts):
        x, y = 64.0 + 0.001 * (i % 500), 27.0 + 0.001 * (i // 500)
        ring = [[x, y], [x + 0.0005, y], [x + 0.0005, y + 0.0005], [x, y + 0.0005]]
        ring = (ring * vertices_each)[: max(vertices_each, 4)]
        squares.append([[*ring[:4], ring[0]]])
    return {"type": "MultiPolygon", "coordinates": squares}


def test_a_block_over_the_part_or_vertex_limit_is_413_before_any_check(store):
    before = concessions(store)
    over = many_parts(licensing.BLOCK_PARTS + 1)
    for path in ("/applications/check", "/applications"):
        answer = post(store, "alpha", path, application(over))
        assert answer.status_code == 413, answer.text
        assert f"{licensing.BLOCK_PARTS + 1} parts" in answer.json()["description"]
    ring = [
        [64 + 0.1 * k / licensing.BLOCK_VERTICES, 27.0] for k in range(licensing.BLOCK_VERTICES)
    ]
    ring += [[64.1, 27.1], [64.0, 27.1], [64.0, 27.0]]
    answer = post(store, "alpha", "/applications/check",
                  application({"type": "Polygon", "coordinates": [ring]}))  # fmt: skip
    assert answer.status_code == 413 and "vertices" in answer.json()["description"]
    assert concessions(store) == before


def test_application_bodies_over_their_limit_are_413(store):
    padded = application(cell(1), notes="x" * limits.BLOCK_BYTES)
    answer = post(store, "alpha", "/applications/check", padded)
    assert answer.status_code == 413 and answer.json()["code"] == "PayloadTooLarge"


def test_feature_writes_have_vertex_and_part_limits_too(store):
    from geo.settings import MAX_PARTS

    feature = {"type": "Feature", "geometry": many_parts(MAX_PARTS + 1),
               "properties": {"name": "too many parts"}}  # fmt: skip
    answer = post(store, "alpha", "/collections/sezs/items", feature)
    assert answer.status_code == 413 and f"{MAX_PARTS + 1:,} parts" in answer.text


def test_checks_beyond_the_hourly_budget_are_429_and_bad_bodies_cost_nothing(store):
    for _ in range(5):  # refused before the database: no check spent
        assert post(store, "budget", "/applications/check", {"type": "Feature"}).status_code == 400
    statuses = [post(store, "budget", "/applications/check", application(cell(n))).status_code
                for n in range(4)]  # fmt: skip
    assert statuses == [200, 200, 200, 429]
    answer = post(store, "budget", "/applications/check", application(cell(5)))
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["code"] == "TooManyRequests"
    assert post(store, "alpha", "/applications/check", application(cell(6))).status_code == 200


@contextmanager
def held(port: int, path: str, headers: dict[str, str]) -> Iterator[socket.socket]:
    """A POST whose head is sent and whose body is held back: in flight until closed."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    raw.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{head}Content-Length: 1000\r\n\r\n".encode())
    try:
        yield raw
    finally:
        raw.close()


def test_one_caller_holding_its_expensive_requests_gets_429_and_others_are_served(store):
    port, key = store["server"].port, store["keys"]["alpha"]
    assert limits.HEAVY_PER_CALLER < SLOTS  # so that another caller still finds a slot
    with ExitStack() as stack:
        for _ in range(limits.HEAVY_PER_CALLER):
            stack.enter_context(held(port, "/applications/check", {"X-API-Key": key, **GEOJSON}))
        time.sleep(0.5)  # the held requests reach the app
        answer = post(store, "alpha", "/applications/check", application(cell(7)))
        assert answer.status_code == 429, answer.text
        assert answer.json()["code"] == "TooManyRequests" and "Retry-After" in answer.headers
        with httpx.Client(base_url=store["server"].url, timeout=10) as anonymous:
            assert anonymous.get("/collections/concessions/items?limit=1").status_code == 200
        assert post(store, "beta", "/applications/check", application(cell(8))).status_code == 200
    time.sleep(0.3)
    assert post(store, "alpha", "/applications/check", application(cell(9))).status_code == 200


def test_expensive_requests_together_hold_at_most_their_share_of_the_pool(store):
    """SLOTS expensive requests at once (HEAVY_SHARE of the pool); one more waits for a slot
    while reads are answered, and goes on when one is freed."""
    port = store["server"].port
    holders = [who for who in ("alpha", "beta", "gamma") for _ in range(limits.HEAVY_PER_CALLER)]
    assert len(holders) >= SLOTS
    with ExitStack() as stack:
        sockets = [stack.enter_context(held(port, "/applications/check",
                                            {"X-API-Key": store["keys"][who], **GEOJSON}))
                   for who in holders[:SLOTS]]  # fmt: skip
        time.sleep(0.5)
        waiting = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
        waiting.sendall(b"POST /applications/check HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                        b"Content-Type: application/geo+json\r\nX-API-Key: "
                        + store["keys"]["budget"].encode() + b"\r\n\r\n{}")  # fmt: skip
        waiting.settimeout(1.0)
        with pytest.raises(TimeoutError):
            waiting.recv(100)  # queued: no answer while the slots are held
        with httpx.Client(base_url=store["server"].url, timeout=10) as anonymous:
            assert anonymous.get("/collections/deposits/items?limit=1").status_code == 200
        sockets[0].close()
        waiting.settimeout(10)
        assert waiting.recv(100).startswith(b"HTTP/1.1 400")  # its turn came: {} is no Feature


def test_the_guard_counts_requests_per_caller_and_per_address():
    asyncio.run(asyncio.wait_for(guarded_requests(), 10))


async def guarded_requests() -> None:
    """api.guard in front of an app whose requests stay in flight until released."""
    release = asyncio.Event()

    async def slow(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    gate = CallerGuard(slow, pool_max=10)

    async def request(key: bytes | None, address: str) -> int:
        sent = []

        async def send(message):
            sent.append(message)

        headers = [(b"x-api-key", key)] if key else []
        scope = {"type": "http", "method": "GET", "path": "/collections", "headers": headers,
                 "client": (address, 1)}  # fmt: skip
        await gate(scope, None, send)
        return sent[0]["status"]

    one = [asyncio.create_task(request(b"em_a_b", "10.0.0.1")) for _ in range(limits.PER_CALLER)]
    await asyncio.sleep(0.05)
    assert await request(b"em_a_b", "10.0.0.1") == 429  # the same key, again
    keys = [asyncio.create_task(request(f"em_{n}_x".encode(), "10.0.0.1"))
            for n in range(limits.PER_ADDRESS - limits.PER_CALLER)]  # fmt: skip
    await asyncio.sleep(0.05)
    assert await request(b"em_new_key", "10.0.0.1") == 429  # made-up keys: the address's limit
    other = asyncio.create_task(request(None, "10.0.0.2"))
    await asyncio.sleep(0.05)
    release.set()
    assert await other == 200
    assert set(await asyncio.gather(*one, *keys)) == {200}
    assert not gate.in_flight and not gate.heavy_in_flight


def test_a_client_trickling_its_headers_is_cut_off(store, monkeypatch):
    monkeypatch.setattr(server, "HEADER_SECONDS", 1.0)
    raw = socket.create_connection(("127.0.0.1", store["server"].port), timeout=10)
    with raw:
        raw.sendall(b"GET /collections HTTP/1.1\r\nHo")
        started = time.monotonic()
        answer = raw.recv(200)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 5
        assert raw.recv(10) == b""  # and closed


def test_headers_over_the_limit_are_431(store):
    with socket.create_connection(("127.0.0.1", store["server"].port), timeout=10) as raw:
        raw.sendall(b"GET /collections HTTP/1.1\r\nHost: x\r\n")
        padding = b"X-Padding: " + b"a" * 1000 + b"\r\n"
        try:
            for _ in range(2 * server.HEADER_BYTES // len(padding)):
                raw.sendall(padding)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert raw.recv(200).startswith(b"HTTP/1.1 431")


def test_one_address_cannot_hold_every_connection(store, monkeypatch):
    cap = server.GuardedHttpTools.peers.get("127.0.0.1", 0) + 3
    monkeypatch.setattr(server, "CONNECTIONS_PER_ADDRESS", cap)
    address = ("127.0.0.1", store["server"].port)
    with ExitStack() as stack:
        opened = [stack.enter_context(socket.create_connection(address, timeout=5))
                  for _ in range(cap + 1)]  # fmt: skip
        time.sleep(0.3)
        refused = 0
        for raw in opened:
            raw.sendall(b"GET /conformance HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                refused += raw.recv(20) == b""
            except ConnectionResetError:
                refused += 1
        assert refused >= 1
