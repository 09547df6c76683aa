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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from geo import copy, network
from geo.files import FileError, read_file, row_label
from geo.models import LAYERS
from geo.validate import ALLOWED, Checked, Problem, check

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
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


@dataclass
class LoadReport:
    layer: str
    path: Path
    rows: int
    inserted: int
    updated: int
    seconds: float


class LoadError(Exception):
    """Every problem found in a file, each naming the file, the row and the reason."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = Path(path)
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.path}: {row_label(self.path, p.row) + ': ' if p.row is not None else ''}"
            f"{p.field}: {p.reason}"
            for p in self.problems
        ]


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
    table = LAYERS[layer].__table__
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
    checked = check(frame, table)
    key = table.info["natural_key"]
    if not upsert and not checked.problems:
        checked.problems += _existing_keys(conn, layer, key, checked.frame)
    if checked.problems:
        raise LoadError(path, checked.problems)
    order = np.argsort(
        frame.geometry.hilbert_distance(total_bounds=ALLOWED).to_numpy(),
        kind="stable",
    )
    try:
        with conn.transaction():
            inserted, updated = _write(conn, layer, key, checked, order, upsert, progress)
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(layer)))
    except psycopg.Error as error:
        raise LoadError(path, [_database_problem(error, order)]) from None
    return LoadReport(layer, path, len(frame), inserted, updated, time.perf_counter() - started)


def load_samples(conn: psycopg.Connection, directory: Path = SAMPLES) -> list[LoadReport]:
    """Load (or refresh, by natural key) the sample layers, all in one transaction.

    Then the logistics network and the links are brought up to date (where pgRouting exists),
    so the store is complete when serving starts rather than on the first read of links.
    """
    with conn.transaction():
        reports = [
            load_file(conn, directory / f"{layer}.geojson", layer, upsert=True)
            for layer in SAMPLE_ORDER
        ]
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


def _write(
    conn: psycopg.Connection,
    layer: str,
    key: str,
    checked: Checked,
    order: np.ndarray,
    upsert: bool,
    progress: Progress | None,
) -> tuple[int, int]:
    table = LAYERS[layer].__table__
    columns = checked.columns
    rows = copy.to_arrow(checked.frame, columns, table, order)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    if not upsert:
        if rows.num_rows >= BULK and copy.is_empty(conn, layer):
            # TRUNCATE (of an empty table) in this transaction lets a wal_level=minimal server
            # skip writing the rows to the WAL; indexes are built once, after the COPY.
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(layer)))
            with copy.indexes_deferred(conn, layer):
                copy.copy_rows(conn, layer, columns, rows, progress)
        else:
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
