"""Tile ranks: which points a thinned vector tile shows, decided once per point, not per tile.

The rule. Below a point layer's maxzoom, a tile at zoom z shows one point per cell of a
``THIN_CELLS``² grid over it; these cells are the Web Mercator tiles of level z + 7, the same
grid whatever tile asks. In each cell the point that stands for it is the first in (key, id)
order, where the key is the point's level-``KEY_LEVEL`` cell with column and row bits
interleaved (Morton, or Z, order). In that order every cell of every level is one run of keys,
so:

* the first point of a level-L cell is the one whose predecessor lies in another level-L cell,
  and it is also first in its (smaller) cell of every finer level: once a point shows, it shows
  at every higher zoom. Its rank, ``minzoom``, is the lowest zoom at which it shows, and a tile
  at zoom z is exactly the points with ``minzoom <= z``;
* the rank needs only the predecessor: ``max(0, shared - 6)``, where ``shared`` counts the
  levels whose cell the two keys have in common (at zoom ``shared - 6`` the thinning cell is
  the level ``shared + 1`` cell, which they no longer share); the first point of all ranks 0.

Compared with the per-request thinning it replaces (the lowest id per cell), a tile has the
same cells occupied, so it looks the same at 4 pixels a cell; the point chosen inside a cell
may differ. Web Mercator cells make WorldCRS84Quad tiles (ranked by their WebMercatorQuad level)
hold one point per cell 1/128 of the tile wide and cos(latitude) of that high: about the same.

The database owns the ranks (migration 0010: the same formula in SQL, statement triggers that
keep them valid on every write, classes of rows ranked apart for row-level security). This
module computes them for a bulk load into an empty table, so the rows arrive ranked and the
database only checks them (rewriting a million rows afterwards would take seconds). It ranks a
file's rows as one class, which they are unless the file itself mixes audiences; the check then
corrects what differs.
"""

from __future__ import annotations

import numpy as np
import psycopg

KEY_LEVEL = 24  # Web Mercator level of the key's cells: 2^24 per side (2.4 m at the equator)
THIN_CELLS = 128  # thinning grid per tile side: the level z + 7 cells of a zoom-z tile
THIN_LEVELS = THIN_CELLS.bit_length() - 1
RANK_COLUMN = "minzoom"
RADIANS_PER_DEGREE = 0.0174532925199432957692  # PostgreSQL's radians(), to the last bit
POWERS_OF_4 = 4 ** np.arange(KEY_LEVEL, dtype=np.int64)


def keys(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Morton keys of the points' level-``KEY_LEVEL`` Web Mercator cells (SQL ``tile_key``)."""
    size = 2**KEY_LEVEL
    x = (np.asarray(lon, dtype=np.float64) + 180) / 360
    phi = np.asarray(lat, dtype=np.float64) * RADIANS_PER_DEGREE
    with np.errstate(divide="ignore", invalid="ignore"):  # the poles: clipped, as in SQL
        y = 0.5 - np.log(np.tan(np.pi / 4 + phi / 2)) / (2 * np.pi)
    column, row = (np.clip(np.floor(v * size), 0, size - 1).astype(np.int64) for v in (x, y))
    return _spread(column) | (_spread(row) << 1)


def _spread(values: np.ndarray) -> np.ndarray:
    """Each bit i moved to bit 2i (the SQL does it a byte at a time from a table)."""
    out = np.zeros_like(values)
    for bit in range(KEY_LEVEL):
        out |= ((values >> bit) & 1) << (2 * bit)
    return out


def ranks(key: np.ndarray) -> np.ndarray:
    """``minzoom`` of each point, the points given in id order (SQL ``tile_rank``), all of one
    rank class (migration 0010): the rows of a file loaded into an empty table, typically."""
    key = np.asarray(key, dtype=np.int64)
    order = np.lexsort((np.arange(len(key)), key))  # ties of equal keys go to the lower id
    ordered = key[order]
    previous = np.empty_like(ordered)
    previous[1:] = ordered[:-1]
    digits = np.searchsorted(POWERS_OF_4, ordered ^ previous, side="right")
    rank = np.maximum(0, KEY_LEVEL - THIN_LEVELS + 1 - digits)
    rank[:1] = 0
    out = np.empty(len(key), dtype=np.int16)
    out[order] = rank
    return out


def ranked(conn: psycopg.Connection, table: str) -> bool:
    """Whether the table's points carry tile ranks."""
    query = "SELECT EXISTS (SELECT FROM tile_ranks WHERE layer = to_regclass(%s))"
    return bool(conn.execute(query, (table,)).fetchone()[0])
