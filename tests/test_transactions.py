"""OGC API – Features Part 4 and history, over HTTP against the real app and PostGIS.

Every write is checked for what it leaves in the store (rows, history), not only for its
status; bad writes must leave the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import psycopg
import pytest

from geo import access
from geo.load import load_samples
from geo.settings import MAX_FEATURES
from tests.conftest import LiveServer, fresh_database

GEOJSON = {"Content-Type": "application/geo+json"}


def deposit(name: str, lon: float = 66.5, lat: float = 27.5, **properties) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "commodities": ["copper"], "status": "occurrence",
                       "coord_quality": "approximate", "source": "test", **properties},
    }  # fmt: skip


@pytest.fixture(scope="module")
def store(cluster):
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        keys = {}
        for org, kind, people in (
            ("Mines Authority (test)", "authority", (("authority", "editor"),)),
            ("Alpha Mining (test)", "enterprise", (("alpha", "editor"), ("alphaview", "viewer"))),
            ("Beta Minerals (test)", "enterprise", (("beta", "editor"),)),
        ):
            org_id = access.ensure_organisation(conn, org, kind)
            for person, role in people:
                access.add_user(conn, f"{person}@example.org", org_id, role)
                keys[person] = access.add_key(conn, f"{person}@example.org")
    with LiveServer(url) as server:
        yield {"url": url, "server": server, "keys": keys}


def client(store, who: str | None = None) -> httpx.Client:
    headers = {"X-API-Key": store["keys"][who]} if who else {}
    return httpx.Client(base_url=store["server"].url, headers=headers, timeout=60)


def count(store, table: str = "deposits", where: str = "true") -> int:
    with psycopg.connect(store["url"]) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def history_rows(store, fid: int, table: str = "deposits") -> list[tuple]:
    with psycopg.connect(store["url"]) as conn:
        return conn.execute(
            "SELECT version, op, by_user, by_role FROM history WHERE layer = %s AND fid = %s "
            "ORDER BY version",
            [table, fid],
        ).fetchall()


def create(store, who: str, feature: dict) -> httpx.Response:
    with client(store, who) as c:
        return c.post("/collections/deposits/items", json=feature, headers=GEOJSON)


def test_conformance_declares_part_4(store):
    with client(store) as c:
        classes = c.get("/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/create-replace-delete") for c in classes)
    assert any(c.endswith("/conf/optimistic-locking-etags") for c in classes)


def test_create_returns_location_and_the_same_etag_as_a_read(store):
    response = create(store, "alpha", deposit("Test copper showing"))
    assert response.status_code == 201, response.text
    with client(store, "alpha") as c:
        read = c.get(response.headers["location"])
    assert read.status_code == 200
    assert read.headers["etag"] == response.headers["etag"]
    body = read.json()
    assert body["properties"]["name"] == "Test copper showing"
    assert body["properties"]["owner_org"] is not None  # the caller's organisation
    assert body["geometry"]["coordinates"] == [66.5, 27.5]
    assert [r[1] for r in history_rows(store, body["id"])] == ["insert"]
    assert history_rows(store, body["id"])[0][3] == "emining_api"


BAD = [
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": ["x", 1]},
      "properties": deposit("A")["properties"]}, "geometry"),
    ({**deposit("B"), "geometry": {"type": "Polygon", "coordinates": [[[66, 27], [67, 28],
      [67, 27], [66, 28], [66, 27]]]}}, "Polygon where deposits holds Point"),
    (deposit("C", lon=2.35, lat=48.85), "outside Pakistan"),
    (deposit("D", colour="red"), "unknown field"),
    (deposit("E", tonnage_mt="lots"), "'lots' is not a number"),
    (deposit("F", status="booming"), "'booming' is not one of"),
    ({**deposit("G"), "properties": {"name": "G"}}, "required"),
    ({"type": "FeatureCollection", "features": [deposit("H1"), deposit("H2", as_of="soon")]},
     "feature 1: as_of"),
    ([1, 2, 3], "GeoJSON Feature or FeatureCollection"),
    (deposit("I", commodities=[{}]), "commodities: '{}' is not one of"),  # was a 500 (unhashable)
    (deposit("J", commodities={"gold": 1}), "is not one of"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "reason"), BAD, ids=[r for _, r in BAD])
def test_bad_features_are_400_with_the_reason_and_nothing_written(store, body, reason):
    before = count(store)
    with client(store, "alpha") as c:
        response = c.post("/collections/deposits/items", json=body, headers=GEOJSON)
    assert response.status_code == 400, response.text
    assert response.json()["code"] and reason in response.json()["description"]
    assert count(store) == before


def test_bad_bodies_media_types_and_sizes(store):
    with client(store, "alpha") as c:
        assert c.post("/collections/deposits/items", content=b"{not json",
                      headers=GEOJSON).status_code == 400  # fmt: skip
        wrong = c.post("/collections/deposits/items", content=b"x",
                       headers={"Content-Type": "text/csv"})  # fmt: skip
        assert wrong.status_code == 415 and "text/csv" in wrong.json()["description"]
        huge = c.post("/collections/deposits/items", content=b" " * (33 * 2**20), headers=GEOJSON)
        assert huge.status_code == 413
        assert c.post("/collections/links/items", json=deposit("L"),
                      headers=GEOJSON).status_code == 405  # fmt: skip


def refusal(response: httpx.Response, status: int, code: str) -> str:
    """The description of an OGC exception answer, after checking its status, its code and that
    it is nothing but ``{"code", "description"}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "description"} and body["code"] == code, body
    return body["description"]


