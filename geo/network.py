"""The logistics network: corridors as a routable graph, and every deposit's links on it.

Why this shape: the SQL (``geo.network_sql``) is the whole algorithm and runs in PostGIS +
pgRouting; Python only orders the statements. The build is a *plan*, a generator of statements,
so the CLI (sync, with progress) and the API's background job (async, when the data changed) run
the same steps. No reader ever starts a build: it is told the links are stale (``stale``).

The graph (tables of migration 0003):
- Corridor lines are cut into one edge per straight segment, and noded where lines of the same
  mode touch or cross. A line's end within ``SNAP_M`` of another line of its mode is moved onto
  it (the facts give town centres to 0.01°, so lines that meet at a town can miss by ~1 km: N-40
  starts at Lakpass 1.2 km off N-25). Road and rail never connect where they merely cross.
- Road and rail meet only at transfer places (``TRANSFERS``: dry ports, a freight yard, a border
  terminal, sea ports served by both). Each has a road hub and a rail hub, each joined to the
  nearest vertex of every line of its mode within ``TRANSFER_RADIUS_M``; one edge between the
  two hubs costs ``HANDLING_HOURS``, so a transfer costs time only where the mode changes.
- Sites join at the nearest point of the nearest edge of a mode (not vertex): deposits by road;
  ports and SEZs by every mode that reaches them (``SITE_MODES``), one point per mode. A leg
  longer than ``REACH_M`` has no known road: its straight line is multiplied by ``DETOUR`` and
  the link says so.
- Costs: every corridor's *published* length, apportioned to its segments by drawn length (the
  schematic line is display only); hours = km / the speed of the corridor's class (``SPEEDS``).
  Routes and "nearest" are by hours; km, km by mode and transfers are reported beside them.
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

from geo import network_sql

# Speeds per corridor class (data/samples/network/speeds.csv says the basis of each; tests check
# both agree). No public source gives average freight speeds: they are stated assumptions,
# averages including stops rather than speed limits.
SPEEDS = {"motorway": 60.0, "national highway": 45.0, "other road": 30.0, "rail": 30.0}
ROAD_KMH = SPEEDS["national highway"]
RAIL_KMH = SPEEDS["rail"]
ACCESS_KMH = 20.0  # from a site to the network: tracks and feeder roads
URBAN_KMH = 25.0  # across a town between a line and a transfer place
HANDLING_HOURS = 6.0  # freight put on or taken off a train, only where the mode changes
DETOUR = 1.3  # an access leg longer than REACH_M has no known road: its straight line x this
REACH_M = 10_000.0  # a site this close to a road joins along it (the mine roads are corridors)

SNAP_M = 2_000.0  # same-mode line ends this close to another line are joined to it
TRANSFER_RADIUS_M = 20_000.0  # a town's extent: a transfer place joins lines this close
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
    lon: float | None
    lat: float | None
    why: str


# Where road and rail meet (data/samples/network/transfers.csv, with sources; tests check both
# agree): dry ports, a rail freight yard, a border terminal, and the sea ports served by both
# (whose position is the port's own in ``facilities``, by name). A place joins each line within
# TRANSFER_RADIUS_M; it becomes a transfer only where both a road and a railway come that close.
TRANSFERS = (
    Place("Pipri Marshalling Yard (Karachi)", 67.35, 24.84, "rail freight yard"),
    Place("Lahore Dry Port", 74.36, 31.58, "dry port"),
    Place("Multan Dry Port", 71.47, 30.20, "dry port"),
    Place("Rawalpindi Dry Port", 73.05, 33.60, "dry port"),
    Place("Peshawar Dry Port", 71.55, 34.00, "dry port"),
    Place("Quetta Dry Port", 67.01, 30.19, "dry port"),
    Place("Taftan Border Terminal", 61.59, 28.96, "border terminal (road and rail to Iran)"),
    Place("Port of Karachi", None, None, "sea port (Kiamari station: ML-1 km 0)"),
    Place("Port Qasim", None, None, "sea port (Bin Qasim station: ML-1 km 43)"),
)
# The modes that reach a port or SEZ, by name (data/samples/network/site_modes.csv); any other
# joins by road. A site joins each of its modes at that mode's nearest line.
SITE_MODES = {
    ("facilities", "Port of Karachi"): ("road", "rail"),
    ("facilities", "Port Qasim"): ("road", "rail"),
    ("facilities", "Gwadar Port"): ("road",),
}


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
    relinked: int
    """Deposits whose links were made: all of them, or those changed since (``partial``)."""
    partial: bool = False


Progress = Callable[[str, int, int], None]
Plan = Generator[Statement, list[tuple] | None, Any]


def parameters() -> dict:
    """The named constants, as the statements' parameters (they are never formatted in)."""
    import json

    return {
        "snap": SNAP_M,
        "snap_deg": SNAP_M / METRES_PER_DEGREE,
        "radius_deg": TRANSFER_RADIUS_M / METRES_PER_DEGREE,
        "eps": NODE_EPS,
        "speeds": json.dumps(SPEEDS),
        "access": ACCESS_KMH,
        "urban": URBAN_KMH,
        "handling": HANDLING_HOURS,
        "detour": DETOUR,
        "reach": REACH_M,
        "radius": TRANSFER_RADIUS_M,
        "ports": list(PORT_KINDS),
        "layers": list(SOURCES),
        "transfers": json.dumps([{"name": p.name, "lon": p.lon, "lat": p.lat} for p in TRANSFERS]),
        "site_modes": json.dumps(
            [{"layer": k[0], "name": k[1], "modes": list(v)} for k, v in SITE_MODES.items()]
        ),
    }


