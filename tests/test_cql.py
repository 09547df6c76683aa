"""CQL2 filters against real PostGIS: every construct is judged by the rows it selects.

The deposits and concessions are a fixture of this module's own (tests/fixtures/cql: the 13
former sample deposits and their blocks); ``events`` is a small table of our own whose
rows stand in each of Allen's 13 relations to the interval [2020-03-01, 2020-06-01], so that each
temporal function must select exactly its own row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pyproj import Transformer

from geo.cql import MAX_TEXT, CQLError, Field, parse, to_sql
from geo.load import load_file
from tests.conftest import fresh_database


def fields(**types: str) -> dict[str, Field]:
    return {name: Field(name, kind) for name, kind in types.items()}


LAYERS = {
    "deposits": (
        "name",
        fields(
            name="string",
            status="string",
            commodities="string[]",
            tonnage_mt="number",
            as_of="date",
            province="string",
            geom="geometry",
            updated_at="datetime",
        ),
    ),
    "concessions": (
        "licence_no",
        fields(
            licence_no="string",
            status="string",
            commodities="string[]",
            applied_on="date",
            granted_on="date",
            expires_on="date",
            illustrative="boolean",
            geom="geometry",
        ),
    ),
    "events": (
        "name",
        fields(
            name="string",
            day="date",
            at="datetime",
            starts="date",
            ends="date",
            n="integer",
            flag="boolean",
        ),
    ),
}

ALL = {
    "Reko Diq",
    "Saindak",
    "Duddar",
    "Gunga",
    "Thar Block II",
    "Thar Block I",
    "Lakhra",
    "Muslim Bagh",
    "Khewra",
    "Chiniot-Rajoa",
    "Hangu coalfield",
    "Gilgit River placers",
    "Loe Shilman",
}
CHAGAI = {"Reko Diq", "Saindak"}
SINDH = {"Thar Block I", "Thar Block II", "Lakhra"}
SINDH_POLYGON = "POLYGON((67.5 24, 71.5 24, 71.5 26.5, 67.5 26.5, 67.5 24))"
CHAGAI_BBOX = "BBOX(61, 28.5, 62.5, 29.5)"
# Each row's name is its Allen relation to [2020-03-01, 2020-06-01]; day = starts, at = noon UTC.
ALLEN = {
    "before": ("2020-01-01", "2020-02-01"),
    "meets": ("2020-01-01", "2020-03-01"),
    "overlaps": ("2020-02-01", "2020-04-01"),
    "finishedBy": ("2020-02-01", "2020-06-01"),
    "contains": ("2020-02-01", "2020-07-01"),
    "starts": ("2020-03-01", "2020-04-01"),
    "equals": ("2020-03-01", "2020-06-01"),
    "startedBy": ("2020-03-01", "2020-07-01"),
    "during": ("2020-04-01", "2020-05-01"),
    "finishes": ("2020-04-01", "2020-06-01"),
    "overlappedBy": ("2020-04-01", "2020-07-01"),
    "metBy": ("2020-06-01", "2020-07-01"),
    "after": ("2020-07-01", "2020-08-01"),
}


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cql"


@pytest.fixture(scope="module")
def db(cluster):
    """The fixture's 13 deposits and 7 blocks (tests/fixtures/cql), not the growing samples."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        for layer in ("deposits", "concessions"):
            load_file(conn, FIXTURE / f"{layer}.geojson", layer)
        conn.execute(
            "CREATE TABLE events (name text, day date, at timestamptz, starts date, ends date,"
            " n integer, flag boolean)"
        )
        for n, (name, (starts, ends)) in enumerate(ALLEN.items(), start=1):
            conn.execute(
                "INSERT INTO events VALUES (%s, %s, (%s::date + time '12:00') AT TIME ZONE 'UTC',"
                " %s, %s, %s, %s)",
                (name, starts, starts, starts, ends, n, n % 2 == 0),
            )
        yield conn


def run(db: psycopg.Connection, layer: str, expr: object, crs: int = 4326) -> set[str]:
    key, layer_fields = LAYERS[layer]
    where = to_sql(expr, layer_fields, crs)
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.Identifier(key), sql.Identifier(layer), where.sql
    )
    return {row[0] for row in db.execute(query, where.params)}


