"""Large pages of features, streamed from a server-side cursor.

Why: a page of 10,000 features is megabytes of JSON; built whole it sits in PostgreSQL, in
psycopg and in the response at once, and the client waits for the last byte before the first.
Streamed, memory stays at one batch and bytes flow as soon as the count is known. The count and
the rows come from one REPEATABLE READ snapshot, so numberMatched agrees with the features sent,
and the layer's change counter read in the same snapshot names the data version for an ETag.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from psycopg import sql

from geo.access import Claims, act_as
from geo.history import set_as_of
from geo.query import ItemsQuery, Source, stream_statements

BATCH = 1_000  # rows per fetch from the cursor: one network round trip per ~0.5 MB


@dataclass
class Stream:
    """An open page: its count and version are known, its features not yet read."""

    conn: psycopg.AsyncConnection
    matched: int
    returned: int
    version: int | None
    _features: tuple[sql.Composable, list]

    async def chunks(self) -> AsyncIterator[bytes]:
        """The features as a comma-separated JSON sequence (no brackets), a batch at a time."""
        cursor = self.conn.cursor(name="page")
        await cursor.execute(*self._features)
        first = True
        while rows := await cursor.fetchmany(BATCH):
            text = ",".join(row[0] for row in rows)
            yield (text if first else "," + text).encode()
            first = False
        await cursor.close()

    async def close(self) -> None:
        """End the read-only transaction (nothing was written) and give autocommit back."""
        await finish(self.conn)


async def finish(conn: psycopg.AsyncConnection) -> None:
    if not conn.closed:
        await conn.rollback()
        await conn.set_autocommit(True)


async def open_stream(
    conn: psycopg.AsyncConnection, source: Source, query: ItemsQuery, claims: Claims
) -> Stream:
    """Begin a snapshot on ``conn`` (autocommit off for its duration) that sees what ``claims``
    may see, and count the page."""
    count, params, features, feature_params = stream_statements(source, query)
    await conn.set_autocommit(False)
    try:
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        await act_as(conn, claims)
        if query.as_of is not None:
            await set_as_of(conn, query.as_of)
        matched = (await (await conn.execute(count, params)).fetchone())[0]
        row = await (
            await conn.execute("SELECT version FROM layer_changes WHERE layer = %s", [source.layer])
        ).fetchone()
    except BaseException:
        await finish(conn)
        raise
    returned = max(0, min(query.limit, matched - query.offset))
    return Stream(conn, matched, returned, row[0] if row else None, (features, feature_params))
