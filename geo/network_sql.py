"""The logistics network's SQL: the whole algorithm, run in PostGIS and pgRouting.

``geo.network`` orders these statements into a build (full, or partial when only deposits
changed) and binds the named constants (``%(road)s``, ``%(ports)s``…) as parameters. The graph
(tables of migration 0003) is described there.
"""

from __future__ import annotations

# Routes are by time: "nearest" means soonest there (km are reported beside hours).
EDGES_SQL = "SELECT id, source, target, hours AS cost FROM network_edges"
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
    WITH parts AS (SELECT c.id AS corridor_id, c.mode, c.id * 10000 + d.path[1] AS key, d.geom,
                          coalesce(c.road_class, CASE c.mode WHEN 'rail' THEN 'rail'
                                                 ELSE 'other road' END) AS road_class,
                          coalesce(c.published_length_km / nullif(c.length_km, 0), 1) AS scale
                   FROM corridors c, ST_Dump(c.geom) d WHERE c.visibility = 'public')
    SELECT p.corridor_id, p.mode, p.road_class, p.scale, p.key, ST_SetPoint(ST_SetPoint(p.geom, 0,
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
    SELECT row_number() OVER () AS n, l.corridor_id, l.mode, l.road_class, l.scale, s.geom
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
    # km: the drawn piece scaled by its corridor's published / drawn length (apportioned).
    """INSERT INTO network_edges (id, source, target, mode, corridor_id, km, kmh, hours, geom)
    SELECT p.n, s.vertex, t.vertex, p.mode, p.corridor_id, k.km * p.scale, spk.kmh,
           k.km * p.scale / spk.kmh, k.geom
    FROM net_pieces p
    JOIN net_ends s ON s.n = p.n AND s.at = 0 JOIN net_ends t ON t.n = p.n AND t.at = 1
    JOIN jsonb_each_text(%(speeds)s) sp(road_class, kmh_text) ON sp.road_class = p.road_class
    CROSS JOIN LATERAL (SELECT sp.kmh_text::float8 AS kmh) spk
    CROSS JOIN LATERAL (
        SELECT g AS geom, ST_Length(g::geography) / 1e3 AS km FROM ST_SetPoint(ST_SetPoint(
            p.geom, 0, (SELECT geom FROM network_vertices WHERE id = s.vertex)), -1,
            (SELECT geom FROM network_vertices WHERE id = t.vertex)) g) k
    WHERE s.vertex <> t.vertex""",
    # Transfer places where a road and a railway both come within the radius: a hub per mode,
    # joined to the nearest vertex of each line of that mode; one edge between the hubs.
    """CREATE TEMP TABLE net_joins ON COMMIT DROP AS
    WITH listed AS (
        SELECT * FROM jsonb_to_recordset(%(transfers)s) AS t(name text, lon float8, lat float8)
    ), places AS (
        SELECT name, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM listed
        WHERE lon IS NOT NULL
        UNION ALL SELECT f.name, f.geom FROM facilities f JOIN listed l ON l.name = f.name
        WHERE l.lon IS NULL AND f.visibility = 'public'
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
                + dense_rank() OVER (ORDER BY n.name, n.mode) AS hub_id
    FROM near n WHERE (SELECT count(DISTINCT mode) FROM near o WHERE o.name = n.name) = 2""",
    """INSERT INTO network_vertices (id, kind, name, geom)
    SELECT DISTINCT hub_id, 'hub', name || ' (' || mode || ')', hub FROM net_joins""",
    # The spokes are part of their mode's network (across a town at urban speed).
    """INSERT INTO network_edges (id, source, target, mode, km, kmh, hours, geom)
    SELECT (SELECT max(id) FROM network_edges) + row_number() OVER (ORDER BY hub_id, vertex),
           hub_id, vertex, mode, m / 1e3, %(urban)s, m / 1e3 / %(urban)s, ST_MakeLine(hub, geom)
    FROM net_joins""",
    """INSERT INTO network_edges (id, source, target, mode, km, hours, geom)
    SELECT (SELECT max(id) FROM network_edges) + row_number() OVER (ORDER BY r.hub_id),
           r.hub_id, t.hub_id, 'transfer', 0, %(handling)s, ST_MakeLine(r.hub, t.hub)
    FROM (SELECT DISTINCT name, hub_id, hub FROM net_joins WHERE mode = 'road') r
    JOIN (SELECT DISTINCT name, hub_id, hub FROM net_joins WHERE mode = 'rail') t USING (name)""",
    # Connected components: a route exists only within one (and says so when it does not).
    """WITH c AS (SELECT node, component FROM pgr_connectedComponents(
        'SELECT id, source, target, hours AS cost FROM network_edges'))
    UPDATE network_vertices v SET component = c.component FROM c WHERE v.id = c.node""",
    """UPDATE network_edges e SET component = v.component
    FROM network_vertices v WHERE v.id = e.source""",
)


def access_points(sites: str) -> str:
    """Insert each site's access point per mode: the nearest point of that mode's nearest edge.

    ``sites`` is SQL giving (layer, id, name, geom, mode). Candidates come by the index, then the
    geodesic distance decides. A leg within REACH_M joins along a road; a site with no line of
    any of its modes within reach joins the nearest road by a straight line multiplied by
    DETOUR (``detour`` says so); a mode beyond reach is not joined where another is within it.
    Fractions stay off 0 and 1: pgRouting drops points that sit exactly on a vertex. New points
    number on from the highest, so a partial update (one changed deposit) leaves every other
    point's id alone.
    """
    return f"""INSERT INTO network_points (pid, layer, site_id, name, mode, edge_id, fraction,
                                           access_km, access_hours, detour, site, geom)
    SELECT (SELECT coalesce(max(pid), 0) FROM network_points)
           + row_number() OVER (ORDER BY c.layer, c.id, c.mode), c.layer, c.id, c.name, c.mode,
           c.edge_id, c.f, c.km * d.factor, c.km * d.factor / %(access)s, d.detour, c.site,
           c.geom
    FROM (
        SELECT s.layer, s.id, s.name, s.mode, e.id AS edge_id, a.f, a.km, s.geom AS site,
               a.geom, bool_or(a.km * 1e3 <= %(reach)s) OVER (PARTITION BY s.layer, s.id)
               AS near
        FROM ({sites}) s
        CROSS JOIN LATERAL (
            SELECT * FROM (SELECT id, geom FROM network_edges WHERE mode = s.mode
                           ORDER BY geom <-> s.geom LIMIT 8) c
            ORDER BY ST_Distance(c.geom::geography, s.geom::geography), c.id LIMIT 1) e
        CROSS JOIN LATERAL (
            SELECT f, g AS geom, ST_Distance(g::geography, s.geom::geography) / 1e3 AS km
            FROM (SELECT least(greatest(ST_LineLocatePoint(e.geom, s.geom), 1e-9), 1 - 1e-9)
                  AS f) x, ST_LineInterpolatePoint(e.geom, f) g) a
    ) c
    CROSS JOIN LATERAL (SELECT CASE WHEN c.km * 1e3 > %(reach)s THEN %(detour)s END AS detour,
                               CASE WHEN c.km * 1e3 > %(reach)s THEN %(detour)s ELSE 1 END
                               AS factor) d
    WHERE c.km * 1e3 <= %(reach)s OR (NOT c.near AND c.mode = 'road')"""


# The link targets' points (public SEZs and facilities): only a full build makes them.
TARGET_POINTS = access_points(
    """SELECT t.*, coalesce(m.mode, 'road') AS mode FROM (
        SELECT 'facilities' AS layer, id, name, geom FROM facilities WHERE visibility = 'public'
        UNION ALL SELECT 'sezs', id, name, ST_PointOnSurface(geom) FROM sezs
        WHERE visibility = 'public') t
    LEFT JOIN (SELECT layer, name, jsonb_array_elements_text(modes) AS mode
               FROM jsonb_to_recordset(%(site_modes)s) AS x(layer text, name text, modes jsonb))
        m ON m.layer = t.layer AND m.name = t.name"""
)
# The deposits to (re)link, in ``net_changed``: all of them in a full build; in a partial one,
# those added, moved, renamed or deleted since the last build (their old rows go first).
ALL_DEPOSITS = "CREATE TEMP TABLE net_changed ON COMMIT DROP AS SELECT id FROM deposits"
CHANGED_DEPOSITS = (
    """CREATE TEMP TABLE net_changed ON COMMIT DROP AS
    SELECT coalesce(d.id, p.site_id) AS id
    FROM deposits d FULL JOIN (SELECT site_id, name, site FROM network_points
                               WHERE layer = 'deposits') p ON p.site_id = d.id
    WHERE d.id IS NULL OR p.site_id IS NULL OR p.name IS DISTINCT FROM d.name
       OR NOT ST_Equals(p.site, d.geom)""",
    "DELETE FROM links WHERE from_layer = 'deposits' AND from_id IN (SELECT id FROM net_changed)",
    "DELETE FROM network_points WHERE layer = 'deposits' "
    "AND site_id IN (SELECT id FROM net_changed)",
)
DEPOSIT_POINTS = access_points(
    "SELECT 'deposits' AS layer, id, name, geom, 'road' AS mode FROM deposits "
    "WHERE id IN (SELECT id FROM net_changed)"
)
ACCESS_LINKS = """INSERT INTO links (id, from_layer, from_id, from_name, to_layer, to_id, to_name,
                          kind, km, hours, road_km, rail_km, transfers, access_detour,
                          access_kmh, geom)
    SELECT p.site_id * 10 + 1, 'deposits', p.site_id, p.name, 'corridors', c.id,
           concat_ws(' ', c.ref, c.name), 'access', p.access_km, p.access_hours, p.access_km, 0,
           0, p.detour, %(access)s, ST_MakeLine(p.site, p.geom)
    FROM network_points p JOIN network_edges e ON e.id = p.edge_id
    JOIN corridors c ON c.id = e.corridor_id
    WHERE p.layer = 'deposits' AND p.site_id IN (SELECT id FROM net_changed)"""
DEPOSIT_RANGE = """SELECT min(pid), max(pid) FROM network_points
    WHERE layer = 'deposits' AND site_id IN (SELECT id FROM net_changed)"""


def paths(points: str, combinations: str) -> str:
    """Per (start_pid, end_pid): the network part of the route, its km, hours, km per mode and
    transfers.

    Each step of pgRouting's path covers its edge from this node to the next; a node's position
    on the edge is 0 at the source, 1 at the target, and its fraction for a site's point, so
    partial edges at either end come out of the same ST_LineSubstring. km and hours are that
    share of the edge's (published) km and hours, never the drawn line's length.
    """
    return f"""WITH steps AS (
        SELECT start_pid, end_pid, path_seq, node, edge,
               lead(node) OVER (PARTITION BY start_pid, end_pid ORDER BY path_seq) AS next
        FROM pgr_withPoints({EDGES_SQL!r}, {points}, {combinations}, directed => false)
    ), segments AS (
        SELECT s.start_pid, s.end_pid, s.path_seq, e.mode, g.geom,
               abs(f.f2 - f.f1) * e.km AS km, abs(f.f2 - f.f1) * e.hours AS hours
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
           coalesce(sum(km) FILTER (WHERE mode = 'road'), 0) AS road_km,
           coalesce(sum(km) FILTER (WHERE mode = 'rail'), 0) AS rail_km,
           count(*) FILTER (WHERE mode = 'transfer') AS transfers
    FROM segments s
    GROUP BY start_pid, end_pid"""


TARGETS = (
    # By the (layer, site_id) index: a million deposits' points are never read for a few targets.
    """CREATE TEMP TABLE net_targets ON COMMIT DROP AS
    SELECT pid, 'sez' AS kind, access_hours FROM network_points WHERE layer = 'sezs'
    UNION ALL
    SELECT p.pid, 'port', p.access_hours FROM network_points p JOIN facilities f ON f.id = p.site_id
    WHERE p.layer = 'facilities' AND f.kind = ANY(%(ports)s)""",
    "ANALYZE net_targets",  # a few rows: so the batches look them up by the primary key
    "CREATE TEMP TABLE net_best (deposit bigint, target bigint, kind text) ON COMMIT DROP",
)
# The points a batch routes between: the targets and the batch's deposits, each found by the
# primary key (an OR of the two read every point per batch: quadratic over a million deposits).
BATCH_POINTS = (
    "'SELECT p.pid, p.edge_id, p.fraction FROM net_targets t JOIN network_points p USING (pid) "
    "UNION ALL SELECT pid, edge_id, fraction FROM network_points WHERE layer = ''deposits'' "
    "AND pid BETWEEN ' || %(lo)s::text || ' AND ' || %(hi)s::text"
)
# The nearest SEZ and the nearest port of each deposit in a batch, by total hours (access legs
# included; a port's point per mode is a candidate of its own; the deposit's own leg is the same
# for all its candidates, so it does not take part): one Dijkstra per target, to all the
# batch's deposits (the graph is undirected). No join to network_points: the planner cannot
# know how few rows pgRouting returns, and hashed all of them (a million) per batch.
BEST = f"""INSERT INTO net_best
    SELECT DISTINCT ON (c.end_pid, t.kind) -c.end_pid, -c.start_pid, t.kind
    FROM pgr_withPointsCost({EDGES_SQL!r}, {BATCH_POINTS},
        (SELECT array_agg(-pid) FROM net_targets),
        (SELECT array_agg(-pid) FROM network_points
         WHERE layer = 'deposits' AND pid BETWEEN %(lo)s AND %(hi)s), directed => false) c
    JOIN net_targets t ON t.pid = -c.start_pid
    ORDER BY c.end_pid, t.kind, c.agg_cost + t.access_hours, t.pid"""
# After each batch's BEST: the planner then looks its rows' points up by primary key.
ANALYZE_BEST = "ANALYZE net_best"
ROUTED = f"""INSERT INTO links (id, from_layer, from_id, from_name, to_layer, to_id, to_name,
                                kind, km, hours, road_km, rail_km, transfers, access_detour,
                                access_kmh, geom)
    SELECT d.site_id * 10 + CASE b.kind WHEN 'sez' THEN 2 ELSE 3 END, 'deposits', d.site_id,
           d.name, t.layer, t.site_id, t.name, b.kind, d.access_km + r.km + t.access_km,
           d.access_hours + r.hours + t.access_hours, d.access_km + r.road_km + t.access_km,
           r.rail_km, r.transfers, d.detour, %(access)s,
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
    WHERE d.id IN (SELECT id FROM net_changed)
      AND NOT EXISTS (SELECT 1 FROM links l WHERE l.id = d.id * 10 + k.n)
    UNION ALL
    SELECT d.id * 10 + 1, 'deposits', d.id, d.name, 'access',
           'there are no corridors in the store to join'
    FROM deposits d WHERE d.id IN (SELECT id FROM net_changed)
      AND NOT EXISTS (SELECT 1 FROM links l WHERE l.id = d.id * 10 + 1)"""
SAVE_STATE = """INSERT INTO network_state (artefact, built_from, seconds)
    VALUES ('links', %(versions)s, %(seconds)s)
    ON CONFLICT (artefact) DO UPDATE SET built_from = EXCLUDED.built_from,
        built_at = now(), seconds = EXCLUDED.seconds"""
