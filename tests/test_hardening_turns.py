"""Work that takes a core takes turns, whoever asks (bench/abuse.py): conflict checks
and password hashes. Per-caller limits cannot keep an ordinary reader served on two cores when
many callers send such work at once; a cap per worker process can.

Over the real app under uvicorn and PostgreSQL. A conflict check is held in the database
deterministically: the test's store wraps ``emining_application_conflicts`` in a function that
first takes a shared advisory lock, which the test holds while it needs the check in flight
(the store's real conflict search runs after). A password hash is held by occupying the
worker's hashing thread with a job that waits for the test.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from api import server as server_limits
from geo import access
from tests.applicants import GEOJSON, application, cell
from tests.conftest import LiveServer, fresh_database

LOCK = 4242
POOL = 25  # the guard's share for expensive requests (a fifth) must not be what refuses here
SLOWED = f"""
ALTER FUNCTION emining_application_conflicts(geometry, bigint)
    RENAME TO emining_application_conflicts_found;
CREATE FUNCTION emining_application_conflicts(area geometry, self bigint DEFAULT NULL)
RETURNS TABLE (visible boolean, kind text, licence_no text, status text,
               applied_at timestamptz, overlap_km2 double precision)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({LOCK});
    RETURN QUERY SELECT * FROM emining_application_conflicts_found(area, self);
END $$;
"""


@pytest.fixture(scope="module")
def store(cluster) -> dict:
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SLOWED)
        org = access.ensure_organisation(conn, "Alpha Mining (test)", "enterprise")
        keys = {}
        for person in ("a", "b", "c", "d"):
            access.add_user(conn, f"{person}@example.org", org, "editor")
            keys[person] = access.add_key(conn, f"{person}@example.org")
    return {"url": url, "keys": keys}


@contextmanager
def checks_held(url: str) -> Iterator[Callable[[], int]]:
    """While inside, every conflict check waits in the database; yields how many are waiting."""
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK])

        def waiting() -> int:
            return holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                "AND NOT granted", [LOCK]).fetchone()[0]  # fmt: skip

        try:
            yield waiting
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", [LOCK])


def check(server: LiveServer, key: str, n: int, timeout: float = 60) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=timeout) as c:
        return c.post("/applications/check", json=application(cell(n)),
                      headers={**GEOJSON, "X-API-Key": key})  # fmt: skip


def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition was not reached"
        time.sleep(0.05)


def test_conflict_checks_take_turns_and_one_beyond_the_queue_is_503(store):
    """check_slots=1, check_queue=1: one check runs, one waits its turn, a third is refused at
    once (503, Retry-After, OGC exception JSON); the two others are answered when the first is."""
    keys = store["keys"]
    with (
        LiveServer(
            store["url"], pool_max=POOL, check_slots=1, check_queue=1, turn_wait=60
        ) as server,  # fmt: skip
        ThreadPoolExecutor(3) as pool,
    ):
        with checks_held(store["url"]) as waiting:
            first = pool.submit(check, server, keys["a"], 1)
            until(lambda: waiting() == 1)  # the first is in the database
            others = [pool.submit(check, server, keys[who], n) for who, n in (("b", 2), ("c", 3))]
            done, _ = wait(others, timeout=20, return_when=FIRST_COMPLETED)
            assert done, "neither was answered while the first check ran"
            refused = done.pop().result()
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "ServiceUnavailable"
            assert "busy with conflict checks" in refused.json()["description"]
            assert int(refused.headers["Retry-After"]) >= 1
            assert waiting() == 1  # the one waiting its turn has not reached the database
        answered = [f.result() for f in (first, *others) if f.result() is not refused]
        assert [a.status_code for a in answered] == [200, 200], [a.text for a in answered]


def test_a_check_past_its_statement_timeout_is_503_and_frees_its_turn(store):
    keys = store["keys"]
    with LiveServer(store["url"], pool_max=POOL, check_timeout_ms=300) as server:
        with checks_held(store["url"]):
            # Held in the database past 0.3 s, and answered well before the API's 30 s timeout
            # of other statements would end it.
            answer = check(server, keys["d"], 4, timeout=10)
        assert answer.status_code == 503, answer.text
        assert "took longer than 0.3 s" in answer.json()["description"]
        assert "Retry-After" in answer.headers
        assert check(server, keys["d"], 5).status_code == 200


def children() -> set[int]:
    """The test process's child processes (the servers under test run in it)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found


