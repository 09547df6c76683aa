"""Who sees what: the visibility matrix (caller × endpoint × visibility) over the samples.

Four organisations (an authority, three enterprises) and anonymous callers read the same store,
in which a few sample deposits and a concession are made shared or confidential. The expected
answer of every cell comes from the rule in the issue (``sees`` below), never from a response;
each endpoint must agree with it, in its features, its counts, its tiles and its errors.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

import jwt
import mapbox_vector_tile
import morecantile
import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from geo import access
from geo.load import load_samples
from geo.raster_derive import derive_samples
from tests.conftest import REPO, fresh_database

WEB = morecantile.tms.get("WebMercatorQuad")


@dataclass(frozen=True)
class Caller:
    name: str
    org: int | None = None
    kind: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Record:
    layer: str
    id: int
    name: str
    visibility: str
    owner: int | None
    shared_with: tuple[int, ...]
    lon: float
    lat: float


def sees(caller: Caller, record: Record) -> bool:
    """The issue's rule: public to all; shared to its owner and the named organisations;
    confidential to its owner; authorities see everything."""
    return (
        record.visibility == "public"
        or caller.kind == "authority"
        or (caller.org is not None and caller.org == record.owner)
        or (record.visibility == "shared" and caller.org in record.shared_with)
    )


@pytest.fixture(scope="module")
def world(cluster, tmp_path_factory):
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        org = {
            name: access.ensure_organisation(conn, name, kind, country)
            for name, kind, country in (
                ("Mines Authority (test)", "authority", "PK"),
                ("Alpha Mining (test)", "enterprise", "CN"),
                ("Beta Minerals (test)", "enterprise", "PK"),
                ("Gamma Resources (test)", "enterprise", "PK"),
            )
        }
        keys = {}
        for name in org:
            email = name.split()[0].lower() + "@example.org"
            access.add_user(conn, email, org[name], "viewer", password="correct horse battery")
            keys[name] = access.add_key(conn, email)
        alpha, beta = org["Alpha Mining (test)"], org["Beta Minerals (test)"]
        for layer, column, value, visibility, owner, shared in (
            ("deposits", "name", "Gunga", "shared", alpha, [beta]),
            ("deposits", "name", "Loe Shilman", "confidential", alpha, []),
            ("deposits", "name", "Muslim Bagh", "confidential", beta, []),
            ("concessions", "id", "1", "confidential", alpha, []),
        ):
            conn.execute(
                f"UPDATE {layer} SET visibility = %s, owner_org = %s, shared_with = %s "
                f"WHERE {column}::text = %s",
                [visibility, owner, shared, value],
            )
        rows = conn.execute(
            "SELECT 'deposits', id, name, visibility, owner_org, shared_with, ST_X(geom), "
            "ST_Y(geom) FROM deposits UNION ALL SELECT 'concessions', id, licence_no, visibility, "
            "owner_org, shared_with, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM concessions ORDER BY 1, 2"
        ).fetchall()
        rasters = tmp_path_factory.mktemp("rasters")
        derive_samples(conn, rasters, access_res=20_000.0, density_res=20_000.0)
    records = [Record(r[0], r[1], r[2], r[3], r[4], tuple(r[5]), r[6], r[7]) for r in rows]
    assert {r.visibility for r in records} == {"public", "shared", "confidential"}
    with TestClient(create_app(Settings(url, pool_max=2))) as client:
        token = client.post(
            "/auth/token",
            data={"username": "beta@example.org", "password": "correct horse battery"},
        ).json()["access_token"]
        callers = [
            Caller("anonymous"),
            Caller("authority", org["Mines Authority (test)"], "authority",
                   (("X-API-Key", keys["Mines Authority (test)"]),)),
            Caller("alpha", alpha, "enterprise", (("X-API-Key", keys["Alpha Mining (test)"]),)),
            Caller("beta (token)", beta, "enterprise", (("Authorization", f"Bearer {token}"),)),
            Caller("gamma", org["Gamma Resources (test)"], "enterprise",
                   (("Authorization", f"Bearer {keys['Gamma Resources (test)']}"),)),
        ]  # fmt: skip
        yield {"url": url, "client": client, "records": records, "callers": callers}


CALLERS = ("anonymous", "authority", "alpha", "beta (token)", "gamma")


@pytest.fixture(params=CALLERS)
def caller(request, world) -> Caller:
    return next(c for c in world["callers"] if c.name == request.param)


def get(world, caller: Caller, path: str, **params):
    return world["client"].get(path, params=params, headers=dict(caller.headers))


def expected(world, caller: Caller, layer: str = "deposits") -> set[int]:
    return {r.id for r in world["records"] if r.layer == layer and sees(caller, r)}


def hidden_somewhere(world, layer: str = "deposits") -> list[Record]:
    return [r for r in world["records"] if r.layer == layer and r.visibility != "public"]


def test_items_and_numbermatched(world, caller):
    for layer in ("deposits", "concessions"):
        body = get(world, caller, f"/collections/{layer}/items", limit=1000).json()
        assert {f["id"] for f in body["features"]} == expected(world, caller, layer)
        assert body["numberMatched"] == len(expected(world, caller, layer))


def test_resources_are_seen_with_their_deposit_and_nowhere_else(world, caller):
    """A deposit's resource figures (migration 0014) inherit its visibility: in their own
    collection, in its EarthResourceML view and inside the deposit's record."""
    with psycopg.connect(world["url"]) as conn:  # the store's owner sees every row
        owned = conn.execute("SELECT id, deposit_id FROM deposit_resources").fetchall()
    hidden = {r.id for r in hidden_somewhere(world)}
    assert any(deposit in hidden for _, deposit in owned)  # else this test could not fail
    seen = expected(world, caller)
    wanted = {rid for rid, deposit in owned if deposit in seen}
    for layer in ("resources", "commodityresources"):
        body = get(world, caller, f"/collections/{layer}/items", limit=1000).json()
        assert {f["id"] for f in body["features"]} == wanted, layer
    nested = get(world, caller, "/collections/deposits/items", limit=1000).json()["features"]
    assert sum(len(f["properties"]["resources"]) for f in nested) == len(wanted)


