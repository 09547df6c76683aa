"""Real OGC API – Features clients against the live server: GDAL (OAPIF), OWSLib, schemathesis.

Every expectation comes from the database the server reads (or from the catalogue), never from a
response copied into the test, so a test fails only when a client and the server disagree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests
from owslib.ogcapi.features import Features
from psycopg import sql

from geo import crs as crs_module
from geo.load import load_samples
from layers.catalogue import CATALOGUE, get
from tests.conftest import LiveServer, add_sample_rasters, fresh_database
from tests.fuzzing import CONFORMANCE, failures, schemathesis

# GDAL's command-line tools come from Debian's gdal-bin, which `make test` installs; a missing
# ogrinfo is a broken setup, so the tests fail (below) rather than skip.

LAYERS = [layer.id for layer in CATALOGUE]
CHAGAI = (61.0, 28.5, 62.5, 29.6)  # around Reko Diq and Saindak
OGR_GEOMETRY = {
    "POINT": "Point",
    "MULTIPOINT": "Multi Point",
    "LINESTRING": "Line String",
    "MULTILINESTRING": "Multi Line String",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "Multi Polygon",
}
# OGR's field type for each queryable's JSON Schema type (and format).
OGR_FIELD = {
    "string": "String",
    "number": "Real",
    "integer": "Integer",
    "boolean": "Integer(Boolean)",
    "date": "Date",
    "date-time": "DateTime",
    "array": "StringList",
}


pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_proxy_for_loopback")]


# --- helpers -------------------------------------------------------------------------------------


def rows(database_url: str, query: sql.Composable | str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def table_query(template: str, layer: str) -> sql.Composed:
    return sql.SQL(template).format(table=sql.Identifier(get(layer).source.table))


def gdal(*args: str) -> subprocess.CompletedProcess:
    """Run a GDAL utility with its HTTP log on (stderr has one "HTTP: Fetch(url)" per request)."""
    assert shutil.which(args[0]), f"{args[0]} not found: install Debian's gdal-bin (make deps)"
    done = subprocess.run(
        [*args, "--config", "CPL_DEBUG", "ON"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ERROR" not in done.stderr, done.stderr[-3000:]
    return done


def fetched(done: subprocess.CompletedProcess, path: str) -> list[dict[str, list[str]]]:
    """Query parameters of each request GDAL made to ``path``, in order."""
    urls = re.findall(r"HTTP: Fetch\((.*)\)", done.stderr)
    return [parse_qs(urlsplit(u).query) for u in urls if urlsplit(u).path == path]


def ogr_summary(url: str, layer: str) -> dict:
    text = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{url}", layer).stdout
    fields = dict(re.findall(r"^(\w+): (\w+(?:\(\w+\))?) \(\d+\.\d+\)$", text, re.MULTILINE))
    return {
        "geometry": re.search(r"^Geometry: (.+)$", text, re.MULTILINE).group(1),
        "count": int(re.search(r"^Feature Count: (\d+)$", text, re.MULTILINE).group(1)),
        "fields": fields,
    }


def ogr2ogr(url: str, out: Path, layer: str, *options: str) -> tuple[list[dict], list]:
    """The layer copied to GeoJSON by ogr2ogr (ids kept): its features, and GDAL's item requests."""
    done = gdal(
        "ogr2ogr", "-f", "GeoJSON", "-preserve_fid", str(out), f"OAPIF:{url}", layer, *options
    )
    features = json.loads(out.read_text())["features"]
    return features, fetched(done, f"/collections/{layer}/items")


def names(features: list[dict]) -> list[str]:
    return sorted(f["properties"]["name"] for f in features)


# --- GDAL (OAPIF driver) -------------------------------------------------------------------------


def test_gdal_lists_every_collection_with_its_title(live_server):
    text = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}").stdout
    # "(Point)" after the title, or nothing where the type is unknown (projects: mixed types)
    found = re.findall(r"^\d+: (\S+) \(title: (.*?)\)(?: \([A-Z][a-z]+(?: [A-Z][a-z]+)*\))?$",
                       text, re.MULTILINE)  # fmt: skip
    listed = dict(found)
    assert listed == {layer.id: layer.title for layer in CATALOGUE}


@pytest.mark.parametrize("layer", LAYERS)
def test_gdal_reports_geometry_type_and_exact_count(live_server, samples_url, layer):
    declared = rows(
        samples_url,
        "SELECT upper(type) FROM geometry_columns WHERE f_table_name = %s",
        (get(layer).source.table,),
    )[0][0]
    present = {
        t
        for (t,) in rows(
            samples_url, table_query("SELECT DISTINCT GeometryType(geom) FROM {table}", layer)
        )
    }
    # A typed column gives GDAL the type; an untyped one (sezs) leaves it to the data it samples.
    kinds = {declared} if declared != "GEOMETRY" else present
    expected = OGR_GEOMETRY[kinds.pop()] if len(kinds) == 1 else "Unknown (any)"
    ((count,),) = rows(samples_url, table_query("SELECT count(*) FROM {table}", layer))
    matched = requests.get(
        f"{live_server.url}/collections/{layer}/items", params={"limit": 1}, timeout=30
    ).json()["numberMatched"]

    summary = ogr_summary(live_server.url, layer)

    assert (summary["geometry"], summary["count"]) == (expected, count)
    assert matched == count


