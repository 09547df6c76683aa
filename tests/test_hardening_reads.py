"""What a caller may learn, and what their clients need: QGIS's unconditional edits, stale and
``*`` preconditions, tile ETags and caching that
hide nothing and leak nothing, numbers that count nothing, sharing with real organisations
only, a public row's history, repeated property names, and CORS for web maps.

Over the real app (TestClient) and PostgreSQL, with organisations and keys made here.
"""

from __future__ import annotations

import re

import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from api.tiles import TILE_VARY
from geo import access
from geo.load import load_samples
from tests.applicants import application, cell
from tests.conftest import fresh_database

GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
WMQ = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(scope="module")
def store(cluster):
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        orgs, keys = {}, {}
        for name, kind in (("alpha", "enterprise"), ("beta", "enterprise")):
            orgs[name] = access.ensure_organisation(conn, f"{name.title()} (test)", kind)
            access.add_user(conn, f"{name}@example.org", orgs[name], "editor")
            keys[name] = access.add_key(conn, f"{name}@example.org")
    app = create_app(Settings(url, pool_max=4, checks_per_hour=10_000, check_burst=1_000))
    with TestClient(app) as client:
        yield {"url": url, "client": client, "keys": keys, "orgs": orgs}


def key(store, who: str) -> dict[str, str]:
    return {"X-API-Key": store["keys"][who]}


def sql(store, statement: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(store["url"], autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


def deposit(name: str, lon: float = 66.5, lat: float = 27.5, **properties) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "commodities": ["copper"], "status": "occurrence",
                       "coord_quality": "approximate", "source": "test", **properties},
    }  # fmt: skip


def created(c: TestClient, me: dict, feature: dict) -> str:
    answer = c.post("/collections/deposits/items", json=feature, headers={**me, **GEOJSON})
    assert answer.status_code == 201, answer.text
    return answer.headers["location"].split("testserver")[-1]


def unconditional(store, fid: int) -> list[tuple[str, bool]]:
    return [tuple(r) for r in sql(store, "SELECT op, unconditional FROM history WHERE layer = "
                                  "'deposits' AND fid = %s ORDER BY version", [fid])]  # fmt: skip


def test_qgis_edits_without_if_match_and_the_history_says_so(store):
    """The requests QGIS's OAPIF provider (3.32+) sends to edit: OPTIONS on the items and on a
    feature (it offers editing when Allow lists the methods), POST a new feature, PUT a moved
    one, PATCH (merge patch) its attributes, DELETE it; never If-Match."""
    c, me = store["client"], key(store, "alpha")
    assert "POST" in c.options("/collections/deposits/items", headers=me).headers["allow"]
    created = c.post("/collections/deposits/items", json=deposit("QGIS find"),
                     headers={**me, **GEOJSON})  # fmt: skip
    assert created.status_code == 201, created.text
    path = created.headers["location"].split("testserver")[-1]
    fid = int(path.rsplit("/", 1)[1])
    allow = c.options(path, headers=me).headers["allow"]
    assert {"PUT", "PATCH", "DELETE"} <= {m.strip() for m in allow.split(",")}
    moved = c.put(path, json=deposit("QGIS find", lon=66.6), headers={**me, **GEOJSON})
    assert moved.status_code == 204, moved.text
    patched = c.patch(path, json={"properties": {"notes": "edited in QGIS"}},
                      headers={**me, **MERGE})  # fmt: skip
    assert patched.status_code == 204, patched.text
    feature = c.get(path, headers=me).json()
    assert feature["geometry"]["coordinates"][0] == pytest.approx(66.6)
    assert feature["properties"]["notes"] == "edited in QGIS"
    assert c.delete(path, headers=me).status_code == 204
    assert unconditional(store, fid) == [("insert", False), ("update", True), ("update", True),
                                         ("delete", True)]  # fmt: skip
    history = c.get(f"{path}/history", headers=me).json()["versions"]
    assert [v.get("unconditional") for v in history] == [False, True, True, True], history


def test_a_stale_if_match_is_always_412_and_a_current_one_is_not_marked(store):
    c, me = store["client"], key(store, "alpha")
    path = created(c, me, deposit("Locked find"))
    fid = int(path.rsplit("/", 1)[1])
    read = c.get(path, headers=me).headers["etag"]
    first = c.patch(path, json={"properties": {"notes": "one"}},
                    headers={**me, **MERGE, "If-Match": read})  # fmt: skip
    assert first.status_code == 204
    for tags in (read, f'{read}, "another"', f"W/{read}"):  # stale, in a list, weak
        stale = c.patch(path, json={"properties": {"notes": "two"}},
                        headers={**me, **MERGE, "If-Match": tags})  # fmt: skip
        assert stale.status_code == 412, (tags, stale.text)
        assert c.delete(path, headers={**me, "If-Match": tags}).status_code == 412
    assert c.get(path, headers=me).json()["properties"]["notes"] == "one"
    assert unconditional(store, fid) == [("insert", False), ("update", False)]