def test_streamed_pages(world, caller):
    response = get(world, caller, "/collections/deposits/items", limit=2000)
    assert {f["id"] for f in response.json()["features"]} == expected(world, caller)
    other = next(c for c in world["callers"] if c.name != caller.name)
    if expected(world, other) != expected(world, caller):  # a different answer, a different tag
        assert (
            get(world, other, "/collections/deposits/items", limit=2000).headers["etag"]
            != response.headers["etag"]
        )


def test_single_items_and_their_errors(world, caller):
    missing = get(world, caller, "/collections/deposits/items/987654").json()
    for record in hidden_somewhere(world) + hidden_somewhere(world, "concessions"):
        response = get(world, caller, f"/collections/{record.layer}/items/{record.id}")
        assert response.status_code == (200 if sees(caller, record) else 404)
        if response.status_code == 404:  # the same words as for an id that never existed
            text = response.json()["description"].replace(str(record.id), "987654")
            assert text == missing["description"].replace("deposits", record.layer)


def test_cql2_filters_and_bbox(world, caller):
    for record in hidden_somewhere(world):
        box = (record.lon - 0.01, record.lat - 0.01, record.lon + 0.01, record.lat + 0.01)
        by_name = get(world, caller, "/collections/deposits/items",
                      filter=f"name = '{record.name}'").json()  # fmt: skip
        envelope = ",".join(map(str, box))
        spatial = get(world, caller, "/collections/deposits/items",
                      filter=f"S_INTERSECTS(geom, BBOX({envelope}))").json()  # fmt: skip
        by_bbox = get(world, caller, "/collections/deposits/items",
                      bbox=",".join(map(str, box))).json()  # fmt: skip
        for body in (by_name, spatial, by_bbox):
            assert (record.id in {f["id"] for f in body["features"]}) == sees(caller, record)
        assert by_name["numberMatched"] == int(sees(caller, record))


def test_vector_tiles(world, caller):
    for record in hidden_somewhere(world):
        tile = WEB.tile(record.lon, record.lat, 14)
        for path, layer in (
            (f"/collections/deposits/tiles/WebMercatorQuad/14/{tile.x}/{tile.y}", "deposits"),
            (f"/tiles/WebMercatorQuad/14/{tile.x}/{tile.y}", "deposits"),
        ):
            response = get(world, caller, path)
            ids = set()
            if response.status_code == 200:
                decoded = mapbox_vector_tile.decode(response.content)
                ids = {f["id"] for f in decoded.get(layer, {}).get("features", [])}
            assert (record.id in ids) == sees(caller, record)


