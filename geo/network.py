"""The logistics network: corridors as a routable graph, and every deposit's links on it.

Why this shape: the SQL below is the whole algorithm and runs in PostGIS + pgRouting; Python only
orders the statements. The build is a *plan*, a generator of statements, so the CLI (sync, with
progress) and the API (async, lazily when the data changed) run the same steps.

The graph (tables of migration 0003):
- Corridor lines are cut into one edge per straight segment, and noded where lines of the same
  mode touch or cross. A line's end within ``SNAP_M`` of another line of its mode is moved onto
  it (the facts give town centres to 0.01°, so lines that meet at a town can miss by ~1 km: N-40
  starts at Lakpass 1.2 km off N-25). Road and rail never connect where they merely cross.
- Road and rail are joined only at transfer places: the towns the facts name on both a road and
  a rail route (``TRANSFERS``) and the ports in ``facilities``. At each, a hub vertex is joined
  to the nearest vertex of every corridor within ``TRANSFER_RADIUS_M``.
- Sites (deposits, SEZs, facilities) join the network at the nearest point of the nearest
  corridor edge (not vertex): a straight access leg, costed at ``ACCESS_KMH``.
- Costs: km on the spheroid; hours = km / speed of the edge's mode, plus ``HANDLING_HOURS``
  whenever freight is put on or taken off a train (transfer edges to rail, access to rail).
- Visibility (migration 0005): the graph and the link targets come from *public* corridors,
  SEZs and ports only, so a route or a distance never reveals a record a caller may not see.
  Every deposit gets its links; the links table's policy shows them to whoever sees the deposit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

# Speeds are assumptions (no public source gives average freight speeds per corridor), chosen to
# be plausible averages including stops rather than speed limits:
ROAD_KMH = 45.0  # a loaded truck on two-lane national highways with towns, climbs and checkposts
RAIL_KMH = 30.0  # Pakistan Railways freight average including crossings (ML-1 before upgrade)
ACCESS_KMH = 20.0  # from a site to the network: tracks and feeder roads, drawn as a straight line
URBAN_KMH = 25.0  # across a town between a corridor end and a transfer hub
HANDLING_HOURS = 6.0  # loading or unloading a train (road <-> rail transshipment)
SPEEDS = {"road": ROAD_KMH, "rail": RAIL_KMH}

SNAP_M = 2_000.0  # same-mode line ends this close to another line are joined to it
TRANSFER_RADIUS_M = 20_000.0  # a town's extent: the facts put M-9's Karachi 15 km from ML-1's
# Bounding-box prefilters in degrees before the exact geodesic test: a degree of longitude is
# at least 88 km over Pakistan (lat < 37.5°), so this many metres per degree never misses.
METRES_PER_DEGREE = 80_000.0
NODE_EPS = 1e-6  # degrees (~0.1 m): line ends this close are one vertex (float noise only)
PORT_KINDS = ("port",)
BATCH = 500  # deposits routed per statement (the CLI reports progress per batch)
LOCK = 724_312  # pg_advisory_lock key: one network build at a time
SOURCES = ("corridors", "facilities", "deposits", "sezs")  # layers the network is built from


@dataclass(frozen=True)
class Place:
    name: str
    lon: float
    lat: float
    why: str


# Towns that facts/corridors.csv names on both a road and a rail route, at the rail station's
# coordinate (tests/test_network.py checks this list against the facts).
TRANSFERS = (
    Place("Karachi", 67.00, 24.85, "ML-1, N-25 and M-9 all start at Karachi"),
    Place("Lahore", 74.34, 31.58, "ML-1 passes Lahore, where M-2 ends"),
)


class NetworkError(RuntimeError):
    """The network cannot be built or a route cannot be found; the message says why."""


@dataclass(frozen=True)
class Statement:
    text: str | sql.Composable
    params: tuple | dict = ()


@dataclass(frozen=True)
class BuildReport:
    vertices: int
    edges: int
    links: int
    seconds: float


Progress = Callable[[str, int, int], None]
Plan = Generator[Statement, list[tuple] | None, Any]

EDGES_SQL = "SELECT id, source, target, km AS cost FROM network_edges"
VERSIONS = """SELECT (SELECT jsonb_object_agg(layer, version) FROM layer_changes
                      WHERE layer = ANY(%(layers)s)),
                     (SELECT built_from FROM network_state WHERE artefact = 'links'),
                     EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgrouting')"""


