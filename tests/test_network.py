"""The logistics network against the samples: real PostGIS + pgRouting, facts from the CSVs.

Expectations come from the facts (published lengths, town names), the stored corridors and sites
(geodesic distances computed by PostGIS in the test), or the speed constants; never from a
response copied into the test.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import psycopg
import pytest
import requests

from geo import network
from geo.load import load_samples
from tests.conftest import REPO, LiveServer, fresh_database

FACTS = REPO / "data" / "samples" / "source" / "facts"


def rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def links(server: LiveServer) -> list[dict]:
    body = requests.get(f"{server.url}/collections/links/items?limit=10000", timeout=60).json()
    assert body["numberMatched"] == body["numberReturned"]
    return body["features"]


def route(server: LiveServer, origin: str, destination: str) -> requests.Response:
    return requests.get(
        f"{server.url}/analysis/route", params={"from": origin, "to": destination}, timeout=60
    )


def test_transfer_places_are_the_towns_the_facts_name_on_road_and_rail():
    with open(FACTS / "corridors.csv", newline="") as f:
        facts = list(csv.DictReader(f))
    modes: dict[str, set[str]] = {}
    for row in facts:
        modes.setdefault(row["place"], set()).add(row["mode"])
    both = {place for place, kinds in modes.items() if kinds == {"road", "rail"}}
    assert {p.name for p in network.TRANSFERS} == both
    stations = {
        (r["place"], float(r["lon"]), float(r["lat"])) for r in facts if r["mode"] == "rail"
    }
    assert {(p.name, p.lon, p.lat) for p in network.TRANSFERS} <= stations


def test_n25_network_length_agrees_with_the_published_length(samples_url):
    """Karachi to Chaman over the graph: within 10% of the published 790 km (facts)."""
    ((published, drawn, km),) = rows(
        samples_url,
        """WITH c AS (SELECT * FROM corridors WHERE ref = 'N-25'),
        ends AS (SELECT (SELECT v.id FROM network_vertices v ORDER BY v.geom <-> ST_StartPoint(
                             ST_GeometryN(c.geom, 1)) LIMIT 1) AS a,
                        (SELECT v.id FROM network_vertices v ORDER BY v.geom <-> ST_EndPoint(
                             ST_GeometryN(c.geom, 1)) LIMIT 1) AS b FROM c)
        SELECT c.published_length_km, c.length_km, d.agg_cost
        FROM c, ends, pgr_dijkstraCost('SELECT id, source, target, km AS cost FROM network_edges',
                                       ends.a, ends.b, directed => false) d""",
    )
    with open(FACTS / "corridors.csv", newline="") as f:
        facts = {float(r["length_km"]) for r in csv.DictReader(f) if r["route"].startswith("N-25")}
    assert facts == {published}
    assert abs(km - published) / published <= 0.10, (km, published)
    assert km == pytest.approx(drawn, rel=1e-6)  # the network follows the line, no shortcut


def test_hours_are_km_over_the_speed_of_each_mode(samples_url):
    edges = rows(samples_url, "SELECT mode, km, hours FROM network_edges")
    speeds = {"road": network.ROAD_KMH, "rail": network.RAIL_KMH}
    assert {mode for mode, _, _ in edges} == {"road", "rail", "transfer"}
    for mode, km, hours in edges:
        if mode in speeds:
            assert hours == pytest.approx(km / speeds[mode])
        else:  # across a town at urban speed, plus transshipment where the edge meets rail
            assert hours - km / network.URBAN_KMH in (
                pytest.approx(0),
                pytest.approx(network.HANDLING_HOURS),
            )


def test_corridors_meeting_at_a_town_are_connected(samples_url):
    """Snapping and noding: every road the facts join by town (Lakpass on N-25, Surab, Hoshab,
    Khuzdar) is in one component with N-25; N-35 touches no other corridor, so it stands alone."""
    components = dict(
        rows(
            samples_url,
            "SELECT c.ref, min(e.component) FROM network_edges e "
            "JOIN corridors c ON c.id = e.corridor_id GROUP BY c.ref",
        )
    )
    main = components["N-25"]
    assert {ref for ref, c in components.items() if c == main} == {
        "N-25", "N-40", "N-85", "M-8", "M-9", "M-2", "ML-1",
    }  # fmt: skip
    assert components["N-35"] != main


def test_every_deposit_has_its_three_links_or_a_reason(live_server, samples_url):
    features = links(live_server)
    deposits = dict(rows(samples_url, "SELECT id, name FROM deposits"))
    by_deposit: dict[int, dict[str, dict]] = {}
    for feature in features:
        p = feature["properties"]
        assert p["from_layer"] == "deposits" and p["from_name"] == deposits[p["from_id"]]
        by_deposit.setdefault(p["from_id"], {})[p["kind"]] = feature
        if p["reason"] is None:
            assert feature["geometry"]["type"] == "LineString"
            assert p["km"] >= 0 and p["hours"] >= 0 and p["to_id"] is not None
        else:
            assert feature["geometry"] is None and p["km"] is None
    assert {d: set(k) for d, k in by_deposit.items()} == {
        d: {"access", "sez", "port"} for d in deposits
    }
    # A reason exactly where the deposit's part of the network has no port (or SEZ) on it.
    unreachable = set(
        rows(
            samples_url,
            """SELECT d.site_id, k.kind FROM network_points d
            JOIN network_edges e ON e.id = d.edge_id
            CROSS JOIN (VALUES ('sez', 'sezs'), ('port', 'facilities')) k(kind, layer)
            WHERE d.layer = 'deposits' AND NOT EXISTS (
                SELECT 1 FROM network_points t JOIN network_edges te ON te.id = t.edge_id
                WHERE t.layer = k.layer AND te.component = e.component
                  AND (t.layer = 'sezs' OR EXISTS (  -- a port, not any other facility
                      SELECT 1 FROM facilities f WHERE f.id = t.site_id AND f.kind = 'port')))""",
        )
    )
    reasons = {(d, k) for d, kinds in by_deposit.items() for k, f in kinds.items()
               if f["properties"]["reason"]}  # fmt: skip
    assert reasons == unreachable and reasons  # the N-35 island has no port
    for deposit, kind in reasons:
        assert (
            f"no {kind if kind == 'port' else 'SEZ'} is reachable"
            in (by_deposit[deposit][kind]["properties"]["reason"])
        )


def test_routes_follow_the_corridors(live_server, samples_url):
    """A route is never shorter than the straight line, and not absurdly longer: at most three
    times it plus 50 km, plus twice the deposit's own access leg (a deposit far from every
    corridor goes out to the network and back, however near its target)."""
    straight = {
        (d, layer, t): km
        for d, layer, t, km in rows(
            samples_url,
            """SELECT d.id, t.layer, t.id, ST_Distance(d.geom::geography, t.geom::geography) / 1e3
            FROM deposits d, (SELECT 'sezs' AS layer, id, ST_PointOnSurface(geom) AS geom
                              FROM sezs UNION ALL
                              SELECT 'facilities', id, geom FROM facilities) t""",
        )
    }
    checked = 0
    features = links(live_server)
    access = {
        f["properties"]["from_id"]: f["properties"]["km"] or 0.0
        for f in features
        if f["properties"]["kind"] == "access"
    }
    for feature in features:
        p = feature["properties"]
        if p["kind"] == "access" or p["reason"]:
            continue
        line = straight[p["from_id"], p["to_layer"], p["to_id"]]
        assert line <= p["km"] <= 3 * line + 50 + 2 * access[p["from_id"]], (p, line)
        checked += 1
    assert checked >= 20


def test_nearest_sez_is_the_nearest_by_network(live_server, samples_url):
    """The published SEZ link is no longer than the route to any other SEZ of the store."""
    features = links(live_server)
    sezs = [i for (i,) in rows(samples_url, "SELECT id FROM sezs")]
    for feature in features:
        p = feature["properties"]
        if p["kind"] != "sez" or p["reason"]:
            continue
        for other in sezs:
            answer = route(live_server, f"deposits:{p['from_id']}", f"sezs:{other}")
            if answer.status_code == 200:
                assert answer.json()["properties"]["km"] >= p["km"] - 1e-6
        break  # one deposit is enough to compare against every SEZ


def test_route_matches_its_link_and_its_legs(live_server, samples_url):
    feature = next(
        f for f in links(live_server)
        if f["properties"]["kind"] == "port" and not f["properties"]["reason"]
    )  # fmt: skip
    p = feature["properties"]
    answer = route(live_server, f"deposits:{p['from_id']}", f"{p['to_layer']}:{p['to_id']}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/geo+json"
    body = answer.json()
    legs = body["properties"]["legs"]
    assert [leg["kind"] for leg in legs] == ["access", "network", "access"]
    assert body["properties"]["km"] == pytest.approx(sum(leg["km"] for leg in legs))
    assert body["properties"]["km"] == pytest.approx(p["km"], rel=1e-6)
    assert body["properties"]["hours"] == pytest.approx(p["hours"], rel=1e-6)
    network_leg = legs[1]
    by_mode = network_leg["km_by_mode"]
    assert sum(by_mode.values()) == pytest.approx(network_leg["km"])
    if by_mode["rail"] == 0 and by_mode["transfer"] == 0:
        assert network_leg["hours"] == pytest.approx(network_leg["km"] / network.ROAD_KMH)
    ((x, y),) = rows(samples_url, "SELECT ST_X(geom), ST_Y(geom) FROM deposits WHERE id = %s",
                     (p["from_id"],))  # fmt: skip
    assert body["geometry"]["coordinates"][0] == pytest.approx([x, y], abs=1e-6)
    assert body["properties"]["from"] == {
        "layer": "deposits", "id": p["from_id"], "name": p["from_name"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("origin", "destination", "reason"),
    [
        ("deposits-1", "sezs:1", "from must be LAYER:ID"),
        ("deposits:1", "", "to is required"),
        ("provinces:1", "sezs:1", "routes join deposits, sezs, facilities"),
        ("deposits:999999", "sezs:1", "there is no deposits feature with id 999999"),
        ("deposits:1", "deposits:1", "the same feature"),
    ],
)
def test_bad_route_requests_are_400_with_the_reason(live_server, origin, destination, reason):
    answer = route(live_server, origin, destination)
    assert answer.status_code == 400
    assert answer.json()["code"] == "InvalidParameterValue"
    assert reason in answer.json()["description"]


def test_a_disconnected_site_gets_400_saying_so(live_server, samples_url):
    ((deposit, port),) = rows(
        samples_url,
        """SELECT d.site_id, (SELECT t.site_id FROM network_points t
                             JOIN network_edges te ON te.id = t.edge_id
                             WHERE t.layer = 'facilities' AND te.component <> e.component
                             ORDER BY t.site_id LIMIT 1)
        FROM network_points d JOIN network_edges e ON e.id = d.edge_id
        WHERE d.layer = 'deposits' AND e.component <> (SELECT component FROM network_edges
                                                       ORDER BY km DESC LIMIT 1)
        ORDER BY d.site_id LIMIT 1""",
    )
    answer = route(live_server, f"deposits:{deposit}", f"facilities:{port}")
    assert answer.status_code == 400
    assert "do not connect" in answer.json()["description"]


@pytest.fixture
def own_server(cluster) -> Iterator[tuple[LiveServer, str]]:
    """Samples in a database of their own: these tests change corridors."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
    with LiveServer(url) as server:
        yield server, url


