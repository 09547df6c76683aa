"""A licence's steps over HTTP against the real app and PostGIS: an authority's decisions with
their reasons, an applicant withdrawing, the history that keeps both, and ``/api`` describing
the application paths (held to it by schemathesis with an applicant's and an authority's keys).

Every answer is checked against the store or against the document ``/api`` serves.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

import geo
from geo import access, licensing, vocab
from tests.applicants import (
    apply,
    cell,
    check,
    client,
    decide,
    decisions,
    enrolled_store,
    sql,
    withdraw,
)
from tests.conftest import fresh_database
from tests.fuzzing import CONFORMANCE, failures, schemathesis

pytestmark = pytest.mark.usefixtures("no_proxy_for_loopback")
PATHS = ("/applications/check", "/applications", "/applications/{fid}/withdraw",
         "/licences/{fid}/status", "/licences/{fid}/decisions")  # fmt: skip


@pytest.fixture(scope="module")
def store(cluster):
    with enrolled_store(cluster) as store:
        yield store


def status_of(store, fid: int) -> str:
    return sql(store, "SELECT status FROM concessions WHERE id = %s", [fid])[0][0]


def documented(store, path: str, status: str, method: str = "post") -> dict:
    with client(store) as c:
        operation = c.get("/api").json()["paths"][path][method]
    if method == "post":
        assert operation["security"] == [{"apiKey": []}, {"bearer": []}]
    return operation["responses"][status]["content"]["application/json"]["schema"]


def json_schema(schema: object) -> object:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema says it (a type list with "null")."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") and "type" in schema:
        out["type"] = [schema["type"], "null"]
        if "enum" in schema:
            out["enum"] = [*schema["enum"], None]
    return out


def valid(store, document: object, path: str, status: str, method: str = "post") -> None:
    """``document`` matches the schema ``/api`` gives, its references resolved in ``/api``."""
    with client(store) as c:
        api = c.get("/api").json()
    schema = documented(store, path, status, method)
    jsonschema.validate(document, json_schema({**schema, "components": api["components"]}))


def test_the_api_document_lists_and_describes_the_application_paths(store):
    """/api lists the five paths; real answers (free, applied, decided, withdrawn, the steps)
    match the schemas it gives, and the bodies it documents are the ones the server reads."""
    with client(store) as c:
        paths = c.get("/api").json()["paths"]
    assert set(PATHS) <= set(paths)
    valid(store, check(store, "alpha", cell(40)).json(), "/applications/check", "200")
    applied = apply(store, "alpha", cell(41))
    assert applied.status_code == 201, applied.text
    valid(store, applied.json(), "/applications", "201")
    decided = decide(store, "judge", applied.json()["id"], status="granted", licence_no="T-41")
    assert decided.status_code == 200, decided.text
    valid(store, decided.json(), "/licences/{fid}/status", "200")
    steps = decisions(store, "alpha", applied.json()["id"])
    valid(store, steps.json(), "/licences/{fid}/decisions", "200", "get")
    gone = withdraw(store, "alpha", apply(store, "alpha", cell(42)).json()["id"], {"reason": "x"})
    valid(store, gone.json(), "/applications/{fid}/withdraw", "200")
    conflict = apply(store, "beta", cell(41))
    assert conflict.status_code == 409 and conflict.json()["code"] == "Conflict"
    valid(store, conflict.json(), "/applications", "409")
    body = paths["/licences/{fid}/status"]["post"]["requestBody"]["content"]["application/json"]
    assert tuple(body["schema"]["properties"]) == licensing.DECISION_FIELDS
    assert body["schema"]["required"] == ["status", "reason"]
    block = paths["/applications"]["post"]["requestBody"]["content"]["application/geo+json"]
    fields = block["schema"]["properties"]["properties"]["properties"]
    assert tuple(fields) == licensing.APPLICANT_FIELDS
    assert fields["commodities"]["items"]["enum"] == list(vocab.COMMODITIES)
    example = apply(store, "gamma", block["example"]["geometry"])  # the example applies
    assert example.status_code == 201, example.text


def test_a_decision_needs_a_reason_kept_and_shown_to_whoever_sees_the_licence(store):
    fid = apply(store, "alpha", cell(50)).json()["id"]
    for reason, words in ((None, "reason: required"), ("   ", "reason: required"),
                          (7, "reason: required"),
                          ("x" * (licensing.REASON_MAX + 1), "at most")):  # fmt: skip
        response = decide(store, "judge", fid, status="refused", reason=reason)
        assert response.status_code == 400 and words in response.json()["description"]
        assert response.json()["code"]
    assert status_of(store, fid) == "application"
    assert sql(store, "SELECT count(*) FROM licence_decisions WHERE concession_id = %s",
               [fid]) == [(0,)]  # fmt: skip
    why = "the block overlaps a national park (test)"
    refused = decide(store, "judge", fid, status="refused", reason=f"  {why} ")
    assert refused.status_code == 200, refused.text
    assert refused.json()["reason"] == why and refused.json()["status"] == "refused"
    steps = decisions(store, "alpha", fid)  # the applicant reads why
    assert steps.status_code == 200, steps.text
    assert [(s["from_status"], s["to_status"], s["reason"]) for s in steps.json()["decisions"]] == [
        ("application", "refused", why)
    ]
    for outsider in ("beta", None):  # a confidential application: as if it did not exist
        assert decisions(store, outsider, fid).status_code == 404
    step = decisions(store, "reader", fid).json()["decisions"][0]
    assert step["reason"] == why and step["by_role"] == "approver"
    assert step["by_organisation"] == "Mines Authority (test)"
    with psycopg.connect(store["url"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SET ROLE emining_api")
        conn.execute("DELETE FROM licence_decisions")


def test_a_decision_date_is_yyyy_mm_dd_as_api_says(store):
    fid = apply(store, "alpha", cell(53)).json()["id"]
    for date in ("20400101", "2040-W01-1", "2040-02-30"):
        response = decide(store, "judge", fid, status="granted", granted_on=date)
        assert response.status_code == 400, response.text
        assert f"granted_on: '{date}' is not a date" in response.json()["description"]
    assert status_of(store, fid) == "application"


def test_an_applicant_withdraws_its_own_pending_application_and_nobody_else_can(store):
    fid = apply(store, "alpha", cell(51)).json()["id"]
    assert withdraw(store, "beta", fid, {"reason": "not ours"}).status_code == 404  # hidden
    assert withdraw(store, "alphaview", fid, {"reason": "a viewer"}).status_code == 403
    assert withdraw(store, "judge", fid, {"reason": "an authority"}).status_code == 403
    assert withdraw(store, None, fid, {"reason": "anonymous"}).status_code == 401
    bad = withdraw(store, "alpha", fid, {"why": "wrong field"})
    assert bad.status_code == 400 and "why: unknown field" in bad.json()["description"]
    assert "reason: required" in bad.json()["description"]
    blank = withdraw(store, "alpha", fid, {"reason": " \t"})
    assert blank.status_code == 400 and "reason: required" in blank.json()["description"]
    assert status_of(store, fid) == "application"
    done = withdraw(store, "alpha", fid, {"reason": "the survey found nothing (test)"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "withdrawn" == status_of(store, fid)
    assert done.json()["reason"] == "the survey found nothing (test)"
    history = sql(store, "SELECT by_org, by_role FROM history WHERE layer = 'concessions' "
                  "AND fid = %s AND op = 'update'", [fid])  # fmt: skip
    alpha_org = sql(store, "SELECT id FROM organisations WHERE name = 'Alpha Mining (test)'")[0][0]
    assert history[-1][0] == alpha_org  # attributed to the applicant, not the store's owner
    again = withdraw(store, "alpha", fid, {"reason": "twice"})
    assert again.status_code == 409 and "is withdrawn" in again.json()["description"]
    assert apply(store, "beta", cell(51)).status_code == 201  # the area is free again
    granted = apply(store, "alpha", cell(52)).json()["id"]
    assert decide(store, "judge", granted, status="granted").status_code == 200
    late = withdraw(store, "alpha", granted, {"reason": "too late"})
    assert late.status_code == 409 and "is granted" in late.json()["description"]
    assert status_of(store, granted) == "granted"
    unknown = withdraw(store, "alpha", 10**9, {"reason": "unknown"})
    assert unknown.status_code == 404 and unknown.json()["code"]


def test_withdrawn_is_not_relinquished_and_an_authority_may_record_it(store):
    """A pending application is granted, refused or withdrawn; relinquishing is for licences."""
    fid = apply(store, "alpha", cell(54)).json()["id"]
    wrong = decide(store, "judge", fid, status="relinquished")
    assert wrong.status_code == 409, wrong.text
    assert wrong.json()["allowed"] == ["granted", "refused", "withdrawn"]
    recorded = decide(store, "judge", fid, status="withdrawn", reason="letter of 1 May (test)")
    assert recorded.status_code == 200 and status_of(store, fid) == "withdrawn"
    final = decide(store, "judge", fid, status="granted")
    assert final.status_code == 409 and final.json()["allowed"] == []


def test_the_history_says_why_each_step_was_taken(store):
    fid = apply(store, "alpha", cell(55)).json()["id"]
    assert decide(store, "judge", fid, status="granted", reason="complete file (test)",
                  expires_on="2040-01-01").status_code == 200  # fmt: skip
    with psycopg.connect(store["url"]) as conn:  # an owner's edit: no decision, no reason
        conn.execute("UPDATE concessions SET notes = 'survey map attached' WHERE id = %s", [fid])
    assert decide(store, "judge", fid, status="suspended",
                  reason="no annual report (test)").status_code == 200  # fmt: skip
    with client(store, "alpha") as c:
        versions = c.get(f"/collections/concessions/items/{fid}/history").json()["versions"]
    assert [(v["after"]["properties"]["status"], v.get("reason")) for v in versions] == [
        ("application", None),
        ("granted", "complete file (test)"),
        ("granted", None),
        ("suspended", "no annual report (test)"),
    ]
    other = apply(store, "alpha", cell(56)).json()["id"]
    merged = withdraw(store, "alpha", other, {"reason": "merged into another (test)"})
    assert merged.status_code == 200, merged.text
    with client(store, "alpha") as c:
        last = c.get(f"/collections/concessions/items/{other}/history").json()["versions"][-1]
    assert last["after"]["properties"]["status"] == "withdrawn"
    assert last["reason"] == "merged into another (test)"
    with client(store, "beta") as c:  # a confidential application's history stays hidden
        assert c.get(f"/collections/concessions/items/{other}/history").status_code == 404


def alembic(url: str, verb: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(geo.__file__).parent / "migrations"))
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(command, verb)(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def test_migration_0012_restates_earlier_withdrawals_and_back(cluster):
    """A withdrawal written under 0011 (as relinquished) is withdrawn after 0012, with its
    decision paired to its history row; downgrading restores relinquished."""
    url = fresh_database(cluster)
    alembic(url, "downgrade", "0011")
    with psycopg.connect(url, autocommit=True) as conn:
        org = access.ensure_organisation(conn, "Delta (test)", "enterprise")
        user = access.add_user(conn, "delta@example.org", org, "editor")
        fid = conn.execute(
            "INSERT INTO concessions (licence_no, licence_type, commodities, status, source, "
            "geom, owner_org, visibility) VALUES ('D-1', 'exploration', '{gold}', "
            "'application', 'test', ST_Multi(ST_GeomFromGeoJSON(%s)), %s, 'confidential') "
            "RETURNING id",
            [json.dumps(cell(60)), org],
        ).fetchone()[0]
    with psycopg.connect(url) as conn:
        access.act_as_sync(conn, access.Claims(user, org, "enterprise", "editor"))
        conn.execute("SELECT emining_withdraw_application(%s, 'changed plans')", [fid])
    alembic(url, "upgrade", "head")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT status FROM concessions WHERE id = %s", [fid]).fetchone() == (
            "withdrawn",
        )
        paired = conn.execute(
            "SELECT d.to_status, h.before->>'status' FROM licence_decisions d JOIN history h "
            "ON h.layer = 'concessions' AND h.fid = d.concession_id AND h.at = d.at "
            "WHERE d.concession_id = %s",
            [fid],
        ).fetchall()
    assert paired == [("withdrawn", "application")]
    alembic(url, "downgrade", "0011")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT status FROM concessions WHERE id = %s", [fid]).fetchone() == (
            "relinquished",
        )
    alembic(url, "upgrade", "head")


@pytest.fixture(scope="module")
def fuzzed(cluster, tmp_path_factory):
    """A store of its own (fuzzing writes at random), with records in every state for the
    fuzzer to pick ids from: pending, granted, refused, withdrawn, and the samples' licences."""
    with enrolled_store(cluster) as store:
        ids = [apply(store, "alpha", cell(n)).json()["id"] for n in range(70, 76)]
        assert decide(store, "judge", ids[0], status="granted").status_code == 200
        assert decide(store, "judge", ids[1], status="refused").status_code == 200
        assert withdraw(store, "alpha", ids[2], {"reason": "fixture"}).status_code == 200
        ids += [row[0] for row in sql(store, "SELECT id FROM concessions WHERE id <> ALL(%s) "
                                      "ORDER BY id LIMIT 6", [ids])]  # fmt: skip
        workdir = tmp_path_factory.mktemp("schemathesis")
        (workdir / "schemathesis.toml").write_text(
            f"[dictionaries.licences]\nvalues = {ids}\n\n"
            '[parameters]\n"path.fid" = { dictionary = "licences", probability = 0.7 }\n'
        )
        yield store, workdir


WRITTEN = {
    "alpha": f"SELECT count(*) FROM concessions WHERE source = '{licensing.SOURCE}'",
    "judge": "SELECT count(*) FROM licence_decisions WHERE by_role = 'approver'",
}
"""What each caller's run must have written: the fuzzer reached past the checks of identity."""


@pytest.mark.parametrize("who", ["alpha", "judge"])
def test_schemathesis_with_credentials_holds_the_application_paths_to_api(fuzzed, who):
    """An applicant and an authority reach bodies, conflicts, withdrawals and decisions (an
    anonymous run, tests/test_clients.py, is refused 401 before any of that)."""
    store, workdir = fuzzed
    before = sql(store, WRITTEN[who])[0][0]
    done = schemathesis(
        store["server"].url, workdir, CONFORMANCE, "examples,coverage,fuzzing",
        "--include-path-regex", "^/(applications|licences)/?",
        "--header", f"X-API-Key: {store['keys'][who]}",
    )  # fmt: skip
    assert done.returncode == 0, failures(done)
    assert sql(store, WRITTEN[who])[0][0] > before, done.stdout[-3000:]