def test_links_and_routes(world, caller):
    sez = get(world, Caller("anonymous"), "/collections/sezs/items", limit=1).json()
    sez_id = sez["features"][0]["id"]
    unknown = get(world, caller, "/analysis/route", **{"from": "deposits:987654",
                                                        "to": f"sezs:{sez_id}"}).json()  # fmt: skip
    for record in hidden_somewhere(world):
        links = get(world, caller, "/collections/links/items",
                    filter=f"from_id = {record.id}").json()  # fmt: skip
        assert (links["numberMatched"] > 0) == sees(caller, record)
        route = get(world, caller, "/analysis/route",
                    **{"from": f"deposits:{record.id}", "to": f"sezs:{sez_id}"})  # fmt: skip
        if sees(caller, record):
            assert route.status_code == 200, route.text
        else:
            assert route.status_code == 400
            assert route.json()["description"] == unknown["description"].replace(
                "987654", str(record.id)
            )


def test_health_counts_and_extent(world, caller):
    counts = get(world, caller, "/healthz").json()["layers"]
    assert counts["deposits"] == len(expected(world, caller))
    assert counts["concessions"] == len(expected(world, caller, "concessions"))
    bbox = get(world, caller, "/collections/deposits").json()["extent"]["spatial"]["bbox"][0]
    seen = [r for r in world["records"] if r.layer == "deposits" and sees(caller, r)]
    assert bbox[0] == pytest.approx(min(r.lon for r in seen))
    assert bbox[3] == pytest.approx(max(r.lat for r in seen))


def test_zonal_statistics_and_sampling_per_site(world, caller):
    zonal = get(world, caller, "/collections/accessibility/zonal", collection="concessions")
    assert zonal.status_code == 200, zonal.text
    ids = {zone["id"] for zone in zonal.json()["zones"]}
    assert ids == expected(world, caller, "concessions")
    sample = get(world, caller, "/collections/accessibility/sample", collection="deposits")
    assert {f["id"] for f in sample.json()["features"]} == expected(world, caller)