def select(db: psycopg.Connection, text: str, layer: str = "deposits", crs: int = 4326):
    """Rows selected by a CQL2-Text filter, checked to equal those of its CQL2-JSON form."""
    expr = parse(text)
    as_json = parse(json.dumps(expr), "cql2-json")
    assert as_json == expr
    rows = run(db, layer, expr, crs)
    assert run(db, layer, as_json, crs) == rows
    return rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status = 'producing'", ALL - {"Reko Diq", "Gunga", "Chiniot-Rajoa", "Loe Shilman"}),
        ("status <> 'producing'", {"Reko Diq", "Gunga", "Chiniot-Rajoa", "Loe Shilman"}),
        ("tonnage_mt > 50", {"Chiniot-Rajoa", "Hangu coalfield"}),
        ("tonnage_mt < 50", {"Gunga"}),
        ("tonnage_mt >= 81", {"Chiniot-Rajoa", "Hangu coalfield"}),
        ("tonnage_mt <= 81", {"Gunga", "Hangu coalfield"}),
        ("tonnage_mt = 18", {"Gunga"}),
        ("18 = tonnage_mt", {"Gunga"}),
        ("tonnage_mt IS NULL", ALL - {"Gunga", "Chiniot-Rajoa", "Hangu coalfield"}),
        ("tonnage_mt IS NOT NULL", {"Gunga", "Chiniot-Rajoa", "Hangu coalfield"}),
        ("NOT (tonnage_mt > 50)", {"Gunga"}),  # SQL's NULL semantics: unknown stays unknown
        ("status = 'producing' AND province = 'Punjab'", {"Khewra"}),
        ("status = 'explored' OR province = 'Sindh'", {"Gunga", "Chiniot-Rajoa"} | SINDH),
        (
            "(status = 'explored' OR province = 'Sindh') AND NOT name LIKE 'Thar%'",
            {"Gunga", "Chiniot-Rajoa", "Lakhra"},
        ),
        ("as_of IS NULL", ALL),
        ("updated_at > TIMESTAMP('2020-01-01T00:00:00Z')", ALL),
        ("T_AFTER(updated_at, DATE('2020-01-01'))", ALL),
        ("T_AFTER(as_of, DATE('2000-01-01'))", set()),
        ("true", ALL),
        ("false", set()),
        ("1 = 1", ALL),
        ("'a' = 'b'", set()),
        # advanced comparison
        ("name LIKE 'Thar%'", {"Thar Block I", "Thar Block II"}),
        ("name LIKE 'Thar Block _'", {"Thar Block I"}),
        ("name LIKE '%Block%'", {"Thar Block I", "Thar Block II"}),
        ("name NOT LIKE 'Thar%'", ALL - {"Thar Block I", "Thar Block II"}),
        ("name LIKE 'thar%'", set()),
        ("tonnage_mt BETWEEN 18 AND 81", {"Gunga", "Hangu coalfield"}),
        ("tonnage_mt NOT BETWEEN 18 AND 81", {"Chiniot-Rajoa"}),
        ("status IN ('explored', 'development')", {"Reko Diq", "Gunga", "Chiniot-Rajoa"}),
        ("status NOT IN ('explored', 'development')", ALL - {"Reko Diq", "Gunga", "Chiniot-Rajoa"}),
        ("tonnage_mt IN (18, 165)", {"Gunga", "Chiniot-Rajoa"}),
        # case-insensitive comparison
        ("CASEI(name) = casei('reko diq')", {"Reko Diq"}),
        ("name = 'reko diq'", set()),
        ("CASEI(name) LIKE CASEI('THAR%')", {"Thar Block I", "Thar Block II"}),
        (
            "CASEI(province) IN (CASEI('SINDH'), CASEI('punjab'))",
            SINDH | {"Khewra", "Chiniot-Rajoa"},
        ),
        # arrays, compared as sets
        ("A_CONTAINS(commodities, ('copper', 'gold'))", {"Reko Diq", "Saindak", "Chiniot-Rajoa"}),
        ("A_EQUALS(commodities, ('gold', 'copper'))", {"Reko Diq"}),
        (
            "A_CONTAINEDBY(commodities, ('coal', 'salt', 'gold'))",
            {
                "Thar Block I",
                "Thar Block II",
                "Lakhra",
                "Hangu coalfield",
                "Khewra",
                "Gilgit River placers",
            },
        ),
        ("A_OVERLAPS(commodities, ('zinc', 'salt'))", {"Duddar", "Gunga", "Khewra"}),
        ("A_OVERLAPS(('zinc', 'salt'), commodities)", {"Duddar", "Gunga", "Khewra"}),
        ("A_CONTAINS(commodities, commodities)", ALL),
        (
            "NOT A_OVERLAPS(commodities, ('coal', 'copper', 'gold'))",
            {"Duddar", "Gunga", "Muslim Bagh", "Khewra", "Loe Shilman"},
        ),
        # property-property, arithmetic
        ("tonnage_mt = tonnage_mt", {"Gunga", "Chiniot-Rajoa", "Hangu coalfield"}),
        ("name = province", set()),
        ("name <> province", ALL),
        ("tonnage_mt * 2 > 100", {"Chiniot-Rajoa", "Hangu coalfield"}),
        ("tonnage_mt + 1 = 19", {"Gunga"}),
        ("tonnage_mt - 1 = 80", {"Hangu coalfield"}),
        ("tonnage_mt / 2 = 9", {"Gunga"}),
        ("-tonnage_mt < -100", {"Chiniot-Rajoa"}),
        ("tonnage_mt > 2 * 40 + 0.5", {"Chiniot-Rajoa", "Hangu coalfield"}),
    ],
)
def test_deposits(db, text, expected):
    assert select(db, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"S_INTERSECTS(geom, {CHAGAI_BBOX})", CHAGAI),
        (f"S_INTERSECTS(geometry, {CHAGAI_BBOX})", CHAGAI),  # the conventional name
        (f"S_INTERSECTS({CHAGAI_BBOX}, geom)", CHAGAI),
        ("S_INTERSECTS(geom, BBOX(61, 28.5, -100, 62.5, 29.5, 100))", CHAGAI),  # 6 numbers
        ("S_INTERSECTS(geom, BBOX(60, 20, -170, 40))", ALL),  # spans the antimeridian
        ("S_INTERSECTS(geom, BBOX(170, 20, -170, 40))", set()),
        (f"S_DISJOINT(geom, {CHAGAI_BBOX})", ALL - CHAGAI),
        ("S_INTERSECTS(geom, POINT(62.061 29.13))", {"Reko Diq"}),
        ("S_INTERSECTS(geom, POINT Z(62.061 29.13 1200))", {"Reko Diq"}),
        ("S_EQUALS(geom, POINT(62.061 29.13))", {"Reko Diq"}),
        ("S_INTERSECTS(geom, MULTIPOINT((62.061 29.13), (61.612 29.249)))", CHAGAI),
        ("S_INTERSECTS(geom, LINESTRING(61.612 29.249, 62.061 29.13))", CHAGAI),
        ("S_INTERSECTS(geom, MULTILINESTRING((61.612 29.249, 0 0), (62.061 29.13, 0 0)))", CHAGAI),
        (f"S_WITHIN(geom, {SINDH_POLYGON})", SINDH),
        (f"S_CONTAINS({SINDH_POLYGON}, geom)", SINDH),
        (
            "S_WITHIN(geom, MULTIPOLYGON((( 61 28.5, 62.5 28.5, 62.5 29.5, 61 28.5)), "
            "((67.5 24, 71.5 24, 71.5 26.5, 67.5 26.5, 67.5 24))))",
            SINDH | {"Reko Diq"},
        ),
        (
            f"S_INTERSECTS(geom, GEOMETRYCOLLECTION(POINT(62.061 29.13), {SINDH_POLYGON}))",
            SINDH | {"Reko Diq"},
        ),
        (
            "S_TOUCHES(geom, POLYGON((62.061 29.13, 63 29.13, 63 30, 62.061 30, 62.061 29.13)))",
            {"Reko Diq"},
        ),
        # A bow-tie is invalid; it is repaired into its two triangles, not refused.
        ("S_INTERSECTS(geom, POLYGON((61 28, 63 30, 63 28, 61 30, 61 28)))", {"Saindak"}),
    ],
)
def test_spatial_deposits(db, text, expected):
    assert select(db, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("S_CROSSES(geom, LINESTRING(61.9 29.1, 62.2 29.1))", {"ILLUS-0001"}),
        ("S_OVERLAPS(geom, POLYGON((62 29, 62.5 29, 62.5 29.5, 62 29.5, 62 29)))", {"ILLUS-0001"}),
        ("S_CONTAINS(geom, POINT(62.061 29.13))", {"ILLUS-0001"}),
        ("S_WITHIN(POINT(62.061 29.13), geom)", {"ILLUS-0001"}),
        (f"S_INTERSECTS(geom, {CHAGAI_BBOX})", {"ILLUS-0001", "ILLUS-0002"}),
        ("status = 'application'", {"ILLUS-0007"}),
        ("illustrative AND granted_on IS NULL", {"ILLUS-0007"}),
        ("granted_on > applied_on", {f"ILLUS-000{i}" for i in range(1, 7)}),
        ("expires_on < granted_on", set()),
        (
            "T_DURING(granted_on, INTERVAL('2015-01-01', '2020-01-01'))",
            {"ILLUS-0002", "ILLUS-0003"},
        ),
        (
            "T_INTERSECTS(INTERVAL(granted_on, expires_on), INTERVAL('2051-01-01', '..'))",
            {"ILLUS-0001"},
        ),
        ("T_CONTAINS(INTERVAL(granted_on, expires_on), DATE('2050-06-01'))", {"ILLUS-0001"}),
        ("A_CONTAINS(commodities, ('copper', 'gold'))", {"ILLUS-0001", "ILLUS-0002", "ILLUS-0007"}),
    ],
)
def test_concessions(db, text, expected):
    assert select(db, text, "concessions") == expected