def _snap(end: str) -> str:
    """The point of the nearest other same-mode line within SNAP_M of a part's start or end."""
    return f"""LEFT JOIN LATERAL (
        SELECT ST_ClosestPoint(o.geom, {end}(p.geom)) AS g FROM parts o
        WHERE o.mode = p.mode AND o.key <> p.key
          AND o.geom && ST_Expand({end}(p.geom), %(snap_deg)s)
          AND ST_DWithin(o.geom::geography, {end}(p.geom)::geography, %(snap)s)
        ORDER BY o.geom::geography <-> {end}(p.geom)::geography LIMIT 1) AS {end} ON true"""


GRAPH = (
    "DELETE FROM links",
    "DELETE FROM network_points",
    "DELETE FROM network_edges",
    "DELETE FROM network_vertices",
    # Corridor parts with their ends snapped onto nearby lines of the same mode.
    f"""CREATE TEMP TABLE net_lines ON COMMIT DROP AS
    WITH parts AS (SELECT c.id AS corridor_id, c.mode, c.id * 10000 + d.path[1] AS key, d.geom
                   FROM corridors c, ST_Dump(c.geom) d WHERE c.visibility = 'public')
    SELECT p.corridor_id, p.mode, p.key, ST_SetPoint(ST_SetPoint(p.geom, 0,
           coalesce(ST_StartPoint.g, ST_StartPoint(p.geom))), -1,
           coalesce(ST_EndPoint.g, ST_EndPoint(p.geom))) AS geom
    FROM parts p {_snap("ST_StartPoint")} {_snap("ST_EndPoint")}""",
    # Where each line must be cut: crossings with, and ends of, other lines of its mode.
    """CREATE TEMP TABLE net_pieces ON COMMIT DROP AS
    WITH cuts AS (
        SELECT l.key, ST_LineLocatePoint(l.geom, x.geom) AS f
        FROM net_lines l JOIN net_lines o
          ON o.mode = l.mode AND o.key <> l.key AND ST_DWithin(o.geom, l.geom, %(eps)s)
        CROSS JOIN LATERAL (
            SELECT geom FROM ST_DumpPoints(ST_Intersection(l.geom, o.geom))
            UNION ALL SELECT e FROM (VALUES (ST_StartPoint(o.geom)), (ST_EndPoint(o.geom))) v(e)
            WHERE ST_DWithin(e, l.geom, %(eps)s)) x
        UNION SELECT key, 0 FROM net_lines UNION SELECT key, 1 FROM net_lines
    ), spans AS (SELECT key, f, lead(f) OVER (PARTITION BY key ORDER BY f) AS f2 FROM cuts)
    SELECT row_number() OVER () AS n, l.corridor_id, l.mode, s.geom
    FROM spans JOIN net_lines l USING (key),
         ST_DumpSegments(ST_LineSubstring(l.geom, spans.f, spans.f2)) s
    WHERE spans.f2 > spans.f + 1e-12""",
    # Vertices: piece ends within NODE_EPS are one vertex (per mode: road and rail stay apart).
    """CREATE TEMP TABLE net_ends ON COMMIT DROP AS
    SELECT n, at, geom, dense_rank() OVER (ORDER BY mode, cluster) AS vertex FROM (
        SELECT n, at, mode, e.geom, ST_ClusterDBSCAN(e.geom, %(eps)s, 1) OVER (PARTITION BY mode)
               AS cluster
        FROM net_pieces p,
             LATERAL (VALUES (0, ST_StartPoint(p.geom)), (1, ST_EndPoint(p.geom))) e(at, geom)
    ) c""",
    """INSERT INTO network_vertices (id, kind, geom)
    SELECT vertex, 'junction', (array_agg(geom ORDER BY n, at))[1] FROM net_ends GROUP BY vertex""",
    """INSERT INTO network_edges (id, source, target, mode, corridor_id, km, kmh, hours, geom)
    SELECT p.n, s.vertex, t.vertex, p.mode, p.corridor_id, k.km, sp.kmh, k.km / sp.kmh, k.geom
    FROM net_pieces p
    JOIN net_ends s ON s.n = p.n AND s.at = 0 JOIN net_ends t ON t.n = p.n AND t.at = 1
    JOIN (VALUES ('road', %(road)s::float8), ('rail', %(rail)s::float8)) sp(mode, kmh)
      ON sp.mode = p.mode
    CROSS JOIN LATERAL (
        SELECT g AS geom, ST_Length(g::geography) / 1e3 AS km FROM ST_SetPoint(ST_SetPoint(
            p.geom, 0, (SELECT geom FROM network_vertices WHERE id = s.vertex)), -1,
            (SELECT geom FROM network_vertices WHERE id = t.vertex)) g) k
    WHERE s.vertex <> t.vertex""",
    # Transfer places joining at least two corridors: a hub, and an edge to each corridor.
    """CREATE TEMP TABLE net_joins ON COMMIT DROP AS
    WITH places AS (
        SELECT name, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
        FROM jsonb_to_recordset(%(transfers)s) AS t(name text, lon float8, lat float8)
        UNION ALL SELECT name, geom FROM facilities
        WHERE kind = ANY(%(ports)s) AND visibility = 'public'
    ), near AS (
        SELECT DISTINCT ON (p.name, e.corridor_id) p.name, p.geom AS hub, v.id AS vertex,
               v.geom, e.mode, ST_Distance(p.geom::geography, v.geom::geography) AS m
        FROM places p
        JOIN network_vertices v ON v.geom && ST_Expand(p.geom, %(radius_deg)s)
         AND ST_DWithin(v.geom::geography, p.geom::geography, %(radius)s)
        JOIN network_edges e ON v.id IN (e.source, e.target)
        ORDER BY p.name, e.corridor_id, m
    )
    SELECT n.*, (SELECT max(id) FROM network_vertices)
                + dense_rank() OVER (ORDER BY n.name) AS hub_id
    FROM near n WHERE (SELECT count(*) FROM near o WHERE o.name = n.name) > 1""",
    """INSERT INTO network_vertices (id, kind, name, geom)
    SELECT DISTINCT hub_id, 'hub', name, hub FROM net_joins""",
    """INSERT INTO network_edges (id, source, target, mode, km, kmh, hours, geom)
    SELECT (SELECT max(id) FROM network_edges) + row_number() OVER (ORDER BY hub_id, vertex),
           hub_id, vertex, 'transfer', m / 1e3, %(urban)s, m / 1e3 / %(urban)s
           + CASE WHEN mode = 'rail' THEN %(handling)s ELSE 0 END, ST_MakeLine(hub, geom)
    FROM net_joins""",
    # Connected components: a route exists only within one (and says so when it does not).
    """WITH c AS (SELECT node, component FROM pgr_connectedComponents(
        'SELECT id, source, target, km AS cost FROM network_edges'))
    UPDATE network_vertices v SET component = c.component FROM c WHERE v.id = c.node""",
    """UPDATE network_edges e SET component = v.component
    FROM network_vertices v WHERE v.id = e.source""",
    # Every site's access point: the nearest point of the nearest corridor edge (candidates by
    # the index, then the geodesic distance decides). Fractions stay off 0 and 1: pgRouting
    # drops points that sit exactly on a vertex.
    """INSERT INTO network_points
        (pid, layer, site_id, name, edge_id, fraction, access_km, access_hours, site, geom)
    SELECT row_number() OVER (ORDER BY s.layer, s.id), s.layer, s.id, s.name, e.id, a.f,
           a.km, a.km / %(access)s,
           s.geom, a.geom
    FROM (SELECT 'deposits' AS layer, id, name, geom FROM deposits
          UNION ALL SELECT 'sezs', id, name, ST_PointOnSurface(geom) FROM sezs
          WHERE visibility = 'public'
          UNION ALL SELECT 'facilities', id, name, geom FROM facilities
          WHERE visibility = 'public') s
    CROSS JOIN LATERAL (
        SELECT * FROM (SELECT id, mode, geom FROM network_edges WHERE mode <> 'transfer'
                       ORDER BY geom <-> s.geom LIMIT 8) c
        ORDER BY ST_Distance(c.geom::geography, s.geom::geography), c.id LIMIT 1) e
    CROSS JOIN LATERAL (SELECT f, g AS geom, ST_Distance(g::geography, s.geom::geography) / 1e3
                        AS km FROM (SELECT least(greatest(ST_LineLocatePoint(e.geom, s.geom),
                                    1e-9), 1 - 1e-9) AS f) x, ST_LineInterpolatePoint(e.geom, f) g
    ) a""",
    """INSERT INTO links (id, from_layer, from_id, from_name, to_layer, to_id, to_name, kind,
                          km, hours, geom)
    SELECT p.site_id * 10 + 1, 'deposits', p.site_id, p.name, 'corridors', c.id,
           concat_ws(' ', c.ref, c.name), 'access', p.access_km, p.access_hours,
           ST_MakeLine(p.site, p.geom)
    FROM network_points p JOIN network_edges e ON e.id = p.edge_id
    JOIN corridors c ON c.id = e.corridor_id WHERE p.layer = 'deposits'""",
)