def refresh_plan(force: bool = False, progress: Progress | None = None) -> Plan:
    """Rebuild graph, access points and links unless they were built from the current data.

    Runs inside one REPEATABLE READ transaction (the runner opens it), so the versions recorded
    and every row read come from one snapshot: a write committed meanwhile raises a version the
    next reader sees, and it rebuilds again. When only deposits changed, the graph and the
    targets stand and only the deposits added, moved, renamed or deleted are relinked (an edit
    to one of a million deposits costs a second, not a full rebuild).
    """
    started = time.monotonic()
    params = parameters()
    yield Statement("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    yield Statement("SET LOCAL statement_timeout = 0")  # a rebuild must finish, not fail
    ((versions, built_from, routable),) = yield Statement(network_sql.VERSIONS, params)
    if not force and versions == built_from:
        return None
    if not routable:
        raise NetworkError("pgRouting is not installed in the store: CREATE EXTENSION pgrouting")
    partial = not force and deposits_only(versions, built_from)
    if partial:
        for statement in network_sql.CHANGED_DEPOSITS:
            yield Statement(statement)
    else:
        for statement in (*network_sql.GRAPH, network_sql.TARGET_POINTS, network_sql.ALL_DEPOSITS):
            yield Statement(statement, params)
    yield Statement(network_sql.DEPOSIT_POINTS, params)
    if not partial:
        # Statistics of the points just written: without them the planner read every deposit's
        # point per batch through the (layer, site_id) index (quadratic over a million deposits).
        yield Statement("ANALYZE network_points")
    yield Statement(network_sql.ACCESS_LINKS, params)
    for statement in network_sql.TARGETS:
        yield Statement(statement, params)
    ((lo, hi),) = yield Statement(network_sql.DEPOSIT_RANGE)
    ((targets,),) = yield Statement("SELECT count(*) FROM net_targets")
    if lo is not None and targets:
        total = hi - lo + 1
        for start in range(lo, hi + 1, BATCH):
            batch = {"lo": start, "hi": min(start + BATCH - 1, hi), "ports": params["ports"],
                     "access": params["access"]}  # fmt: skip
            yield Statement("DELETE FROM net_best")
            yield Statement(network_sql.BEST, batch)
            yield Statement(network_sql.ANALYZE_BEST)
            yield Statement(network_sql.ROUTED, batch)
            if progress:
                progress("routing deposits", batch["hi"] - lo + 1, total)
    yield Statement(network_sql.REASONS, params)
    ((vertices, edges, links, relinked),) = yield Statement(
        "SELECT (SELECT count(*) FROM network_vertices), (SELECT count(*) FROM network_edges), "
        "(SELECT count(*) FROM links), (SELECT count(*) FROM net_changed)"
    )
    seconds = time.monotonic() - started
    yield Statement(network_sql.SAVE_STATE, {"versions": Jsonb(versions), "seconds": seconds})
    return BuildReport(vertices, edges, links, seconds, relinked, partial)


def deposits_only(versions: dict, built_from: dict | None) -> bool:
    """Whether the links were built before and only the deposits changed since."""
    if not built_from or set(versions) != set(built_from):
        return False
    return all(versions[layer] == built_from[layer] for layer in versions if layer != "deposits")


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
    """Rebuild the network and the links if the data changed (or ``force``); None if current.

    Waits for a build under way elsewhere (the CLI and the API's background job take the same
    advisory lock), then finds the links current or rebuilds them."""
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


async def stale(conn: psycopg.AsyncConnection) -> bool:
    """Whether the links were built from older corridors or sites than the store holds now.

    Readers ask this (one query on a tiny table) and are told, never made to wait: a rebuild
    takes minutes over a million deposits, so it belongs to writes, the CLI and the API's
    background job (``rebuild``). Stores without pgRouting are never stale: their network stays
    empty and the route endpoint says why.
    """
    cursor = await conn.execute(network_sql.VERSIONS, parameters())
    return not _is_current(await cursor.fetchone())


async def rebuild(conn: psycopg.AsyncConnection, wait: bool = False) -> BuildReport | None:
    """Bring the links up to date, on a connection of the caller's own (not a reader's).

    Without ``wait`` it returns None at once when another build holds the lock (the CLI, or
    another API worker's job): that build brings the links up to date, and a later check sees
    whether anything changed since. Readers keep the last complete links throughout: the build
    is one REPEATABLE READ transaction.
    """
    if wait:
        await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
    else:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK,))
        if not (await cursor.fetchone())[0]:
            return None
    try:
        async with conn.transaction():
            plan = refresh_plan()
            result: list[tuple] | None = None
            try:
                while True:
                    statement = plan.send(result)
                    cursor = await conn.execute(statement.text, statement.params or None)
                    result = await cursor.fetchall() if cursor.description else None
            except StopIteration as done:
                return done.value
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
