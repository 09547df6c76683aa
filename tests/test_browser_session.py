"""Signing in from a browser: the map shows what the person's organisation may see.

In real Chromium: an anonymous visitor's map has the public deposits; after signing in at
/login the same map has the confidential one too. The session cookie reads but never writes,
and an expired or forged one reads as anonymous rather than locking the visitor out.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from geo import access
from geo.load import load_samples
from tests.conftest import LiveServer, fresh_database
from tests.test_html import browser, watching  # noqa: F401  (the browser fixture)
from tests.test_map import open_map, wait_for_deposits

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def store(cluster) -> Iterator[dict]:
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        org = access.ensure_organisation(conn, "Alpha Mining (test)", "enterprise")
        access.add_user(conn, "alpha@example.org", org, "editor", password=PASSWORD)
        conn.execute(
            "UPDATE deposits SET visibility = 'confidential', owner_org = %s WHERE name = 'Gunga'",
            [org],
        )
        everyone, public = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE visibility = 'public') FROM deposits"
        ).fetchone()
    with LiveServer(url) as server:
        yield {"server": server, "all": everyone, "public": public}


def sign_in(page, origin: str, password: str = PASSWORD) -> None:
    page.goto(f"{origin}/login?next=/map")
    page.fill("input[name=username]", "alpha@example.org")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_the_map_shows_what_the_signed_in_organisation_sees(browser, store):  # noqa: F811
    origin = store["server"].url
    assert store["all"] == store["public"] + 1
    with watching(browser, origin) as anonymous:
        wait_for_deposits(open_map(anonymous), store["public"])
    with watching(browser, origin) as person:
        sign_in(person.page, origin)
        person.page.wait_for_url(f"{origin}/map")
        person.page.wait_for_function("() => window.eminingMap !== undefined")
        wait_for_deposits(person.page, store["all"])
        person.assert_clean()
        cookie = {c["name"]: c for c in person.page.context.cookies()}["emining_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        person.page.goto(f"{origin}/login")
        assert "Alpha Mining (test)" in person.page.inner_text("main")
        # The cookie reads, and never writes: a write with it alone is anonymous (401).
        jar = {"emining_session": cookie["value"]}
        with httpx.Client(base_url=origin, cookies=jar) as c:
            assert c.get("/collections/deposits/items").json()["numberMatched"] == store["all"]
            answer = c.post("/collections/deposits/items", json={"type": "Feature"},
                            headers={"Content-Type": "application/geo+json"})  # fmt: skip
            assert answer.status_code == 401


def test_a_wrong_password_and_a_forged_cookie(browser, store):  # noqa: F811
    origin = store["server"].url
    with watching(browser, origin) as visitor:
        sign_in(visitor.page, origin, password="not the password")
        visitor.page.wait_for_url(lambda address: "failed=1" in address)
        assert "Wrong e-mail or password" in visitor.page.inner_text("main")
    with httpx.Client(base_url=origin, cookies={"emining_session": "forged.token.here"}) as c:
        assert c.get("/collections/deposits/items").json()["numberMatched"] == store["public"]
        assert c.get("/login").status_code == 200
    for target in ("https://evil.example/", "//evil.example/x"):
        response = httpx.post(f"{origin}/auth/session",
                              data={"username": "alpha@example.org", "password": PASSWORD,
                                    "next": target})  # fmt: skip
        assert response.status_code == 303 and response.headers["location"] == "/map"
