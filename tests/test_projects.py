"""Value-chain projects in the database: constraints, site integrity, the published view, samples.

Expectations come from the sample file (``data/samples/projects.json``) and from PostGIS queries
written independently of the view (straight from the site layers by their natural keys).
"""

from __future__ import annotations

import json
import re

import psycopg
import pytest

from geo import access, db, vocab
from geo.load import LoadError
from geo.models import PROJECT_TABLES, ProjectFeature
from geo.projects import SAMPLE, check, load_projects
from tests.conftest import REPO

SAMPLES = json.loads(SAMPLE.read_text(encoding="utf-8"))["projects"]
KEYS = {"deposits": "name", "concessions": "licence_no", "facilities": "name", "sezs": "name"}
POINT = "ST_SetSRID(ST_MakePoint(66.4, 26.1), 4326)"


@pytest.fixture
def project(conn) -> int:
    """One project and one deposit (rolled into the module's database, removed afterwards)."""
    conn.execute(
        "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
        f"VALUES ('Test deposit', ARRAY['zinc'], 'producing', 'approximate', 't', {POINT})"
    )
    (project_id,) = conn.execute(
        "INSERT INTO projects (name, stage, source) VALUES ('Test project', 'mining', 't') "
        "RETURNING id"
    ).fetchone()
    yield project_id
    conn.execute("DELETE FROM projects")
    conn.execute("DELETE FROM deposits")


def deposit_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT id FROM deposits WHERE name = 'Test deposit'").fetchone()[0]


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("INSERT INTO projects (name, stage, source) VALUES ('P', 'smelting', 't')",
         "projects_stage_check"),
        ("INSERT INTO projects (name, stage, status, source) VALUES ('P', 'mining', 'done', 't')",
         "projects_status_check"),
        ("INSERT INTO projects (name, stage, source) VALUES ('P', 'mining', '')",
         "projects_source_check"),
        ("INSERT INTO project_investments (project_id, amount, currency, committed_on, source) "
         "VALUES ({p}, 100, 'XYZ', '2024-01-01', 't')", "project_investments_currency_check"),
        ("INSERT INTO project_investments (project_id, amount, currency, committed_on, source) "
         "VALUES ({p}, 100, 'usd', '2024-01-01', 't')", "project_investments_currency_check"),
        ("INSERT INTO project_investments (project_id, amount, currency, committed_on, source) "
         "VALUES ({p}, 0, 'USD', '2024-01-01', 't')", "project_investments_amount_check"),
        ("INSERT INTO project_investments (project_id, amount, currency, committed_on, source) "
         "VALUES ({p}, -5, 'PKR', '2024-01-01', 't')", "project_investments_amount_check"),
        ("INSERT INTO project_partners (project_id, organisation, country, role, source) "
         "VALUES ({p}, 'MCC', 'China', 'operator', 't')", "project_partners_country_check"),
        ("INSERT INTO project_partners (project_id, organisation, role, source) "
         "VALUES ({p}, 'MCC', 'friend', 't')", "project_partners_role_check"),
        ("INSERT INTO project_partners (project_id, organisation, role, share_percent, source) "
         "VALUES ({p}, 'MCC', 'owner', 120, 't')", "project_partners_share_percent_check"),
        ("INSERT INTO project_agreements (project_id, kind, parties, signed_on, subject, source) "
         "VALUES ({p}, 'mou', ARRAY['Only one'], '2024-01-01', 's', 't')",
         "project_agreements_parties_check"),
        ("INSERT INTO project_agreements (project_id, kind, parties, signed_on, subject, source) "
         "VALUES ({p}, 'handshake', ARRAY['A', 'B'], '2024-01-01', 's', 't')",
         "project_agreements_kind_check"),
        ("INSERT INTO project_sites (project_id, layer, site_id) VALUES ({p}, 'corridors', 1)",
         "project_sites_layer_check"),
    ],
)  # fmt: skip
def test_constraints_reject_bad_project_rows(conn, project, statement, constraint):
    with pytest.raises(psycopg.errors.IntegrityError, match=constraint):
        conn.execute(statement.format(p=project))


@pytest.mark.parametrize("layer", vocab.SITE_LAYERS)
def test_a_link_to_a_missing_site_is_refused(conn, project, layer):
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"no such row in {layer}"):
        conn.execute(
            "INSERT INTO project_sites (project_id, layer, site_id) VALUES (%s, %s, 987654)",
            [project, layer],
        )
    assert conn.execute("SELECT count(*) FROM project_sites").fetchone()[0] == 0


