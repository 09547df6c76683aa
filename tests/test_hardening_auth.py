"""Signing in and out under attack : body limits, password
hashing off the event loop, throttled guessing, sign-out that ends a token, revoked keys and
deactivated users, login CSRF, and malformed tokens.

Against the real app and PostgreSQL; every expectation is drawn from the store (the users made
here, the signing secret it holds) or from the limits the app states (api.limits).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import jwt
import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api import limits
from api.app import Settings, create_app
from cli.main import main
from geo import access
from tests.conftest import LiveServer, fresh_database

PASSWORD = "correct horse battery"
PEOPLE = ("throttled", "spread", "logout", "cookie", "revoked", "gone", "csrf", "hashing", "ok")


@pytest.fixture(scope="module")
def store(cluster):
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        org = access.ensure_organisation(conn, "Alpha Mining (test)", "enterprise")
        keys = {}
        for person in PEOPLE:
            access.add_user(conn, f"{person}@example.org", org, "editor", password=PASSWORD)
            keys[person] = access.add_key(conn, f"{person}@example.org")
    with TestClient(create_app(Settings(url, pool_max=4))) as client:
        yield {"url": url, "client": client, "keys": keys}


def token(store, person: str, **headers: str) -> str:
    answer = store["client"].post(
        "/auth/token", data={"username": f"{person}@example.org", "password": PASSWORD},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def me(store, **headers: str) -> int:
    return store["client"].get("/auth/me", headers=headers).status_code


def secret(store) -> bytes:
    token(store, "ok")  # the store makes its signing secret on first use
    with psycopg.connect(store["url"]) as conn:
        return bytes(conn.execute("SELECT value FROM secrets WHERE name = 'token'").fetchone()[0])


@pytest.mark.parametrize("path", ["/auth/token", "/auth/session"])
def test_sign_in_bodies_over_the_limit_are_413_whether_announced_or_streamed(store, path):
    big = b"username=a%40example.org&password=" + b"x" * (limits.AUTH_BODY_MAX + 1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = store["client"].post(path, content=big, headers=form)
    assert answer.status_code == 413 and answer.json()["code"] == "PayloadTooLarge", answer.text
    with LiveServer(store["url"], pool_max=2) as server:
        status = streamed_until_refused(server.port, path, limits.AUTH_BODY_MAX * 10)
    assert status.startswith(b"HTTP/1.1 413"), status


def streamed_until_refused(port: int, path: str, total: int) -> bytes:
    """POST a chunked body of ``total`` bytes (no Content-Length) a KiB at a time; the status
    line the server answers with before the body ends (it must not wait for all of it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode())  # fmt: skip
        sent = 0
        raw.setblocking(False)
        while sent < total:
            try:
                answer = raw.recv(200)
            except BlockingIOError:
                answer = b""
            if answer:
                return answer.split(b"\r\n")[0]
            raw.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
            sent += 1024
            time.sleep(0.001)
        return b"the whole body was read: " + str(sent).encode()


def test_a_token_whose_subject_is_not_a_user_number_is_401(store):
    now = int(time.time())
    for subject in ("abc", "1e3", "-1", " 1", "١"):
        forged = jwt.encode({"sub": subject, "iss": "emining", "iat": now, "exp": now + 60},
                            secret(store), algorithm="HS256")  # fmt: skip
        answer = store["client"].get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401, (subject, answer.text)
        assert answer.json()["code"] and "WWW-Authenticate" in answer.headers


def test_password_hashes_are_checked_off_the_event_loop(store, monkeypatch):
    """The argon2 check runs in a thread with no event loop: a burst of sign-ins cannot
    stall other requests (bench/abuse.py measures how much it holds up)."""
    seen = []
    hasher = access._hasher

    class Watched:
        def hash(self, *args):
            return hasher.hash(*args)

        def verify(self, *args):
            try:
                asyncio.get_running_loop()
                seen.append("event loop")
            except RuntimeError:
                seen.append(threading.current_thread().name)
            return hasher.verify(*args)

    monkeypatch.setattr(access, "_hasher", Watched())
    token(store, "hashing")
    wrong = {"username": "hashing@example.org", "password": "wrong wrong"}
    store["client"].post("/auth/token", data=wrong)
    assert len(seen) == 2 and "event loop" not in seen, seen


