"""Large pages are streamed from a cursor, and say the same as pages built whole."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from api.ogc.features import STREAM_ABOVE
from tests.conftest import LiveServer, fresh_database

ROWS = 2_600  # synthetic deposits: more than two streamed pages' worth of STREAM_ABOVE


@pytest.fixture(scope="module")
def big_url(cluster) -> str:
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
            "SELECT 'SYNTHETIC-' || n, CASE WHEN n %% 3 = 0 THEN ARRAY['copper', 'gold'] "
            "ELSE ARRAY['coal'] END, 'prospect', 'approximate', 'synthetic: tests', "
            "ST_SetSRID(ST_MakePoint(62 + (n %% 97) * 0.1, 25 + (n %% 89) * 0.1), 4326) "
            "FROM generate_series(1, %s) AS n",
            [ROWS],
        )
    return url


@pytest.fixture(scope="module")
def client(big_url):
    # A pool of 2: a streamed page that kept its connection would stall the third request.
    with TestClient(create_app(Settings(big_url, pool_min=1, pool_max=2))) as test_client:
        yield test_client


def ids(body: dict) -> list[int]:
    return [f["id"] for f in body["features"]]


def test_a_streamed_page_equals_the_pages_built_whole(client):
    query = "filter=A_CONTAINS(commodities, ('coal'))&sortby=-name"
    streamed = client.get(f"/collections/deposits/items?limit=5000&{query}")
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"] == "application/geo+json"
    body = streamed.json()
    whole: list[dict] = []
    offset = 0
    while True:
        page = client.get(f"/collections/deposits/items?limit=500&offset={offset}&{query}").json()
        whole += page["features"]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 500
    coal = ROWS - ROWS // 3
    assert "content-length" not in streamed.headers  # sent as it was read
    assert body["numberMatched"] == coal == len(whole)
    assert body["numberReturned"] == len(body["features"]) == coal > STREAM_ABOVE
    assert body["features"] == whole
    assert not any(link["rel"] in ("next", "prev") for link in body["links"])


def test_streamed_pages_link_to_the_next_and_previous_ones(client):
    body = client.get("/collections/deposits/items?limit=1200&offset=1200").json()
    assert (body["numberMatched"], body["numberReturned"]) == (ROWS, 1200)
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "offset=2400" in rels["next"] and "offset=0" in rels["prev"]
    last = client.get(rels["next"]).json()
    assert last["numberReturned"] == ROWS - 2400 == len(last["features"])
    assert not any(link["rel"] == "next" for link in last["links"])


def test_streaming_gives_connections_back_to_the_pool(client):
    for _ in range(6):  # three times the pool's size
        assert client.get("/collections/deposits/items?limit=2000").status_code == 200
    assert client.head("/collections/deposits/items?limit=2000").status_code == 200
    # and each went back in autocommit mode: a plain page still answers
    assert client.get("/collections/deposits/items?limit=5").json()["numberReturned"] == 5


def test_a_streamed_page_revalidates_until_the_data_changes(client, big_url):
    path = "/collections/deposits/items?limit=3000&skipGeometry=true"
    first = client.get(path)
    etag = first.headers["etag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path + "&crs=EPSG:4326").headers["etag"] != etag
    with psycopg.connect(big_url, autocommit=True) as conn:
        conn.execute("UPDATE deposits SET operator = 'changed' WHERE id = 1")
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag
    assert next(f for f in again.json()["features"] if f["id"] == 1)["properties"]["operator"] == (
        "changed"
    )


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("filter=1/0 = 1", "division by zero"),
        ("filter=nope = 1", "nope"),
        ("sortby=nope", "nope"),
    ],
)
def test_bad_streamed_requests_get_a_400_before_any_byte(client, query, fragment):
    response = client.get(f"/collections/deposits/items?limit=5000&{query}")
    assert response.status_code == 400, response.text
    assert fragment in response.json()["description"]


def test_a_client_leaving_mid_stream_frees_its_connection(big_url):
    with LiveServer(big_url) as server:
        url = f"{server.url}/collections/deposits/items?limit=10000"
        for _ in range(12):  # more than the pool's 10 connections
            with httpx.stream("GET", url) as response:
                assert response.status_code == 200
                next(response.iter_bytes(1024))  # read a little, then hang up
        assert httpx.get(url, timeout=10).json()["numberReturned"] == ROWS
