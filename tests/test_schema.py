"""The database itself enforces the store's rules, whatever path a row takes to get there."""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import ARRAY

from geo import db, vocab
from geo.query import NEVER_PUBLISHED
from geo.tables import DERIVED, LAYERS, DepositResource

REPO = Path(__file__).resolve().parents[1]

POINT = "ST_GeomFromText('POINT(66.4 26.1)', 4326)"
BLOCK = "ST_GeomFromText('MULTIPOLYGON(((66 26, 66.1 26, 66.1 26.1, 66 26.1, 66 26)))', 4326)"


def insert_deposit(conn: psycopg.Connection, **overrides: str) -> None:
    values = {
        "name": "'Test deposit'",
        "commodities": "ARRAY['lead', 'zinc']",
        "status": "'producing'",
        "coord_quality": "'approximate'",
        "source": "'test'",
        "geom": POINT,
    } | overrides
    columns = ", ".join(values)
    conn.execute(f"INSERT INTO deposits ({columns}) VALUES ({', '.join(values.values())})")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"geom": "ST_GeomFromText('POINT(66.4 26.1)', 3857)"}, "SRID"),
        ({"geom": BLOCK}, "Geometry type"),
        ({"status": "'producting'"}, "deposits_status_check"),
        ({"commodities": "ARRAY['copper', 'unobtainium']"}, "deposits_commodities_check"),
        ({"commodities": "ARRAY[]::text[]"}, "deposits_commodities_check"),
        ({"coord_quality": "'exact'"}, "deposits_coord_quality_check"),
        ({"source": "NULL"}, "null value"),
        ({"source": "''"}, "deposits_source_check"),
        ({"name": "NULL"}, "null value"),
        ({"tonnage_mt": "-5"}, "deposits_tonnage_mt_check"),
        ({"grade": "1.2"}, "deposits_check"),
    ],
)
def test_constraints_reject_bad_deposits(conn, overrides, message):
    with pytest.raises(psycopg.Error, match=message):
        insert_deposit(conn, **overrides)
    assert conn.execute("SELECT count(*) FROM deposits").fetchone()[0] == 0


def test_invalid_geometry_is_rejected(conn):
    bowtie = "ST_GeomFromText('MULTIPOLYGON(((66 26, 67 27, 67 26, 66 27, 66 26)))', 4326)"
    with pytest.raises(psycopg.errors.CheckViolation, match="concessions_geom_check"):
        conn.execute(
            "INSERT INTO concessions (licence_no, licence_type, commodities, status, source, geom)"
            f" VALUES ('X-1', 'exploration', ARRAY['gold'], 'granted', 'test', {bowtie})"
        )