@pytest.mark.parametrize("relation", list(ALLEN))
def test_allen_relations_each_select_exactly_their_row(db, relation):
    text = f"T_{relation.upper()}(INTERVAL(starts, ends), INTERVAL('2020-03-01', '2020-06-01'))"
    assert select(db, text, "events") == {relation}
    as_json = {
        "op": f"t_{relation}",
        "args": [
            {"interval": [{"property": "starts"}, {"property": "ends"}]},
            {"interval": ["2020-03-01", "2020-06-01"]},
        ],
    }
    assert run(db, "events", parse(as_json)) == {relation}
    assert run(db, "events", as_json) == {relation}  # to_sql also takes non-canonical JSON


def test_intersects_and_disjoint_split_the_allen_relations(db):
    b = "INTERVAL('2020-03-01', '2020-06-01')"
    disjoint = select(db, f"T_DISJOINT(INTERVAL(starts, ends), {b})", "events")
    assert disjoint == {"before", "after"}
    intersects = select(db, f"T_INTERSECTS(INTERVAL(starts, ends), {b})", "events")
    assert intersects == set(ALLEN) - disjoint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an instant is the interval [t, t]
        ("T_AFTER(day, DATE('2020-06-01'))", {"after"}),
        ("T_BEFORE(day, INTERVAL('2020-02-01', '..'))", {"before", "meets"}),
        ("T_INTERSECTS(day, INTERVAL('2020-06-01', '..'))", {"metBy", "after"}),
        ("T_INTERSECTS(day, INTERVAL('..', '..'))", set(ALLEN)),
        ("T_DURING(day, INTERVAL('2020-02-01', '2020-04-01'))", {"starts", "equals", "startedBy"}),
        ("T_EQUALS(day, DATE('2020-03-01'))", {"starts", "equals", "startedBy"}),
        ("T_MEETS(INTERVAL(starts, ends), day)", set()),
        ("T_AFTER(INTERVAL(starts, ends), INTERVAL('..', '2020-06-15'))", {"after"}),
        ("T_AFTER(at, TIMESTAMP('2020-07-01T11:59:59Z'))", {"after"}),
        ("T_AFTER(at, TIMESTAMP('2020-07-01T12:00:00Z'))", set()),
        ("T_EQUALS(at, TIMESTAMP('2020-07-01T17:00:00+05:00'))", {"after"}),
        ("T_INTERSECTS(at, INTERVAL('2020-07-01T12:00:00Z', '..'))", {"after"}),
        # a date meets a timestamp: compared as UTC dates
        ("day = TIMESTAMP('2020-07-01T18:00:00Z')", {"after"}),
        ("at = DATE('2020-07-01')", {"after"}),
        ("at > DATE('2020-06-01')", {"after"}),
        ("T_DURING(at, INTERVAL('2020-02-01', '2020-04-01'))", {"starts", "equals", "startedBy"}),
        ("T_AFTER(day, TIMESTAMP('2020-06-01T23:00:00Z'))", {"after"}),
        # comparisons, booleans, integers
        ("day >= DATE('2020-06-01')", {"metBy", "after"}),
        (
            "day BETWEEN DATE('2020-02-01') AND DATE('2020-03-01')",
            {"overlaps", "finishedBy", "contains", "starts", "equals", "startedBy"},
        ),
        ("day IN (DATE('2020-06-01'), DATE('2020-07-01'))", {"metBy", "after"}),
        ("starts < ends", set(ALLEN)),
        ("ends = starts", set()),
        ("n > 11", {"metBy", "after"}),
        ("n = 2", {"meets"}),
        ("n = 2.5", set()),
        ("n / 2 = 1.5", {"overlaps"}),
        ("flag AND n < 5", {"meets", "finishedBy"}),
        ("flag = false AND n < 5", {"before", "overlaps"}),
        ("NOT flag AND n < 5", {"before", "overlaps"}),
    ],
)
def test_events(db, text, expected):
    assert select(db, text, "events") == expected