@pytest.mark.parametrize("layer", LAYERS)
def test_gdal_field_types_are_the_queryables_types(live_server, layer):
    """GDAL types fields from a describedBy schema, else from the first page's JSON values."""
    queryables = requests.get(
        f"{live_server.url}/collections/{layer}/queryables", timeout=30
    ).json()["properties"]
    expected = {
        name: OGR_FIELD[schema.get("format", schema["type"])]
        for name, schema in queryables.items()
        if name != "geometry"
    }
    # Published lists of records (a project's partners, ...) are not queryable; GDAL keeps
    # their JSON as text.
    described = requests.get(f"{live_server.url}/collections/{layer}/schema", timeout=30).json()
    for name, schema in described["properties"]["properties"]["properties"].items():
        if schema.get("items", {}).get("type") == "object":
            expected[name] = "String"
    assert ogr_summary(live_server.url, layer)["fields"] == expected


@pytest.fixture(scope="module")
def fractional_server(cluster) -> Iterator[tuple[LiveServer, str]]:
    """The samples with one fractional tonnage, on the last deposit (past GDAL's first page)."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        conn.execute(
            "UPDATE deposits SET tonnage_mt = 2.5 WHERE id = (SELECT max(id) FROM deposits)"
        )
    with LiveServer(url) as server:
        yield server, url


def test_gdal_keeps_every_number_as_stored(fractional_server, tmp_path):
    server, database_url = fractional_server
    stored = dict(rows(database_url, "SELECT id, tonnage_mt FROM deposits"))
    features, _ = ogr2ogr(server.url, tmp_path / "deposits.geojson", "deposits")
    assert {f["id"]: f["properties"]["tonnage_mt"] for f in features} == stored


def test_ogr2ogr_reads_all_districts_page_by_page(live_server, samples_url, tmp_path):
    expected = dict(rows(samples_url, "SELECT id, name FROM districts"))
    features, requests_made = ogr2ogr(
        live_server.url, tmp_path / "districts.geojson", "districts", "-oo", "PAGE_SIZE=10"
    )
    assert {f["id"]: f["properties"]["name"] for f in features} == expected
    assert len(features) == len(expected)  # no feature twice
    # GDAL followed our rel=next links: every page once, 10 at a time, offsets 10, 20, ...
    offsets = [int(q.get("offset", ["0"])[0]) for q in requests_made]
    assert sorted(set(offsets)) == list(range(0, len(expected), 10))
    assert all(q["limit"] == ["10"] for q in requests_made)


def test_ogr2ogr_spatial_filter_is_the_api_bbox(live_server, samples_url, tmp_path):
    spat = [str(v) for v in CHAGAI]
    features, requests_made = ogr2ogr(
        live_server.url, tmp_path / "chagai.geojson", "deposits", "-spat", *spat
    )
    api = requests.get(
        f"{live_server.url}/collections/deposits/items",
        params={"bbox": ",".join(spat), "limit": 1000},
        timeout=30,
    ).json()
    in_db = rows(
        samples_url,
        "SELECT name FROM deposits WHERE ST_Intersects(geom, "
        "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY name",
        CHAGAI,
    )
    assert names(features) == names(api["features"]) == [name for (name,) in in_db]
    reading = requests_made[1:]  # after the unfiltered first page GDAL samples for the schema
    assert reading and all("bbox" in q for q in reading)  # the filter ran on the server


@pytest.mark.parametrize(
    ("where", "on_server"),
    [
        ("status = 'producing'", {"status": ["producing"]}),
        (
            "status = 'producing' AND province = 'Sindh'",
            {"status": ["producing"], "province": ["Sindh"]},
        ),
        ("tonnage_mt > 5", {}),  # GDAL 3.6 sends only equalities; it evaluates the rest itself
    ],
)
def test_ogr2ogr_attribute_filter(live_server, samples_url, tmp_path, where, on_server):
    features, requests_made = ogr2ogr(
        live_server.url, tmp_path / "where.geojson", "deposits", "-where", where
    )
    # The same condition in SQL (OGR SQL and PostgreSQL agree on these simple ones).
    expected = rows(samples_url, f"SELECT name FROM deposits WHERE {where} ORDER BY name")
    assert names(features) == [name for (name,) in expected]
    # The first request samples the schema; the ones reading features carry the filter.
    reading = requests_made[1:]
    assert reading and all(q.items() >= on_server.items() for q in reading)


# --- OWSLib --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def owslib(live_server) -> Features:
    return Features(live_server.url)


def test_owslib_reads_conformance_and_collections(owslib):
    conforms = set(owslib.conformance()["conformsTo"])
    assert {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    } <= conforms
    assert [c["id"] for c in owslib.collections()["collections"]] == LAYERS
    assert owslib.feature_collections() == LAYERS  # itemType feature, all of them
    assert owslib.collection("deposits")["title"] == get("deposits").title
    assert "/collections/deposits/items" in owslib.api()["paths"]  # via the service-desc link


def test_owslib_bbox(owslib, samples_url):
    found = owslib.collection_items("deposits", bbox=list(CHAGAI), limit=1000)
    in_db = rows(
        samples_url,
        "SELECT name FROM deposits WHERE ST_Intersects(geom, "
        "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY name",
        CHAGAI,
    )
    assert names(found["features"]) == [name for (name,) in in_db]
    assert {"Reko Diq", "Saindak"} <= set(names(found["features"]))


def test_owslib_cql2_text_and_json_filters(owslib, samples_url):
    coal = [
        n
        for (n,) in rows(
            samples_url, "SELECT name FROM deposits WHERE 'coal' = ANY(commodities) ORDER BY name"
        )
    ]
    # OWSLib 0.35 passes filter= through as a query parameter (CQL2-Text is the default
    # filter-lang); its cql= argument POSTs a body instead, which Part 3 does not define.
    text = owslib.collection_items(
        "deposits", filter="A_CONTAINS(commodities, ('coal'))", limit=1000
    )
    assert text["numberMatched"] == len(coal) and names(text["features"]) == coal
    as_json = json.dumps({"op": "a_contains", "args": [{"property": "commodities"}, ["coal"]]})
    cql2_json = owslib.collection_items(
        "deposits", filter=as_json, limit=1000, **{"filter-lang": "cql2-json"}
    )
    assert names(cql2_json["features"]) == coal


def test_owslib_pages_and_sorts_like_the_database(owslib, samples_url):
    in_db = [
        n
        for (n,) in rows(
            samples_url, "SELECT name FROM deposits ORDER BY tonnage_mt DESC NULLS LAST, id"
        )
    ]
    first = owslib.collection_items("deposits", sortby=("tonnage_mt", "desc"), limit=5)
    second = owslib.collection_items("deposits", sortby=("tonnage_mt", "desc"), limit=5, offset=5)
    got = [f["properties"]["name"] for f in first["features"] + second["features"]]
    assert got == in_db[:10]
    assert first["numberMatched"] == len(in_db)


def test_owslib_queryables_and_single_item(owslib, samples_url):
    queryables = owslib.collection_queryables("deposits")
    assert set(queryables["properties"]) == {*get("deposits").source.properties, "geometry"}
    assert queryables["properties"]["commodities"]["type"] == "array"
    ((feature_id, name),) = rows(
        samples_url, "SELECT id, name FROM deposits WHERE name = 'Saindak'"
    )
    item = owslib.collection_item("deposits", str(feature_id))
    assert (item["id"], item["properties"]["name"], item["geometry"]["type"]) == (
        feature_id,
        name,
        "Point",
    )


# --- schemathesis --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_server(cluster, tmp_path_factory) -> Iterator[LiveServer]:
    """The samples and the sample rasters, as `emining serve` has them, so that every path of
    the API, the rasters' too, is in the document schemathesis reads.

    Not the GDAL tests' server: GDAL 3.6's OAPIF driver ignores ``itemType`` and lists the
    rasters of /collections as feature layers, then reports their missing /items as errors.
    """
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
    rasters = add_sample_rasters(url, tmp_path_factory.mktemp("rasters"))
    with LiveServer(url) as server:
        paths = requests.get(f"{server.url}/api", timeout=30).json()["paths"]
        for name in rasters:
            assert f"/collections/{name}/zonal" in paths and f"/collections/{name}" in paths
        yield server


def test_schemathesis_finds_no_server_error(full_server, tmp_path):
    done = schemathesis(
        full_server.url, tmp_path, "not_a_server_error", "examples,coverage,fuzzing,stateful"
    )
    assert done.returncode == 0, failures(done)
    assert re.search(r"\d+ generated", done.stdout), done.stdout[-2000:]


def test_schemathesis_responses_and_rejections_follow_the_openapi_document(full_server, tmp_path):
    done = schemathesis(full_server.url, tmp_path, CONFORMANCE, "examples,coverage,fuzzing")
    assert done.returncode == 0, failures(done)


@pytest.mark.parametrize("srid", sorted({c.srid for c in crs_module.SUPPORTED} - {4326}))
def test_a_bbox_beyond_a_projected_crs_is_refused_not_a_server_error(live_server, srid):
    """Found by a longer schemathesis run (11 000 cases): PostGIS raised, the server sent 500."""
    world = "-2e7,-2e7,2e7,2e7"  # metres; far beyond what a UTM zone can map back to lon/lat
    response = requests.get(
        f"{live_server.url}/collections/deposits/items",
        timeout=30,
        params={"bbox": world, "bbox-crs": crs_module.EPSG.format(srid)},
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        body = response.json()
        assert body["code"] == "InvalidParameterValue" and "bbox" in body["description"], body
