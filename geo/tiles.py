"""The one place that writes SQL for vector tiles (Mapbox Vector Tiles, built by PostGIS).

Why one statement per tile: each layer is one ``ST_AsMVT`` over ``ST_AsMVTGeom`` rows and the
layers' blobs are concatenated in the same SELECT (an MVT is a list of layers, so the bytes of
two one-layer tiles joined are one two-layer tile). The row filter is ``geom && box`` with the
tile's envelope, widened by the buffer, transformed to the store's EPSG:4326: the GiST index
finds the rows and no geometry is transformed before it is known to touch the tile. A Mercator
(or CRS84) rectangle is a rectangle in lon/lat too, so the transformed box is exact.

What a tile holds, so the tiles stay honest at every zoom:

* every published property of the layer (``Layer.source``); MVT values are scalars only, so a
  list such as ``commodities`` is written comma-joined (``"copper,gold"``), dates and times as
  ISO text, and the row id is the MVT feature id;
* lines and polygons simplified to a quarter of a 4096-unit tile grid step per zoom (a fraction
  of a screen pixel), so low zooms do not carry every vertex of a province;
* point layers, below their ``maxzoom``, thinned deterministically: one point per cell of a
  ``THIN_CELLS``² grid over the tile (and its buffer), the one each point's stored tile rank
  names (``geo.tile_rank``: a tile at zoom z is the points with ``minzoom <= z``, so a z5 tile
  reads its ~9,000 representatives, not the 450,000 points under it). A 512-pixel tile then
  shows a point wherever there is one within 4 pixels, a tile carries at most ~20,000 points
  however many million lie under it, and the same data always gives the same tile. At
  ``maxzoom`` nothing is thinned: clients overzoom those tiles, so they are complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from geo.query import GEOMETRY, Source
from geo.tile_rank import RANK_COLUMN

EXTENT = 4096  # MVT grid units per tile side (the MVT default)
BUFFER = 64  # grid units kept beyond each edge, so symbols and strokes cross tile seams
SIMPLIFY = 4  # lines and polygons: simplification tolerance in grid units (a quarter pixel)
STORE_SRID = 4326


@dataclass(frozen=True)
class TileLayer:
    """One layer of a tile: its MVT layer name, where its rows are, and how far to thin.

    ``rank_zoom``: for a thinned point layer, the WebMercatorQuad level whose representatives
    the tile shows (``minzoom <= rank_zoom``); None for every feature.
    """

    name: str
    source: Source
    rank_zoom: int | None = None


@dataclass(frozen=True)
class TileBox:
    """A tile's envelope in its tile matrix set's CRS (EPSG:3857 or 4326)."""

    srid: int
    bounds: tuple[float, float, float, float]
    web_mercator: tuple[int, int, int] | None = None  # (z, x, y) when ST_TileEnvelope applies

    @property
    def width(self) -> float:
        return self.bounds[2] - self.bounds[0]


def _envelope(box: TileBox) -> tuple[sql.Composable, list]:
    if box.web_mercator is not None:
        return sql.SQL("ST_TileEnvelope(%s, %s, %s)"), list(box.web_mercator)
    return sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(box.srid)), list(
        box.bounds
    )


def _attribute(source: Source, name: str) -> sql.Composable:
    """A property as an MVT value: arrays comma-joined, dates and times as ISO text."""
    column = sql.Identifier(name)
    kind = source.fields[name].type
    if kind == "string[]":
        expression = sql.SQL("array_to_string({}, ',')").format(column)
    elif kind in ("date", "datetime"):
        expression = sql.SQL("to_json({})#>>'{{}}'").format(column)  # ISO 8601, as in GeoJSON
    else:
        return column
    return sql.SQL("{} AS {}").format(expression, column)


def _layer(layer: TileLayer, box: TileBox) -> tuple[sql.Composable, list]:
    """``ST_AsMVT`` of one layer's rows in the tile, as a scalar subquery (bytea)."""
    source = layer.source
    envelope, envelope_params = _envelope(box)
    margin = box.width * BUFFER / EXTENT
    geometry: sql.Composable = sql.Identifier(GEOMETRY)
    if box.srid != STORE_SRID:
        geometry = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(box.srid))
    geometry_params: list = []
    if source.geometry_type not in ("POINT", "MULTIPOINT"):
        geometry = sql.SQL("ST_Simplify({}, %s, true)").format(geometry)
        geometry_params.append(box.width * SIMPLIFY / EXTENT)
    # ST_Transform of the widened envelope is a constant: the planner folds it, the index uses it.
    where = sql.SQL("{g} && ST_Transform(ST_Expand({e}, %s), {store})").format(
        g=sql.Identifier(GEOMETRY), e=envelope, store=sql.Literal(STORE_SRID)
    )
    if layer.rank_zoom is not None:
        # A literal, not a parameter: each level is its own prepared statement, planned for its
        # own share of representatives (few at z5: the rank index; most at z12: the GiST).
        rank = sql.SQL("{} <= {} AND ").format(
            sql.Identifier(RANK_COLUMN), sql.Literal(layer.rank_zoom)
        )
        where = rank + where
    mvt_geometry = sql.SQL("ST_AsMVTGeom({g}, {e}, {extent}, {buffer}, true)").format(
        g=geometry, e=envelope, extent=sql.Literal(EXTENT), buffer=sql.Literal(BUFFER)
    )
    table, id_column = sql.Identifier(source.table), sql.Identifier(source.id_column)
    attributes = sql.SQL(", ").join(_attribute(source, name) for name in source.properties)
    name, extent = sql.Literal(layer.name), sql.Literal(EXTENT)
    mvt = sql.SQL("ST_AsMVT(t, {name}, {extent}, 'mvt_geom', {id} ORDER BY {id})").format(
        name=name, extent=extent, id=sql.Literal(source.id_column)
    )
    statement = sql.SQL(
        "(SELECT {mvt} FROM (SELECT {id}, {attributes}, {mvt_geometry} AS mvt_geom "
        "FROM {table} WHERE {where}) AS t WHERE mvt_geom IS NOT NULL)"
    ).format(
        mvt=mvt, id=id_column, attributes=attributes, mvt_geometry=mvt_geometry,
        table=table, where=where,
    )  # fmt: skip
    params = [*geometry_params, *envelope_params, *envelope_params, margin]
    return statement, params