def test_cql2_json_as_clients_write_it(db):
    """Hand-written CQL2-JSON (integers, mixed case ops), as a dict and as a string."""
    filters = {
        "a_contains": (
            {"op": "a_contains", "args": [{"property": "commodities"}, ["copper", "gold"]]},
            {"Reko Diq", "Saindak", "Chiniot-Rajoa"},
        ),
        "bbox": (
            {
                "op": "S_INTERSECTS",
                "args": [{"property": "geometry"}, {"bbox": [61, 28.5, 62.5, 29.5]}],
            },
            CHAGAI,
        ),
        "point": (
            {
                "op": "s_intersects",
                "args": [{"property": "geom"}, {"type": "Point", "coordinates": [62.061, 29.13]}],
            },
            {"Reko Diq"},
        ),
        "and": (
            {
                "op": "and",
                "args": [
                    {"op": "=", "args": [{"property": "status"}, "explored"]},
                    {"op": ">", "args": [{"property": "tonnage_mt"}, 100]},
                ],
            },
            {"Chiniot-Rajoa"},
        ),
        "casei": (
            {
                "op": "=",
                "args": [
                    {"op": "casei", "args": [{"property": "name"}]},
                    {"op": "casei", "args": ["REKO DIQ"]},
                ],
            },
            {"Reko Diq"},
        ),
        "isNull": (
            {"op": "isNull", "args": [{"property": "tonnage_mt"}]},
            ALL - {"Gunga", "Chiniot-Rajoa", "Hangu coalfield"},
        ),
    }
    for name, (expr, expected) in filters.items():
        assert run(db, "deposits", parse(expr)) == expected, name
        assert run(db, "deposits", parse(json.dumps(expr), "cql2-json")) == expected, name
        assert run(db, "deposits", parse(expr, "cql2-text")) == expected, name  # dict is JSON
        assert run(db, "deposits", expr) == expected, name