def paths(points: str, combinations: str) -> str:
    """Per (start_pid, end_pid): the network part of the route, its km, hours and km per mode.

    Each step of pgRouting's path covers its edge from this node to the next; a node's position
    on the edge is 0 at the source, 1 at the target, and its fraction for a site's point, so
    partial edges at either end come out of the same ST_LineSubstring.
    """
    return f"""WITH steps AS (
        SELECT start_pid, end_pid, path_seq, node, edge,
               lead(node) OVER (PARTITION BY start_pid, end_pid ORDER BY path_seq) AS next
        FROM pgr_withPoints({EDGES_SQL!r}, {points}, {combinations}, directed => false)
    ), segments AS (
        SELECT s.start_pid, s.end_pid, s.path_seq, e.mode, g.geom,
               CASE WHEN e.mode = 'transfer' THEN e.hours
                    ELSE ST_Length(g.geom::geography) / 1e3 / e.kmh END AS hours
        FROM steps s JOIN network_edges e ON e.id = s.edge
        CROSS JOIN LATERAL (SELECT
            CASE s.node WHEN e.source THEN 0 WHEN e.target THEN 1
                 ELSE (SELECT fraction FROM network_points WHERE pid = -s.node) END AS f1,
            CASE s.next WHEN e.source THEN 0 WHEN e.target THEN 1
                 ELSE (SELECT fraction FROM network_points WHERE pid = -s.next) END AS f2) f
        CROSS JOIN LATERAL (SELECT CASE WHEN f.f1 <= f.f2
            THEN ST_LineSubstring(e.geom, f.f1, f.f2)
            ELSE ST_Reverse(ST_LineSubstring(e.geom, f.f2, f.f1)) END AS geom) g
    )
    SELECT -start_pid AS start_pid, -end_pid AS end_pid,
           ST_MakeLine(geom ORDER BY path_seq) AS geom, sum(km) AS km, sum(hours) AS hours,
           jsonb_build_object('road', coalesce(sum(km) FILTER (WHERE mode = 'road'), 0),
                              'rail', coalesce(sum(km) FILTER (WHERE mode = 'rail'), 0),
                              'transfer', coalesce(sum(km) FILTER (WHERE mode = 'transfer'), 0))
               AS modes
    FROM (SELECT *, ST_Length(geom::geography) / 1e3 AS km FROM segments) s
    GROUP BY start_pid, end_pid"""