def test_if_match_star_needs_an_existing_feature_and_is_marked_unconditional(store):
    c, me = store["client"], key(store, "alpha")
    path = created(c, me, deposit("Star find"))
    fid = int(path.rsplit("/", 1)[1])
    star = c.patch(path, json={"properties": {"notes": "star"}},
                   headers={**me, **MERGE, "If-Match": "*"})  # fmt: skip
    assert star.status_code == 204
    assert unconditional(store, fid)[-1] == ("update", True)
    missing = sql(store, "SELECT coalesce(max(id), 0) + 1000 FROM deposits")[0][0]
    absent = c.patch(f"/collections/deposits/items/{missing}", json={"properties": {}},
                     headers={**me, **MERGE, "If-Match": "*"})  # fmt: skip
    assert absent.status_code == 412 and absent.json()["code"] == "PreconditionFailed"


def test_shared_with_names_existing_organisations_only(store):
    c, me = store["client"], key(store, "alpha")
    beta = store["orgs"]["beta"]
    nobody = sql(store, "SELECT coalesce(max(id), 0) + 1 FROM organisations")[0][0]
    before = sql(store, "SELECT count(*) FROM deposits")[0][0]
    for shared in ([nobody], [-1], [beta, nobody]):
        feature = deposit("Shared find", visibility="shared", shared_with=shared)
        answer = c.post("/collections/deposits/items", headers={**me, **GEOJSON}, json=feature)
        assert answer.status_code == 400, answer.text
        assert "shared_with" in answer.json()["description"]
        missing = nobody if nobody in shared else -1
        assert f"no organisation {missing}" in answer.json()["description"]
        block = application(cell(30), visibility="shared", shared_with=shared)
        answer = c.post("/applications", headers={**me, **GEOJSON}, json=block)
        assert answer.status_code == 400 and "shared_with" in answer.json()["description"]
    assert sql(store, "SELECT count(*) FROM deposits")[0][0] == before
    good = c.post("/collections/deposits/items", headers={**me, **GEOJSON},
                  json=deposit("Shared find", visibility="shared", shared_with=[beta]))  # fmt: skip
    assert good.status_code == 201, good.text
    with pytest.raises(psycopg.errors.ForeignKeyViolation):  # by any path
        sql(store, "UPDATE deposits SET shared_with = %s WHERE name = 'Shared find'", [[nobody]])


def test_a_row_made_public_shows_its_history_with_the_confidential_versions_withheld(store):
    c, alpha = store["client"], key(store, "alpha")
    path = c.post("/collections/deposits/items", headers={**alpha, **GEOJSON},
                  json=deposit("Secret find", visibility="confidential",
                               notes="assay: 3.1 g/t")).headers["location"]  # fmt: skip
    path = path.split("testserver")[-1]
    assert c.get(f"{path}/history").status_code == 404  # hidden: no history either
    c.patch(path, json={"properties": {"notes": None, "visibility": "public"}},
            headers={**alpha, **MERGE})  # fmt: skip
    assert c.get(path).status_code == 200
    answer = c.get(f"{path}/history")
    assert answer.status_code == 200, answer.text
    versions = answer.json()["versions"]
    assert [v["operation"] for v in versions] == ["insert", "update"]
    # Both versions were confidential when current: listed, with nothing of their content.
    assert all(v.get("withheld") is True for v in versions)
    assert "3.1 g/t" not in answer.text and "Alpha" not in answer.text
    owner = c.get(f"{path}/history", headers=alpha).json()["versions"]
    assert owner[1]["before"]["properties"]["notes"] == "assay: 3.1 g/t"
    c.patch(path, json={"properties": {"notes": "public note"}}, headers={**alpha, **MERGE})
    versions = c.get(f"{path}/history").json()["versions"]
    assert versions[2]["before"]["properties"]["visibility"] == "public"
    assert versions[2]["after"]["properties"]["notes"] == "public note"


def test_application_numbers_and_ids_count_nothing(store):
    c, me = store["client"], key(store, "alpha")
    made = [c.post("/applications", json=application(cell(40 + n)),
                   headers={**me, **GEOJSON}).json() for n in range(3)]  # fmt: skip
    ids = [m["id"] for m in made]
    assert all(10**11 <= i < 10**12 for i in ids), ids
    for record in made:
        assert re.fullmatch(r"APP-\d{4}-\d{12}", record["licence_no"]), record["licence_no"]
    gaps = {b - a for a, b in zip(sorted(ids), sorted(ids)[1:], strict=False)}
    assert gaps != {1}  # not consecutive: a number tells nothing of the others in between