def test_guessing_one_account_is_throttled_and_the_right_password_waits_too(store):
    client = store["client"]
    wrong = {"username": "throttled@example.org", "password": "not the password"}
    for _ in range(limits.LOGIN_FAILURES_PER_ACCOUNT):
        assert client.post("/auth/token", data=wrong).status_code == 401
    for form in (wrong, {**wrong, "password": PASSWORD}):
        answer = client.post("/auth/token", data=form)
        assert answer.status_code == 429, answer.text
        assert int(answer.headers["Retry-After"]) > 0 and answer.json()["code"]
    # Another account is not locked by it (until the address's own limit).
    assert token(store, "ok")


def test_guessing_many_accounts_from_one_address_is_throttled(cluster):
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        org = access.ensure_organisation(conn, "Beta Minerals (test)", "enterprise")
        access.add_user(conn, "beta@example.org", org, "viewer", password=PASSWORD)
    with TestClient(create_app(Settings(url, pool_max=2))) as client:
        for n in range(limits.LOGIN_FAILURES_PER_ADDRESS):
            form = {"username": f"nobody{n}@example.org", "password": "guess guess"}
            assert client.post("/auth/token", data=form).status_code == 401
        right = {"username": "beta@example.org", "password": PASSWORD}
        answer = client.post("/auth/token", data=right)
        assert answer.status_code == 429 and "Retry-After" in answer.headers


def test_signing_out_ends_the_token_and_every_other_token_of_the_user(store):
    first, second = token(store, "logout"), token(store, "logout")
    assert me(store, Authorization=f"Bearer {first}") == 200
    answer = store["client"].post("/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert answer.status_code == 204
    assert me(store, Authorization=f"Bearer {first}") == 401
    assert me(store, Authorization=f"Bearer {second}") == 401
    assert me(store, Authorization=f"Bearer {token(store, 'logout')}") == 200  # sign in again


def test_signing_out_of_the_browser_ends_its_session_token(store):
    client = store["client"]
    answer = client.post("/auth/session", follow_redirects=False,
                         data={"username": "cookie@example.org", "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 303, answer.text
    session = answer.cookies["emining_session"]
    assert me(store, Authorization=f"Bearer {session}") == 200
    client.cookies.set("emining_session", session)
    try:
        answer = client.post("/auth/logout", follow_redirects=False)
    finally:
        client.cookies.clear()
    assert answer.status_code == 303
    assert me(store, Authorization=f"Bearer {session}") == 401


def run_cli(store, *args: str):
    result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": store["url"]})
    assert result.exit_code == 0, result.output
    return result.output


def test_revoking_a_key_and_deactivating_a_user_from_the_command_line(store):
    key = store["keys"]["revoked"]
    assert me(store, **{"X-API-Key": key}) == 200
    run_cli(store, "user", "revoke-key", "revoked@example.org", "--key", key)
    assert me(store, **{"X-API-Key": key}) == 401
    assert token(store, "revoked")  # the person still signs in: only the key is gone

    key, signed = store["keys"]["gone"], token(store, "gone")
    assert me(store, **{"X-API-Key": key}) == 200 == me(store, Authorization=f"Bearer {signed}")
    run_cli(store, "user", "deactivate", "gone@example.org")
    assert me(store, **{"X-API-Key": key}) == 401
    assert me(store, Authorization=f"Bearer {signed}") == 401
    answer = store["client"].post(
        "/auth/token", data={"username": "gone@example.org", "password": PASSWORD}
    )
    assert answer.status_code == 401
    run_cli(store, "user", "activate", "gone@example.org")
    assert me(store, **{"X-API-Key": key}) == 200
    assert me(store, Authorization=f"Bearer {signed}") == 401  # old tokens stay void


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
     {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"}],
)  # fmt: skip
def test_a_sign_in_posted_from_another_site_sets_no_cookie(store, headers):
    form = {"username": "csrf@example.org", "password": PASSWORD}
    answer = store["client"].post("/auth/session", data=form, headers=headers,
                                  follow_redirects=False)  # fmt: skip
    assert answer.status_code == 403, answer.text
    assert "set-cookie" not in answer.headers and answer.json()["code"] == "Forbidden"
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    answer = store["client"].post("/auth/session", data=form, headers=own,
                                  follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and "emining_session" in answer.cookies