TARGETS = (
    """CREATE TEMP TABLE net_targets ON COMMIT DROP AS
    SELECT p.pid, CASE p.layer WHEN 'sezs' THEN 'sez' ELSE 'port' END AS kind
    FROM network_points p LEFT JOIN facilities f ON p.layer = 'facilities' AND f.id = p.site_id
    WHERE p.layer = 'sezs' OR f.kind = ANY(%(ports)s)""",
    "CREATE TEMP TABLE net_best (deposit bigint, target bigint, kind text) ON COMMIT DROP",
)
BATCH_POINTS = (
    "'SELECT pid, edge_id, fraction FROM network_points "
    "WHERE layer <> ''deposits'' OR pid BETWEEN ' || %(lo)s::text || ' AND ' || %(hi)s::text"
)
# The nearest SEZ and the nearest port of each deposit in a batch, by total km (access legs
# included): one Dijkstra per target, to all the batch's deposits (the graph is undirected).
BEST = f"""INSERT INTO net_best
    SELECT DISTINCT ON (c.end_pid, t.kind) -c.end_pid, -c.start_pid, t.kind
    FROM pgr_withPointsCost({EDGES_SQL!r}, {BATCH_POINTS},
        (SELECT array_agg(-pid) FROM net_targets),
        (SELECT array_agg(-pid) FROM network_points
         WHERE layer = 'deposits' AND pid BETWEEN %(lo)s AND %(hi)s), directed => false) c
    JOIN net_targets t ON t.pid = -c.start_pid
    JOIN network_points d ON d.pid = -c.end_pid JOIN network_points s ON s.pid = -c.start_pid
    ORDER BY c.end_pid, t.kind, d.access_km + c.agg_cost + s.access_km, t.pid"""