def tile_statement(layers: list[TileLayer], box: TileBox) -> tuple[sql.Composable, list]:
    """One statement answering the tile's bytes (empty when no layer has a feature in it)."""
    parts, params = [], []
    for layer in layers:
        part, part_params = _layer(layer, box)
        parts.append(sql.SQL("coalesce({}, ''::bytea)").format(part))
        params += part_params
    if not parts:
        return sql.SQL("SELECT ''::bytea"), []
    return sql.SQL("SELECT {}").format(sql.SQL(" || ").join(parts)), params


async def fetch_tile(conn: psycopg.AsyncConnection, layers: list[TileLayer], box: TileBox) -> bytes:
    """The tile's bytes, built with no parallel workers.

    Why: the planner gives a low-zoom tile (10,000 features) two workers, which only pays on
    idle cores; under concurrent requests the workers' start-up and the rows they pass back
    cost more than they save (8 clients on 2 cores, random tiles z5–12 over 1 M deposits:
    33 tiles/s with them, 45 without, measured in the database alone).
    """
    statement, params = tile_statement(layers, box)
    async with conn.transaction():
        await conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor = await conn.execute(statement, params)
        (tile,) = await cursor.fetchone()
    return bytes(tile)


async def fetch_versions(conn: psycopg.AsyncConnection) -> tuple[int, dict[str, int]]:
    """The database's identity (its oid) and each layer's change counter (migration 0002).

    The oid is in the ETag so that a store dropped and reloaded, whose counters start again at
    the same numbers, never answers 304 to a tile a client kept from the store before.
    """
    cursor = await conn.execute(
        "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::bigint, "
        "layer, version FROM layer_changes"
    )
    rows = await cursor.fetchall()
    database = rows[0][0] if rows else 0
    return database, {layer: version for _, layer, version in rows}