def test_filter_crs(db):
    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    west, south = to_mercator.transform(61, 28.5)
    east, north = to_mercator.transform(62.5, 29.5)
    bbox = f"BBOX({west}, {south}, {east}, {north})"
    assert select(db, f"S_INTERSECTS(geom, {bbox})", crs=3857) == CHAGAI
    polygon = (
        f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
    )
    assert select(db, f"S_INTERSECTS(geom, {polygon})", crs=3857) == CHAGAI
    # The same numbers read as longitude/latitude select nothing.
    assert select(db, f"S_INTERSECTS(geom, {bbox})") == set()


def test_every_value_is_a_bound_parameter(db):
    text = (
        "status = 'producing' AND A_CONTAINS(commodities, ('copper', 'gold')) AND "
        "S_INTERSECTS(geom, POLYGON((61.25 28.5, 62.75 28.5, 62.75 29.5, 61.25 28.5))) AND "
        "T_AFTER(updated_at, TIMESTAMP('2020-01-01T00:00:00Z')) AND name LIKE 'Sain%' AND "
        "tonnage_mt BETWEEN 17.5 AND 4242"
    )
    where = to_sql(parse(text), LAYERS["deposits"][1])
    rendered = where.sql.as_string(db)
    for value in ("producing", "copper", "61.25", "2020", "Sain", "17.5", "4242"):
        assert value not in rendered
    assert rendered.count("%s") == len(where.params)
    assert "producing" in where.params and ["copper", "gold"] in where.params