ROUTED = f"""INSERT INTO links (id, from_layer, from_id, from_name, to_layer, to_id, to_name,
                                kind, km, hours, geom)
    SELECT d.site_id * 10 + CASE b.kind WHEN 'sez' THEN 2 ELSE 3 END, 'deposits', d.site_id,
           d.name, t.layer, t.site_id, t.name, b.kind, d.access_km + r.km + t.access_km,
           d.access_hours + r.hours + t.access_hours,
           ST_RemoveRepeatedPoints(ST_MakeLine(ARRAY[d.site, d.geom, ST_Reverse(r.geom),
                                                     t.geom, t.site]))
    FROM net_best b JOIN network_points d ON d.pid = b.deposit
    JOIN network_points t ON t.pid = b.target
    JOIN ({paths(BATCH_POINTS, "'SELECT -target AS source, -deposit AS target FROM net_best'")})
      r ON r.start_pid = b.target AND r.end_pid = b.deposit"""
# A row with a reason for every link a deposit lacks.
REASONS = """INSERT INTO links (id, from_layer, from_id, from_name, kind, reason)
    SELECT d.id * 10 + k.n, 'deposits', d.id, d.name, k.kind, CASE
        WHEN p.pid IS NULL THEN 'there are no corridors in the store to join'
        WHEN NOT EXISTS (SELECT 1 FROM net_targets t WHERE t.kind = k.kind)
            THEN format('there are no %%s in the store', k.plural)
        ELSE format('no %%s is reachable: %%s joins the network on %%s, a part of the network '
                    'that no %%s joins', k.one, d.name, c.ref, k.one) END
    FROM deposits d
    CROSS JOIN (VALUES ('sez', 2, 'SEZ', 'SEZs'), ('port', 3, 'port', 'ports'))
        AS k(kind, n, one, plural)
    LEFT JOIN network_points p ON p.layer = 'deposits' AND p.site_id = d.id
    LEFT JOIN network_edges e ON e.id = p.edge_id LEFT JOIN corridors c ON c.id = e.corridor_id
    WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.id = d.id * 10 + k.n)
    UNION ALL
    SELECT d.id * 10 + 1, 'deposits', d.id, d.name, 'access',
           'there are no corridors in the store to join'
    FROM deposits d WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.id = d.id * 10 + 1)"""
SAVE_STATE = """INSERT INTO network_state (artefact, built_from, seconds)
    VALUES ('links', %(versions)s, %(seconds)s)
    ON CONFLICT (artefact) DO UPDATE SET built_from = EXCLUDED.built_from,
        built_at = now(), seconds = EXCLUDED.seconds"""


