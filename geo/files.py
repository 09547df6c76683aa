"""Reading geodata files into GeoDataFrames in EPSG:4326.

Why through pyogrio: one reader for GeoJSON, GeoPackage, zipped Shapefiles and FlatGeobuf, with
Arrow I/O fast enough for a million features. CSV is read by pandas because spreadsheets carry
coordinates in ordinary columns (lon/lat, or WKT) that GDAL's CSV driver would guess at.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.models import SRID

READABLE = {".geojson", ".json", ".gpkg", ".zip", ".fgb", ".csv", ".shp"}
LON_NAMES = ("lon", "longitude", "long", "lng", "x")
LAT_NAMES = ("lat", "latitude", "y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


class FileError(ValueError):
    """The file as a whole cannot be used (unreadable, no geometry, no CRS); says which and why."""


def read_file(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read ``path`` as features in EPSG:4326, with row labels 0..n-1 in file order.

    Geometries that cannot be parsed (CSV) come back as None; the validator reports them per row.
    """
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise FileError(
            f"{path}: unsupported file type {suffix or '(none)'}; "
            "use GeoJSON, GeoPackage, zipped Shapefile, FlatGeobuf or CSV"
        )
    frame = _read_csv(path) if suffix == ".csv" else _read_vector(path, layer)
    frame = frame.reset_index(drop=True)
    if frame.crs is None:
        raise FileError(f"{path}: no coordinate reference system (a Shapefile without .prj?)")
    if frame.crs.to_epsg() != SRID:
        frame = frame.to_crs(SRID)
    if shapely.has_z(frame.geometry.values).any():
        frame = frame.set_geometry(shapely.force_2d(frame.geometry.values))
    return frame


def _read_vector(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as error:  # pyogrio raises DataSourceError and friends
        raise FileError(f"{path}: cannot read: {error}") from error
    names = [str(name) for name, _ in layers]
    if not names:
        raise FileError(f"{path}: holds no layer")
    if layer is None:
        if len(names) > 1:
            raise FileError(
                f"{path}: holds layers {', '.join(names)}; choose one with --source-layer"
            )
        layer = names[0]
    elif layer not in names:
        raise FileError(f"{path}: no layer {layer!r} (it holds {', '.join(names)})")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except Exception as error:
        raise FileError(f"{path}: cannot read layer {layer!r}: {error}") from error
    if not isinstance(frame, gpd.GeoDataFrame):
        raise FileError(f"{path}: layer {layer!r} has no geometry")
    return frame


def _read_csv(path: Path) -> gpd.GeoDataFrame:
    """A CSV with a WKT column, or lon/lat columns, in EPSG:4326 (a CSV cannot state a CRS)."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise FileError(f"{path}: cannot read as CSV: {error}") from error
    columns = {c.lower().strip(): c for c in table.columns}
    wkt = next((columns[n] for n in WKT_NAMES if n in columns), None)
    lon = next((columns[n] for n in LON_NAMES if n in columns), None)
    lat = next((columns[n] for n in LAT_NAMES if n in columns), None)
    if wkt is not None:
        geometry = shapely.from_wkt(table[wkt].replace("", None), on_invalid="ignore")
        table = table.drop(columns=[wkt])
    elif lon is not None and lat is not None:
        x = pd.to_numeric(table[lon].str.strip(), errors="coerce")
        y = pd.to_numeric(table[lat].str.strip(), errors="coerce")
        geometry = shapely.points(x.to_numpy(), y.to_numpy())
        geometry[x.isna().to_numpy() | y.isna().to_numpy()] = None
        table = table.drop(columns=[lon, lat])
    else:
        raise FileError(
            f"{path}: no geometry columns: expected a WKT column ({', '.join(WKT_NAMES)}) "
            f"or longitude/latitude columns ({', '.join(LON_NAMES)} / {', '.join(LAT_NAMES)})"
        )
    table = table.replace("", None)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry), crs=SRID)


def row_label(path: Path, index: int) -> str:
    """How a person finds row ``index`` (0-based) in the file: CSV lines, or feature numbers."""
    if Path(path).suffix.lower() == ".csv":
        return f"row {index + 1} (line {index + 2})"
    return f"feature {index + 1}"
