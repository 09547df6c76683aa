"""A feature's versions, and layers as they were: reading what migration 0007 keeps.

The database stores the row *before* each change; a version's row *after* the change is the
next version's ``before``, or the current row for the latest. Pairing them here costs one query
per feature, over a handful of rows, and keeps the trigger cheap for bulk loads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import psycopg
from psycopg import sql

from geo.query import GEOMETRY, NEVER_PUBLISHED, Source

# A stored row (geometry as hex EWKB text) as a GeoJSON Feature of the published columns.
_FEATURE = """CASE WHEN {row} IS NULL THEN NULL ELSE jsonb_build_object(
    'type', 'Feature', 'id', ({row}->>'id')::bigint,
    'geometry', ST_AsGeoJSON(({row}->>'geom')::geometry)::jsonb,
    'properties', {row} - 'id' - 'geom' - %s::text[]) END"""

# A licence's decided step (migration 0011) was written in the transaction that changed its
# status, so it shares that transaction's now() with the history row (migration 0012): the
# version then says why. Licence decisions are read under their own policy (whoever sees the
# licence now), so a version may show no reason to a caller who saw the licence only then.
_DECISION = """LEFT JOIN LATERAL (SELECT d.reason FROM licence_decisions d
    WHERE %(layer)s = 'concessions' AND h.op = 'update' AND d.concession_id = %(fid)s
    AND d.at = h.at ORDER BY d.id DESC LIMIT 1) why ON true"""


async def versions(conn: psycopg.AsyncConnection, source: Source, fid: int) -> list[dict] | None:
    """Every version of one feature, oldest first, for a caller who sees the feature now or
    saw a version of it; None if it never existed for them (``emining_history``, migration
    0015). Each has who and when, and the feature before and after the change; a licence's
    decided steps and withdrawals also say why (``reason``). A version the caller could not
    see while it was current is ``withheld``: its number, operation and time only. A change
    made without ``If-Match`` (QGIS) is ``unconditional`` (migration 0015)."""
    hidden = list(NEVER_PUBLISHED)
    cursor = await conn.execute(
        sql.SQL(
            "SELECT h.version, h.op, h.at, h.by_user, o.name, h.by_role, "
            + _FEATURE.format(row="h.before").replace("%s", "%(hidden)s")
            + ", CASE WHEN h.seen THEN why.reason END, h.seen, h.unconditional "
            "FROM emining_history(%(layer)s, %(fid)s) h "
            "LEFT JOIN organisations o ON o.id = h.by_org " + _DECISION + " ORDER BY h.version"
        ),
        {"hidden": hidden, "layer": source.table, "fid": fid},
    )
    rows = await cursor.fetchall()
    if not rows:
        return None
    current = await conn.execute(
        sql.SQL(
            "SELECT " + _FEATURE.format(row="r") + " FROM (SELECT "
            "to_jsonb(t) - {g} || jsonb_build_object({g}, t.{gi}::text) AS r "
            "FROM {table} t WHERE t.id = %s) x"
        ).format(
            g=sql.Literal(GEOMETRY), gi=sql.Identifier(GEOMETRY), table=sql.Identifier(source.table)
        ),
        [hidden, fid],
    )
    now = await current.fetchone()
    afters = [r[6] for r in rows[1:]] + [now[0] if now else None]
    return [
        {
            "version": version,
            "operation": op,
            "at": at.isoformat(),
            **(
                {
                    "user": user,
                    "organisation": organisation,
                    "databaseRole": role,
                    "unconditional": unconditional,
                    "before": before,
                    "after": after if op != "delete" else None,
                }
                if seen
                else {"withheld": True}
            ),
            **({"reason": reason} if reason is not None else {}),
        }
        for (
            version,
            op,
            at,
            user,
            organisation,
            role,
            before,
            reason,
            seen,
            unconditional,
        ), after in zip(rows, afters, strict=True)
    ]


async def set_as_of(conn: psycopg.AsyncConnection, moment: dt.datetime) -> None:
    """Inside the request's transaction: the ``*_as_of`` views show the layers at ``moment``."""
    await conn.execute("SELECT set_config('emining.as_of', %s, true)", [moment.isoformat()])


def as_of_source(source: Source) -> Source:
    """The same layer read through its ``*_as_of`` view (migration 0007)."""
    return replace(source, table=f"{source.table}_as_of")
