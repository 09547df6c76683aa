"""One route between two sites (deposits, SEZs, facilities) over the stored network.

Why apart from ``geo.network``: the build routes every deposit at once into the ``links`` table;
this answers one ad-hoc pair per request with the same path SQL (``network_sql.paths``), on the
access points the build stored, and says in words why a route cannot exist.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql

from geo import network_sql

SITE_LAYERS = ("deposits", "sezs", "facilities")
REF = re.compile(r"^([a-z_]+):([0-9]{1,18})$")


class RouteError(ValueError):
    """A route request that cannot be answered as asked (unknown sites, no route between them)."""


class RoutingUnavailable(RouteError):
    """The store cannot route at all (no pgRouting): not the request's fault."""


# A site's points: one per mode that reaches it (a port served by road and rail has two).
POINT = """SELECT p.pid, p.access_km, p.access_hours, e.component,
                  coalesce(c.ref, 'a transfer link') AS corridor, p.mode, p.detour
    FROM network_points p JOIN network_edges e ON e.id = p.edge_id
    LEFT JOIN corridors c ON c.id = e.corridor_id
    WHERE p.layer = %s AND p.site_id = %s ORDER BY p.mode DESC"""
PAIR_POINTS = (
    "'SELECT pid, edge_id, fraction FROM network_points WHERE pid IN ('"
    " || %(a)s::text || ', ' || %(b)s::text || ')'"
)
PAIR = (
    "'SELECT ' || (-%(a)s)::text || '::bigint AS source, '"
    " || (-%(b)s)::text || '::bigint AS target'"
)
ROUTE = f"""SELECT ST_AsGeoJSON(ST_RemoveRepeatedPoints(
           ST_MakeLine(ARRAY[a.site, a.geom, r.geom, b.geom, b.site])), 6)::json,
           r.km, r.hours, r.road_km, r.rail_km, r.transfers
    FROM network_points a, network_points b, ({network_sql.paths(PAIR_POINTS, PAIR)}) r
    WHERE a.pid = %(a)s AND b.pid = %(b)s"""


def parse_ref(name: str, text: str | None) -> tuple[str, int]:
    """``deposits:12`` -> ("deposits", 12); anything else is a RouteError naming the parameter."""
    if not text:
        raise RouteError(f"{name} is required, as LAYER:ID (e.g. deposits:12)")
    match = REF.match(text.strip())
    if not match:
        raise RouteError(f"{name} must be LAYER:ID (e.g. deposits:12), not {text!r}")
    layer, site_id = match.group(1), int(match.group(2))
    if layer not in SITE_LAYERS:
        raise RouteError(f"{name}: routes join {', '.join(SITE_LAYERS)}, not {layer!r}")
    return layer, site_id


async def _site(conn: psycopg.AsyncConnection, name: str, layer: str, site_id: int) -> dict:
    cursor = await conn.execute(
        sql.SQL("SELECT name FROM {} WHERE id = %s").format(sql.Identifier(layer)), (site_id,)
    )
    row = await cursor.fetchone()
    if row is None:
        raise RouteError(f"{name}: there is no {layer} feature with id {site_id}")
    cursor = await conn.execute(POINT, (layer, site_id))
    points = await cursor.fetchall()
    if not points:
        raise RouteError(
            f"no route: {row[0]} is not on the network (there are no corridors, or the site "
            "is not public: the network joins public SEZs and ports only)"
        )
    keys = ("pid", "access_km", "access_hours", "component", "corridor", "mode", "detour")
    return {"ref": {"layer": layer, "id": site_id, "name": row[0]},
            "points": [dict(zip(keys, point, strict=True)) for point in points]}  # fmt: skip


async def route(conn: psycopg.AsyncConnection, origin: str | None, destination: str | None) -> dict:
    """A GeoJSON Feature: the soonest route from one site to another, its km, hours and legs.

    It routes on the last complete network (a rebuild is the background job's, never a
    request's), as the requesting user: a site they may not see is unknown. A site reached by
    road and rail (a port) is tried on each, and the sooner route is the answer.
    """
    start, end = parse_ref("from", origin), parse_ref("to", destination)
    if start == end:
        raise RouteError("from and to are the same feature")
    cursor = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgrouting')"
    )
    if not (await cursor.fetchone())[0]:
        raise RoutingUnavailable("routing needs pgRouting, which the store does not have")
    a = await _site(conn, "from", *start)
    b = await _site(conn, "to", *end)
    pairs = [(p, q) for p in a["points"] for q in b["points"] if p["component"] == q["component"]]
    if not pairs:
        raise RouteError(
            f"no route: {a['ref']['name']} joins the network on {a['points'][0]['corridor']} "
            f"and {b['ref']['name']} on {b['points'][0]['corridor']}, parts of the network "
            "that do not connect"
        )
    best = None
    for p, q in pairs:
        cursor = await conn.execute(ROUTE, {"a": p["pid"], "b": q["pid"]})
        row = await cursor.fetchone()
        if row is not None:
            hours = p["access_hours"] + row[2] + q["access_hours"]
            if best is None or hours < best[0]:
                best = (hours, p, q, row)
    if best is None:
        raise RouteError(f"no route found between {a['ref']['name']} and {b['ref']['name']}")
    _, p, q, (geometry, km, hours, road_km, rail_km, transfers) = best
    modes = {"road": road_km, "rail": rail_km, "transfers": transfers}
    legs: list[dict[str, Any]] = [
        {"kind": "access", "from": a["ref"]["name"], "to": p["corridor"], "mode": p["mode"],
         "km": p["access_km"], "hours": p["access_hours"], "detour": p["detour"]},
        {"kind": "network", "from": p["corridor"], "to": q["corridor"], "km": km, "hours": hours,
         "km_by_mode": modes},
        {"kind": "access", "from": q["corridor"], "to": b["ref"]["name"], "mode": q["mode"],
         "km": q["access_km"], "hours": q["access_hours"], "detour": q["detour"]},
    ]  # fmt: skip
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "from": a["ref"],
            "to": b["ref"],
            "km": sum(leg["km"] for leg in legs),
            "hours": sum(leg["hours"] for leg in legs),
            "legs": legs,
        },
    }