def test_each_refusal_has_its_status_code_and_headers(store):
    """What QGIS, GDAL and OWSLib read of a refused write: the status, the OGC exception code
    (HTTP's reason phrase as one word, RFC 9110 §15) and the headers the status calls for."""
    path = create(store, "alpha", deposit("Refusal probe")).headers["location"]
    items = "/collections/deposits/items"
    with client(store) as anonymous:
        answer = anonymous.post(items, json=deposit("A"), headers=GEOJSON)
        assert "credentials" in refusal(answer, 401, "Error")
        assert answer.headers["www-authenticate"].startswith("Bearer")
    with client(store, "alphaview") as viewer:
        answer = viewer.post(items, json=deposit("A"), headers=GEOJSON)
        assert "viewer" in refusal(answer, 403, "Forbidden")
    with client(store, "alpha") as c:
        answer = c.post("/collections/links/items", json=deposit("A"), headers=GEOJSON)
        assert "read-only" in refusal(answer, 405, "MethodNotAllowed")
        assert "POST" not in answer.headers["allow"] and "GET" in answer.headers["allow"]
        answer = c.post(items, content=b"x", headers={"Content-Type": "text/csv"})
        assert "text/csv" in refusal(answer, 415, "UnsupportedMediaType")
        answer = c.post(items, content=b"{", headers=GEOJSON)
        assert "not JSON" in refusal(answer, 400, "InvalidParameterValue")
        answer = c.post(items, json=deposit("A", status="booming"), headers=GEOJSON)
        assert "booming" in refusal(answer, 400, "InvalidParameterValue")
        answer = c.post(items, content=b" " * (33 * 2**20), headers=GEOJSON)
        assert "emining load" in refusal(answer, 413, "PayloadTooLarge")
        many = {"type": "FeatureCollection", "features": [deposit("A")] * (MAX_FEATURES + 1)}
        answer = c.post(items, json=many, headers=GEOJSON)
        assert "features per request" in refusal(answer, 413, "PayloadTooLarge")
        stale = c.patch(path, json={"properties": {}}, headers={**GEOJSON, "If-Match": '"old"'})
        assert "changed since" in refusal(stale, 412, "PreconditionFailed")
        gone = c.delete(f"{items}/999999999", headers={"If-Match": "*"})
        assert "If-Match: *" in refusal(gone, 412, "PreconditionFailed")
        assert "no feature" in refusal(c.delete(f"{items}/999999999"), 404, "NotFound")
        assert "no feature" in refusal(c.delete(f"{items}/x1"), 404, "NotFound")
    with client(store, "beta") as other:
        tag = other.get(path).headers["etag"]
        answer = other.delete(path, headers={"If-Match": tag})
        assert "another organisation" in refusal(answer, 403, "Forbidden")


def test_who_may_write(store):
    feature = deposit("Permission probe")
    assert create(store, None, feature).status_code == 401
    assert create(store, "alphaview", feature).status_code == 403
    with psycopg.connect(store["url"]) as conn:
        alpha_org = conn.execute(
            "SELECT id FROM organisations WHERE name = 'Alpha Mining (test)'"
        ).fetchone()[0]
    stolen = create(store, "beta", deposit("Claimed for Alpha", owner_org=alpha_org))
    assert stolen.status_code == 403 and "owner_org" in stolen.json()["description"]
    assert count(store, where="name IN ('Permission probe', 'Claimed for Alpha')") == 0


