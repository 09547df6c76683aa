"""The logistics network against the samples: real PostGIS + pgRouting, facts from the CSVs.

Expectations come from the facts (published lengths, town names), the stored corridors and sites
(geodesic distances computed by PostGIS in the test), or the speed constants; never from a
response copied into the test.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator

import psycopg
import pytest
import requests

from geo import network
from geo.load import load_samples
from tests.conftest import REPO, LiveServer, fresh_database

NETWORK = REPO / "data" / "samples" / "network"


def rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def links_page(server: LiveServer) -> requests.Response:
    return requests.get(f"{server.url}/collections/links/items?limit=10000", timeout=60)


def links(server: LiveServer) -> list[dict]:
    body = links_page(server).json()
    assert body["numberMatched"] == body["numberReturned"]
    return body["features"]


def current_links(server: LiveServer, seconds: float = 300) -> list[dict]:
    """The links once the background job has caught up with the last write (bounded wait)."""
    deadline = time.monotonic() + seconds
    while (answer := links_page(server)).headers["Links-Stale"] == "true":
        assert time.monotonic() < deadline, "the background job did not rebuild the links"
        time.sleep(0.5)
    return answer.json()["features"]


def route(server: LiveServer, origin: str, destination: str) -> requests.Response:
    return requests.get(
        f"{server.url}/analysis/route", params={"from": origin, "to": destination}, timeout=60
    )


def network_table(name: str) -> list[dict[str, str]]:
    with open(NETWORK / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_constants_are_the_network_facts():
    """Transfer places, speeds and the modes of ports are facts (data/samples/network/)."""
    transfers = {(r["name"], float(r["lon"]) if r["lon"] else None,
                  float(r["lat"]) if r["lat"] else None, r["kind"])
                 for r in network_table("transfers.csv")}  # fmt: skip
    assert {(p.name, p.lon, p.lat, p.why) for p in network.TRANSFERS} == transfers
    speeds = {r["class"]: float(r["kmh"]) for r in network_table("speeds.csv")}
    assert speeds == {**network.SPEEDS, "access": network.ACCESS_KMH, "urban": network.URBAN_KMH}
    modes = {(r["layer"], r["name"]): tuple(r["modes"].split(";"))
             for r in network_table("site_modes.csv")}  # fmt: skip
    assert modes == network.SITE_MODES
    assert all(r["source_url"].startswith("http") for r in network_table("transfers.csv"))


def test_routes_cost_the_published_length_not_the_drawn_one(samples_url):
    """Each corridor's edges add up to its published length (apportioned by drawn length)."""
    corridors = rows(
        samples_url,
        """SELECT c.ref, c.published_length_km, c.length_km, sum(e.km)
        FROM corridors c JOIN network_edges e ON e.corridor_id = c.id
        GROUP BY c.id""",
    )
    with open(NETWORK / "corridors.csv", encoding="utf-8", newline="") as f:
        facts = {r["ref"]: float(r["published_km"]) for r in csv.DictReader(f) if r["published_km"]}
    assert {ref: published for ref, published, _, _ in corridors if published} == facts
    for ref, published, drawn, network_km in corridors:
        # Line ends snapped onto a nearby line move the drawn length by a km or two at most.
        expected = published if published else drawn
        assert network_km == pytest.approx(expected, rel=0.02), ref
    assert any(
        abs(drawn - published) / published > 0.1
        for _, published, drawn, _ in corridors
        if published
    )  # the drawn lines are short: the published length matters


def test_hours_are_km_over_the_speed_of_each_class(samples_url):
    edges = rows(
        samples_url,
        """SELECT e.mode, e.km, e.hours, c.road_class FROM network_edges e
        LEFT JOIN corridors c ON c.id = e.corridor_id""",
    )
    assert {mode for mode, *_ in edges} == {"road", "rail", "transfer"}
    for mode, km, hours, road_class in edges:
        if road_class is not None:
            assert hours == pytest.approx(km / network.SPEEDS[road_class])
        elif mode == "transfer":  # where road and rail meet: handling only
            assert (km, hours) == (0, network.HANDLING_HOURS)
        else:  # a spoke across a town to a transfer place
            assert hours == pytest.approx(km / network.URBAN_KMH)


