"""Rows into PostgreSQL by COPY, as fast as the server can take them.

Why each step (measured on 1 M deposits, bench/load.py): Arrow's C++ CSV writer renders rows ~10×
faster than pandas; a queued writer lets Python render the next chunk while libpq sends the last;
and into an empty table, building each index once after the COPY is ~2× cheaper for the server
than a million random inserts into each (the unique name index above all, since Hilbert order is
random order for names).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import ARRAY, Table

CHUNK = 50_000
Progress = Callable[[str, int, int], None]


def to_arrow(
    frame: pd.DataFrame, columns: list[str], table: Table, order: np.ndarray | None = None
) -> pa.Table:
    """The checked rows (in ``order`` if given), list columns as PostgreSQL array literals."""
    frame = frame[columns].copy(deep=False)
    for name in columns:
        if isinstance(table.columns[name].type, ARRAY):
            frame[name] = array_literals(frame[name])
    rows = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    return rows if order is None else rows.take(order)


def array_literals(series: pd.Series) -> pd.Series:
    """``{"a","b"}`` literals, built once per distinct list (files repeat a few lists a lot)."""
    # validate._lists hands out one list object per distinct list: factorize by identity
    values = series.to_numpy(dtype=object)
    ids = np.fromiter(map(id, values), dtype=np.int64, count=len(values))
    codes, uniques = pd.factorize(ids)
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    literals = pa.array([pg_array(values[i]) if isinstance(values[i], list) else None
                         for i in first], pa.string())  # fmt: skip
    array = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), literals)
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([array.cast(pa.string())])),
                     index=series.index)  # fmt: skip


def pg_array(items: list[str] | None) -> str | None:
    if items is None:
        return None
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"


def render_csv(batch: pa.Table) -> bytes:
    """CSV as COPY reads it: strings quoted (so "" stays text), nulls as nothing (NULL)."""
    sink = io.BytesIO()
    pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


def copy_rows(
    conn: psycopg.Connection,
    target: str,
    columns: list[str],
    rows: pa.Table,
    progress: Progress | None = None,
) -> int:
    with copy_stream(conn, target, columns) as write:
        for start in range(0, rows.num_rows, CHUNK):
            write(rows.slice(start, CHUNK))
            if progress:
                progress("written", min(start + CHUNK, rows.num_rows), rows.num_rows)
    return rows.num_rows


@contextmanager
def copy_stream(
    conn: psycopg.Connection, target: str, columns: list[str]
) -> Iterator[Callable[[pa.Table], None]]:
    """One COPY into ``target``; yields a function that renders and queues a batch of rows.

    libpq sends from psycopg's writer thread, so the server ingests one batch while Python
    renders (or checks) the next. An exception inside the block aborts the COPY.
    """
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    statement = sql.SQL("COPY {t} ({c}) FROM STDIN (FORMAT csv)").format(
        t=sql.Identifier(target), c=names
    )
    cursor = conn.cursor()
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as pipe:
        yield lambda batch: pipe.write(render_csv(batch))


def is_empty(conn: psycopg.Connection, table: str) -> bool:
    query = sql.SQL("SELECT NOT EXISTS (SELECT FROM {})").format(sql.Identifier(table))
    return bool(conn.execute(query).fetchone()[0])


@contextmanager
def indexes_deferred(conn: psycopg.Connection, table: str) -> Iterator[None]:
    """Inside a transaction: drop the secondary indexes and unique constraints, rebuild after.

    Definitions are read back from the catalogue, so the rebuilt ones are exactly the migrated
    ones. The table is locked until commit; callers use this only on an empty table.
    """
    rows = conn.execute(
        """SELECT i.indexrelid::regclass::text, con.conname,
                  coalesce(pg_get_constraintdef(con.oid), pg_get_indexdef(i.indexrelid))
           FROM pg_index i
           LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary""",
        (table,),
    ).fetchall()
    name = sql.Identifier(table)
    for index, constraint, _ in rows:
        if constraint:
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    name, sql.Identifier(constraint)
                )
            )
        else:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))  # regclass text
    yield
    for _, constraint, definition in rows:
        if constraint:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    name, sql.Identifier(constraint), sql.SQL(definition)
                )
            )
        else:
            conn.execute(sql.SQL(definition))
