"""Reading registered rasters: values at points, coverage subsets, map tiles and their legend, and
the whole raster as one picture (for a standalone map, which has no server to ask for tiles).

Why plain rasterio (no tiler service): the rasters are COGs with overviews, so a PNG tile is one
``reproject`` from the overview that matches the tile's resolution, and a subset is one windowed
read; each returns bytes the API sends with an ETag. Everything is synchronous: the API runs it in
a thread so the event loop keeps serving.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import morecantile
import numpy as np
import rasterio
from psycopg import sql
from rasterio.enums import Resampling
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds
from rasterio.warp import reproject, transform, transform_bounds
from rasterio.windows import Window
from rasterio.windows import from_bounds as window_from_bounds

from geo.raster import RasterError, RasterInfo, RasterNotFound, crs_of

TILE = 256
MAX_POINTS = 1_000
OVERLAY_PIXELS = 1_024  # the longer side of a standalone map's picture of a raster
PALETTE = 256
MAX_SUBSET_CELLS = 4_000_000  # a subset bigger than this is refused: ask for a smaller bbox
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
# Colour ramps as (position 0..1, RGB) stops, interpolated to 256 entries (matplotlib's
# viridis and magma, sampled at 9 points: close enough for a map, no matplotlib at run time).
RAMPS: dict[str, list[tuple[int, int, int]]] = {
    "viridis": [(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)],
    "magma": [(0, 0, 4), (28, 16, 68), (79, 18, 123), (129, 37, 129), (181, 54, 122),
              (229, 80, 100), (251, 135, 97), (254, 194, 135), (252, 253, 191)],
}  # fmt: skip
SITES = {  # point layers whose sites can be sampled: layer -> (label column, point expression)
    "deposits": ("name", "geom"),
    "facilities": ("name", "geom"),
    "sezs": ("name", "ST_PointOnSurface(geom)"),
}


def ramp(name: str) -> np.ndarray:
    """256 RGB rows of a named ramp."""
    stops = np.array(RAMPS[name], dtype=float)
    at = np.linspace(0, 1, len(stops))
    positions = np.linspace(0, 1, 256)
    return np.stack([np.interp(positions, at, stops[:, c]) for c in range(3)], axis=1).round()


def value_range(info: RasterInfo) -> tuple[float, float]:
    lo = info.vmin if info.vmin is not None else 0.0
    hi = info.vmax if info.vmax is not None and info.vmax > lo else lo + 1.0
    return lo, hi


def legend(info: RasterInfo, band: int = 1, steps: int = 6) -> dict:
    """The colour stops a map legend draws (value → #rrggbb), for ``steps`` even values."""
    lo, hi = value_range(info)
    colours = ramp(info.colormap)
    stops = []
    for i in range(steps):
        value = lo + (hi - lo) * i / (steps - 1)
        r, g, b = colours[round(255 * i / (steps - 1))].astype(int)
        stops.append({"value": round(value, 6), "color": f"#{r:02x}{g:02x}{b:02x}"})
    return {
        "raster": info.name,
        "title": info.title,
        "band": info.band_names[band - 1],
        "units": info.units,
        "colormap": info.colormap,
        "range": [lo, hi],
        "stops": stops,
        "nodata": "transparent",
        "note": "values below/above the range take the first/last colour (range: 2nd-98th "
        "percentile of the raster)",
    }


def sample(info: RasterInfo, points: Sequence[tuple[float, float]], band: int = 1) -> list:
    """The value of ``band`` at each (lon, lat); None outside the raster or on nodata cells."""
    if len(points) > MAX_POINTS:
        raise RasterError(f"at most {MAX_POINTS} points per request, not {len(points)}")
    if not points:
        return []
    lons, lats = zip(*points, strict=True)
    xs, ys = transform("OGC:CRS84", crs_of(info), list(lons), list(lats))
    values: list = []
    with rasterio.open(info.file) as src:
        inverse = ~src.transform
        for x, y in zip(xs, ys, strict=True):
            col, row = inverse @ (x, y)
            if not (0 <= col < src.width and 0 <= row < src.height):
                values.append(None)
                continue
            cell = src.read(band, window=Window(math.floor(col), math.floor(row), 1, 1))[0, 0]
            missing = np.isnan(cell) if np.issubdtype(cell.dtype, np.floating) else False
            if missing or (src.nodata is not None and cell == src.nodata):
                values.append(None)
            else:
                values.append(cell.item())
    return values


def check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    if len(bbox) != 4:
        raise RasterError("bbox must be 4 numbers: minLon,minLat,maxLon,maxLat (CRS84)")
    west, south, east, north = bbox
    if not all(math.isfinite(v) for v in bbox):
        raise RasterError("bbox numbers must be finite")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise RasterError("bbox must be minLon,minLat,maxLon,maxLat with min < max, in degrees")
    return west, south, east, north


def subset(info: RasterInfo, bbox: Sequence[float]) -> bytes:
    """The cells of the raster within ``bbox`` (CRS84) as a GeoTIFF, in the raster's own CRS."""
    west, south, east, north = check_bbox(bbox)
    rw, rs, re_, rn = info.bbox
    if east <= rw or west >= re_ or north <= rs or south >= rn:
        raise RasterError(
            f"bbox is outside raster {info.name!r} (lon {rw:.3f}..{re_:.3f}, "
            f"lat {rs:.3f}..{rn:.3f})"
        )
    with rasterio.open(info.file) as src:
        bounds = transform_bounds("OGC:CRS84", src.crs, west, south, east, north, densify_pts=21)
        window = covering(window_from_bounds(*bounds, transform=src.transform)).intersection(
            Window(0, 0, src.width, src.height)
        )
        if window.width * window.height > MAX_SUBSET_CELLS:
            raise RasterError(
                f"bbox covers {int(window.width * window.height):,} cells; at most "
                f"{MAX_SUBSET_CELLS:,} per request (ask for a smaller bbox)"
            )
        data = src.read(window=window)
        profile = {
            "driver": "GTiff",
            "width": int(window.width),
            "height": int(window.height),
            "count": src.count,
            "dtype": src.dtypes[0],
            "crs": src.crs,
            "transform": src.window_transform(window),
            "nodata": src.nodata,
            "compress": "deflate",
        }
        with MemoryFile() as memory:
            with memory.open(**profile) as out:
                out.write(data)
                out.descriptions = src.descriptions
            return memory.read()


def covering(window: Window) -> Window:
    """The whole cells a fractional window touches (its edges rounded outwards)."""
    col0, row0 = math.floor(window.col_off), math.floor(window.row_off)
    col1 = math.ceil(window.col_off + window.width)
    row1 = math.ceil(window.row_off + window.height)
    return Window(col0, row0, col1 - col0, row1 - row0)


def tile(info: RasterInfo, z: int, x: int, y: int, band: int = 1) -> bytes:
    """A 256×256 PNG of WebMercatorQuad tile z/x/y; transparent where there is no data."""
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise RasterNotFound(f"no tile {z}/{x}/{y} in WebMercatorQuad")
    bounds = WEB_MERCATOR.xy_bounds(morecantile.Tile(x, y, z))
    return colour_png(render(info, tuple(bounds), TILE, TILE, band), info, tuple(bounds))


@dataclass(frozen=True)
class Overlay:
    """The whole raster as one picture for a map that has no server to ask for tiles."""

    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]
    """((south, west), (north, east)) in degrees: where Leaflet stretches the picture."""
    size: tuple[int, int]