def test_transfers_join_one_road_hub_and_one_rail_hub_at_a_real_place(samples_url):
    transfers = rows(
        samples_url,
        """SELECT e.id, s.name, t.name,
                  (SELECT array_agg(DISTINCT o.mode ORDER BY o.mode) FROM network_edges o
                   WHERE o.id <> e.id AND (o.source = s.id OR o.target = s.id)),
                  (SELECT array_agg(DISTINCT o.mode ORDER BY o.mode) FROM network_edges o
                   WHERE o.id <> e.id AND (o.source = t.id OR o.target = t.id))
        FROM network_edges e JOIN network_vertices s ON s.id = e.source
        JOIN network_vertices t ON t.id = e.target WHERE e.mode = 'transfer'""",
    )
    places = {p.name for p in network.TRANSFERS}
    assert transfers
    for _, a, b, a_modes, b_modes in transfers:
        assert {a, b} <= {f"{p} (road)" for p in places} | {f"{p} (rail)" for p in places}
        assert sorted([a_modes, b_modes]) == [["rail"], ["road"]]


def test_the_network_is_one_piece(samples_url):
    """Snapping, noding and transfer places join every line: N-35 (Gilgit) reaches the ports."""
    components = rows(
        samples_url,
        "SELECT c.ref, min(e.component), max(e.component) FROM network_edges e "
        "JOIN corridors c ON c.id = e.corridor_id GROUP BY c.ref",
    )
    assert {ref for ref, *_ in components} >= {"N-35", "N-5", "M-1", "ML-1", "N-10"}
    assert len({c for _, lo, hi in components for c in (lo, hi)}) == 1


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
            # km by mode add up; a transfer never comes without a leg on each mode
            assert p["road_km"] + p["rail_km"] == pytest.approx(p["km"])
            assert not p["transfers"] or (p["road_km"] > 0 and p["rail_km"] > 0)
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
    assert reasons == unreachable
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
    """The published SEZ link is no slower than the route to any other SEZ of the store."""
    features = links(live_server)
    sezs = [i for (i,) in rows(samples_url, "SELECT id FROM sezs")]
    for feature in features:
        p = feature["properties"]
        if p["kind"] != "sez" or p["reason"]:
            continue
        for other in sezs:
            answer = route(live_server, f"deposits:{p['from_id']}", f"sezs:{other}")
            if answer.status_code == 200:
                assert answer.json()["properties"]["hours"] >= p["hours"] - 1e-6
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
    assert by_mode["road"] + by_mode["rail"] == pytest.approx(network_leg["km"])
    assert p["road_km"] == pytest.approx(by_mode["road"] + legs[0]["km"] + legs[2]["km"])
    assert (p["rail_km"], p["transfers"]) == (pytest.approx(by_mode["rail"]), by_mode["transfers"])
    assert network_leg["hours"] >= network_leg["km"] / max(network.SPEEDS.values()) - 1e-9
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


