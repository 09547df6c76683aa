"""Checking every row of a file against a layer before anything is written.

Why here and not only in the database: the database rejects the first bad row of a COPY and
stops; a person fixing a file wants every problem at once, each with its row and reason. The
database keeps the same rules as constraints, so this is a courtesy, never the only guard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from sqlalchemy import ARRAY, Boolean, Date, Float, Table
from sqlalchemy.sql.schema import Column

from geo.models import SRID, internal
from geo.settings import PAKISTAN_EXTENT

# Pakistan spans lon 60.88–77.81, lat 23.73–37.00; a one-degree margin catches swapped axes,
# wrong CRSs and zero coordinates while allowing features that straddle a border.
EXTENT = PAKISTAN_EXTENT
MARGIN = 1.0
ALLOWED = (EXTENT[0] - MARGIN, EXTENT[1] - MARGIN, EXTENT[2] + MARGIN, EXTENT[3] + MARGIN)
PROMOTE = {"POLYGON": "MULTIPOLYGON", "LINESTRING": "MULTILINESTRING"}
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
PLAIN = {"empty", "date", "datetime", "datetime64", "floating", "integer", "boolean", "decimal"}
TYPE_NAMES = np.array(["", "POINT", "LINESTRING", "LINEARRING", "POLYGON", "MULTIPOINT",
                       "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"])  # fmt: skip
HEX2 = np.array([int.from_bytes(f"{b:02X}".encode(), "little") for b in range(256)], "<u2")


@dataclass(frozen=True)
class Problem:
    row: int | None  # 0-based row in the file; None for a problem with the file as a whole
    field: str
    reason: str


@dataclass
class Checked:
    """Rows ready to COPY (``frame``) or the problems that stop them."""

    frame: pd.DataFrame
    columns: list[str]
    problems: list[Problem] = field(default_factory=list)


def server_owned(column: Column) -> bool:
    """Columns the database fills: identities, generated values, ``updated_at``, tile ranks."""
    return bool(
        column.primary_key
        or column.computed is not None
        or column.name == "updated_at"
        or internal(column)
    )


def required(column: Column) -> bool:
    return not column.nullable and column.server_default is None and not server_owned(column)


def check(frame: gpd.GeoDataFrame, table: Table, whole_file: bool = True) -> Checked:
    """Every row of ``frame`` against ``table``'s rules.

    ``whole_file=False`` when ``frame`` is one chunk of a file: duplicate keys then need the
    whole file (see ``duplicate_keys``) and file-wide problems are reported by the first chunk.
    """
    problems: list[Problem] = []
    owned = {c.name for c in table.columns if server_owned(c)}
    known = {c.name for c in table.columns}
    frame = frame.rename(columns=_untruncate(frame.columns, known))
    geometry_column = frame.geometry.name
    # Records served inside a feature (a deposit's resources) come back in files and edits
    # made from what the API served: they are read, never written through the feature.
    frame = frame.drop(columns=[c for c in table.info.get("published_only", ()) if c in frame])
    attributes = [c for c in frame.columns if c != geometry_column]
    unknown = [c for c in attributes if c not in known and c not in owned]
    if unknown:
        writable = sorted(known - owned - {"geom"})
        problems.append(
            Problem(
                None,
                ", ".join(unknown),
                f"unknown field(s) for {table.name}; it has {', '.join(writable)}",
            )
        )
    for column in table.columns:
        if required(column) and column.name != "geom" and column.name not in frame.columns:
            problems.append(Problem(None, column.name, "required field missing from the file"))

    # Columns gathered first and framed once: inserting them one by one into a frame cost a
    # Part 4 write (one feature, 20 columns) about a third of its checking time.
    columns: dict[str, pd.Series] = {}
    for name in attributes:
        if name in owned or name not in known or name == "geom":
            continue
        values, bad = _convert(frame[name], table.columns[name])
        problems.extend(Problem(int(i), name, reason) for i, reason in bad)
        columns[name] = values
        if required(table.columns[name]):
            problems.extend(
                Problem(int(i), name, "required value is empty")
                for i in values.index[values.isna()]
            )
    geometry, bad = _check_geometry(frame.geometry.values, table)
    problems.extend(Problem(int(frame.index[i]), "geometry", reason) for i, reason in bad)
    out = pd.DataFrame(columns, index=frame.index)
    out["geom"] = geometry
    key = table.info.get("natural_key")
    if whole_file and key in out.columns:
        problems.extend(_duplicates(out[key], key))
    problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.field))
    return Checked(out, list(out.columns), problems)


def duplicate_keys(frame: pd.DataFrame, table: Table) -> list[Problem]:
    """Rows repeating an earlier row's natural key, over a whole file (chunks cannot see it)."""
    key = table.info.get("natural_key")
    frame = frame.rename(columns=_untruncate(frame.columns, {c.name for c in table.columns}))
    if key not in frame.columns:
        return []
    values, _ = _convert(frame[key], table.columns[key])
    return _duplicates(values, key)


