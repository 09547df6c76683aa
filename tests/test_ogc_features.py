"""OGC API – Features over the sample data, through the ASGI app (JSON side)."""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from tests.conftest import REPO

CHAGAI = "61.0,28.5,62.5,29.6"  # around Reko Diq and Saindak
QGIS_FILTERING = {
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
}


@pytest.fixture(scope="module")
def client(samples_url):
    with TestClient(create_app(Settings(samples_url))) as test_client:
        yield test_client


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [f["properties"]["name"] for f in response.json()["features"]]


def error(response, fragment: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and fragment in body["description"], body


def test_landing_page_links_what_qgis_and_gdal_look_for(client):
    body = client.get("/").json()
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert all(link["href"].startswith("http://testserver/") for link in body["links"])
    assert rels["service-desc"] == "http://testserver/api"


def test_conformance_declares_what_qgis_needs_to_filter_on_the_server(client):
    assert set(client.get("/conformance").json()["conformsTo"]) >= QGIS_FILTERING


def test_openapi_states_limit_default_and_maximum(client):
    document = client.get("/api").json()
    assert document["openapi"].startswith("3.0")
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (10, 10000)
    assert "/collections/deposits/items" in document["paths"]


def test_collections_describe_extent_crs_and_links(client):
    body = client.get("/collections").json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert set(by_id) == {
        "deposits",
        "concessions",
        "facilities",
        "sezs",
        "corridors",
        "provinces",
        "districts",
        "links",
        "projects",
        "resources",
        "mineraloccurrences",
        "commodityresources",
    }
    deposits = by_id["deposits"]
    points = [f["geometry"]["coordinates"] for f in json.loads(
        (REPO / "data/samples/deposits.geojson").read_text("utf-8"))["features"]]  # fmt: skip
    xs, ys = [x for x, _ in points], [y for _, y in points]
    expected = (min(xs), min(ys), max(xs), max(ys))  # the samples the store was loaded with
    assert deposits["extent"]["spatial"]["bbox"][0] == pytest.approx(expected, abs=1e-9)
    assert "http://www.opengis.net/def/crs/EPSG/0/32642" in deposits["crs"]
    assert deposits["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert "ILLUSTRATIVE" in by_id["concessions"]["description"]
    assert client.get("/collections/mines").status_code == 404


def held(url: str, query: str, *params: object) -> list:
    """What the store itself answers (the expectation, not a typed number)."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(query, params)]


def test_items_page_with_exact_count_and_absolute_next_prev_links(client, samples_url):
    total = held(samples_url, "SELECT count(*) FROM deposits")[0]
    assert total > 20  # three pages of ten at least, for the middle page below
    first = client.get("/collections/deposits/items").json()
    assert (first["numberMatched"], first["numberReturned"], len(first["features"])) == (
        total, 10, 10
    )  # fmt: skip
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in rels and "offset=10" in rels["next"]
    second = client.get(rels["next"]).json()
    assert second["numberReturned"] == 10
    rels = {link["rel"]: link["href"] for link in second["links"]}
    assert "offset=20" in rels["next"] and rels["prev"].startswith("http://testserver/")
    last = client.get(f"/collections/deposits/items?offset={(total - 1) // 10 * 10}").json()
    assert last["numberReturned"] == total - (total - 1) // 10 * 10
    assert "next" not in {link["rel"] for link in last["links"]}
    everything = client.get(f"/collections/deposits/items?limit={total}").json()["features"]
    ids = [f["id"] for f in first["features"] + second["features"]]
    assert ids == [f["id"] for f in everything[:20]] and len(set(ids)) == 20


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("limit=0", "limit must be between 1 and 10000"),
        ("limit=10001", "limit must be between 1 and 10000"),
        ("limit=ten", "limit must be a whole number"),
        ("offset=-1", "offset must be between"),
        ("bbox=1,2,3", "bbox must be 4 or 6"),
        ("bbox=a,b,c,d", "bbox must be 4 or 6"),
        ("bbox=60,30,70,20", "lower corner is above"),
        ("bbox=60,20,70,nan", "finite"),
        ("datetime=yesterday", "not an RFC 3339"),
        ("datetime=2020-01-01/2019-01-01", "ends before it starts"),
        ("datetime=../..", "at least one closed end"),
        ("crs=EPSG:9999", "unsupported CRS"),
        ("bbox-crs=urn:nothing", "unsupported CRS"),
        ("colour=red", "unknown parameter(s) 'colour'"),
        ("tonnage_mt=lots", "tonnage_mt is a number; 'lots' is not"),
        ("sortby=-depth", "unknown sortby property 'depth'"),
        ("properties=name,depth", "unknown property 'depth'"),
        ("skipGeometry=maybe", "skipGeometry must be true or false"),
        ("f=xml", "f must be json or html"),
        ("filter=status%20%3D%3D%20'x'", "filter"),
        ("filter=depth%20%3E%203", "depth"),
        ("filter-lang=cql3", "filter-lang must be one of"),
        ("limit=5&limit=6", "more than once"),
    ],
)
def test_bad_parameters_get_400_with_the_reason(client, query, fragment):
    error(client.get(f"/collections/deposits/items?{query}"), fragment)


def test_bbox_selects_by_area_in_any_supported_crs(client, samples_url):
    in_box = sorted(
        held(
            samples_url,
            f"SELECT name FROM deposits WHERE ST_Intersects(geom, ST_MakeEnvelope({CHAGAI}, 4326))",
        )
    )
    assert {"Reko Diq", "Saindak"} <= set(in_box)
    assert (
        sorted(names(client.get(f"/collections/deposits/items?bbox={CHAGAI}&limit=1000"))) == in_box
    )
    lat_lon = "28.5,61.0,29.6,62.5"
    by_epsg = client.get(
        "/collections/deposits/items",
        params={"bbox": lat_lon, "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
                "limit": 1000},
    )  # fmt: skip
    assert sorted(names(by_epsg)) == in_box
    mercator = "6790500,3312000,6957500,3451000"
    by_3857 = client.get(
        "/collections/deposits/items",
        params={"bbox": mercator, "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                "limit": 1000},
    )  # fmt: skip
    by_mercator = held(
        samples_url,
        "SELECT name FROM deposits WHERE ST_Intersects(ST_Transform(geom, 3857), "
        "ST_MakeEnvelope(6790500, 3312000, 6957500, 3451000, 3857))",
    )
    assert {"Reko Diq", "Saindak"} <= set(by_mercator)
    assert sorted(names(by_3857)) == sorted(by_mercator)


def test_crs_reprojects_in_the_database_and_says_so(client):
    params = {"name": "Saindak"}
    plain = client.get("/collections/deposits/items", params=params)
    assert plain.json()["features"][0]["geometry"]["coordinates"] == [61.612, 29.249]
    epsg = "http://www.opengis.net/def/crs/EPSG/0/4326"
    flipped = client.get("/collections/deposits/items", params=params | {"crs": epsg})
    assert flipped.json()["features"][0]["geometry"]["coordinates"] == [29.249, 61.612]
    assert flipped.headers["Content-Crs"] == f"<{epsg}>"
    utm = client.get(
        "/collections/deposits/items",
        params=params | {"crs": "http://www.opengis.net/def/crs/EPSG/0/32641"},
    )
    x, y = utm.json()["features"][0]["geometry"]["coordinates"]
    assert 350_000 < x < 400_000 and 3_230_000 < y < 3_250_000


def test_property_filters_and_array_membership(client, samples_url):
    producing = client.get("/collections/deposits/items?status=producing&limit=1000").json()
    expected = held(samples_url, "SELECT count(*) FROM deposits WHERE status = 'producing'")[0]
    assert 0 < producing["numberMatched"] == expected
    assert all(f["properties"]["status"] == "producing" for f in producing["features"])
    coal = names(client.get("/collections/deposits/items?commodities=coal&limit=1000"))
    wanted = held(samples_url, "SELECT name FROM deposits WHERE 'coal' = ANY(commodities)")
    assert wanted and sorted(coal) == sorted(wanted)


def test_cql2_text_and_json_filters(client, samples_url):
    text = "A_CONTAINS(commodities, ('copper','gold')) AND province = 'Balochistan'"
    both = held(
        samples_url,
        "SELECT name FROM deposits WHERE commodities @> ARRAY['copper', 'gold'] "
        "AND province = 'Balochistan'",
    )
    assert {"Reko Diq", "Saindak"} <= set(both)
    found = client.get("/collections/deposits/items", params={"filter": text, "limit": 1000})
    assert sorted(names(found)) == sorted(both)
    as_json = json.dumps(
        {"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [61.0, 28.5, 62.5, 29.6]}]}
    )
    response = client.get(
        "/collections/deposits/items",
        params={"filter": as_json, "filter-lang": "cql2-json", "limit": 1000},
    )
    in_box = held(
        samples_url,
        "SELECT name FROM deposits WHERE ST_Intersects(geom, ST_MakeEnvelope(61, 28.5, 62.5, 29.6, 4326))",  # noqa: E501
    )
    assert sorted(names(response)) == sorted(in_box)


def test_datetime_uses_the_layers_temporal_property(client):
    everything = client.get("/collections/concessions/items?limit=100").json()
    granted = [f["properties"] for f in everything["features"] if f["properties"]["granted_on"]]
    day = sorted(p["granted_on"] for p in granted)[0]
    at = client.get(f"/collections/concessions/items?datetime={day}T12:00:00Z&limit=100").json()
    expected = {
        p["licence_no"]
        for p in granted
        if p["granted_on"] <= day and (p["expires_on"] is None or p["expires_on"] >= day)
    }
    assert {f["properties"]["licence_no"] for f in at["features"]} == expected
    error(client.get("/collections/facilities/items?datetime=2020-01-01"), "no temporal")


def test_sortby_properties_and_skip_geometry(client, samples_url):
    body = client.get(
        "/collections/deposits/items",
        params={
            "sortby": "-coord_radius_km,name",
            "limit": 3,
            "properties": "name,coord_radius_km",
            "skipGeometry": "true",
        },
    ).json()
    with psycopg.connect(samples_url) as conn:
        expected = conn.execute(
            "SELECT name, coord_radius_km FROM deposits "
            "ORDER BY coord_radius_km DESC NULLS LAST, name, id LIMIT 3"
        ).fetchall()
    assert [f["properties"] for f in body["features"]] == [
        {"name": name, "coord_radius_km": radius} for name, radius in expected
    ]
    assert all(f["geometry"] is None for f in body["features"])
    nested = client.get(
        "/collections/deposits/items", params={"properties": "name,resources", "limit": 1}
    ).json()["features"][0]["properties"]
    assert set(nested) == {"name", "resources"} and isinstance(nested["resources"], list)


def test_single_item_and_its_errors(client):
    first = client.get("/collections/deposits/items?limit=1").json()["features"][0]
    one = client.get(f"/collections/deposits/items/{first['id']}")
    assert one.status_code == 200 and one.json()["properties"] == first["properties"]
    assert any(link["rel"] == "collection" for link in one.json()["links"])
    assert client.get("/collections/deposits/items/999999").status_code == 404
    assert client.get("/collections/deposits/items/abc").status_code == 404
    assert client.get("/collections/nothing/items/1").json()["code"] == "NotFound"


def test_queryables_are_a_json_schema_of_the_layer(client):
    body = client.get("/collections/deposits/queryables").json()
    assert body["properties"]["commodities"] == {
        "title": "commodities",
        "type": "array",
        "items": {"type": "string"},
    }
    assert body["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    assert body["properties"]["as_of"]["format"] == "date"


def test_etag_cache_control_and_gzip(client):
    response = client.get(
        "/collections/districts/items?limit=50", headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age" in response.headers["Cache-Control"]
    again = client.get(
        "/collections/districts/items?limit=50", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_head_answers_with_headers_only(client):
    response = client.head("/collections/deposits/items")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["ETag"] and response.headers["Content-Type"] == "application/geo+json"


def test_feature_schema_types_every_property_for_gdal(client):
    links = client.get("/collections/deposits").json()["links"]
    described = next(link["href"] for link in links if link["rel"] == "describedBy")
    properties = client.get(described).json()["properties"]["properties"]["properties"]
    assert properties["tonnage_mt"] == {"type": "number"}
    assert properties["as_of"] == {"type": "string", "format": "date"}


def test_a_large_projected_bbox_is_densified_before_reprojection(client, samples_url):
    utm = "http://www.opengis.net/def/crs/EPSG/0/32642"
    body = client.get(
        "/collections/deposits/items",
        params={"bbox": "-5000000,2000000,5000000,5000000", "bbox-crs": utm, "limit": 100},
    ).json()
    assert body["numberMatched"] == held(samples_url, "SELECT count(*) FROM deposits")[0]


def test_point_bbox_edges_are_exact(client):
    # Saindak is at 61.612, 29.249: on the edge it is in; 1e-6° (~10 cm) east of it, out.
    on_edge = names(client.get("/collections/deposits/items?bbox=61.612,29.249,61.62,29.2495"))
    assert on_edge == ["Saindak"]
    assert names(client.get("/collections/deposits/items?bbox=61.612001,29.2,61.62,29.2495")) == []


def test_statements_are_rendered_once_per_shape_and_the_memo_stays_bounded(client):
    from itertools import permutations

    from geo import query
    from layers.catalogue import get

    query._rendered.clear()
    for box in ("61,28,62,29", "66,26,67,27"):
        client.get(f"/collections/deposits/items?bbox={box}&limit=5")
    assert len(query._rendered) == 1  # same shape, other values: parameters only
    found = [
        names(client.get(f"/collections/deposits/items?bbox={b}")) for b in (CHAGAI, "0,0,1,1")
    ]
    assert found[0] and found[1] == []  # ...and the values still decide the answer
    source = get("deposits").source
    shapes = list(permutations(source.properties, 3))[: query.RENDERED_KEPT + 50]
    for properties in shapes:
        query.items_statement(source, query.ItemsQuery(properties=properties))
    assert 0 < len(query._rendered) <= query.RENDERED_KEPT
