"""A layer as a whole, as the caller may see it: its rows, extent and time span.

Why a module of its own: collection metadata, tileset metadata and the map's legend all publish
it, and it must be exact for the caller (row-level security decides), never the planner's
statistics; api.summaries caches it per data version and audience.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from geo.query import GEOMETRY, Source


@dataclass(frozen=True)
class Summary:
    """What a caller may know of a whole layer: its rows, extent (CRS84) and time span."""

    count: int
    bbox: tuple[float, float, float, float] | None
    interval: tuple[str | None, str | None] | None


def summary_statement(source: Source) -> sql.Composable:
    """Rows, extent and time span of what the caller sees, in one pass over the layer.

    Why exact, never the planner's statistics (``reltuples``, ``ST_EstimatedExtent``): those
    count every row, so they would tell an anonymous caller how many confidential records exist
    and where. Under row-level security this reads the visible rows (about 175 ms for a million
    deposits), so callers cache it per data version (api.summaries).
    """
    start, end = source.temporal or (None, None)

    def text(column: str | None, aggregate: str) -> sql.Composable:
        if column is None:
            return sql.SQL("NULL::text")
        return sql.SQL(aggregate + "({})::text").format(sql.Identifier(column))

    return sql.SQL(
        "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), s, f FROM ("
        "SELECT count(*) AS n, ST_Extent({g}) AS e, {s} AS s, {f} AS f FROM {t}) AS x"
    ).format(
        g=sql.Identifier(GEOMETRY),
        s=text(start, "min"),
        f=text(end or start, "max"),
        t=sql.Identifier(source.table),
    )


def read_summary(source: Source, row: tuple) -> Summary:
    count, *box, first, last = row
    return Summary(
        int(count),
        tuple(box) if box[0] is not None else None,
        (first, last) if source.temporal else None,
    )


async def summarise(conn: psycopg.AsyncConnection, source: Source) -> Summary:
    cursor = await conn.execute(summary_statement(source))
    return read_summary(source, await cursor.fetchone())


def count_statement(source: Source, limit: int) -> sql.Composable:
    """How many rows the caller sees, counted no further than ``limit``.

    Why: a page that only needs to know whether a layer is over a threshold (the map: embed
    its features or draw it from tiles) should not read the whole layer; under row-level
    security the exact count of three million links, each checked against its deposit, took
    20 s on a busy machine, while this stops after ``limit`` visible rows.
    """
    return sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {t} LIMIT {n}) AS x").format(
        t=sql.Identifier(source.table), n=sql.Literal(limit)
    )


async def count_up_to(conn: psycopg.AsyncConnection, source: Source, limit: int) -> int:
    cursor = await conn.execute(count_statement(source, limit))
    return int((await cursor.fetchone())[0])
