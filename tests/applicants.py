"""Licence applications as the tests make them: the people (an authority and enterprises, each
with an API key), a store serving them, and one helper per request.

Why a module: ``tests/test_applications.py`` (applying, conflicts, races) and
``tests/test_licence_steps.py`` (reasons, withdrawals, ``/api``, fuzzing) each start their own
store with the same people, so that neither's requests change what the other finds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg

from geo import access
from geo.embedded import Cluster
from geo.load import load_samples
from tests.conftest import LiveServer, fresh_database

GEOJSON = {"Content-Type": "application/geo+json"}
PASSWORD = "correct horse battery"
PEOPLE = (
    ("Mines Authority (test)", "authority", (("judge", "approver"), ("clerk", "editor"),
                                             ("reader", "viewer"))),
    ("Alpha Mining (test)", "enterprise", (("alpha", "editor"), ("alphaview", "viewer"),
                                           ("alphaboss", "approver"))),
    ("Beta Minerals (test)", "enterprise", (("beta", "editor"),)),
    ("Gamma Resources (test)", "enterprise", (("gamma", "editor"),)),
)  # fmt: skip


@contextmanager
def enrolled_store(cluster: Cluster) -> Iterator[dict]:
    """A fresh store with the samples, the people of ``PEOPLE`` (each with an API key) and the
    app serving it: ``{"url", "server", "keys", "users"}``."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        keys, users = {}, {}
        for org, kind, people in PEOPLE:
            org_id = access.ensure_organisation(conn, org, kind)
            for person, role in people:
                users[person] = access.add_user(conn, f"{person}@example.org", org_id, role,
                                                password=PASSWORD)  # fmt: skip
                keys[person] = access.add_key(conn, f"{person}@example.org")
    # Hundreds of checks by a few users: the hourly budget (api.limits) is tested on its own.
    with LiveServer(url, pool_max=12, checks_per_hour=100_000, check_burst=10_000) as server:
        yield {"url": url, "server": server, "keys": keys, "users": users}


def client(store, who: str | None = None) -> httpx.Client:
    headers = {"X-API-Key": store["keys"][who]} if who else {}
    return httpx.Client(base_url=store["server"].url, headers=headers, timeout=60)


def sql(store, statement: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(store["url"]) as conn:
        return conn.execute(statement, params).fetchall()


def count(store) -> int:
    return sql(store, "SELECT count(*) FROM concessions")[0][0]


def records_in(store, geometry: dict) -> int:
    """Concessions of any status whose block meets ``geometry``."""
    return sql(
        store,
        "SELECT count(*) FROM concessions WHERE ST_Intersects(geom, ST_GeomFromGeoJSON(%s))",
        [json.dumps(geometry)],
    )[0][0]


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def cell(n: int) -> dict:
    """The n-th 0.05° square of an empty part of Balochistan (no sample concession near)."""
    x, y = 64.0 + 0.1 * (n % 10), 27.0 + 0.1 * (n // 10)
    return box(x, y, x + 0.05, y + 0.05)


def application(geometry: dict, **properties) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"licence_type": "exploration", "commodities": ["copper"], **properties},
    }


def post(store, who: str | None, path: str, body: object) -> httpx.Response:
    with client(store, who) as c:
        return c.post(path, json=body, headers=GEOJSON)


def apply(store, who: str, geometry: dict, **properties) -> httpx.Response:
    return post(store, who, "/applications", application(geometry, **properties))


def check(store, who: str, geometry: dict) -> httpx.Response:
    return post(store, who, "/applications/check", application(geometry))


def decide(store, who: str | None, fid: int, **decision) -> httpx.Response:
    """A decision, with a reason unless the test gives its own (``reason=None``: none)."""
    decision.setdefault("reason", f"test: {decision.get('status')}")
    body = {k: v for k, v in decision.items() if v is not None}
    return post(store, who, f"/licences/{fid}/status", body)


def withdraw(store, who: str | None, fid: int, body: object) -> httpx.Response:
    return post(store, who, f"/applications/{fid}/withdraw", body)


def decisions(store, who: str | None, fid: int) -> httpx.Response:
    with client(store, who) as c:
        return c.get(f"/licences/{fid}/decisions")