def test_concession_dates_and_unique_licence(conn):
    insert = (
        "INSERT INTO concessions (licence_no, licence_type, commodities, status, source, geom, "
        "applied_on, granted_on) VALUES (%s, 'exploration', ARRAY['gold'], 'granted', 'test', "
        f"{BLOCK}, %s, %s)"
    )
    conn.execute(insert, ("L-1", "2020-01-01", "2020-06-01"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(insert, ("L-1", "2020-01-01", "2020-06-01"))
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(insert, ("L-2", "2021-01-01", "2020-06-01"))
    assert conn.execute("SELECT licence_no FROM concessions").fetchall() == [("L-1",)]
    conn.execute("DELETE FROM concessions")


def test_sezs_take_points_or_multipolygons_only(conn):
    insert = (
        "INSERT INTO sezs (name, coord_quality, source, geom) VALUES (%s, 'approximate', 't', {})"
    )
    conn.execute(insert.format(POINT), ("A",))
    conn.execute(insert.format(BLOCK), ("B",))
    line = "ST_GeomFromText('LINESTRING(66 26, 67 27)', 4326)"
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(insert.format(line), ("C",))
    conn.execute("DELETE FROM sezs")


def test_updated_at_is_maintained_by_the_database(conn):
    insert_deposit(conn, name="'Touched'")
    before = conn.execute("SELECT updated_at FROM deposits WHERE name = 'Touched'").fetchone()[0]
    time.sleep(0.01)
    conn.execute("UPDATE deposits SET status = 'explored' WHERE name = 'Touched'")
    after = conn.execute("SELECT updated_at FROM deposits WHERE name = 'Touched'").fetchone()[0]
    assert after > before
    conn.execute("DELETE FROM deposits")


def test_every_geometry_has_a_gist_index_and_every_array_a_gin_index(conn):
    indexes = conn.execute(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
    ).fetchall()
    for name, model in LAYERS.items():
        defs = [d for t, d in indexes if t == name]
        assert any("USING gist (geom)" in d for d in defs), name
        for column in model.__table__.columns:
            # shared_with is never published (not filterable); the policy reads it per row.
            if isinstance(column.type, ARRAY) and column.name not in NEVER_PUBLISHED:
                assert any(f"USING gin ({column.name})" in d for d in defs), (name, column.name)


def test_geometry_columns_are_typed_in_4326(conn):
    rows = dict(
        conn.execute(
            # (the *_as_of views of migration 0007 are the layers' past: same columns)
            "SELECT f_table_name, type FROM geometry_columns "
            "WHERE srid = 4326 AND f_table_name NOT LIKE '%\\_as\\_of'"
        ).fetchall()
    )
    assert rows == {
        "provinces": "MULTIPOLYGON",
        "districts": "MULTIPOLYGON",
        "deposits": "POINT",
        "concessions": "MULTIPOLYGON",
        "facilities": "POINT",
        "sezs": "GEOMETRY",
        "corridors": "MULTILINESTRING",
        "network_vertices": "POINT",
        "network_edges": "LINESTRING",
        "network_points": "POINT",
        "links": "LINESTRING",
        "rasters": "POLYGON",  # footprints (migration 0004)
        "project_features": "GEOMETRY",  # the projects' sites, collected (view, migration 0006)
        # a deposit's resources and its EarthResourceML-Lite views, at its point (migration 0014)
        "resource_features": "POINT",
        "erml_mineral_occurrences": "POINT",
        "erml_commodity_resources": "POINT",
        "basemap": "GEOMETRY",  # land, lines and places of the offline basemap (migration 0016)
    }


def test_models_match_the_migrated_schema(conn):
    models = [*LAYERS.values(), *DERIVED.values(), DepositResource]
    for model in models:
        name = model.__tablename__
        columns = dict(
            conn.execute(
                "SELECT column_name, is_nullable = 'YES' FROM information_schema.columns "
                "WHERE table_name = %s",
                (name,),
            ).fetchall()
        )
        expected = {c.name: c.nullable for c in model.__table__.columns}
        assert set(columns) == set(expected), name
        if name not in LAYERS and name != "deposit_resources":
            continue  # a view's columns are all nullable to PostgreSQL
        for column, nullable in expected.items():
            if not model.__table__.columns[column].primary_key:
                assert columns[column] == nullable, (name, column)


VOCAB_COLUMNS = {
    ("deposits", "status"): vocab.DEPOSIT_STATUS,
    ("deposits", "commodities"): vocab.COMMODITIES,
    ("deposits", "classification"): vocab.RESOURCE_CLASSIFICATION,
    ("deposits", "reporting_code"): vocab.REPORTING_CODE,
    ("deposits", "coord_quality"): vocab.COORD_QUALITY,
    ("concessions", "licence_type"): vocab.LICENCE_TYPE,
    ("concessions", "status"): vocab.LICENCE_STATUS,
    ("concessions", "commodities"): vocab.COMMODITIES,
    ("facilities", "kind"): vocab.FACILITY_KIND,
    ("deposit_resources", "commodity"): vocab.COMMODITIES,
    ("deposit_resources", "category"): vocab.RESOURCE_CATEGORY,
    ("deposit_resources", "reporting_code"): vocab.RESOURCE_CODE,
    ("facilities", "status"): vocab.FACILITY_STATUS,
    ("sezs", "status"): vocab.SEZ_STATUS,
    ("corridors", "mode"): vocab.CORRIDOR_MODE,
    ("corridors", "status"): vocab.CORRIDOR_STATUS,
    ("corridors", "road_class"): vocab.CORRIDOR_CLASS,
}


@pytest.mark.parametrize(("table", "column"), sorted(VOCAB_COLUMNS))
def test_database_vocabularies_match_geo_vocab(conn, table, column):
    definition = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND conname = %s",
        (table, f"{table}_{column}_check"),
    ).fetchone()[0]
    assert set(re.findall(r"'([^']*)'::text", definition)) == set(VOCAB_COLUMNS[table, column])
    model = LAYERS.get(table, DepositResource)
    assert model.__table__.columns[column].info["vocab"] == VOCAB_COLUMNS[table, column]


def test_migrating_twice_changes_nothing(db_url):
    from alembic.script import ScriptDirectory

    db.migrate(db_url)
    head = ScriptDirectory(str(REPO / "geo" / "migrations")).get_current_head()
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head


def test_every_write_raises_its_layers_version_once_per_statement(conn):
    before = db.layer_versions(conn)
    # links and projects: the derived layers (migrations 0003, 0006)
    assert set(before) == {*LAYERS, "links", "projects"}
    with conn.transaction():
        insert_deposit(conn)
        insert_deposit(conn, name="'Second'")
    conn.execute("UPDATE deposits SET operator = 'x'")  # two rows, one statement
    with conn.cursor().copy(
        "COPY deposits (name, commodities, status, coord_quality, source, geom) FROM STDIN"
    ) as copy:
        for n in range(3):
            copy.write_row((f"c{n}", ["gold"], "prospect", "approximate", "t", "POINT(66 26)"))
    after = db.layer_versions(conn)
    assert after["deposits"] == before["deposits"] + 4
    # Projects' geometry is their sites': a write to a site layer raises theirs too.
    assert after["projects"] == before["projects"] + 4
    assert {k: v for k, v in after.items() if k not in ("deposits", "projects")} == {
        k: v for k, v in before.items() if k not in ("deposits", "projects")
    }
    conn.execute("DELETE FROM deposits")
    assert db.layer_versions(conn)["deposits"] == before["deposits"] + 5


def test_a_rolled_back_write_leaves_the_version_alone(conn):
    before = db.layer_versions(conn)["deposits"]
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        insert_deposit(conn)
        insert_deposit(conn, status="'producting'")
    assert db.layer_versions(conn)["deposits"] == before
    assert conn.execute("SELECT count(*) FROM deposits").fetchone()[0] == 0


def test_downgrade_to_base_and_upgrade_to_head_on_a_loaded_store(cluster, samples_url):
    """Every migration's downgrade() runs on a store holding data (the samples, an account),
    leaves nothing of ours behind, and upgrading again rebuilds exactly a fresh store's schema."""
    from geo import access
    from geo.load import load_samples
    from tests.conftest import fresh_database
    from tests.migrating import alembic, fingerprint, revisions

    with psycopg.connect(fresh_database(cluster)) as conn:
        fresh = fingerprint(conn)
    with psycopg.connect(samples_url, autocommit=True) as conn:
        org = access.ensure_organisation(conn, "Downgrade Test", "enterprise")
        access.add_user(conn, "down@example.org", org, "editor")
        loaded = db.layer_counts(conn)
    assert any(loaded.values())
    alembic(samples_url, "downgrade", "base")
    with psycopg.connect(samples_url) as conn:
        left = fingerprint(conn)
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    assert tables <= {"spatial_ref_sys", "alembic_version"}, tables
    assert not left["functions"] and not left["triggers"] and not left["policies"], left
    alembic(samples_url, "upgrade", "head")
    with psycopg.connect(samples_url, autocommit=True) as conn:
        assert fingerprint(conn) == fresh
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            revisions()[-1],
        )
        assert not any(db.layer_counts(conn).values())  # the data went with the tables
        load_samples(conn)
        assert db.layer_counts(conn) == loaded