def etag_of(c: httpx.Client, path: str) -> str:
    response = c.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def test_replace_and_update_need_the_current_etag(store):
    path = create(store, "alpha", deposit("Etag test", tonnage_mt=5.0)).headers["location"]
    with client(store, "alpha") as c:
        tag = etag_of(c, path)
        change = {"properties": {"tonnage_mt": 6.0}}
        ok = c.patch(path, json=change, headers={**GEOJSON, "If-Match": tag})
        assert ok.status_code == 204, ok.text
        stale = c.patch(path, json=change, headers={**GEOJSON, "If-Match": tag})
        assert stale.status_code == 412
        after = c.get(path)
        assert after.headers["etag"] == ok.headers["etag"] != tag
        props = after.json()["properties"]
        assert props["tonnage_mt"] == 6.0 and props["status"] == "occurrence"
        # PUT replaces: what it leaves out is emptied (tonnage), who sees it is kept
        replaced = c.put(path, json=deposit("Etag test", status="prospect"),
                         headers={**GEOJSON, "If-Match": after.headers["etag"]})  # fmt: skip
        assert replaced.status_code == 204, replaced.text
        props = c.get(path).json()["properties"]
        assert props["tonnage_mt"] is None and props["status"] == "prospect"
        assert props["owner_org"] == after.json()["properties"]["owner_org"]
        # a patch with a bad value changes nothing
        bad = c.patch(path, json={"properties": {"status": "booming"}},
                      headers={**GEOJSON, "If-Match": replaced.headers["etag"]})  # fmt: skip
        assert bad.status_code == 400 and c.get(path).json()["properties"]["status"] == "prospect"


def test_delete_and_history(store):
    path = create(store, "alpha", deposit("Short lived")).headers["location"]
    fid = int(path.rsplit("/", 1)[1])
    with client(store, "alpha") as c:
        tag = etag_of(c, path)
        c.patch(path, json={"properties": {"notes": "looked at"}},
                headers={**GEOJSON, "If-Match": tag})  # fmt: skip
        tag = etag_of(c, path)
        assert c.delete(path, headers={"If-Match": '"stale"'}).status_code == 412
        assert c.delete(path, headers={"If-Match": tag}).status_code == 204
        assert c.get(path).status_code == 404
        versions = c.get(f"{path}/history").json()["versions"]
    assert [v["operation"] for v in versions] == ["insert", "update", "delete"]
    assert versions[1]["before"]["properties"]["notes"] is None
    assert versions[1]["after"]["properties"]["notes"] == "looked at"
    assert versions[2]["before"]["properties"]["notes"] == "looked at"
    assert versions[0]["organisation"] == "Alpha Mining (test)"
    assert "shared_with" not in versions[1]["before"]["properties"]
    assert [r[0] for r in history_rows(store, fid)] == [1, 2, 3]


def test_platform_records_are_edited_by_authorities_only(store):
    with psycopg.connect(store["url"]) as conn:
        fid = conn.execute("SELECT id FROM deposits WHERE name = 'Khewra'").fetchone()[0]
    path = f"/collections/deposits/items/{fid}"
    for who, status in (("alpha", 403), ("authority", 204)):
        with client(store, who) as c:
            tag = etag_of(c, path)
            response = c.patch(path, json={"properties": {"notes": f"checked by {who}"}},
                               headers={**GEOJSON, "If-Match": tag})  # fmt: skip
            assert response.status_code == status, response.text


def test_hidden_records_cannot_be_edited_or_their_history_read(store):
    created = create(store, "alpha", deposit("Confidential find", visibility="confidential"))
    path = created.headers["location"]
    for who in ("beta", None):
        with client(store, who) as c:
            assert c.get(path).status_code == 404
            assert c.get(f"{path}/history").status_code == 404
            response = c.patch(path, json={"properties": {"notes": "x"}}, headers=GEOJSON)
            assert response.status_code == (404 if who else 401)
    with client(store, "authority") as c:
        assert c.get(f"{path}/history").status_code == 200