def parameters() -> dict:
    """The named constants, as the statements' parameters (they are never formatted in)."""
    import json

    return {
        "snap": SNAP_M,
        "snap_deg": SNAP_M / METRES_PER_DEGREE,
        "radius_deg": TRANSFER_RADIUS_M / METRES_PER_DEGREE,
        "eps": NODE_EPS,
        "road": ROAD_KMH,
        "rail": RAIL_KMH,
        "access": ACCESS_KMH,
        "urban": URBAN_KMH,
        "handling": HANDLING_HOURS,
        "radius": TRANSFER_RADIUS_M,
        "ports": list(PORT_KINDS),
        "layers": list(SOURCES),
        "transfers": json.dumps([{"name": p.name, "lon": p.lon, "lat": p.lat} for p in TRANSFERS]),
    }


def refresh_plan(force: bool = False, progress: Progress | None = None) -> Plan:
    """Rebuild graph, access points and links unless they were built from the current data.

    Runs inside one REPEATABLE READ transaction (the runner opens it), so the versions recorded
    and every row read come from one snapshot: a write committed meanwhile raises a version the
    next reader sees, and it rebuilds again.
    """
    started = time.monotonic()
    params = parameters()
    yield Statement("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    yield Statement("SET LOCAL statement_timeout = 0")  # a rebuild must finish, not fail
    ((versions, built_from, routable),) = yield Statement(VERSIONS, params)
    if not force and versions == built_from:
        return None
    if not routable:
        raise NetworkError("pgRouting is not installed in the store: CREATE EXTENSION pgrouting")
    for statement in GRAPH:
        yield Statement(statement, params)
    for statement in TARGETS:
        yield Statement(statement, params)
    ((lo, hi),) = yield Statement(
        "SELECT min(pid), max(pid) FROM network_points WHERE layer = 'deposits'"
    )
    ((targets,),) = yield Statement("SELECT count(*) FROM net_targets")
    if lo is not None and targets:
        total = hi - lo + 1
        for start in range(lo, hi + 1, BATCH):
            batch = {"lo": start, "hi": min(start + BATCH - 1, hi), "ports": params["ports"]}
            yield Statement("DELETE FROM net_best")
            yield Statement(BEST, batch)
            yield Statement(ROUTED, batch)
            if progress:
                progress("routing deposits", batch["hi"] - lo + 1, total)
    yield Statement(REASONS, params)
    ((vertices, edges, links),) = yield Statement(
        "SELECT (SELECT count(*) FROM network_vertices), (SELECT count(*) FROM network_edges), "
        "(SELECT count(*) FROM links)"
    )
    seconds = time.monotonic() - started
    yield Statement(SAVE_STATE, {"versions": Jsonb(versions), "seconds": seconds})
    return BuildReport(vertices, edges, links, seconds)


def routable(conn: psycopg.Connection) -> bool:
    """Whether the store has pgRouting (migration 0001 creates it where the server offers it)."""
    query = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgrouting')"
    return bool(conn.execute(query).fetchone()[0])


def _is_current(row: tuple) -> bool:
    versions, built_from, routable = row
    return versions == built_from or not routable


def build(
    conn: psycopg.Connection, force: bool = False, progress: Progress | None = None
) -> BuildReport | None:
    """Rebuild the network and the links if the data changed (or ``force``); None if current."""
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
    try:
        with conn.transaction():
            plan = refresh_plan(force, progress)
            result: list[tuple] | None = None
            try:
                while True:
                    statement = plan.send(result)
                    cursor = conn.execute(statement.text, statement.params or None)
                    result = cursor.fetchall() if cursor.description else None
            except StopIteration as done:
                return done.value
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))


async def ensure_current(conn: psycopg.AsyncConnection) -> None:
    """Before reading links or routing: rebuild if the corridors or sites changed since.

    Why lazily on read as well as after every ``emining load``: a write through psql or any other
    path is seen too, and the check is one query on a tiny table. Stores without pgRouting keep
    an empty network (the route endpoint says why) rather than failing every read.
    """
    cursor = await conn.execute(VERSIONS, parameters())
    if _is_current(await cursor.fetchone()):
        return
    await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
    try:
        async with conn.transaction():
            plan = refresh_plan()
            result: list[tuple] | None = None
            try:
                while True:
                    statement = plan.send(result)
                    cursor = await conn.execute(statement.text, statement.params or None)
                    result = await cursor.fetchall() if cursor.description else None
            except StopIteration:
                return
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
