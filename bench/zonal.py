"""Zonal statistics for 10,000 synthetic blocks over a 1 km national raster: ours vs rasterstats.

Everything here is synthetic and says so: the raster is a smooth field plus noise on the 1 km
grid over Pakistan (EPSG:32642, the accessibility surface's grid), the blocks are random
rotated rectangles of 3–30 km sides, some overlapping. Both implementations read the same file
and polygons in the same run; the script checks they agree (counts exactly, statistics to
1e-5 relative)
and prints both times and the ratio. Run: ``.venv/bin/python bench/zonal.py [--blocks N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterstats import zonal_stats

from geo.raster_derive import NODATA, Grid
from geo.zonal import zonal_file


def synthetic_raster(path: Path) -> Grid:
    grid = Grid(1_000.0)
    rng = np.random.default_rng(42)
    rows, cols = np.indices((grid.height, grid.width))
    field = 50 + 30 * np.sin(rows / 97) * np.cos(cols / 131) + rng.normal(0, 5, rows.shape)
    field[rng.random(rows.shape) < 0.02] = NODATA  # scattered nodata cells
    with rasterio.open(
        path, "w", driver="GTiff", width=grid.width, height=grid.height, count=1,
        dtype="float32", crs="EPSG:32642", transform=grid.transform, nodata=NODATA,
        tiled=True, compress="deflate",
    ) as out:  # fmt: skip
        out.write(field.astype("float32"), 1)
    return grid


def synthetic_blocks(grid: Grid, n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    width_m, height_m = grid.width * grid.res, grid.height * grid.res
    cx = grid.west + rng.uniform(0.05, 0.95, n) * width_m
    cy = grid.north - rng.uniform(0.05, 0.95, n) * height_m
    half_w, half_h = rng.uniform(1_500, 15_000, (2, n))
    angle = rng.uniform(0, np.pi, n)
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], dtype=float)
    dx, dy = corners[None, :, 0] * half_w[:, None], corners[None, :, 1] * half_h[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    xs, ys = cx[:, None] + dx * cos - dy * sin, cy[:, None] + dx * sin + dy * cos
    return shapely.polygons(np.stack([xs, ys], axis=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--all-touched", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch, "synthetic_national_1km.tif")
        grid = synthetic_raster(path)
        blocks = synthetic_blocks(grid, args.blocks)
        print(f"synthetic raster {grid.width}x{grid.height} at 1 km, {len(blocks):,} synthetic "
              f"blocks, all_touched={args.all_touched}")  # fmt: skip
        started = time.perf_counter()
        ours = zonal_file(str(path), blocks, all_touched=args.all_touched)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        theirs = zonal_stats(
            list(blocks), str(path), stats="count min max mean std", all_touched=args.all_touched
        )
        theirs_s = time.perf_counter() - started
    count = np.array([t["count"] for t in theirs])
    disagree = int((count != ours.count).sum())
    worst = 0.0
    for key in ("min", "max", "mean", "std"):
        them = np.array([np.nan if t[key] is None else t[key] for t in theirs], dtype=float)
        us = getattr(ours, key)
        both = np.isfinite(them) & np.isfinite(us)
        disagree += int((np.isfinite(them) != np.isfinite(us)).sum())
        relative = np.abs(them[both] - us[both]) / np.maximum(np.abs(them[both]), 1)
        worst = max(worst, float(relative.max(initial=0)))
    print(f"ours (geo.zonal):  {ours_s:8.2f} s")
    print(f"rasterstats:       {theirs_s:8.2f} s")
    print(f"ratio rasterstats/ours: {theirs_s / ours_s:.1f}x")
    print(f"agreement: {disagree} block(s) differ in count or validity; "
          f"largest relative statistic difference {worst:.2e}")  # fmt: skip
    # rasterstats reduces the float32 cells in float32 (we use float64): ~1e-7 relative apart.
    if disagree or worst > 1e-5:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