def test_credentials_that_do_not_work_are_401_not_anonymous(world):
    client = world["client"]
    for headers in (
        {"X-API-Key": "em_000000000000_wrong"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        response = client.get("/collections/deposits/items", headers=headers)
        assert response.status_code == 401
        assert response.json()["description"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    expired = jwt.encode({"sub": "1", "iss": "emining", "exp": 1}, "x" * 32, algorithm="HS256")
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


def test_token_flow_and_private_caching(world):
    client = world["client"]
    wrong = client.post("/auth/token", data={"username": "beta@example.org", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_grant"
    beta = next(c for c in world["callers"] if c.name == "beta (token)")
    me = get(world, beta, "/auth/me").json()
    assert (me["organisation"], me["role"], me["anonymous"]) == ("Beta Minerals (test)",
                                                                  "viewer", False)  # fmt: skip
    items = get(world, beta, "/collections/deposits/items")
    assert items.headers["cache-control"].startswith("private")
    assert "Authorization" in items.headers["vary"]
    anonymous = client.get("/collections/deposits/items")
    assert anonymous.headers["cache-control"].startswith("public")


def test_claims_end_with_their_transaction(world):
    """A pooled connection never carries a caller's claims into the next request."""
    authority = next(c for c in world["callers"] if c.name == "authority")
    everyone = len([r for r in world["records"] if r.layer == "deposits"])
    for _ in range(4):  # more than the pool's connections
        assert get(world, authority, "/healthz").json()["layers"]["deposits"] == everyone
        public = len(expected(world, Caller("anonymous")))
        assert world["client"].get("/healthz").json()["layers"]["deposits"] == public
    with psycopg.connect(world["url"]) as conn:
        conn.execute("SET ROLE emining_api")
        assert conn.execute("SELECT count(*) FROM deposits").fetchone()[0] == public


def test_the_database_refuses_hidden_rows_to_any_sql_of_the_api_role(world):
    with psycopg.connect(world["url"]) as conn:
        conn.execute("SET ROLE emining_api")
        assert (
            conn.execute("SELECT count(*) FROM deposits WHERE visibility <> 'public'").fetchone()[0]
            == 0
        )
    with psycopg.connect(world["url"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SET ROLE emining_api")
        conn.execute("SELECT email, password_hash FROM users")


def test_the_standalone_map_file_holds_public_records_only(world, tmp_path):
    target = tmp_path / "map.html"
    subprocess.run(
        [sys.executable, "-m", "cli", "map", "-o", str(target)],
        env={**os.environ, "DATABASE_URL": world["url"]},
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    page = target.read_text()
    anonymous = Caller("anonymous")
    for record in hidden_somewhere(world):
        assert (record.name in page) == sees(anonymous, record), record.name


def summaries_seen(world, caller: Caller) -> tuple[list[float], list[float], int]:
    """The extent of deposits in collection metadata and TileJSON, and the map legend's total."""
    bbox = get(world, caller, "/collections/deposits").json()["extent"]["spatial"]["bbox"][0]
    bounds = get(world, caller, "/collections/deposits/tiles/WebMercatorQuad", f="tilejson")
    page = get(world, caller, "/map").text
    total = re.search(r'"id":"deposits".*?"total":(\d+)', page, re.DOTALL)
    return bbox, bounds.json()["bounds"], int(total.group(1))


def test_map_totals_are_each_callers_own(world):
    """/map's totals and /map/totals (the legend's, for layers /map left uncounted) are what the
    caller sees, also when a caller who sees more asked first and filled the cache."""
    callers = sorted(world["callers"], key=lambda c: -len(expected(world, c)))
    with psycopg.connect(world["url"]) as conn:
        for caller in callers:
            deposits = expected(world, caller)
            links = conn.execute(
                "SELECT count(*) FROM links WHERE from_id = ANY(%s)", [list(deposits)]
            ).fetchone()[0]
            found = get(world, caller, "/map/totals", layers="deposits,links").json()
            assert found == {"deposits": len(deposits), "links": links}, caller.name
            page = get(world, caller, "/map").text
            config = re.search(r'id="emining-config">(.*?)</script>', page).group(1)
            totals = {layer["id"]: layer["total"] for layer in orjson.loads(config)["layers"]}
            assert totals["deposits"] == len(deposits), caller.name
            assert orjson.loads(config)["links"]["total"] == links, caller.name  # cached just now
    wrong = get(world, callers[0], "/map/totals", layers="deposits,nothing")
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"code", "description"} and "nothing" in wrong.json()["description"]


def test_extents_and_totals_follow_writes_and_hide_what_they_should(world):
    """Summaries are cached per data version and audience (api.summaries). A confidential
    deposit added by plain SQL (so only the database's change counter knows) moves its owner's
    extent, tile bounds and map total at once and nobody else's; deleting it moves them back."""
    callers = {c.name: c for c in world["callers"]}
    alpha, others = callers["alpha"], [callers["anonymous"], callers["gamma"]]
    before = {c.name: summaries_seen(world, c) for c in [alpha, *others]}
    assert before["alpha"][2] == len(expected(world, alpha))
    assert before["anonymous"][2] == len(expected(world, callers["anonymous"]))
    far = (61.5, 36.8)  # west and north of every sample deposit
    with psycopg.connect(world["url"], autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE far AS SELECT * FROM deposits WHERE name = 'Gunga'")
        conn.execute(
            "UPDATE far SET id = 999999, name = 'Far (test)', shared_with = '{}', "
            "visibility = 'confidential', owner_org = %s, "
            "geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326)",
            [alpha.org, *far],
        )
        conn.execute("INSERT INTO deposits SELECT * FROM far")
        try:
            bbox, bounds, total = summaries_seen(world, alpha)
            assert (bbox[0], bbox[3]) == pytest.approx(far)
            assert (bounds[0], bounds[3]) == pytest.approx(far)
            assert total == before["alpha"][2] + 1
            for caller in others:
                assert summaries_seen(world, caller) == before[caller.name]
        finally:
            conn.execute("DELETE FROM deposits WHERE id = 999999")
    assert summaries_seen(world, alpha) == before["alpha"]