def test_injection_attempts_are_just_values(db):
    before = db.execute("SELECT count(*) FROM deposits").fetchone()[0]
    assert select(db, "name = 'x''; DROP TABLE deposits; --'") == set()
    where = to_sql(parse("name = 'x''; DROP TABLE deposits; --'"), LAYERS["deposits"][1])
    assert "DROP" not in where.sql.as_string(db)
    assert where.params == ["x'; DROP TABLE deposits; --"]
    assert select(db, "name LIKE '%''; DELETE FROM deposits; --'") == set()
    assert select(db, "A_OVERLAPS(commodities, ('gold''}', '{copper'))") == set()
    sneaky = {"op": "=", "args": [{"property": 'name" = name; DROP TABLE deposits; --'}, "x"]}
    with pytest.raises(CQLError, match="unknown property"):
        run(db, "deposits", sneaky)
    assert db.execute("SELECT count(*) FROM deposits").fetchone()[0] == before > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "foo = 1",
            "unknown property 'foo'; queryables are: as_of, commodities, geom, name, "
            "province, status, tonnage_mt, updated_at",
        ),
        ("tonnage_mt = 'lots'", "tonnage_mt is a number; 'lots' is not"),
        ("'lots' < tonnage_mt", "tonnage_mt is a number; 'lots' is not"),
        ("name = 42", "name is a string; 42 is not"),
        ("as_of > '2020-01-01'", "as_of is a date; '2020-01-01' is not (write DATE('2020-01-01'))"),
        ("updated_at > 7", "updated_at is a datetime; 7 is not"),
        ("tonnage_mt IN (1, 'two')", "tonnage_mt is a number; 'two' is not"),
        ("tonnage_mt BETWEEN 1 AND DATE('2020-01-01')", "tonnage_mt is a number"),
        (
            "name = province AND name = tonnage_mt",
            "cannot compare name (a string) with tonnage_mt (a number)",
        ),
        ("CASEI(name) = 5", "casei(name) is a string; 5 is not"),
        ("CASEI(tonnage_mt) = casei('x')", "CASEI needs a string: tonnage_mt is a number"),
        ("frob(name) = 1", "unknown function 'frob'"),
        (
            "ACCENTI(name) = accenti('reko diq')",
            "ACCENTI (accent-insensitive comparison) is not supported",
        ),
        ("tonnage_mt % 2 = 1", "'%' is not supported"),
        ("tonnage_mt div 2 = 1", "'div' is not supported"),
        ("name + 1 = 2", "'+' needs numbers: name is a string"),
        ("tonnage_mt LIKE '1%'", "LIKE needs a string: tonnage_mt is a number"),
        ("name LIKE province", "the LIKE pattern must be a string literal, not province"),
        ("name LIKE 'ab\\'", "ends with a lone escape character"),
        ("S_INTERSECTS(name, POINT(1 2))", "S_INTERSECTS needs geometries: name is a string"),
        ("S_WITHIN(geom, 'POINT(1 2)')", "S_WITHIN needs geometries: 'POINT(1 2)' is a string"),
        ("geom = POINT(1 2)", "cannot compare a geometry; use S_EQUALS"),
        ("commodities = commodities", "use A_EQUALS"),
        (
            "T_AFTER(name, DATE('2020-01-01'))",
            "T_AFTER needs dates, timestamps or intervals: name is a string",
        ),
        ("T_AFTER(as_of, 2020)", "T_AFTER needs dates, timestamps or intervals: 2020 is a number"),
        ("A_CONTAINS(name, ('x'))", "A_CONTAINS needs arrays: name is a string"),
        ("A_CONTAINS(commodities, ('copper', 1))", "only lists of strings are supported"),
        ("name = ('a', 'b')", "a list can only follow IN"),
        ("as_of = DATE('2020-13-45')", "DATE('2020-13-45') is not a valid date"),
        ("updated_at = TIMESTAMP('garbage')", "TIMESTAMP('garbage') is not a valid timestamp"),
        ("T_DURING(as_of, INTERVAL('2021-01-01', '2020-01-01'))", "ends before it starts"),
        ("T_DURING(as_of, INTERVAL('2021-01-01', 'soon'))", "'soon' in an INTERVAL is neither"),
        ("name = NULL", "write 'property IS NULL'"),
        ("name", "name is a string, not a condition"),
        ("tonnage_mt + 1", "is a number, not a condition"),
        ("S_INTERSECTS(geom, POLYGON((0 0, 1 0)))", "malformed Polygon literal"),
        ("S_INTERSECTS(geom, LINESTRING(1 2))", "malformed LineString literal"),
        ("S_INTERSECTS(geom, BBOX(1, 5, 2, 3))", "south edge is north of its north edge"),
        ("name = 'a' AND", "invalid CQL2-Text"),
        ("name = = 'a'", "invalid CQL2-Text"),
        ("", "invalid CQL2-Text"),
        ('{"op": "=", "args": [{"property": "name"}, "x"]}', "invalid CQL2-Text"),
    ],
)
def test_errors(text, message):
    with pytest.raises(CQLError) as caught:
        to_sql(parse(text), LAYERS["deposits"][1])
    assert message in str(caught.value)