def _duplicates(values: pd.Series, key: str) -> list[Problem]:
    repeated = values.notna() & values.duplicated(keep="first")
    return [
        Problem(int(i), key, f"duplicate {key} {values.at[i]!r} in this file")
        for i in values.index[repeated]
    ]


def _untruncate(columns: pd.Index, known: set[str]) -> dict[str, str]:
    """dBASE (Shapefiles) cuts field names to 10 characters: ``coord_qual`` is ``coord_quality``."""
    renames = {}
    for name in columns:
        if len(name) == 10 and name not in known:
            matches = [k for k in known if k.startswith(name)]
            if len(matches) == 1:
                renames[name] = matches[0]
    return renames


def _convert(series: pd.Series, column: Column) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Coerce a file column to the table column's type; report values that do not fit.

    Column-wise on purpose: a million-row file must not cost a Python call per cell. Missing
    values come back as pandas' NA/NaN (COPY writes them as NULL).
    """
    kind = column.type
    vocab = column.info.get("vocab")
    bad: list[tuple[int, str]] = []
    present = ~_isnull(series)
    if isinstance(kind, Float):
        values = pd.to_numeric(series.where(present), errors="coerce").astype("float64")
        wrong = series.index[present & values.isna()]
        bad += [(i, f"{series[i]!r} is not a number") for i in wrong]
    elif isinstance(kind, Date):
        moments = pd.to_datetime(series.where(present), errors="coerce", format="ISO8601")
        bad += [
            (i, f"{series[i]!r} is not a date (YYYY-MM-DD)")
            for i in series.index[present & moments.isna()]
        ]
        values = moments.dt.strftime("%Y-%m-%d").astype(object).where(moments.notna(), None)
    elif isinstance(kind, Boolean):
        values = series.map(_boolean)
        bad += [
            (i, f"{series[i]!r} is not true or false")
            for i in series.index[present & values.isna()]
        ]
    elif isinstance(kind, ARRAY):
        values, bad = _lists(series, vocab)
    else:
        values = series.astype("string").str.strip().where(present)
        if vocab:
            outside = present & ~values.isin(vocab).fillna(False).astype(bool)
            bad += [(i, f"{values[i]!r} is not one of {', '.join(vocab)}")
                    for i in values.index[outside]]  # fmt: skip
    return values, bad


def _lists(series: pd.Series, vocab: tuple[str, ...] | None) -> tuple[pd.Series, list]:
    """Parse (and check) each distinct list once: real files repeat the same few lists."""
    if isinstance(series.dtype, pd.StringDtype):  # text (GPKG, CSV): hashable already
        hashable = series
    else:
        hashable = series.map(lambda v: tuple(v) if isinstance(v, list | tuple | np.ndarray) else v)
    try:
        codes, uniques = pd.factorize(hashable, use_na_sentinel=True)
    except TypeError:  # a JSON object in or as a list (an API body's [{}]): compared as text,
        hashable = series.map(_as_text)  # which is what _text_list makes of it anyway
        codes, uniques = pd.factorize(hashable, use_na_sentinel=True)
    lookup = np.empty(len(uniques) + 1, dtype=object)  # code -1 (missing) takes the last: None
    reasons: dict[int, tuple[str, ...]] = {}
    for code, value in enumerate(uniques):
        items, found = _checked_list(list(value) if isinstance(value, tuple) else value, vocab)
        lookup[code] = items
        if found:
            reasons[code] = found
    bad = [(series.index[row], reason)
           for row in np.flatnonzero(np.isin(codes, list(reasons)))
           for reason in reasons[codes[row]]]  # fmt: skip
    return pd.Series(lookup[codes], index=series.index, dtype=object), bad


def _as_text(value: object) -> object:
    """A list value made hashable without changing what ``_text_list`` reads from it."""
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(str(v) for v in value)
    return str(value) if isinstance(value, dict | set) else value


def _checked_list(
    value: object, vocab: tuple[str, ...] | None
) -> tuple[list[str] | None, tuple[str, ...]]:
    """One distinct list value parsed, with its problems; text answers come from a cache."""
    if isinstance(value, str):
        return _checked_text_list(value, vocab)
    return _check_items(_text_list(value), vocab)


@lru_cache(maxsize=2**16)
def _checked_text_list(
    value: str, vocab: tuple[str, ...] | None
) -> tuple[list[str] | None, tuple[str, ...]]:
    """Why cached: a big file is checked a chunk at a time, and every chunk holds most of the
    file's few thousand distinct lists; each is parsed once per process, not once per chunk.
    Callers never mutate the list handed out."""
    return _check_items(_text_list(value), vocab)


def _check_items(
    items: list[str] | None, vocab: tuple[str, ...] | None
) -> tuple[list[str] | None, tuple[str, ...]]:
    found = ["empty list"] if items == [] and vocab else []
    found += [f"{x!r} is not one of {', '.join(vocab)}" for x in items or [] if vocab
              and x not in vocab]  # fmt: skip
    return items, tuple(found)


def _isnull(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype) or (
        series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "string"
    ):
        text = series.astype("string")
        return (text.isna() | text.str.strip().eq("")).fillna(True).astype(bool)
    if series.dtype != object:
        return series.isna()
    if pd.api.types.infer_dtype(series, skipna=True) in PLAIN:
        return series.isna()
    return series.map(_missing)


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | np.ndarray):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    return True if text in TRUE else False if text in FALSE else None


def _text_list(value: object) -> list[str] | None:
    """A list from GeoJSON arrays, JSON text, PostgreSQL literals, or ``a;b`` / ``a,b`` text."""
    if _missing(value):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        items = [str(v).strip() for v in value]
    else:
        text = str(value).strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                items = [str(v).strip() for v in json.loads(text)]
            except (json.JSONDecodeError, TypeError):
                items = [text]
        else:
            if text.startswith("{") and text.endswith("}"):
                text = text[1:-1]
            separator = ";" if ";" in text else ","
            items = [v.strip().strip('"') for v in text.split(separator)]
    return [v for v in items if v]


def _check_geometry(values: np.ndarray, table: Table) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Promote single parts to multi where the column wants multi; report what cannot be stored."""
    column = table.columns["geom"]
    wanted = column.type.geometry_type.upper()
    allowed = table.info.get("geometry_types") or (wanted,)
    bad: list[tuple[int, str]] = []
    values = np.asarray(values, dtype=object)
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    bad += [(int(i), "missing or empty geometry") for i in np.flatnonzero(missing)]
    kinds = TYPE_NAMES[shapely.get_type_id(values) + 1]
    for single, multi in PROMOTE.items():
        promote = (kinds == single) & (multi in allowed)
        if promote.any():
            values[promote] = [
                shapely.MultiPolygon([g])
                if multi == "MULTIPOLYGON"
                else shapely.MultiLineString([g])
                for g in values[promote]
            ]
            kinds[promote] = multi
    if "POINT" in allowed:
        lone = (kinds == "MULTIPOINT") & (shapely.get_num_geometries(values) == 1)
        values[lone] = shapely.get_geometry(values[lone], 0)
        kinds[lone] = "POINT"
    wrong = ~missing & ~np.isin(kinds, allowed) & ("GEOMETRY" not in allowed)
    bad += [
        (int(i), f"{kinds[i].title()} where {table.name} holds {' or '.join(allowed).title()}")
        for i in np.flatnonzero(wrong)
    ]
    ok = ~missing & ~wrong
    invalid = ok & ~shapely.is_valid(values)
    bad += [
        (int(i), f"invalid geometry: {shapely.is_valid_reason(values[i])}")
        for i in np.flatnonzero(invalid)
    ]
    bounds = shapely.bounds(values)
    minx, miny, maxx, maxy = ALLOWED
    outside = ok & (
        (bounds[:, 0] < minx)
        | (bounds[:, 1] < miny)
        | (bounds[:, 2] > maxx)
        | (bounds[:, 3] > maxy)
    )
    bad += [
        (
            int(i),
            "outside Pakistan's extent (lon {:.2f}..{:.2f}, lat {:.2f}..{:.2f}): "
            "wrong CRS or swapped lon/lat?".format(*bounds[i][[0, 2, 1, 3]]),
        )
        for i in np.flatnonzero(outside)
    ]
    wkb = np.full(len(values), None, dtype=object)
    good = ok & ~invalid & ~outside
    if good.all() and (fast := ewkb_hex(values, SRID)) is not None:
        return fast, bad
    if good.any():
        wkb[good] = shapely.to_wkb(
            shapely.set_srid(values[good], SRID), hex=True, include_srid=True, output_dimension=2
        )
    return wkb, bad


