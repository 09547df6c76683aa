"""Licence applications over HTTP against the real app and PostGIS: free or taken, stamps,
decisions, who may decide, hidden conflicts, history and races (reasons, withdrawals and
/api: tests/test_licence_steps.py).

Every answer is checked against the store (rows written or not, overlaps computed by PostGIS in
another way), not only by its status.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from geo import access, licensing
from tests.applicants import (
    GEOJSON,
    PASSWORD,
    application,
    apply,
    box,
    cell,
    check,
    client,
    count,
    decide,
    enrolled_store,
    post,
    records_in,
    sql,
)


@pytest.fixture(scope="module")
def store(cluster):
    with enrolled_store(cluster) as store:
        yield store


def duddar(store) -> tuple[float, float, float, float]:
    """ILLUS-0003 (granted, public): a rectangle; its exact bounds as stored."""
    return sql(
        store,
        "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM concessions "
        "WHERE licence_no = 'ILLUS-0003'",
    )[0]


def test_a_free_area_is_free_and_checking_writes_nothing(store):
    before = count(store)
    response = check(store, "alpha", cell(0))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["free"] is True and body["description"] == "this area is free"
    expected = sql(store, "SELECT ST_Area(ST_GeomFromGeoJSON(%s)::geography) / 1e6",
                   [json.dumps(cell(0))])[0][0]  # fmt: skip
    assert body["area_km2"] == pytest.approx(expected)
    assert count(store) == before


def test_overlapping_a_granted_licence_is_409_with_its_number_and_overlap(store):
    x0, y0, x1, y1 = duddar(store)
    block = box((x0 + x1) / 2, y0 + 0.01, x1 + 0.05, y1 - 0.01)
    before = count(store)
    for path in ("/applications/check", "/applications"):
        response = post(store, "beta", path, application(block))
        assert response.status_code == 409, response.text
        body = response.json()
        assert body["code"] == "Conflict" and "ILLUS-0003" in body["description"]
        [conflict] = body["conflicts"]
        assert conflict["licence_no"] == "ILLUS-0003" and conflict["status"] == "granted"
        # the same overlap, computed another way: in UTM 42N metres, not on the spheroid
        utm = sql(
            store,
            "SELECT ST_Area(ST_Intersection(ST_Transform(geom, 32642), "
            "ST_Transform(ST_GeomFromGeoJSON(%s), 32642))) / 1e6 FROM concessions "
            "WHERE licence_no = 'ILLUS-0003'",
            [json.dumps(block)],
        )[0][0]
        assert conflict["overlap_km2"] == pytest.approx(utm, rel=2e-3)
        assert f"{conflict['overlap_km2']:.3f} km²" in body["description"]
    assert count(store) == before


@pytest.mark.parametrize(
    ("overlap_degrees", "status"),
    [(0.0, 200), (5e-6, 200), (5e-5, 409)],
    ids=["shared edge", "half a metre", "five metres"],
)
def test_blocks_sharing_an_edge_do_not_conflict(store, overlap_degrees, status):
    _, y0, x1, y1 = duddar(store)
    block = box(x1 - overlap_degrees, y0, x1 + 0.04, y1)
    response = check(store, "beta", block)
    assert response.status_code == status, response.text


def test_applying_stamps_numbers_and_keeps_the_application_confidential(store):
    start = dt.datetime.now(dt.UTC)
    first = apply(store, "alpha", cell(1), holder="Alpha Mining")
    second = apply(store, "beta", cell(2), commodities=["gold", "silver"])
    end = dt.datetime.now(dt.UTC)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    a, b = first.json(), second.json()
    stamps = [dt.datetime.fromisoformat(x["applied_at"]) for x in (a, b)]
    assert start <= stamps[0] < stamps[1] <= end
    assert a["status"] == "application" and a["licence_no"].startswith(f"APP-{start.year}-")
    assert a["description"].startswith("this area is free")
    assert first.headers["location"].endswith(f"/collections/concessions/items/{a['id']}")
    row = sql(
        store,
        "SELECT c.visibility, o.name, c.source, c.applied_on, c.granted_on, c.holder "
        "FROM concessions c JOIN organisations o ON o.id = c.owner_org WHERE c.id = %s",
        [a["id"]],
    )[0]
    assert row[:2] == ("confidential", "Alpha Mining (test)")
    assert row[3] == dt.date.fromisoformat(a["applied_on"]) and row[4] is None
    assert row[5] == "Alpha Mining"
    path = f"/collections/concessions/items/{a['id']}"
    for who, seen in (("alpha", 200), ("judge", 200), ("beta", 404), (None, 404)):
        with client(store, who) as c:
            assert c.get(path).status_code == seen, who
    with client(store, "alpha") as c:
        assert c.get(path).headers["etag"] == first.headers["etag"]
    with client(store, "judge") as c:  # the approver's queue, oldest first
        queue = c.get("/collections/concessions/items", params={
            "status": "application", "sortby": "applied_at", "limit": 1000}).json()  # fmt: skip
    numbers = [f["properties"]["licence_no"] for f in queue["features"]]
    assert numbers.index(a["licence_no"]) < numbers.index(b["licence_no"])


def test_an_earlier_application_conflicts_and_hidden_ones_keep_their_number(store):
    taken = apply(store, "alpha", cell(3))
    assert taken.status_code == 201, taken.text
    number = taken.json()["licence_no"]
    x0, y0 = cell(3)["coordinates"][0][0]
    overlapping = box(x0 + 0.02, y0 + 0.02, x0 + 0.08, y0 + 0.08)
    own = check(store, "alpha", overlapping)
    assert own.status_code == 409 and own.json()["conflicts"][0]["licence_no"] == number
    assert own.json()["conflicts"][0]["applied_at"] == taken.json()["applied_at"]
    before = count(store)
    for who in ("gamma", "beta"):
        for path in ("/applications/check", "/applications"):
            response = post(store, who, path, application(overlapping))
            assert response.status_code == 409, response.text
            assert number not in response.text and taken.json()["applied_at"] not in response.text
            [hidden] = response.json()["conflicts"]
            # Nothing but that there is one: no number, kind, status, time or overlap (km²
            # let a caller trace the hidden block by bisection).
            assert hidden == {"visible": False, "description": licensing.HIDDEN}
            description = response.json()["description"]
            assert description == f"the area is not free: {licensing.HIDDEN}"
            assert "km²" not in response.text
    assert count(store) == before
    regulator = check(store, "judge", overlapping)
    assert regulator.status_code == 409 and regulator.json()["conflicts"][0]["licence_no"] == number


BAD = [
    (application(box(64, 29, 64.1, 29.1), colour="red"), "unknown field"),
    (application(box(64, 29, 64.1, 29.1), commodities=["unobtainium"]), "'unobtainium' is not one"),
    (application(box(64, 29, 64.1, 29.1), licence_type="squatting"), "'squatting' is not one of"),
    ({"type": "Feature", "geometry": box(64, 29, 64.1, 29.1),
      "properties": {"commodities": ["gold"]}}, "licence_type"),
    (application({"type": "Polygon", "coordinates": [[[64, 29], [64.1, 29.1], [64.1, 29],
                                                      [64, 29.1], [64, 29]]]}), "invalid geometry"),
    (application({"type": "Point", "coordinates": [64, 29]}), "Point where concessions holds"),
    (application(box(2.3, 48.8, 2.4, 48.9)), "outside Pakistan"),
    (application(box(64, 29, 64.1, 29.1), licence_no="MINE-1", applied_at="2001-01-01T00:00Z",
                 status="granted"), "status: set by the platform"),
    ({"type": "FeatureCollection", "features": [application(cell(9)), application(cell(8))]},
     "one GeoJSON Feature"),
    ({"type": "FeatureCollection", "features": [application(cell(9))]}, "one GeoJSON Feature"),
    ({**application(cell(9)), "properties": ["exploration"]}, "properties: must be an object"),
    (application(cell(9), holder=5), "holder: must be text"),
    (application(cell(9), commodities="copper"), "commodities: must be an array of text"),
    (application(cell(9), shared_with=[{}]), "shared_with: must be an array of integers"),  # a 500
    (application(cell(9), visibility=None), "visibility: must not be null"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "reason"), BAD, ids=[r for _, r in BAD])
def test_bad_applications_are_400_with_every_reason_and_nothing_written(store, body, reason):
    before = count(store)
    for path in ("/applications/check", "/applications"):
        response = post(store, "alpha", path, body)
        assert response.status_code == 400, response.text
        assert reason in response.json()["description"] and response.json()["code"]
    assert count(store) == before


def test_every_problem_is_named_at_once(store):
    body = application({"type": "Point", "coordinates": [64, 29]}, colour="red",
                       commodities=["unobtainium"], applied_at="2001-01-01T00:00Z")  # fmt: skip
    description = post(store, "alpha", "/applications", body).json()["description"]
    for reason in ("applied_at: set by the platform", "colour", "unobtainium", "Point where"):
        assert reason in description


def test_applying_and_checking_need_the_right_caller(store):
    assert check(store, None, cell(4)).status_code == 401
    assert apply(store, None, cell(4)).status_code == 401
    for who in ("alphaview", "judge", "clerk"):
        response = apply(store, who, cell(4))
        assert response.status_code == 403, (who, response.text)
    assert check(store, "reader", cell(4)).status_code == 200
    assert records_in(store, cell(4)) == 0


def test_an_approver_moves_a_licence_through_its_life(store):
    fid = apply(store, "alpha", cell(5)).json()["id"]
    granted = decide(store, "judge", fid, status="granted", expires_on="2031-01-01",
                     licence_no="EL-2026-17")  # fmt: skip
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert body["status"] == "granted" and body["licence_no"] == "EL-2026-17"
    assert body["granted_on"] == sql(store, "SELECT (now() AT TIME ZONE 'Asia/Karachi')::date"
                                     )[0][0].isoformat()  # fmt: skip
    assert body["applied_at"] is not None  # the stamp outlives the application
    short = decide(store, "judge", fid, status="renewed", expires_on="2030-01-01")
    assert short.status_code == 400 and "expiry date after 2031-01-01" in short.text
    renewed = decide(store, "judge", fid, status="renewed", expires_on="2036-01-01")
    assert renewed.status_code == 200 and renewed.json()["expires_on"] == "2036-01-01"
    back = decide(store, "judge", fid, status="application")
    assert back.status_code == 409
    assert back.json()["allowed"] == ["renewed", "suspended", "expired", "relinquished"]
    assert "may become renewed, suspended, expired, relinquished" in back.json()["description"]
    assert decide(store, "judge", fid, status="expired").status_code == 200
    final = decide(store, "judge", fid, status="granted")
    assert final.status_code == 409 and "nothing else (final)" in final.json()["description"]
    assert decide(store, "judge", fid, status="approved").status_code == 400
    assert decide(store, "judge", 10**9, status="granted").status_code == 404
    bad = decide(store, "judge", fid, status="granted", expires_on="soon", colour="red")
    assert bad.status_code == 400
    assert "expires_on: 'soon'" in bad.text and "colour: unknown" in bad.text


def test_a_refused_or_expired_licence_frees_its_area(store):
    fid = apply(store, "alpha", cell(6)).json()["id"]
    assert check(store, "beta", cell(6)).status_code == 409
    assert decide(store, "judge", fid, status="refused").status_code == 200
    assert check(store, "beta", cell(6)).status_code == 200
    fid = apply(store, "beta", cell(6)).json()["id"]
    decide(store, "judge", fid, status="granted")
    assert decide(store, "judge", fid, status="suspended").status_code == 200
    assert check(store, "gamma", cell(6)).status_code == 409  # suspended still holds it
    assert decide(store, "judge", fid, status="expired").status_code == 200
    assert check(store, "gamma", cell(6)).status_code == 200


def test_only_an_authority_approver_decides_by_any_path(store):
    fid = apply(store, "alpha", cell(7)).json()["id"]
    assert decide(store, None, fid, status="granted").status_code == 401
    for who in ("alpha", "alphaboss", "alphaview", "clerk", "reader", "beta"):
        response = decide(store, who, fid, status="granted")
        assert response.status_code == 403, (who, response.text)
    path = f"/collections/concessions/items/{fid}"
    with client(store, "alpha") as c:  # OGC Part 4: the owner may not grant itself a licence
        tag = c.get(path).headers["etag"]
        response = c.patch(path, json={"properties": {"status": "granted"}},
                           headers={**GEOJSON, "If-Match": tag})  # fmt: skip
        assert response.status_code == 403 and "approver" in response.json()["description"]
        created = c.post("/collections/concessions/items", headers=GEOJSON, json=application(
            cell(17), licence_no="SELF-1", status="granted", source="me"))  # fmt: skip
        assert created.status_code == 403, created.text
    assert sql(store, "SELECT status FROM concessions WHERE id = %s", [fid]) == [("application",)]
    assert decide(store, "judge", fid, status="granted").status_code == 200
    with client(store, "alpha") as c:  # nor move, re-scope or delete what was granted
        for change in ({"geometry": cell(27)}, {"properties": {"commodities": ["gold"]}}):
            tag = c.get(path).headers["etag"]
            response = c.patch(path, json=change, headers={**GEOJSON, "If-Match": tag})
            assert response.status_code == 403 and "terms" in response.json()["description"]
        assert c.delete(path, headers={"If-Match": c.get(path).headers["etag"]}).status_code == 403
        tag = c.get(path).headers["etag"]  # its own description stays the owner's
        notes = c.patch(path, json={"properties": {"notes": "camp at the north corner"}},
                        headers={**GEOJSON, "If-Match": tag})  # fmt: skip
        assert notes.status_code == 204, notes.text
    with client(store, "judge") as c:  # the authority decides, but does not rewrite the record
        tag = c.get(path).headers["etag"]
        response = c.patch(path, json={"properties": {"holder": "Someone else"}},
                           headers={**GEOJSON, "If-Match": tag})  # fmt: skip
        assert response.status_code == 403, response.text


def test_the_stamp_cannot_be_set_or_changed_through_the_api(store):
    created = apply(store, "alpha", cell(11)).json()
    path = f"/collections/concessions/items/{created['id']}"
    with client(store, "alpha") as c:
        tag = c.get(path).headers["etag"]
        response = c.patch(path, json={"properties": {"applied_at": "2001-01-01T00:00:00Z",
                                                      "notes": "earlier, please"}},
                           headers={**GEOJSON, "If-Match": tag})  # fmt: skip
        assert response.status_code == 204, response.text
        props = c.get(path).json()["properties"]
    assert props["notes"] == "earlier, please"
    assert dt.datetime.fromisoformat(props["applied_at"]) == dt.datetime.fromisoformat(
        created["applied_at"]
    )


def test_other_paths_are_checked_for_conflicts_too(store):
    """OGC Part 4 writes an application as any concession row; the database's trigger checks
    it under the same lock and says only how much is taken, never by whom."""
    taken = apply(store, "alpha", cell(12)).json()
    with client(store, "gamma") as c:
        response = c.post("/collections/concessions/items", headers=GEOJSON, json=application(
            cell(12), licence_no="G-1", status="application", source="gamma",
            visibility="confidential"))  # fmt: skip
    assert response.status_code == 409, response.text
    assert taken["licence_no"] not in response.text and "overlaps 1" in response.text
    with client(store, "gamma") as c:  # a free block through Part 4 is numbered and stamped
        response = c.post("/collections/concessions/items", headers=GEOJSON, json=application(
            cell(13), licence_no="G-2", status="application", source="gamma",
            applied_at="2001-01-01T00:00:00Z"))  # fmt: skip
    assert response.status_code == 201, response.text
    fid = int(response.headers["location"].rsplit("/", 1)[1])
    number, stamp = sql(store, "SELECT licence_no, applied_at FROM concessions WHERE id = %s",
                        [fid])[0]  # fmt: skip
    assert number.startswith("APP-") and stamp.year >= 2026


def test_each_step_is_in_the_history_with_who_and_when(store):
    fid = apply(store, "alpha", cell(14)).json()["id"]
    assert decide(store, "judge", fid, status="granted", expires_on="2040-01-01").status_code == 200
    moment = sql(store, "SELECT clock_timestamp()")[0][0].isoformat()
    assert decide(store, "judge", fid, status="renewed", expires_on="2050-01-01").status_code == 200
    with client(store, "alpha") as c:  # read as it was between the steps (migration 0007's view)
        then = c.get(f"/collections/concessions/items/{fid}", params={"as-of": moment}).json()
    assert then["properties"]["status"] == "granted" and then["properties"]["applied_at"]
    with client(store, "alpha") as c:
        response = c.get(f"/collections/concessions/items/{fid}/history")
    assert response.status_code == 200, response.text
    versions = response.json()["versions"]
    assert [v["operation"] for v in versions] == ["insert", "update", "update"]
    assert [v["after"]["properties"]["status"] for v in versions] == [
        "application", "granted", "renewed"]  # fmt: skip
    assert [v["organisation"] for v in versions] == [
        "Alpha Mining (test)", "Mines Authority (test)", "Mines Authority (test)"]  # fmt: skip
    users = store["users"]
    assert [v["user"] for v in versions] == [users["alpha"], users["judge"], users["judge"]]
    moments = [dt.datetime.fromisoformat(v["at"]) for v in versions]
    assert moments == sorted(moments)
    assert versions[2]["before"]["properties"]["expires_on"] == "2040-01-01"
    assert versions[2]["after"]["properties"]["expires_on"] == "2050-01-01"


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_overlapping_applications_exactly_one_is_accepted(store, round_):
    """Eight applicants of three enterprises send overlapping blocks at the same moment."""
    x0, y0 = cell(20 + round_)["coordinates"][0][0]
    applicants = ["alpha", "beta", "gamma", "alpha", "beta", "gamma", "alpha", "beta"]
    start = threading.Barrier(len(applicants))

    def send(i: int) -> int:
        block = box(x0 + 0.004 * i, y0, x0 + 0.004 * i + 0.04, y0 + 0.04)
        with client(store, applicants[i]) as c:
            start.wait()
            return c.post("/applications", json=application(block), headers=GEOJSON).status_code

    with ThreadPoolExecutor(len(applicants)) as pool:
        statuses = sorted(pool.map(send, range(len(applicants))))
    assert statuses == [201] + [409] * (len(applicants) - 1)
    assert records_in(store, box(x0, y0, x0 + 0.1, y0 + 0.05)) == 1


def test_the_database_makes_an_overlapping_application_wait_for_the_first(store):
    """Deterministically, below HTTP: while one transaction holds a new application, an
    overlapping one (by any path) waits for it, then is refused; the first keeps the area."""
    org = sql(store, "SELECT id FROM organisations WHERE name = 'Beta Minerals (test)'")[0][0]
    claims = access.Claims(store["users"]["beta"], org, "enterprise", "editor")
    insert = (
        "INSERT INTO concessions (licence_no, licence_type, commodities, status, source, geom, "
        "owner_org, visibility) VALUES ('x', 'exploration', '{gold}', 'application', 'test', "
        "ST_Multi(ST_GeomFromGeoJSON(%s)), %s, 'confidential')"
    )
    x0, y0 = cell(30)["coordinates"][0][0]
    outcome: list[object] = []
    with psycopg.connect(store["url"]) as first, psycopg.connect(store["url"]) as second:
        access.act_as_sync(first, claims)
        first.execute(insert, [json.dumps(cell(30)), org])

        def overlapping() -> None:
            access.act_as_sync(second, claims)
            try:
                second.execute(insert, [json.dumps(box(x0 + 0.01, y0, x0 + 0.07, y0 + 0.05)), org])
                outcome.append("accepted")
            except psycopg.errors.ExclusionViolation as error:
                outcome.append(error)
            second.rollback()

        waiting = threading.Thread(target=overlapping)
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive() and outcome == []  # it waits on the applications lock
        first.commit()
        waiting.join(timeout=30)
    [error] = outcome
    assert isinstance(error, psycopg.errors.ExclusionViolation), error
    assert "overlaps 1 active licence(s) or earlier application(s)" in str(error)
    assert records_in(store, box(x0, y0, x0 + 0.1, y0 + 0.05)) == 1


def test_a_grant_checks_the_block_again(store):
    """A licence recorded by the store's owner (a register import) after an application was
    accepted, over the same ground: granting the application would make two titles overlap."""
    fid = apply(store, "alpha", cell(31)).json()["id"]
    with psycopg.connect(store["url"]) as conn:
        conn.execute(
            "INSERT INTO concessions (licence_no, licence_type, commodities, status, source, geom)"
            " VALUES ('REG-31', 'mining_lease', '{coal}', 'granted', 'register', "
            "ST_Multi(ST_GeomFromGeoJSON(%s)))",
            [json.dumps(cell(31))],
        )
    response = decide(store, "judge", fid, status="granted")
    assert response.status_code == 409 and "overlaps 1" in response.json()["description"]
    assert sql(store, "SELECT status FROM concessions WHERE id = %s", [fid]) == [("application",)]
    assert decide(store, "judge", fid, status="refused").status_code == 200


def test_a_browser_session_cookie_neither_applies_nor_decides(store):
    """The sign-in cookie reads; a page another site makes the browser POST must not apply for a
    block or grant a licence in the person's name."""
    fid = apply(store, "alpha", cell(32)).json()["id"]
    attempts = (("alpha", "/applications", application(cell(33))),
                ("judge", f"/licences/{fid}/status", {"status": "granted"}))  # fmt: skip
    for who, path, body in attempts:
        with httpx.Client(base_url=store["server"].url, timeout=60) as browser:
            signed_in = browser.post("/auth/session", data={
                "username": f"{who}@example.org", "password": PASSWORD, "next": "/"})  # fmt: skip
            assert signed_in.status_code == 303 and browser.cookies
            response = browser.post(path, json=body, headers=GEOJSON)
        assert response.status_code == 401, response.text
    assert records_in(store, cell(33)) == 0
    assert sql(store, "SELECT status FROM concessions WHERE id = %s", [fid]) == [("application",)]