def intersects(literal: dict) -> dict:
    return {"op": "s_intersects", "args": [{"property": "geom"}, literal]}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ({"op": "=", "args": [{"property": "name"}]}, "= takes 2 arguments, got 1"),
        ({"op": "and", "args": []}, "AND takes arguments, got 0"),
        ({"op": "not", "args": ["a", "b"]}, "NOT takes 1 argument, got 2"),
        ({"op": "in", "args": [{"property": "name"}, []]}, "IN needs a non-empty list"),
        ({"op": "=", "args": [{"property": "name"}, "a\x00b"]}, "contains a NUL character"),
        ({"op": "=", "args": [{"property": "name"}, "\ud800"]}, "is not valid Unicode"),
        ({"op": "=", "args": [{"property": "tonnage_mt"}, 10**400]}, "is not a finite number"),
        ({"op": "=", "args": [{"property": "tonnage_mt"}, float("nan")]}, "not a finite number"),
        (intersects({"type": "Point", "coordinates": []}), "is empty"),
        (
            intersects({"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1]]}),
            "malformed Polygon literal",
        ),
        (intersects({"type": "Point", "coordinates": [1e400, 0]}), "not finite"),
        (intersects({"type": "Feature", "geometry": None}), "unknown geometry type 'Feature'"),
        (intersects({"bbox": [1, 2, 3]}), "a BBOX needs 4 or 6 numbers"),
        (intersects({"bbox": [1, 2, "x", 4]}), "'x' is not a number"),
        (
            {"op": "t_after", "args": [{"property": "as_of"}, {"interval": ["2020-01-01"]}]},
            "an INTERVAL needs a start and an end",
        ),
        (
            {"op": "=", "args": [{"property": "as_of"}, {"interval": ["2020-01-01", ".."]}]},
            "an INTERVAL can only be a T_ function argument",
        ),
        ({"op": "=", "args": [{"property": "as_of"}, {"date": 20200101}]}, "is not a valid date"),
        ({"op": "=", "args": [{"property": ["name"]}, "x"]}, "unknown property"),
        ({"op": 7, "args": []}, "malformed operation"),
        ({"op": "in", "args": [{"property": "name"}, ["x"] * 10_001]}, "more than 10000 values"),
        ({"frob": 1}, "not a CQL2 expression"),
    ],
)
def test_errors_in_raw_json(expr, message):
    """to_sql also guards JSON that never went through cql2 (others may build it by hand)."""
    with pytest.raises(CQLError) as caught:
        to_sql(expr, LAYERS["deposits"][1])
    assert message in str(caught.value)


def test_parse_errors():
    with pytest.raises(CQLError, match="unknown filter-lang 'cql-text'"):
        parse("name = 'x'", "cql-text")
    with pytest.raises(CQLError, match="invalid CQL2-JSON"):
        parse('{"op": "=", "args": [', "cql2-json")
    with pytest.raises(CQLError, match="invalid CQL2-JSON"):
        parse({"op": "=", "args": [{"property": 1}, 2]})
    with pytest.raises(CQLError, match="longer than"):
        parse("name = '" + "x" * MAX_TEXT + "'")
    assert parse("NAME = 'x'", "CQL2-TEXT") == {"op": "=", "args": [{"property": "NAME"}, "x"]}
    with pytest.raises(ValueError, match="not one of"):
        Field("name", "text")


def test_filter_crs_errors():
    deposits = LAYERS["deposits"][1]
    with pytest.raises(CQLError, match="outside the area of filter-crs EPSG:32642"):
        to_sql(parse("S_INTERSECTS(geom, POINT(10000000000 10000000000))"), deposits, 32642)
    with pytest.raises(CQLError, match="unknown filter-crs EPSG:999999"):
        to_sql(parse("S_INTERSECTS(geom, BBOX(0, 0, 1, 1))"), deposits, 999999)
    with pytest.raises(CQLError, match="west edge is east of its east edge"):
        to_sql(parse("S_INTERSECTS(geom, BBOX(10, 0, 5, 1))"), deposits, 3857)


def test_arithmetic_errors_are_data_errors(db):
    """The documented exception to 'no database errors': callers map DataError to 400."""
    with pytest.raises(psycopg.errors.DataError):
        select(db, "tonnage_mt / 0 > 1")