def ewkb_hex(values: np.ndarray, srid: int) -> pd.api.extensions.ExtensionArray | None:
    """Hex EWKB with ``srid``, as an Arrow-backed string column, when all WKBs are one length.

    GEOS's hex writer and set_srid cost ~1.8 s per million points; little-endian WKB from GEOS
    with the SRID flag and value spliced in by NumPy, then hex-encoded by NumPy, ~0.5 s. Only
    for equal-length WKB (points, or any layer of same-sized shapes); None otherwise.
    """
    wkb = pa.array(shapely.to_wkb(values, hex=False, output_dimension=2, byte_order=1),
                   pa.binary())  # fmt: skip
    n = len(wkb)
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32)[: n + 1]
    size = int(offsets[1] - offsets[0]) if n else 0
    if n == 0 or offsets[-1] - offsets[0] != size * n:
        return None
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    data = data.reshape(n, size)
    if not (data[:, 1:5].view("<u4") == data[0, 1:5].view("<u4")).all():
        return None  # equal lengths but mixed types: not worth the care
    out = np.empty((n, size + 4), dtype=np.uint8)
    out[:, :5] = data[:, :5]
    out[:, 4] |= 0x20  # wkbSRID flag: high byte of the little-endian type
    out[:, 5:9] = np.frombuffer(np.array(srid, dtype="<u4").tobytes(), np.uint8)
    out[:, 9:] = data[:, 5:]
    text = HEX2[out]  # (n, size + 4) uint16: two ASCII digits per byte
    width = 2 * (size + 4)
    array = pa.StringArray.from_buffers(
        n,
        pa.py_buffer(np.arange(0, width * (n + 1), width, dtype=np.int32)),
        pa.py_buffer(text),
    )
    return pd.arrays.ArrowStringArray(pa.chunked_array([array]))
