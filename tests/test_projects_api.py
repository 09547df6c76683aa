"""The ``projects`` collection through the OGC API and the tiles: read-only, filterable by stage
and partner country (CQL2 and property=value), its lists of records readable, never filterable.

Expected sets come from SQL over the project tables, not from the view the API reads.
"""

from __future__ import annotations

import json

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app

ITEMS = "/collections/projects/items"


@pytest.fixture(scope="module")
def client(samples_url):
    with TestClient(create_app(Settings(samples_url))) as test_client:
        yield test_client


def names(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {f["properties"]["name"] for f in response.json()["features"]}


def expected(samples_url: str, where: str, params: list) -> set[str]:
    with psycopg.connect(samples_url) as conn:
        return {r[0] for r in conn.execute(f"SELECT name FROM projects p WHERE {where}", params)}


WITH_PARTNER_FROM = (
    "EXISTS (SELECT 1 FROM project_partners x WHERE x.project_id = p.id AND x.country = %s)"
)


@pytest.mark.parametrize("stage", ["mining", "financing", "logistics", "exploration"])
def test_cql2_filters_by_stage(client, samples_url, stage):
    found = names(client.get(ITEMS, params={"filter": f"stage = '{stage}'", "limit": 100}))
    assert found == expected(samples_url, "stage = %s", [stage]) and found


@pytest.mark.parametrize("country", ["CN", "CA", "DE"])
def test_cql2_and_property_filters_by_partner_country(client, samples_url, country):
    wanted = expected(samples_url, WITH_PARTNER_FROM, [country])
    text = f"A_CONTAINS(partner_countries, ('{country}'))"
    assert names(client.get(ITEMS, params={"filter": text, "limit": 100})) == wanted
    as_json = {"op": "a_contains", "args": [{"property": "partner_countries"}, [country]]}
    response = client.get(
        ITEMS, params={"filter": str(as_json).replace("'", '"'), "filter-lang": "cql2-json"}
    )
    assert names(response) == wanted
    assert names(client.get(ITEMS, params={"partner_countries": country})) == wanted


def test_chinese_mining_projects_in_balochistan(client, samples_url):
    """What the platform is for: stage, partner country and place in one filter."""
    text = (
        "stage = 'mining' AND A_CONTAINS(partner_countries, ('CN')) AND "
        "S_INTERSECTS(geometry, BBOX(60.8, 24.8, 69.0, 32.1))"
    )
    found = names(client.get(ITEMS, params={"filter": text}))
    assert found == {"Saindak Copper-Gold Project", "Duddar Lead-Zinc Project"}


def test_partners_investments_agreements_and_sites_are_readable(client):
    features = client.get(ITEMS, params={"filter": "name = 'Reko Diq'"}).json()["features"]
    (reko_diq,) = features
    props = reko_diq["properties"]
    barrick = next(p for p in props["partners"] if p["organisation"].startswith("Barrick"))
    assert (barrick["country"], barrick["role"], barrick["share_percent"]) == ("CA", "operator", 50)
    assert [a["signed_on"] for a in props["agreements"]] == ["2022-03-20", "2022-12-15"]
    assert {(s["layer"], s["name"]) for s in props["sites"]} == {
        ("deposits", "Reko Diq"),
        ("concessions", "ILLUS-0001"),
    }
    assert reko_diq["geometry"]["type"] == "GeometryCollection"
    finance = client.get(ITEMS, params={"stage": "financing"}).json()["features"][0]
    amounts = [(i["amount"], i["currency"]) for i in finance["properties"]["investments"]]
    assert amounts == [(700000000, "USD"), (410000000, "USD")]
    one = client.get(f"/collections/projects/items/{reko_diq['id']}")
    assert one.status_code == 200 and one.json()["properties"]["name"] == "Reko Diq"


def test_lists_of_records_are_published_but_not_queryable(client):
    queryables = client.get("/collections/projects/queryables").json()["properties"]
    assert {"stage", "partner_countries", "partner_roles", "commodities"} <= set(queryables)
    assert not {"partners", "investments", "agreements", "sites"} & set(queryables)
    feature = client.get("/collections/projects/schema").json()["properties"]
    schema = feature["properties"]["properties"]
    assert schema["partners"] == {"type": "array", "items": {"type": "object"}}
    for query in ({"filter": "partners IS NULL"}, {"partners": "Barrick"}):
        response = client.get(ITEMS, params=query)
        assert response.status_code == 400 and "list of records" in response.text, response.text


def test_the_collection_is_read_only(client):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, ITEMS, json={}).status_code == 405
        assert client.request(method, f"{ITEMS}/1", json={}).status_code == 405


def test_a_sites_move_changes_the_project_page_and_its_etag(client, samples_url):
    query = {"filter": "name = 'Thar Coal Block I'"}
    first = client.get(ITEMS, params=query)
    with psycopg.connect(samples_url, autocommit=True) as conn:
        conn.execute("UPDATE deposits SET geom = ST_Translate(geom, 0.01, 0) WHERE name = %s",
                     ["Thar Block I"])  # fmt: skip
        try:
            second = client.get(ITEMS, params=query)
        finally:
            conn.execute("UPDATE deposits SET geom = ST_Translate(geom, -0.01, 0) WHERE name = %s",
                         ["Thar Block I"])  # fmt: skip
    assert first.headers["etag"] != second.headers["etag"]
    (x1, _), (x2, _) = (
        r.json()["features"][0]["geometry"]["coordinates"][0] for r in (first, second)
    )
    assert round(x2 - x1, 6) == 0.01


def test_the_projects_tile_carries_the_lists_as_json_text(client):
    tile = morecantile.tms.get("WebMercatorQuad").tile(62.061, 29.13, 6)
    response = client.get(f"/collections/projects/tiles/WebMercatorQuad/6/{tile.x}/{tile.y}")
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content)["projects"]
    names_in_tile = {f["properties"]["name"] for f in layer["features"]}
    assert {"Reko Diq", "Reko Diq Phase 1 project finance"} <= names_in_tile
    reko_diq = next(f for f in layer["features"] if f["properties"]["name"] == "Reko Diq")
    partners = json.loads(reko_diq["properties"]["partners"])
    assert {"organisation": "Barrick Gold Corporation", "country": "CA"}.items() <= partners[
        0
    ].items()
    assert reko_diq["properties"]["partner_countries"] == "CA,PK"


def test_a_streamed_page_keys_its_etag_on_the_projects_counter(client, samples_url):
    """Pages over 1,000 features are streamed; their weak ETag names the layer's change counter,
    which for a view is the layer's (``projects``), not the view's name."""
    response = client.get(ITEMS, params={"limit": 2000})
    assert response.status_code == 200 and response.headers["etag"].startswith('W/"')
    assert response.json()["numberMatched"] == len(expected(samples_url, "true", []))