def link(conn: psycopg.Connection, project: int) -> None:
    conn.execute(
        "INSERT INTO project_sites (project_id, layer, site_id) VALUES (%s, 'deposits', %s)",
        [project, deposit_id(conn)],
    )


def links(conn: psycopg.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT site_id FROM project_sites")]


def test_a_site_deleted_truncated_or_renumbered_takes_its_links_along(conn, project):
    link(conn, project)
    conn.execute("UPDATE deposits SET id = 424242 WHERE name = 'Test deposit'")
    assert links(conn) == [424242]
    conn.execute("DELETE FROM deposits WHERE id = 424242")
    assert links(conn) == []
    conn.execute(
        "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
        f"VALUES ('Test deposit', ARRAY['zinc'], 'producing', 'approximate', 't', {POINT})"
    )
    link(conn, project)
    conn.execute("TRUNCATE deposits")  # the loader truncates an empty layer before a bulk COPY
    assert links(conn) == []


def test_a_change_to_a_detail_touches_the_project_and_raises_its_counter(conn, project):
    before = conn.execute("SELECT updated_at FROM projects WHERE id = %s", [project]).fetchone()
    version = db.layer_versions(conn)["projects"]
    with conn.transaction():  # now() is the transaction's start: commit between the two
        conn.execute(
            "INSERT INTO project_partners (project_id, organisation, country, role, source) "
            "VALUES (%s, 'MCC', 'CN', 'operator', 't')",
            [project],
        )
    after = conn.execute("SELECT updated_at FROM projects WHERE id = %s", [project]).fetchone()
    assert after > before
    assert db.layer_versions(conn)["projects"] > version
    version = db.layer_versions(conn)["projects"]
    conn.execute("UPDATE deposits SET geom = ST_SetSRID(ST_MakePoint(66.5, 26.2), 4326)")
    assert db.layer_versions(conn)["projects"] == version + 1  # a site moved: the geometry did


def test_the_view_is_security_invoker_and_models_match_the_schema(conn):
    options = conn.execute(
        "SELECT reloptions FROM pg_class WHERE relname IN "
        "('project_features', 'project_sites_resolved')"
    ).fetchall()
    assert options == [(["security_invoker=true"],)] * 2
    for model in (*PROJECT_TABLES, ProjectFeature):
        columns = dict(
            conn.execute(
                "SELECT column_name, is_nullable = 'YES' FROM information_schema.columns "
                "WHERE table_name = %s",
                [model.__tablename__],
            ).fetchall()
        )
        assert set(columns) == {c.name for c in model.__table__.columns}, model.__tablename__
        if model is not ProjectFeature:  # a view's columns are all nullable to PostgreSQL
            for column in model.__table__.columns:
                assert columns[column.name] == column.nullable or column.primary_key


@pytest.mark.parametrize(
    ("table", "column", "values"),
    [("projects", "stage", vocab.PROJECT_STAGE), ("projects", "status", vocab.PROJECT_STATUS),
     ("project_partners", "role", vocab.PARTNER_ROLE),
     ("project_agreements", "kind", vocab.AGREEMENT_KIND),
     ("project_sites", "layer", vocab.SITE_LAYERS),
     ("project_investments", "currency", vocab.CURRENCIES)],
)  # fmt: skip
def test_database_vocabularies_match_geo_vocab(conn, table, column, values):
    definition = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
        [f"{table}_{column}_check"],
    ).fetchone()[0]
    assert set(re.findall(r"'([^']*)'::text", definition)) == set(values)


# --- the samples ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(samples_url) -> psycopg.Connection:
    with psycopg.connect(samples_url, autocommit=True) as connection:
        yield connection


def test_every_sample_fact_has_a_source_and_the_sources_file_names_every_project():
    assert check(SAMPLES) == []
    sources = (REPO / "data" / "samples" / "SOURCES.md").read_text(encoding="utf-8")
    for project in SAMPLES:
        assert project["source"].strip() and project["name"] in sources, project["name"]
        for key in ("partners", "investments", "agreements"):
            for row in project.get(key, []):
                assert row["source"].strip() and row["source_url"].startswith("http"), row
    names = {p["name"] for p in SAMPLES}
    assert {"Saindak Copper-Gold Project", "Reko Diq", "Thar Coal Block II",
            "Thar Coal Block I", "Duddar Lead-Zinc Project"} <= names  # fmt: skip