def test_edge_cases_never_reach_the_database_as_errors(db):
    """Valid but odd filters: PostgreSQL must accept every one of them."""
    bowtie = "POLYGON((61 28, 63 30, 63 28, 61 30, 61 28))"
    collection = f"GEOMETRYCOLLECTION(POINT(62 29), LINESTRING(61 28, 63 30), {bowtie})"
    literals = [
        "POINT(62 29)",
        "BBOX(61, 28, 63, 30)",
        "BBOX(170, 28, -170, 30)",
        bowtie,
        collection,
        "MULTIPOINT((62 29), (62 29))",
        "LINESTRING(61 28, 61 28, 63 30)",
        "POLYGON((61 28, 63 28, 63 30, 61 28, 61 28))",
    ]
    ops = [
        "S_INTERSECTS",
        "S_EQUALS",
        "S_DISJOINT",
        "S_TOUCHES",
        "S_WITHIN",
        "S_OVERLAPS",
        "S_CROSSES",
        "S_CONTAINS",
    ]
    for op in ops:
        for literal in literals:
            select(db, f"{op}(geom, {literal})")
            select(db, f"{op}({literal}, {literal})")
            select(db, f"{op}(geom, {literal})", "concessions")
    instants = [
        "DATE('2020-03-01')",
        "TIMESTAMP('2020-03-01T00:00:00Z')",
        "INTERVAL('2020-03-01', '..')",
        "INTERVAL('..', '2020-03-01T10:00:00+02:00')",
        "INTERVAL('..', '..')",
        "INTERVAL(day, at)",
        "at",
        "day",
    ]
    for relation in ALLEN:
        for literal in instants:
            select(db, f"T_{relation.upper()}(at, {literal})", "events")
            select(db, f"T_{relation.upper()}({literal}, INTERVAL(starts, ends))", "events")
    for text in [
        "name LIKE '100\\%'",
        "name LIKE ''",
        "tonnage_mt > 1e308",
        "tonnage_mt < -1e308",
        "name = ''",
        "name = 'Ünïcödé ☃ 𝔘'",
        "A_CONTAINS(commodities, (''))",
        "NOT NOT NOT (name = 'x')",
        "day = DATE('0001-01-01')",
        "at > TIMESTAMP('9999-12-31T23:59:59Z')",
        "at > TIMESTAMP('0001-01-01T06:00:00+05:00')",
    ]:
        select(db, text, "events" if ("day" in text or "at >" in text) else "deposits")
    empty = {"op": "a_contains", "args": [{"property": "commodities"}, []]}
    assert run(db, "deposits", empty) == ALL
    early = {"op": "<", "args": [{"property": "at"}, {"timestamp": "0001-01-01T01:00:00+05:00"}]}
    assert run(db, "events", early) == set()  # 0000-12-31T20:00Z, as given to to_sql
    with pytest.raises(CQLError, match=r"TIMESTAMP\('0000-12-31T20:00:00Z'\) is not a valid"):
        filter = parse("at < TIMESTAMP('0001-01-01T01:00:00+05:00')")  # cql2 moves it to UTC
        to_sql(filter, LAYERS["events"][1])


def test_hostile_nesting_does_not_crash_the_process():
    """cql2 (Rust) overflows an ordinary stack on deep nesting and takes the process with it
    (SIGSEGV); run such filters in a child process and insist it survives and says why."""
    code = """
import json, sys
from geo.cql import CQLError, parse, to_sql
cases = [
    ("text", "(" * 5000 + "name = 'x'" + ")" * 5000),
    ("text", "tonnage_mt = " + "-" * 90000 + "tonnage_mt"),
    ("text", "NOT " * 20000 + "name = 'x'"),
    ("text", "name IN (" + "(" * 3000 + "'x'" + ")" * 3000 + ")"),
    ("text", "name = '" + "(" * 5000 + "'"),  # parentheses inside a string are just text
    ("json", '{"op": "not", "args": [' * 200 + '{"op": "isNull", "args": [1]}' + ']}' * 200),
    ("json", "[" * 100000 + "]" * 100000),
    # the worst shapes short enough to parse on the caller's own stack (geo.cql.INLINE_TEXT)
    ("text", "tonnage_mt = " + "-" * 489 + "tonnage_mt"),
    ("text", "NOT " * 125 + "name = 'x'"),
]
assert all(len(text) <= 512 for _, text in cases[-2:])
for lang, text in cases:
    try:
        parse(text, "cql2-" + lang)
        print("parsed")
    except CQLError as error:
        print(str(error).splitlines()[0][:60])
deep = {"op": "isNull", "args": [{"property": "name"}]}
for _ in range(5000):
    deep = {"op": "not", "args": [deep]}
try:
    to_sql(deep, {})
except CQLError as error:
    print(error)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    expected = [
        "the filter nests parentheses more than 100 deep",
        "the filter nests more than 100 levels deep",
        "the filter nests more than 100 levels deep",
        "the filter nests parentheses more than 100 deep",
        "parsed",
        "the filter nests more than 100 levels deep",
        "invalid CQL2-JSON: maximum recursion depth exceeded",
        "the filter nests more than 100 levels deep",
        "the filter nests more than 100 levels deep",
        "the filter nests more than 100 levels deep",
    ]
    lines = done.stdout.splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start)


def test_where_composes_with_other_conditions(db):
    where = to_sql(parse("A_CONTAINS(commodities, ('gold'))"), LAYERS["deposits"][1])
    query = sql.SQL("SELECT name FROM deposits WHERE province = %s AND {} ORDER BY name").format(
        where.sql
    )
    rows = db.execute(query, ["Balochistan", *where.params]).fetchall()
    assert [r[0] for r in rows] == ["Reko Diq", "Saindak"]
    where = to_sql(parse("as_of = DATE('2020-01-01')"), LAYERS["deposits"][1])
    assert where.params == [date(2020, 1, 1)]