def test_blocks_are_checked_in_a_process_of_their_own_below_the_servers_priority(store):
    """The loader's checks of a block hold the interpreter for tens of milliseconds: they run
    in a process the worker starts on its first check, at ``check_nice`` below the server."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert base < 19, "the tests run at the lowest priority already: nothing to lower"
    lower = min(7, 19 - base)
    with LiveServer(store["url"], check_nice=lower) as server:
        before = children()
        assert check(server, store["keys"]["a"], 6).status_code == 200
        started = children() - before
        assert len(started) == 1, started
        [pid] = started
        assert os.getpriority(os.PRIO_PROCESS, pid) == base + lower
        assert check(server, store["keys"]["a"], 7).status_code == 200
        assert children() - before == started  # the same process checks the next block


def test_password_hashes_run_in_their_own_thread_below_the_servers_priority(store, monkeypatch):
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert base < 19, "the tests run at the lowest priority already: nothing to lower"
    lower = min(5, 19 - base)
    seen: list[tuple[str, int]] = []
    verify = access.verify_password

    def watched(row, password):
        me = threading.get_native_id()
        seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, me)))
        return verify(row, password)

    monkeypatch.setattr(access, "verify_password", watched)
    with LiveServer(store["url"], password_nice=lower) as server, httpx.Client() as c:
        for n in range(3):
            form = {"username": f"nobody{n}@example.org", "password": "a wrong guess"}
            assert c.post(f"{server.url}/auth/token", data=form).status_code == 401
    assert len(seen) == 3
    assert all(name.startswith("password-hash") and nice == base + lower for name, nice in seen)


def test_sign_ins_beyond_the_hashing_queue_are_503(store):
    """password_checks=1, password_queue=1, and the hashing thread busy: one sign-in holds the
    turn, one waits for it, a third is refused at once; the two are answered once it is free."""
    release = threading.Event()
    with (
        LiveServer(
            store["url"], pool_max=POOL, password_checks=1, password_queue=1, turn_wait=60
        ) as server,  # fmt: skip
        ThreadPoolExecutor(3) as pool,
        httpx.Client(base_url=server.url, timeout=60) as c,
    ):
        hashing = server.app.state.hashing
        busy = hashing.pool.submit(release.wait, 60)

        def sign_in(n: int) -> httpx.Response:
            form = {"username": f"guess{n}@example.org", "password": "a wrong guess"}
            return c.post("/auth/token", data=form)

        try:
            tried = [pool.submit(sign_in, n) for n in range(3)]
            done, _ = wait(tried, timeout=20, return_when=FIRST_COMPLETED)
            assert done, "no sign-in was answered while the hashing thread was busy"
            refused = done.pop().result()
            assert refused.status_code == 503, refused.text
            assert "busy with sign-ins" in refused.json()["description"]
            assert int(refused.headers["Retry-After"]) >= 1
        finally:
            release.set()
        assert busy.result(timeout=10)
        statuses = sorted(f.result().status_code for f in tried)
        assert statuses == [401, 401, 503], statuses


SIGN_IN = (
    "POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
)


@contextmanager
def refused_sign_in(store, length: str, first: bytes, seconds: float) -> Iterator[socket.socket]:
    """A sign-in sent with ``length`` (a header line) and the ``first`` bytes of its body, to a
    server of its own, and refused: the socket, once the 413's head has been read."""
    with (
        LiveServer(store["url"]) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=seconds) as raw,
    ):
        raw.sendall(f"{SIGN_IN}{length}\r\n\r\n".encode() + first)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        yield raw


def test_a_refused_body_announced_beyond_the_linger_is_not_waited_for(store):
    """A 413 for a body whose Content-Length says more than LINGER_BYTES are to come closes the
    connection at once: the server does not wait for a MiB of what it will not read (it would
    otherwise wait until its keep-alive timeout closed the connection)."""
    with refused_sign_in(store, f"Content-Length: {64 * 2**20}", b"username=", 5) as raw:
        started = time.monotonic()
        while raw.recv(4096):
            pass
        assert time.monotonic() - started < server_limits.KEEP_ALIVE_SECONDS / 2


def test_an_unannounced_body_refused_is_read_to_the_linger_and_the_connection_ended(store):
    """A chunked sign-in (no length) is refused (413) once past its limit; the server then reads
    at most LINGER_BYTES more and closes, instead of reading all of it to keep the connection."""
    body, chunk = 64 * 2**20, b"x" * 65536  # one chunk is past the sign-in's limit
    framed, sent = b"%x\r\n%s\r\n" % (len(chunk), chunk), len(chunk)
    with (
        refused_sign_in(store, "Transfer-Encoding: chunked", framed, 10) as raw,
        pytest.raises((BrokenPipeError, ConnectionResetError)),
    ):
        while sent < body:
            raw.sendall(framed)
            sent += len(chunk)
    assert server_limits.LINGER_BYTES <= sent < body - server_limits.LINGER_BYTES