def test_options_say_which_methods_the_caller_may_use(store):
    with client(store) as c:
        assert "POST" not in c.options("/collections/deposits/items").headers["allow"]
    with client(store, "alpha") as c:
        assert "POST" in c.options("/collections/deposits/items").headers["allow"]
        allow = c.options("/collections/deposits/items/1").headers["allow"]
        assert {"PUT", "PATCH", "DELETE"} <= {m.strip() for m in allow.split(",")}
        assert "POST" not in c.options("/collections/links/items").headers["allow"]


def test_as_of_returns_the_layer_as_it_was(store):
    path = create(store, "alpha", deposit("Time traveller", tonnage_mt=1.0)).headers["location"]
    time.sleep(0.05)
    moment = dt.datetime.now(dt.UTC).isoformat()
    time.sleep(0.05)
    with client(store, "alpha") as c:
        c.patch(path, json={"properties": {"tonnage_mt": 2.0}},
                headers={**GEOJSON, "If-Match": etag_of(c, path)})  # fmt: skip
        later = create(store, "alpha", deposit("Born later")).headers["location"]
        then = c.get("/collections/deposits/items", params={"as-of": moment, "limit": 1000})
        assert then.status_code == 200, then.text
        names = {f["properties"]["name"]: f for f in then.json()["features"]}
        assert names["Time traveller"]["properties"]["tonnage_mt"] == 1.0
        assert "Born later" not in names
        assert c.get(path, params={"as-of": moment}).json()["properties"]["tonnage_mt"] == 1.0
        assert c.get(later, params={"as-of": moment}).status_code == 404
        assert c.get(path).json()["properties"]["tonnage_mt"] == 2.0
        bad = c.get("/collections/deposits/items", params={"as-of": "last tuesday"})
        assert bad.status_code == 400 and "as-of" in bad.json()["description"]


def test_changes_made_outside_the_api_are_kept_too(store):
    with psycopg.connect(store["url"]) as conn:
        fid = conn.execute(
            "UPDATE deposits SET notes = 'edited in psql' WHERE name = 'Lakhra' RETURNING id"
        ).fetchone()[0]
    last = history_rows(store, fid)[-1]
    assert last[1] == "update" and last[2] is None and last[3] != "emining_api"


def admitted(send) -> httpx.Response:
    """The answer once the caller is let in (429: too many of its requests at once)."""
    while (response := send()).status_code == 429:
        time.sleep(0.05)
    return response


def test_fifty_concurrent_editors_lose_no_update(store):
    """Each editor reads, adds 1 to the tonnage and writes with If-Match, retrying on 412.

    All fifty use one key, which may have api.limits.PER_CALLER requests in flight: the others
    are told 429 and come back (sooner than Retry-After says, to keep the test short)."""
    path = create(store, "alpha", deposit("Contended", tonnage_mt=0.0)).headers["location"]
    fid = int(path.rsplit("/", 1)[1])
    editors = 50

    def edit_once(_: int) -> int:
        conflicts = 0
        with client(store, "alpha") as c:
            while True:
                read = admitted(lambda: c.get(path))
                tonnage = read.json()["properties"]["tonnage_mt"]
                change = {"properties": {"tonnage_mt": tonnage + 1}}
                headers = {**GEOJSON, "If-Match": read.headers["etag"]}
                response = admitted(partial(c.patch, path, json=change, headers=headers))
                if response.status_code == 204:
                    return conflicts
                assert response.status_code == 412, response.text
                conflicts += 1

    with ThreadPoolExecutor(editors) as pool:
        conflicts = sum(pool.map(edit_once, range(editors)))
    with client(store, "alpha") as c:
        assert c.get(path).json()["properties"]["tonnage_mt"] == editors
    updates = [r for r in history_rows(store, fid) if r[1] == "update"]
    assert len(updates) == editors
    assert conflicts > 0  # they did collide, and the collisions were refused, not lost


def test_injection_through_json_bodies_is_data_or_refused(store):
    """SQL in a property's value is stored as text; in a property's name it is an unknown field."""
    before = count(store)
    payload = "x'); DROP TABLE deposits; --"
    with client(store, "alpha") as c:
        refused = c.post(
            "/collections/deposits/items",
            json=deposit("Injected", **{'name" text); DROP TABLE deposits; --': 1}),
            headers=GEOJSON,
        )
        assert refused.status_code == 400 and "unknown field" in refused.json()["description"]
        kept = c.post("/collections/deposits/items", json=deposit(payload), headers=GEOJSON)
        assert kept.status_code == 201, kept.text
        assert c.get(kept.headers["location"]).json()["properties"]["name"] == payload
    assert count(store) == before + 1