def test_links_are_rebuilt_when_corridors_change(own_server):
    server, url = own_server
    before = {f["id"]: f["properties"] for f in links(server)}
    island = {i for i, p in before.items() if p["kind"] == "port" and p["reason"]}
    assert island
    # A road from the N-35's southern end to M-2's northern end joins the island to the rest.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO corridors (ref, mode, coord_quality, source, geom) VALUES ('T-1', "
            "'road', 'approximate', 'test', ST_Multi(ST_MakeLine(ARRAY("
            "SELECT ST_StartPoint(ST_GeometryN(geom, 1)) FROM corridors WHERE ref = 'N-35' "
            "UNION ALL SELECT ST_StartPoint(ST_GeometryN(geom, 1)) FROM corridors "
            "WHERE ref = 'M-2'))))"
        )
    joined = {f["id"]: f["properties"] for f in links(server)}
    assert all(joined[i]["reason"] is None and joined[i]["km"] > 0 for i in island)
    # Deleting the corridor every deposit in Chagai joins moves their access elsewhere.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM corridors WHERE ref = 'N-40'")
    after = {f["id"]: f["properties"] for f in links(server)}
    moved = [i for i, p in before.items() if p["kind"] == "access" and "N-40" in p["to_name"]]
    assert moved
    assert all("N-40" not in after[i]["to_name"] and after[i]["km"] > before[i]["km"]
               for i in moved)  # fmt: skip


