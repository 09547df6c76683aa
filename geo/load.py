"""Files into the store: read, check every row, then COPY in one transaction.

Why COPY of a spatially sorted frame: COPY is PostgreSQL's fastest way in, and rows written in
Hilbert-curve order sit together on disk, so an area query reads few pages (the table stays
"clustered" without a CLUSTER that would lock it). Nothing is written unless every row passes,
and a failure inside the database rolls the whole file back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from geo import copy, network, tile_rank
from geo.basemap import load_basemap
from geo.files import FileError, read_file
from geo.load_errors import LoadError, LoadReport
from geo.models import LAYERS
from geo.projects import load_projects
from geo.resources import load_resources
from geo.sample_files import SAMPLES
from geo.validate import ALLOWED, Problem, check, duplicate_keys

SAMPLE_ORDER = (
    "provinces",
    "districts",
    "corridors",
    "facilities",
    "sezs",
    "deposits",
    "concessions",
)
BULK = 10_000  # rows from which a load into an empty table defers its indexes

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while a long load runs."""


def load_file(
    conn: psycopg.Connection,
    path: Path,
    layer: str,
    upsert: bool = False,
    source_layer: str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load one file into one layer; raises LoadError (and writes nothing) on any problem."""
    started = time.perf_counter()
    path = Path(path)
    if layer not in LAYERS:
        raise LoadError(
            path,
            [Problem(None, "layer", f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")],
        )
    try:
        frame = read_file(path, source_layer)
    except FileError as error:
        raise LoadError(
            path, [Problem(None, "file", str(error).removeprefix(f"{path}: "))]
        ) from None
    if len(frame) == 0:
        raise LoadError(path, [Problem(None, "file", "holds no features: nothing to load")])
    if progress:
        progress("checked", 0, len(frame))
    order = _hilbert_order(frame)
    try:
        with conn.transaction():
            if not upsert and len(frame) >= BULK and copy.is_empty(conn, layer):
                inserted, updated = _stream_into_empty(conn, path, layer, frame, order, progress)
            else:
                inserted, updated = _check_then_write(
                    conn, path, layer, frame, order, upsert, progress
                )
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(layer)))
    except psycopg.Error as error:
        raise LoadError(path, [_database_problem(error, order)]) from None
    return LoadReport(layer, path, len(frame), inserted, updated, time.perf_counter() - started)


def load_samples(conn: psycopg.Connection, directory: Path = SAMPLES) -> list[LoadReport]:
    """Load (or refresh, by natural key) the sample layers, all in one transaction.

    The deposits' resource figures follow (by deposit name), then the value-chain projects,
    linked to those sites by their natural keys. Then the
    logistics network and the links are brought up to date (where pgRouting exists), so the
    store is complete when serving starts rather than on the first read of links.
    """
    with conn.transaction():
        reports = [
            load_file(conn, directory / f"{layer}.geojson", layer, upsert=True)
            for layer in SAMPLE_ORDER
        ]
        if (directory / "deposit_resources.csv").exists():
            reports.append(load_resources(conn, directory / "deposit_resources.csv", upsert=True))
        if (directory / "projects.json").exists():
            reports.append(load_projects(conn, directory / "projects.json", upsert=True))
    load_basemap(conn)  # reference geography, replaced whole (geo/basemap.py)
    if network.routable(conn):
        network.build(conn)
    return reports


def _existing_keys(
    conn: psycopg.Connection, layer: str, key: str, frame: pd.DataFrame
) -> list[Problem]:
    if copy.is_empty(conn, layer):
        return []
    keys = frame[key].dropna()
    query = sql.SQL("SELECT {k} FROM {t} WHERE {k} = ANY(%s)").format(
        k=sql.Identifier(key), t=sql.Identifier(layer)
    )
    found = {row[0] for row in conn.execute(query, (keys.tolist(),))}
    return [
        Problem(int(i), key, f"{value!r} is already in {layer}; use --upsert to update it")
        for i, value in keys.items()
        if value in found
    ]


def _hilbert_order(frame: pd.DataFrame) -> np.ndarray:
    """Rows in Hilbert-curve order over the allowed extent: near in space, near on disk."""
    geometry = frame.geometry
    missing = geometry.isna() | geometry.is_empty
    if missing.any():  # the check reports them; any place in the order will do meanwhile
        geometry = geometry.where(~missing, shapely.Point(ALLOWED[0], ALLOWED[1]))
    return np.argsort(geometry.hilbert_distance(total_bounds=ALLOWED).to_numpy(), kind="stable")


def _stream_into_empty(
    conn: psycopg.Connection,
    path: Path,
    layer: str,
    frame: pd.DataFrame,
    order: np.ndarray,
    progress: Progress | None,
) -> tuple[int, int]:
    """Check and COPY chunk by chunk, in Hilbert order, into an empty table.

    Why: the server ingests one chunk while Python checks and renders the next, so on two
    cores the client's work and the server's overlap instead of following each other. The
    first problem stops the writing, not the checking: every problem is still reported, and
    raising inside the transaction rolls back what was written. TRUNCATE of the empty table
    in this transaction lets a wal_level=minimal server skip the WAL; the indexes are built
    once, after the COPY. Point layers get their tile ranks with the rows (the database checks
    them in one pass rather than rewriting every row).
    """
    table = LAYERS[layer].__table__
    problems = duplicate_keys(frame, table)
    frame = frame.take(order)  # rows keep their file positions as labels, for the problems
    ranks = _tile_ranks(conn, layer, frame)
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(layer)))
    with copy.indexes_deferred(conn, layer):
        first = check(frame.iloc[: copy.CHUNK], table, whole_file=False)
        columns = first.columns + ([tile_rank.RANK_COLUMN] if ranks is not None else [])
        with copy.copy_stream(conn, layer, columns) as write:
            for start in range(0, len(frame), copy.CHUNK):
                part = first if start == 0 else None
                if part is None:
                    part = check(frame.iloc[start : start + copy.CHUNK], table, False)
                    part.problems = [p for p in part.problems if p.row is not None]
                problems += part.problems
                if ranks is not None:
                    part.frame[tile_rank.RANK_COLUMN] = ranks[start : start + len(part.frame)]
                if not problems:
                    write(copy.to_arrow(part.frame, columns, table))
                if progress:
                    done = min(start + copy.CHUNK, len(frame))
                    progress("written" if not problems else "checked", done, len(frame))
            if problems:
                problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.field))
                raise LoadError(path, problems)
    return len(frame), 0


def _tile_ranks(conn: psycopg.Connection, layer: str, frame: pd.DataFrame) -> np.ndarray | None:
    """The rows' tile ranks in this order, which is their ids' (the table is empty), if the
    layer's points are ranked; rows that fail the checks get some rank, and are never written.
    """
    if not tile_rank.ranked(conn, layer):
        return None
    points = np.asarray(frame.geometry.values, dtype=object)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    parts = np.isnan(lon)  # a one-point MultiPoint (stored as its point), or a bad row
    first = shapely.get_geometry(points[parts], 0)
    lon[parts], lat[parts] = shapely.get_x(first), shapely.get_y(first)
    return tile_rank.ranks(tile_rank.keys(np.nan_to_num(lon), np.nan_to_num(lat)))


def _check_then_write(
    conn: psycopg.Connection,
    path: Path,
    layer: str,
    frame: pd.DataFrame,
    order: np.ndarray,
    upsert: bool,
    progress: Progress | None,
) -> tuple[int, int]:
    """Check every row, then write them (small files, upserts, tables that already hold rows)."""
    table = LAYERS[layer].__table__
    key = table.info["natural_key"]
    checked = check(frame, table)
    if not upsert and not checked.problems:
        checked.problems += _existing_keys(conn, layer, key, checked.frame)
    if checked.problems:
        raise LoadError(path, checked.problems)
    columns = checked.columns
    rows = copy.to_arrow(checked.frame, columns, table, order)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    if not upsert:
        copy.copy_rows(conn, layer, columns, rows, progress)
        return rows.num_rows, 0
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE _load ON COMMIT DROP AS SELECT {c} FROM {t} WITH NO DATA"
        ).format(c=names, t=sql.Identifier(layer))
    )
    copy.copy_rows(conn, "_load", columns, rows, progress)
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in columns if c != key
    )
    inserted, updated = conn.execute(
        sql.SQL(
            "WITH up AS (INSERT INTO {t} ({c}) SELECT {c} FROM _load "
            "ON CONFLICT ({k}) DO UPDATE SET {u} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
        ).format(t=sql.Identifier(layer), c=names, k=sql.Identifier(key), u=updates)
    ).fetchone()
    conn.execute("DROP TABLE _load")  # ON COMMIT is too late when loads nest (load_samples)
    return inserted, updated


def _database_problem(error: psycopg.Error, order: np.ndarray) -> Problem:
    """Name the file row a database error points at (COPY reports its line in the sorted frame)."""
    context = (error.diag.context or "") if hasattr(error, "diag") else ""
    detail = error.diag.message_primary if hasattr(error, "diag") else None
    match = re.search(r"COPY \w+, line (\d+)", context)
    row = int(order[int(match.group(1)) - 1]) if match else None
    return Problem(row, "database", detail or str(error).strip())