def overlay(info: RasterInfo, longest: int = OVERLAY_PIXELS, band: int = 1) -> Overlay:
    """The raster's footprint drawn in Web Mercator, ``longest`` pixels on its longer side.

    Web Mercator because Leaflet stretches an image overlay linearly between its corners on a
    Web Mercator map: an image in degrees would be misplaced by tens of km in the middle of
    Pakistan. Never more pixels than the raster has cells across (no point inventing detail).
    """
    west, south, east, north = info.bbox
    left, bottom, right, top = transform_bounds("OGC:CRS84", "EPSG:3857", west, south, east, north)
    pixels = min(longest, max(info.width, info.height))
    if right - left >= top - bottom:
        width, height = pixels, max(1, round(pixels * (top - bottom) / (right - left)))
    else:
        width, height = max(1, round(pixels * (right - left) / (top - bottom))), pixels
    values = render(info, (left, bottom, right, top), width, height, band)
    picture = colour_png(values, info, (left, bottom, right, top))
    return Overlay(picture, ((south, west), (north, east)), (width, height))


def render(
    info: RasterInfo, bounds: tuple[float, ...], width: int, height: int, band: int = 1
) -> np.ndarray:
    """Band values over ``bounds`` (EPSG:3857) at width × height pixels, NaN where none.

    Read from the overview whose cells are the largest still finer than a pixel, so a
    zoomed-out picture reads a few blocks, not the whole raster.
    """
    left, bottom, right, top = bounds
    values = np.full((height, width), np.nan, dtype="float32")
    # Ground metres per pixel near Pakistan's latitude, to pick the matching overview.
    metres = (right - left) / width * math.cos(math.radians(30))
    with rasterio.open(info.file) as full:
        factors = full.overviews(band)
        level = max((i for i, f in enumerate(factors) if info.resolution * f <= metres), default=-1)
    with rasterio.open(info.file, overview_level=level if level >= 0 else None) as src:
        reproject(
            source=rasterio.band(src, band),
            destination=values,
            src_nodata=src.nodata,
            dst_transform=from_bounds(left, bottom, right, top, width, height),
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return values


def palette(info: RasterInfo) -> dict[int, tuple[int, int, int, int]]:
    """Index 0 transparent (no data), 1..255 the ramp from the range's low to its high end."""
    colours = ramp(info.colormap).astype(int)
    steps = PALETTE - 1
    return {0: (0, 0, 0, 0)} | {
        i: (*(int(c) for c in colours[round((i - 1) * 255 / (steps - 1))]), 255)
        for i in range(1, PALETTE)
    }


def colour_png(values: np.ndarray, info: RasterInfo, bounds: tuple[float, ...]) -> bytes:
    """An 8-bit paletted PNG (with transparency) of ``values`` coloured by the raster's ramp;
    ``bounds`` (EPSG:3857) are where the values lie.

    Paletted rather than RGBA: the ramp has at most 256 colours anyway, and the file is 35-45%
    smaller (accessibility tiles at z5-7 over Pakistan: 7-16 kB against 12-27 kB; its
    1,024-pixel picture: 71 kB against 132 kB), at the same speed.
    """
    lo, hi = value_range(info)
    valid = np.isfinite(values)
    scaled = np.clip((np.nan_to_num(values) - lo) / (hi - lo), 0, 1)
    index = np.where(valid, 1 + np.round(scaled * (PALETTE - 2)), 0).astype("uint8")
    height, width = values.shape
    # The picture is told where it lies (GDAL keeps that beside the PNG, in the memory file's
    # folder, and the PNG's bytes are the same): without it rasterio warns that the dataset is
    # not georeferenced. Silencing that with warnings.catch_warnings() is not thread-safe, and
    # tiles are drawn in several threads at once, so it leaked out now and then.
    where = from_bounds(*bounds, width, height)
    with MemoryFile() as memory:
        with memory.open(driver="PNG", width=width, height=height, count=1, dtype="uint8",
                         zlevel=9, crs="EPSG:3857", transform=where) as out:  # fmt: skip
            out.write(index, 1)
            out.write_colormap(1, palette(info))
        return memory.read()


def sites_statement(layer: str, limit: int) -> sql.Composed:
    """SQL for (id, label, lon, lat) of the first ``limit`` sites of ``layer`` (a key of
    ``SITES``) in id order: the points ``/collections/{raster}/sample?collection=`` reads."""
    column, point = SITES[layer]
    return sql.SQL(
        "SELECT id, {column}, ST_X({point}), ST_Y({point}) FROM {layer} ORDER BY id LIMIT {limit}"
    ).format(
        column=sql.Identifier(column),
        point=sql.SQL(point),
        layer=sql.Identifier(layer),
        limit=sql.Literal(limit),
    )
