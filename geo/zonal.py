"""Zonal statistics (min, max, mean, std, count) of one band per polygon, for many polygons at once.

Why not one rasterize per polygon (as rasterstats does): with thousands of concession blocks the
per-polygon Python and GDAL overhead dominates. Here polygons are split into groups whose cells
cannot overlap (bounding boxes, grown by one cell, do not intersect; greedy colouring); each group
is burnt in one ``rasterize`` call as a label image, and ``numpy.bincount`` and a label sort
give every polygon's statistics in a few vectorised passes. Overlapping polygons still each get
all their cells, because they fall in different groups.

Cell rule: a cell belongs to a polygon when its centre is inside (GDAL's rule), or with
``all_touched`` when the polygon touches it at all. Nodata and NaN cells are left out; ``std`` is
the population standard deviation (numpy's default, as rasterstats).

``zonal_rows`` is the one way the platform asks for statistics per feature of a polygon layer
(the ``/zonal`` endpoint, the concession popups of a standalone map): ``zones_statement`` reads
the features in CRS84, and they are moved into the raster's CRS before any cell is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.errors import WindowError
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds

from geo.raster import RasterInfo
from geo.raster_read import covering

ZONES = {"concessions": "licence_no", "provinces": "name", "districts": "name"}
"""Polygon layers whose features get statistics, with the column that names each feature."""


@dataclass(frozen=True)
class ZonalStats:
    """Arrays with one entry per polygon (NaN where a polygon has no valid cell)."""

    count: np.ndarray
    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    def row(self, i: int) -> dict:
        count = int(self.count[i])
        if count == 0:
            return {"count": 0, "min": None, "max": None, "mean": None, "std": None}
        return {
            "count": count,
            "min": float(self.min[i]),
            "max": float(self.max[i]),
            "mean": float(self.mean[i]),
            "std": float(self.std[i]),
        }


def groups(polygons: np.ndarray, margin: float) -> np.ndarray:
    """A group number per polygon such that polygons of one group never share a cell."""
    boxes = shapely.box(*shapely.bounds(polygons).T)
    grown = shapely.buffer(boxes, margin, join_style="mitre")
    tree = shapely.STRtree(grown)
    left, right = tree.query(grown, predicate="intersects")
    keep = left != right
    left, right = left[keep], right[keep]
    order = np.argsort(left, kind="stable")
    left, right = left[order], right[order]
    starts = np.searchsorted(left, np.arange(len(polygons) + 1))
    group = np.full(len(polygons), -1, dtype=np.int64)
    for i in range(len(polygons)):
        taken = {int(group[j]) for j in right[starts[i] : starts[i + 1]]}
        g = 0
        while g in taken:
            g += 1
        group[i] = g
    return group


def zonal(
    values: np.ndarray,
    transform: Affine,
    polygons: Sequence | np.ndarray,
    nodata: float | None = None,
    all_touched: bool = False,
) -> ZonalStats:
    """Statistics of ``values`` (a 2-D array georeferenced by ``transform``) per polygon."""
    polygons = np.asarray(polygons, dtype=object)
    n = len(polygons)
    valid = (
        np.isfinite(values)
        if np.issubdtype(values.dtype, np.floating)
        else np.ones_like(values, dtype=bool)
    )
    if nodata is not None and not np.isnan(nodata):
        valid &= values != nodata
    count = np.zeros(n, dtype=np.int64)
    total = np.zeros(n)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    labels_all, values_all = [], []
    group = groups(polygons, abs(transform.a) + abs(transform.e)) if n else np.zeros(0, int)
    for g in range(int(group.max()) + 1 if n else 0):
        members = np.flatnonzero(group == g)
        burnt = rasterize(
            zip(polygons[members], members + 1, strict=True),
            out_shape=values.shape,
            transform=transform,
            fill=0,
            all_touched=all_touched,
            dtype="int32",
        )
        inside = (burnt > 0) & valid
        labels = burnt[inside] - 1
        cells = values[inside].astype("float64")
        labels_all.append(labels)
        values_all.append(cells)
        count += np.bincount(labels, minlength=n)
        total += np.bincount(labels, weights=cells, minlength=n)
    labels = np.concatenate(labels_all) if labels_all else np.zeros(0, dtype=np.int64)
    cells = np.concatenate(values_all) if values_all else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        squares = np.bincount(labels, weights=(cells - mean[labels]) ** 2, minlength=n)
        std = np.where(count > 0, np.sqrt(squares / np.maximum(count, 1)), np.nan)
    if labels.size:
        order = np.argsort(labels, kind="stable")
        labels, cells = labels[order], cells[order]
        starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
        present = labels[starts]
        low[present] = np.minimum.reduceat(cells, starts)
        high[present] = np.maximum.reduceat(cells, starts)
    return ZonalStats(count, low, high, mean, std)


def zonal_file(
    path: str,
    polygons: Sequence | np.ndarray,
    band: int = 1,
    all_touched: bool = False,
) -> ZonalStats:
    """``zonal`` over a raster file, reading only the window that covers the polygons.

    The polygons must be in the raster's CRS.
    """
    polygons = np.asarray(polygons, dtype=object)
    with rasterio.open(path) as src:
        if len(polygons) == 0:
            return zonal(np.zeros((1, 1)), src.transform, polygons)
        west, south, east, north = shapely.total_bounds(polygons)
        window = covering(from_bounds(west, south, east, north, transform=src.transform))
        window = Window(window.col_off - 1, window.row_off - 1, window.width + 2, window.height + 2)
        try:
            window = window.intersection(Window(0, 0, src.width, src.height))
        except WindowError:  # the polygons are all outside the raster: no cells
            return zonal(np.full((1, 1), np.nan), src.transform, polygons)
        values = src.read(band, window=window)
        return zonal(values, src.window_transform(window), polygons, src.nodata, all_touched)


def zones_statement(
    info: RasterInfo, layer: str, ids: Sequence[int] | None = None
) -> tuple[str, tuple]:
    """SQL for (id, name, WKB in CRS84) of the features of ``layer`` (a key of ``ZONES``) whose
    box meets the raster's footprint, all of them or those of ``ids``, in id order."""
    ids = list(ids) if ids is not None else None
    statement = (
        f"SELECT id, {ZONES[layer]}, ST_AsBinary(geom) FROM {layer} "
        "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
        "AND (%s::bigint[] IS NULL OR id = ANY(%s)) ORDER BY id"
    )
    return statement, (*info.bbox, ids, ids)


def zonal_rows(
    info: RasterInfo, rows: Sequence, band: int = 1, all_touched: bool = False
) -> list[dict]:
    """``{id, name, count, min, max, mean, std}`` per row of ``zones_statement``."""
    to_raster = Transformer.from_crs("OGC:CRS84", info.crs, always_xy=True)
    shapes = shapely.transform(
        shapely.from_wkb([bytes(r[2]) for r in rows]),
        lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1])),
    )
    stats = zonal_file(info.file, shapes, band, all_touched)
    return [{"id": r[0], "name": r[1], **stats.row(i)} for i, r in enumerate(rows)]