def test_build_reports_progress_and_skips_when_current(samples_url):
    seen: list[tuple[str, int, int]] = []
    with psycopg.connect(samples_url, autocommit=True) as conn:
        assert network.build(conn) is None  # load_samples built it from these very versions
        report = network.build(conn, force=True, progress=lambda *a: seen.append(a))
        (deposits,) = conn.execute("SELECT count(*) FROM deposits").fetchone()
    assert report is not None and report.links == 3 * deposits
    assert seen and seen[-1][1] == seen[-1][2] == deposits


def test_openapi_and_landing_page_list_the_route(live_server):
    document = requests.get(f"{live_server.url}/api", timeout=30).json()
    assert "/analysis/route" in document["paths"]
    landing = requests.get(f"{live_server.url}/", timeout=30).json()
    assert any(link["href"].endswith("/collections/links/items") for link in landing["links"])


LINK_ROWS = """SELECT id, from_id, from_name, to_layer, to_id, to_name, kind, round(km::numeric, 6),
    round(hours::numeric, 6), reason, ST_AsText(ST_SnapToGrid(geom, 1e-9)) FROM links ORDER BY id"""


def test_changed_deposits_alone_are_relinked_as_a_full_build_would(cluster):
    """Only deposits changed: the graph stands and only the deposits added, moved, renamed or
    deleted are relinked; the links are then exactly those of a full rebuild."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        ids = [r[0] for r in conn.execute("SELECT id FROM deposits ORDER BY id").fetchall()]
        moved, renamed, deleted, template = ids[0], ids[1], ids[2], ids[3]
        conn.execute(
            "UPDATE deposits SET geom = (SELECT geom FROM deposits WHERE id = %s) WHERE id = %s",
            [ids[-1], moved],
        )
        conn.execute("UPDATE deposits SET name = name || ' (renamed)' WHERE id = %s", [renamed])
        conn.execute("DELETE FROM deposits WHERE id = %s", [deleted])
        conn.execute("CREATE TEMP TABLE copy AS SELECT * FROM deposits WHERE id = %s", [template])
        conn.execute(
            "UPDATE copy SET id = 9999, name = 'New (test)', geom = ST_Translate(geom, 0.3, 0.2)"
        )
        conn.execute("INSERT INTO deposits SELECT * FROM copy")
        report = network.build(conn)
        assert report is not None and report.partial
        assert report.relinked == 4
        partial = conn.execute(LINK_ROWS).fetchall()
        full = network.build(conn, force=True)
        assert full is not None and not full.partial
        assert full.relinked == len(ids)  # one deleted, one added
        assert conn.execute(LINK_ROWS).fetchall() == partial
        by_deposit = {row[1] for row in partial}
        assert deleted not in by_deposit and 9999 in by_deposit
        assert {row[2] for row in partial if row[1] == renamed} == {
            conn.execute("SELECT name FROM deposits WHERE id = %s", [renamed]).fetchone()[0]
        }
        conn.execute("UPDATE corridors SET name = name WHERE ref = 'N-25'")
        after_corridors = network.build(conn)
        assert after_corridors is not None and not after_corridors.partial
