"""The deposit catalogue as a geologist uses it: sourced rows, resources by category, places
that agree with the boundaries, and the EarthResourceML-Lite views.

Expectations come from the catalogue's own CSV files (data/samples/catalogue) and from the
boundary GeoJSON read with shapely, never from counts typed here; the store answers in PostGIS.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from api.app import Settings, create_app
from layers.catalogue import CATALOGUE

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
CATALOGUE_DIR = SAMPLES / "catalogue"


def rows(name: str) -> list[dict[str, str]]:
    with (CATALOGUE_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def province_of(lon: float, lat: float) -> str:
    """The province holding a point, from the boundary file (not from the store)."""
    features = json.loads((SAMPLES / "provinces.geojson").read_text(encoding="utf-8"))["features"]
    point = Point(lon, lat)
    return next(f["properties"]["name"] for f in features if shape(f["geometry"]).covers(point))


@pytest.fixture(scope="module")
def client(samples_url):
    with TestClient(create_app(Settings(samples_url))) as test_client:
        yield test_client


def items(client, layer: str, **params) -> list[dict]:
    response = client.get(f"/collections/{layer}/items", params={"limit": 10000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberReturned"] == body["numberMatched"]
    return body["features"]


def test_every_deposit_lies_in_the_province_and_district_it_names(samples_url):
    with psycopg.connect(samples_url) as conn:
        mismatched = conn.execute(
            """SELECT d.name, d.province, d.district, p.name, x.name FROM deposits d
            LEFT JOIN provinces p ON ST_Covers(p.geom, d.geom)
            LEFT JOIN districts x ON ST_Covers(x.geom, d.geom)
            WHERE p.name IS DISTINCT FROM d.province OR x.name IS DISTINCT FROM d.district
               OR x.province IS DISTINCT FROM d.province"""
        ).fetchall()
        total = conn.execute("SELECT count(*) FROM deposits").fetchone()[0]
    assert total == len(rows("deposits.csv"))
    assert mismatched == []


def test_health_counts_every_deposit_of_the_catalogue(client):
    catalogue = rows("deposits.csv")
    assert len(catalogue) >= 100  # the floor for a usable catalogue
    assert client.get("/healthz").json()["layers"]["deposits"] == len(catalogue)
    served = items(client, "deposits", properties="name", skipGeometry="true")
    assert sorted(f["properties"]["name"] for f in served) == sorted(r["name"] for r in catalogue)


def test_the_catalogue_covers_every_province_and_the_commodities_asked_for():
    catalogue = rows("deposits.csv")
    provinces = {province_of(float(r["lon"]), float(r["lat"])) for r in catalogue}
    boundary = json.loads((SAMPLES / "provinces.geojson").read_text(encoding="utf-8"))
    assert provinces == {f["properties"]["name"] for f in boundary["features"]}
    per_commodity = defaultdict(int)
    for r in catalogue:
        for commodity in r["commodities"].split(";"):
            per_commodity[commodity] += 1
    assert min(per_commodity["copper"], per_commodity["gold"], per_commodity["coal"]) >= 15
    assert per_commodity["rare_earths"] >= 1


def test_a_geologist_finds_every_copper_or_gold_deposit_of_balochistan_with_its_resources(client):
    wanted = {
        r["name"]
        for r in rows("deposits.csv")
        if {"copper", "gold"} & set(r["commodities"].split(";"))
        and province_of(float(r["lon"]), float(r["lat"])) == "Balochistan"
    }
    resources = defaultdict(list)
    for r in rows("resources.csv"):
        resources[r["deposit"]].append((r["commodity"], r["category"], r["as_of"]))
    found = items(
        client,
        "deposits",
        **{
            "filter": "A_OVERLAPS(commodities, ('copper', 'gold')) AND province = 'Balochistan'",
            "filter-lang": "cql2-text",
        },
    )
    assert wanted and {f["properties"]["name"] for f in found} == wanted
    for feature in found:
        listed = feature["properties"]["resources"]
        got = sorted((r["commodity"], r["category"], r["as_of"]) for r in listed)
        assert got == sorted(resources[feature["properties"]["name"]])
        assert all(r["source"] for r in listed)


def test_reko_diq_cu_au_resource_is_stored_by_category(client):
    expected = sorted(
        (r["commodity"], r["category"], float(r["grade"]), r["grade_unit"])
        for r in rows("resources.csv")
        if r["deposit"] == "Reko Diq"
    )
    served = items(
        client, "resources", filter="deposit = 'Reko Diq'", **{"filter-lang": "cql2-text"}
    )
    got = sorted(
        (f["properties"]["commodity"], f["properties"]["category"], f["properties"]["grade"],
         f["properties"]["grade_unit"])
        for f in served
    )  # fmt: skip
    assert got == expected
    assert {c for _, c, _, _ in got} >= {"indicated", "inferred"}
    assert {m for m, _, _, _ in got} == {"copper", "gold"}


def test_every_served_row_has_a_source_and_a_date_or_its_layer_says_why(client):
    for layer in CATALOGUE:
        names = layer.source.properties
        if layer.id in ("links", "corridors") or "source" not in names:
            continue  # links are derived; corridors are the network's
        features = items(client, layer.id, skipGeometry="true")
        assert features, layer.id
        assert all(f["properties"].get("source") for f in features), layer.id
        for column in ("source_url", "as_of"):
            missing = [f for f in features if column in names and not f["properties"][column]]
            if column not in names or missing:
                assert f"{column} is empty" in layer.description, (layer.id, column, len(missing))


def test_the_earthresourceml_views_publish_every_deposit_and_resource(client):
    deposits = items(client, "deposits", skipGeometry="true")
    occurrences = items(client, "mineraloccurrences")
    assert len(occurrences) == len(deposits)
    first = occurrences[0]["properties"]
    for field in (
        "identifier",
        "name",
        "mineralOccurrenceType",
        "commodity",
        "positionalAccuracy",
        "mineralOccurrenceType_uri",
        "representativeCommodity_uri",
        "specification_uri",
    ):
        assert field in first  # fmt: skip
    assert all(
        o["properties"]["mineralOccurrenceType_uri"].startswith(
            "http://resource.geosciml.org/classifier/cgi/mineral-occurrence-type/"
        )
        for o in occurrences
    )
    resources = rows("resources.csv")
    commodity = items(client, "commodityresources")
    assert len(commodity) == len(resources)
    measured = {
        c["properties"]["oreMeasureAssessmentCategory_uri"]
        for c in commodity
        if c["properties"]["oreMeasureAssessmentCategory"] in ("indicated", "inferred")
    }
    assert measured == {
        "http://resource.geosciml.org/classifier/cgi/resource-assessment-category/"
        f"{c}-mineral-resource"
        for c in ("indicated", "inferred")
    }
    types = {c["properties"]["oreMeasureType"] for c in commodity}
    assert types <= {"resource", "reserve", "endowment"}


def test_the_views_and_resources_are_read_only(client):
    response = client.post(
        "/collections/resources/items",
        json={"type": "Feature", "properties": {}, "geometry": None},
    )
    assert 400 <= response.status_code < 500
    assert {"code", "description"} <= set(response.json())