def test_the_samples_are_loaded_whole(samples):
    counts = samples.execute(
        "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM project_partners), "
        "(SELECT count(*) FROM project_investments), (SELECT count(*) FROM project_agreements), "
        "(SELECT count(*) FROM project_sites)"
    ).fetchone()
    expected = [len(SAMPLES)] + [
        sum(len(p.get(key, [])) for p in SAMPLES)
        for key in ("partners", "investments", "agreements", "sites")
    ]
    assert list(counts) == expected
    report = load_projects(samples, upsert=True)  # a refresh replaces, it does not add
    assert (report.inserted, report.updated) == (0, len(SAMPLES))
    assert samples.execute("SELECT count(*) FROM project_sites").fetchone()[0] == expected[4]


@pytest.mark.parametrize("project", SAMPLES, ids=lambda p: p["name"])
def test_a_projects_geometry_is_its_sites_geometries(samples, project):
    """Compared with the union of the sites' geometries, found by their natural keys."""
    parts = [
        samples.execute(
            f"SELECT geom FROM {site['layer']} WHERE {KEYS[site['layer']]} = %s", [site["key"]]
        ).fetchone()[0]
        for site in project["sites"]
    ]
    same, parts_kept = samples.execute(
        "SELECT ST_Equals(ST_UnaryUnion(f.geom), (SELECT ST_Union(g::geometry) "
        "FROM unnest(%s::text[]) g)), ST_NumGeometries(f.geom) "
        "FROM project_features f WHERE f.name = %s",
        [parts, project["name"]],
    ).fetchone()
    assert same and parts_kept == len(project["sites"])


def test_a_site_hidden_by_row_level_security_gives_no_geometry(samples):
    """A confidential deposit is left out of its project's geometry for those who may not see
    it (the visibility rule of migration 0005, acting as an anonymous caller)."""
    with samples.transaction():  # rolled back at the end
        org = access.ensure_organisation(samples, "Hidden owner (test)", "enterprise")
        samples.execute(
            "UPDATE deposits SET visibility = 'confidential', owner_org = %s "
            "WHERE name = 'Reko Diq'",
            [org],
        )
        access.act_as_sync(samples, access.ANONYMOUS)
        kinds, names = samples.execute(
            "SELECT ST_AsText(geom), site_names FROM project_features WHERE name = 'Reko Diq'"
        ).fetchone()
        assert kinds.startswith("GEOMETRYCOLLECTION(MULTIPOLYGON") and "POINT" not in kinds
        assert names == ["ILLUS-0001"]
        raise psycopg.Rollback()


def test_a_confidential_project_and_its_details_are_hidden(samples):
    with samples.transaction():
        org = access.ensure_organisation(samples, "Project owner (test)", "enterprise")
        samples.execute(
            "UPDATE projects SET visibility = 'confidential', owner_org = %s "
            "WHERE name = 'Reko Diq'",
            [org],
        )
        access.act_as_sync(samples, access.ANONYMOUS)
        assert (
            samples.execute(
                "SELECT count(*) FROM project_features WHERE name = 'Reko Diq'"
            ).fetchone()[0]
            == 0
        )
        assert (
            samples.execute(
                "SELECT count(*) FROM project_partners pp JOIN projects p ON p.id = pp.project_id "
                "WHERE p.name = 'Reko Diq'"
            ).fetchone()[0]
            == 0
        )
        access.act_as_sync(samples, access.Claims(1, org, "enterprise", "viewer"))
        assert (
            samples.execute(
                "SELECT count(*) FROM project_features WHERE name = 'Reko Diq'"
            ).fetchone()[0]
            == 1
        )
        raise psycopg.Rollback()


def test_a_bad_project_file_lists_every_problem_and_writes_nothing(samples, tmp_path):
    bad = json.loads(json.dumps(SAMPLES[:2]))
    bad[0]["stage"] = "smelting"
    bad[0]["partners"][0]["country"] = "China"
    bad[1]["investments"][0]["currency"] = "XYZ"
    bad[1]["sites"].append({"layer": "deposits", "key": "Atlantis"})
    bad[1]["name"] = "A new project"
    path = tmp_path / "projects.json"
    path.write_text(json.dumps({"projects": bad}), encoding="utf-8")
    with pytest.raises(LoadError) as raised:
        load_projects(samples, path, upsert=True)
    lines = "\n".join(raised.value.lines())
    for fragment in ("stage: 'smelting'", "partners[0].country: 'China'", "currency: 'XYZ'"):
        assert fragment in lines
    bad[0]["stage"], bad[0]["partners"][0]["country"] = "mining", "CN"
    bad[1]["investments"][0]["currency"] = "USD"
    path.write_text(json.dumps({"projects": bad}), encoding="utf-8")
    with pytest.raises(LoadError, match="deposits has no 'Atlantis'"):
        load_projects(samples, path, upsert=True)
    assert (
        samples.execute("SELECT count(*) FROM projects WHERE name = 'A new project'").fetchone()[0]
        == 0
    )