@pytest.fixture
def own_server(cluster) -> Iterator[tuple[LiveServer, str]]:
    """Samples in a database of their own: these tests change corridors."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
    with LiveServer(url) as server:
        yield server, url


ISLAND = (
    "INSERT INTO corridors (ref, mode, road_class, coord_quality, source, geom) VALUES "
    "('T-ISLAND', 'road', 'other road', 'approximate', 'test', "
    "ST_Multi(ST_MakeLine(ST_MakePoint(77.0, 35.0), ST_MakePoint(77.3, 35.0))))"
)


def copy_deposit(conn: psycopg.Connection, new_id: int, lon: float, lat: float) -> None:
    conn.execute("CREATE TEMP TABLE copy AS SELECT * FROM deposits ORDER BY id LIMIT 1")
    conn.execute(
        "UPDATE copy SET id = %s, name = 'Island (test)', geom = ST_SetSRID(ST_MakePoint(%s, %s), "
        "4326)", (new_id, lon, lat),
    )  # fmt: skip
    conn.execute("INSERT INTO deposits SELECT * FROM copy")


def test_links_are_rebuilt_when_corridors_change(own_server):
    """By the background job, after writes made outside the API (psql)."""
    server, url = own_server
    before = {f["id"]: f["properties"] for f in links(server)}
    far = max((p for p in before.values() if p["kind"] == "access"), key=lambda p: p["km"])
    # A road from 1 km beside the farthest deposit to where it joins the network today.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO corridors (ref, mode, road_class, coord_quality, source, geom) "
            "SELECT 'T-1', 'road', 'other road', 'approximate', 'test', ST_Multi(ST_MakeLine("
            "ST_Project(d.geom::geography, 1000, 0)::geometry, p.geom)) FROM deposits d "
            "JOIN network_points p ON p.layer = 'deposits' AND p.site_id = d.id WHERE d.id = %s",
            (far["from_id"],),
        )
    joined = {f["id"]: f["properties"] for f in current_links(server)}
    access = joined[far["from_id"] * 10 + 1]
    assert access["to_name"].startswith("T-1") and access["km"] <= 1.0 + 1e-6 < far["km"]
    # Deleting the corridor that most deposits join moves their access elsewhere, farther.
    counts: dict[str, int] = {}
    for p in joined.values():
        if p["kind"] == "access":
            counts[p["to_name"]] = counts.get(p["to_name"], 0) + 1
    busiest = max(counts, key=counts.__getitem__)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM corridors WHERE concat_ws(' ', ref, name) = %s", (busiest,))
    after = {f["id"]: f["properties"] for f in current_links(server)}
    moved = [i for i, p in joined.items() if p["kind"] == "access" and p["to_name"] == busiest]
    assert moved
    # Each joins elsewhere, farther; or, beyond reach of any other road now (the busiest line is
    # the N-5 spine), has no access link and says why.
    for i in moved:
        assert after[i]["to_name"] != busiest
        if after[i]["km"] is None:
            assert after[i]["reason"], after[i]
        else:
            assert after[i]["km"] >= joined[i]["km"]
    assert any(after[i]["km"] is not None for i in moved)


def test_a_disconnected_site_gets_400_saying_so(own_server):
    """A deposit on a road that joins nothing: its links and routes say why."""
    server, url = own_server
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ISLAND)
        copy_deposit(conn, 99_999, 77.1, 35.01)
        (port,) = conn.execute("SELECT id FROM facilities ORDER BY id LIMIT 1").fetchone()
    island = {f["id"]: f["properties"] for f in current_links(server) if f["id"] // 10 == 99_999}
    assert island[999_991]["to_name"].startswith("T-ISLAND")
    assert "no port is reachable" in island[999_993]["reason"]
    answer = route(server, "deposits:99999", f"facilities:{port}")
    assert answer.status_code == 400
    assert "do not connect" in answer.json()["description"]


def test_no_get_rebuilds_the_links_readers_are_told_they_are_stale(cluster):
    """A reader gets the last complete links and ``Links-Stale: true``, however long it waits;
    only a build outside the request (here the CLI's ``network.build``) brings them current."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        built = conn.execute("SELECT built_at FROM network_state").fetchone()
    with LiveServer(url, network_check_seconds=3600) as server:  # the job checks once, at start
        time.sleep(1)
        first = links_page(server)
        assert first.headers["Links-Stale"] == "false"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE deposits SET geom = ST_Translate(geom, 0.05, 0.05)")
        for _ in range(3):
            answer = links_page(server)
            assert answer.headers["Links-Stale"] == "true"
            assert answer.json()["features"] == first.json()["features"]
            assert route(server, "deposits:1", "sezs:1").headers["Links-Stale"] == "true"
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT built_at FROM network_state").fetchone() == built
            assert network.build(conn) is not None
        fresh = links_page(server)
        assert fresh.headers["Links-Stale"] == "false"
        assert fresh.json()["features"] != first.json()["features"]


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


def test_freight_changes_mode_once_where_a_transfer_exists(cluster):
    """With the roads to the coast gone, the mines of Chagai reach a port by rail: one transfer
    (costing the handling time once), a leg on each mode, and no transfer at the port, which the
    railway reaches itself. Which mines and where they change is read from the store."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        before = dict(conn.execute(
            "SELECT from_id, transfers FROM links WHERE kind = 'port' AND reason IS NULL"
        ).fetchall())  # fmt: skip
        assert set(before.values()) == {0}  # by road all the way while the roads stand
        # Keep only the roads that reach the railway at Taftan and Nok Kundi, not the coast,
        # and no port that only a road reaches (it would be joined by a long straight line).
        conn.execute(
            "DELETE FROM facilities WHERE kind = 'port' AND name IN (SELECT key[2] FROM "
            "(SELECT string_to_array(k, '|') AS key FROM unnest(%s::text[]) k) x)",
            (["|".join(key) for key, modes in network.SITE_MODES.items() if "rail" not in modes],),
        )
        conn.execute(
            "DELETE FROM corridors WHERE mode = 'road' AND id NOT IN (SELECT c.id FROM corridors "
            "c JOIN network_points p ON p.layer = 'deposits' JOIN network_edges e ON e.id = "
            "p.edge_id AND e.corridor_id = c.id JOIN deposits d ON d.id = p.site_id "
            "WHERE ST_X(d.geom) < 63) AND ref <> 'N-40'"
        )
        network.build(conn)
        routed = conn.execute(
            "SELECT l.from_name, l.road_km, l.rail_km, l.transfers, l.hours, "
            "(SELECT p2.mode FROM network_points p2 WHERE p2.layer = 'facilities' "
            " AND p2.site_id = l.to_id ORDER BY ST_Distance(p2.geom, ST_EndPoint(l.geom)) "
            " LIMIT 1) FROM links l JOIN network_points p ON p.layer = 'deposits' "
            "AND p.site_id = l.from_id JOIN deposits d ON d.id = l.from_id "
            "WHERE l.kind = 'port' AND l.reason IS NULL AND ST_X(d.geom) < 63"
        ).fetchall()
    assert routed
    for name, road_km, rail_km, transfers, hours, arrives_by in routed:
        assert transfers == 1 and road_km > 0 and rail_km > 0, name
        assert arrives_by == "rail", name  # no second handling at the port
        moving = road_km / max(network.SPEEDS.values()) + rail_km / network.RAIL_KMH
        assert hours >= moving + network.HANDLING_HOURS - 1e-6, name  # handled once, at least


def test_nearest_port_is_the_soonest_reached(live_server, samples_url):
    """Every port link is no slower than the route to any other port (ports by name: facts)."""
    ports = [i for (i,) in rows(samples_url, "SELECT id FROM facilities WHERE kind = 'port'")]
    checked = 0
    for feature in links(live_server):
        p = feature["properties"]
        if p["kind"] != "port" or p["reason"]:
            continue
        for other in ports:
            answer = route(live_server, f"deposits:{p['from_id']}", f"facilities:{other}")
            assert answer.status_code == 200, answer.text
            assert answer.json()["properties"]["hours"] >= p["hours"] - 1e-6
        checked += 1
    assert checked


def test_migration_0013_goes_down_and_up_on_a_loaded_store(cluster):
    """Down: the new columns go, the derived tables are emptied; up again: the next build fills
    them with every column."""
    from tests.test_licence_steps import alembic

    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
    alembic(url, "downgrade", "0012")
    with psycopg.connect(url, autocommit=True) as conn:
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'links'"
        )}  # fmt: skip
        assert "rail_km" not in columns
        assert conn.execute("SELECT count(*) FROM links").fetchone() == (0,)
    alembic(url, "upgrade", "head")
    with psycopg.connect(url, autocommit=True) as conn:
        report = network.build(conn)
        (deposits,) = conn.execute("SELECT count(*) FROM deposits").fetchone()
        assert report is not None and report.links == 3 * deposits
        assert conn.execute("SELECT count(*) FROM links WHERE road_km IS NULL").fetchone() == (
            conn.execute("SELECT count(*) FROM links WHERE reason IS NOT NULL").fetchone()
        )
