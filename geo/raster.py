"""The raster catalogue: validate a GeoTIFF (or any GDAL raster), store it as a COG, register it.

Why this shape: a raster is only useful beside the vectors if it is georeferenced in a known CRS
and covers Pakistan, so ``add_raster`` checks all of that first and names the file and the reason
when it refuses (the CLI prints it; nothing is written). Accepted rasters are rewritten as Cloud
Optimised GeoTIFFs (GDAL's COG driver, shipped in the rasterio wheel): tiled, DEFLATE-compressed,
with overviews, so tiles and subsets read only the blocks they need.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds
from shapely.geometry import box

from geo.settings import current as current_settings
from geo.validate import ALLOWED

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
COLORMAPS = ("viridis", "magma")
COLUMNS = (
    "name, title, title_zh, title_ur, description, bands, band_names, dtype, units, nodata, "
    "resolution, width, height, crs, vmin, vmax, colormap, source, derived, derived_from, path, "
    "ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint)"
)


class RasterError(ValueError):
    """A raster cannot be added or read because of what was asked (a bad file, band, bbox)."""


class RasterNotFound(RasterError):
    """What was asked for does not exist (a file to add, a tile beyond the matrix)."""


class RasterConflict(RasterError):
    """The name is taken (by another raster, or by a vector collection)."""


@dataclass(frozen=True)
class RasterInfo:
    """One catalogue row (``bbox`` is the footprint's in CRS84)."""

    name: str
    title: str
    title_zh: str | None
    title_ur: str | None
    description: str | None
    bands: int
    band_names: list[str]
    dtype: str
    units: str | None
    nodata: float | None
    resolution: float
    width: int
    height: int
    crs: str
    vmin: float | None
    vmax: float | None
    colormap: str
    source: str
    derived: bool
    derived_from: list[str] | None
    path: str
    """The COG, relative to the rasters folder (``EMINING_RASTERS``), so the folder can move (a
    volume, a restored backup); absolute only for a raster added with a folder of its own."""
    bbox: tuple[float, float, float, float]

    @property
    def file(self) -> Path:
        return raster_home() / self.path  # an absolute path stays as it is

    def band_index(self, band: str | None) -> int:
        """A band by 1-based number or by name (``None``: the first); RasterError if none."""
        if band is None or band == "":
            return 1
        if band.isascii() and band.isdigit() and len(band) < 6 and 1 <= int(band) <= self.bands:
            return int(band)
        if band in self.band_names:
            return self.band_names.index(band) + 1
        raise RasterError(
            f"band must be 1..{self.bands} or one of {', '.join(self.band_names)}, not {band!r}"
        )


def raster_home() -> Path:
    """Where COGs are kept: ``$EMINING_RASTERS``, else ``rasters/`` beside the embedded cluster."""
    return current_settings().raster_folder


def inspect(path: Path) -> dict:
    """Open ``path`` and check it can serve as a layer; the error names the file and the reason."""
    if not path.exists():
        raise RasterNotFound(f"{path}: no such file")
    try:
        src = rasterio.open(path)
    except RasterioIOError as error:
        raise RasterError(f"{path}: not a readable raster ({error})") from None
    with src:
        if src.crs is None or src.transform.is_identity:
            raise RasterError(f"{path}: not georeferenced (no CRS or no geotransform)")
        epsg = src.crs.to_epsg()
        if epsg is None and not src.crs.to_wkt():  # (CRS.is_valid is deprecated: always true)
            raise RasterError(f"{path}: unknown CRS ({src.crs.to_string() or 'empty'})")
        try:
            west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
        except Exception as error:  # GDAL cannot transform: the CRS is not usable
            raise RasterError(f"{path}: unknown CRS {src.crs.to_string()!r} ({error})") from None
        if not np.all(np.isfinite([west, south, east, north])) or not box(*ALLOWED).intersects(
            box(west, south, east, north)
        ):
            raise RasterError(
                f"{path}: outside Pakistan (bounds lon {west:.2f}..{east:.2f}, "
                f"lat {south:.2f}..{north:.2f}; the store takes rasters overlapping "
                f"lon {ALLOWED[0]}..{ALLOWED[2]}, lat {ALLOWED[1]}..{ALLOWED[3]})"
            )
        band = src.read(1, masked=True, out_shape=(min(src.height, 512), min(src.width, 512)))
        valid = band.compressed()
        lo, hi = (
            (float(np.percentile(valid, 2)), float(np.percentile(valid, 98)))
            if valid.size
            else (None, None)
        )
        return {
            "bands": src.count,
            "band_names": [d or f"band{i + 1}" for i, d in enumerate(src.descriptions)],
            "dtype": src.dtypes[0],
            "nodata": src.nodata,
            "resolution": float(abs(src.res[0])),
            "width": src.width,
            "height": src.height,
            "crs": f"EPSG:{epsg}" if epsg else src.crs.to_wkt(),
            "vmin": lo,
            "vmax": hi,
            "footprint": box(west, south, east, north).wkt,
        }


def to_cog(path: Path, target: Path) -> None:
    """Rewrite ``path`` as a COG at ``target`` (written beside it first, then moved in)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".tif", dir=target.parent)
    os.close(handle)
    try:
        with rasterio.open(path) as src:
            # At least one overview level even for rasters smaller than a block (map tiles at
            # low zoom then read fewer cells); AUTO would make none below 256 cells.
            levels = max(1, math.ceil(math.log2(max(src.width, src.height) / 256)))
            rasterio.shutil.copy(
                src,
                temporary,
                driver="COG",
                BLOCKSIZE=256,
                COMPRESS="DEFLATE",
                OVERVIEWS="AUTO",
                OVERVIEW_COUNT=levels,
                RESAMPLING="AVERAGE",
            )
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; the server may be another user
        shutil.move(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def add_raster(
    conn: psycopg.Connection,
    path: Path,
    name: str | None = None,
    *,
    title: str | None = None,
    title_zh: str | None = None,
    title_ur: str | None = None,
    description: str | None = None,
    units: str | None = None,
    source: str | None = None,
    derived_from: list[str] | None = None,
    colormap: str = "viridis",
    folder: Path | None = None,
    replace: bool = False,
    reserved: Collection[str] = (),
) -> RasterInfo:
    """Validate ``path``, store it as ``<folder>/<name>.tif`` (a COG) and register it.

    ``reserved``: the ids a raster must not take because another collection has them (the vector
    layers' ids, which the caller knows: geo/ does not import the layer catalogue)."""
    path = Path(path)
    name = name or re.sub(r"[^a-z0-9_]", "_", path.stem.lower())
    if not NAME.match(name):
        raise RasterError(f"name {name!r}: use lower-case letters, digits and _ (start a-z)")
    if name in reserved:
        raise RasterConflict(f"name {name!r} is a vector collection; choose another")
    if colormap not in COLORMAPS:
        raise RasterError(f"colormap must be one of {', '.join(COLORMAPS)}, not {colormap!r}")
    exists = conn.execute("SELECT 1 FROM rasters WHERE name = %s", (name,)).fetchone()
    if exists and not replace:
        raise RasterConflict(f"a raster named {name!r} exists already (replace it explicitly)")
    facts = inspect(path)
    home = raster_home()
    target = (folder or home).resolve() / f"{name}.tif"
    to_cog(path, target)
    stored = target.relative_to(home) if target.is_relative_to(home) else target
    row = {
        **facts,
        "name": name,
        "title": title or name.replace("_", " ").capitalize(),
        "title_zh": title_zh,
        "title_ur": title_ur,
        "description": description,
        "units": units,
        "colormap": colormap,
        "source": source or path.name,  # not the server's folders: the catalogue is public
        "derived": derived_from is not None,
        "derived_from": derived_from,
        "path": str(stored),
    }
    with conn.transaction():
        conn.execute("DELETE FROM rasters WHERE name = %(name)s", row)
        cursor = conn.execute(
            """INSERT INTO rasters (name, title, title_zh, title_ur, description, footprint,
            bands, band_names, dtype, units, nodata, resolution, width, height, crs, vmin, vmax,
            colormap, source, derived, derived_from, path)
            VALUES (%(name)s, %(title)s, %(title_zh)s, %(title_ur)s, %(description)s,
            ST_GeomFromText(%(footprint)s, 4326), %(bands)s, %(band_names)s, %(dtype)s,
            %(units)s, %(nodata)s, %(resolution)s, %(width)s, %(height)s, %(crs)s, %(vmin)s,
            %(vmax)s, %(colormap)s, %(source)s, %(derived)s, %(derived_from)s, %(path)s)
            RETURNING """
            + COLUMNS,
            row,
        )
        return _info(cursor.fetchone())


def _info(row: tuple) -> RasterInfo:
    *fields, west, south, east, north = row
    return RasterInfo(*fields, bbox=(west, south, east, north))


def _select(name: str | None) -> tuple[str, list]:
    if name is None:
        return f"SELECT {COLUMNS} FROM rasters ORDER BY name", []
    return f"SELECT {COLUMNS} FROM rasters WHERE name = %s", [name]


def list_rasters(conn: psycopg.Connection) -> list[RasterInfo]:
    return [_info(r) for r in conn.execute(*_select(None))]


def get_raster(conn: psycopg.Connection, name: str) -> RasterInfo | None:
    if "\x00" in name:  # no stored name has one, and PostgreSQL text refuses it (an error)
        return None
    row = conn.execute(*_select(name)).fetchone()
    return _info(row) if row else None


async def read_rasters(conn: psycopg.AsyncConnection, name: str | None = None) -> list[RasterInfo]:
    """The API's one reader: every raster, or the one named (an empty list when there is none)."""
    if name is not None and "\x00" in name:
        return []
    cursor = await conn.execute(*_select(name))
    return [_info(r) for r in await cursor.fetchall()]


def has_rasters(conn: psycopg.Connection) -> bool:
    """Whether any raster is registered (``emining serve`` derives the samples when none is)."""
    return conn.execute("SELECT EXISTS (SELECT FROM rasters)").fetchone()[0]


def crs_of(info: RasterInfo) -> CRS:
    return CRS.from_user_input(info.crs)