def tile_path(store) -> str:
    lon, lat = sql(store, "SELECT ST_X(geom), ST_Y(geom) FROM deposits WHERE visibility = "
                   "'public' ORDER BY id LIMIT 1")[0]  # fmt: skip
    t = WMQ.tile(lon, lat, 8)
    return f"/collections/deposits/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}"


def test_an_anonymous_tile_etag_does_not_move_when_a_hidden_row_is_written(store):
    c, alpha = store["client"], key(store, "alpha")
    path = tile_path(store)
    lon, lat = sql(store, "SELECT ST_X(geom), ST_Y(geom) FROM deposits WHERE visibility = "
                   "'public' ORDER BY id LIMIT 1")[0]  # fmt: skip
    before = c.get(path)
    assert before.status_code == 200
    hidden = c.post("/collections/deposits/items", headers={**alpha, **GEOJSON},
                    json=deposit("Hidden next door", lon=lon + 0.001, lat=lat,
                                 visibility="confidential"))  # fmt: skip
    assert hidden.status_code == 201
    after = c.get(path)
    assert after.content == before.content and after.headers["etag"] == before.headers["etag"]
    assert c.get(path, headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    own = c.get(path, headers=alpha)  # the owner's tile has it: other bytes, another ETag
    assert own.headers["etag"] != before.headers["etag"]


def test_tiles_vary_on_credentials_and_callers_with_them_are_cached_privately(store):
    c, alpha = store["client"], key(store, "alpha")
    path = tile_path(store)
    anonymous = c.get(path)
    assert anonymous.headers["vary"] == TILE_VARY
    assert anonymous.headers["cache-control"].startswith("public")
    for headers in (alpha, {"Authorization": f"Bearer {store['keys']['alpha']}"},
                    {"Cookie": "emining_session=expired.or.forged"}):  # fmt: skip
        answer = c.get(path, headers=headers)
        assert answer.headers["cache-control"].startswith("private"), headers
        assert answer.headers["vary"] == TILE_VARY
        again = c.get(path, headers={**headers, "If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304 and again.headers["vary"] == TILE_VARY
    for name in ("Authorization", "X-API-Key", "Cookie", "Accept-Encoding"):
        assert name in {v.strip() for v in TILE_VARY.split(",")}


def varies_on(response) -> set[str]:
    return {name.strip().lower() for name in response.headers["vary"].split(",")}


def test_feature_answers_vary_alike_on_200_and_304(store):
    c = store["client"]
    path, gzip = "/collections/deposits/items?limit=100", {"Accept-Encoding": "gzip"}
    page = c.get(path, headers=gzip)
    assert page.headers.get("content-encoding") == "gzip"  # big enough to be compressed
    again = c.get(path, headers={**gzip, "If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    assert varies_on(page) == varies_on(again)
    assert {"authorization", "x-api-key", "cookie", "accept-encoding"} <= varies_on(again)


def test_repeated_or_unknown_property_names_are_400_before_a_page_starts(store):
    c = store["client"]
    for limit in (10, 1001):
        for properties in (",".join(["name"] * 51), "name,name", "name,nonsense"):
            answer = c.get("/collections/deposits/items",
                           params={"limit": limit, "properties": properties})  # fmt: skip
            assert answer.status_code == 400, (limit, properties, answer.text[:200])
            assert answer.json()["code"] == "InvalidParameterValue"


def test_public_reads_allow_any_origin_and_nothing_with_credentials(store):
    c = store["client"]
    site = {"Origin": "https://maps.example.net"}
    for path in ("/collections/deposits/items?limit=1", tile_path(store), "/collections"):
        answer = c.get(path, headers=site)
        assert answer.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in answer.headers
    preflight = {**site, "Access-Control-Request-Method": "GET"}
    granted = c.options("/collections/deposits/items", headers=preflight)
    assert granted.headers["access-control-allow-origin"] == "*"
    assert "GET" in granted.headers["access-control-allow-methods"]
    for asked in ({"Access-Control-Request-Headers": "authorization"},
                  {"Access-Control-Request-Headers": "x-api-key"},
                  {"Access-Control-Request-Method": "POST"},
                  {"Access-Control-Request-Method": "DELETE"}):  # fmt: skip
        refused = c.options("/collections/deposits/items", headers={**preflight, **asked})
        assert "access-control-allow-origin" not in refused.headers, asked
    for path, method in (("/auth/token", "POST"), ("/applications/check", "POST"),
                         ("/auth/me", "GET")):  # fmt: skip
        answer = c.request(method, path, headers=site)
        assert "access-control-allow-origin" not in answer.headers, path
        asked = c.options(path, headers={**site, "Access-Control-Request-Method": method})
        assert "access-control-allow-origin" not in asked.headers, path
