"""Query parameters of OGC API – Features, parsed once and checked with a reason for every 400.

Why by hand and not FastAPI's validation: OGC wants 400 with an exception body naming the
parameter, and a few parameters (bbox, datetime, sortby) have grammars of their own. Each parser
takes the raw string and returns a typed value or raises ParameterError.
"""

from __future__ import annotations

import datetime as dt
import math

from starlette.datastructures import QueryParams

from geo import crs as crs_module
from geo.cql import CQLError, Where, parse, to_sql
from geo.query import ItemsQuery, Source

LIMIT_DEFAULT = 10
LIMIT_MAX = 10_000
STANDARD = (
    "f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang",
    "filter-crs", "sortby", "properties", "skipGeometry", "as-of", "lang",
)  # fmt: skip
IGNORED = ("lang",)
"""Accepted everywhere and ignored by JSON answers: the language of HTML pages."""
FILTER_LANGS = ("cql2-text", "cql2-json")


class ParameterError(ValueError):
    """An invalid parameter; the message is the OGC exception's description."""


class FormatError(ParameterError):
    """An ``f`` the resource cannot answer in: the 400 is OGC exception JSON even for a browser
    (there is no page of that resource to show it on)."""


def integer(name: str, value: str | None, default: int, minimum: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ParameterError(f"{name} must be a whole number, not {value!r}") from None
    if not minimum <= number <= maximum:
        raise ParameterError(f"{name} must be between {minimum} and {maximum}, not {number}")
    return number


def bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` or the 6-number 3D form (heights are ignored: data is 2D)."""
    if value is None or value == "":
        return None
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise ParameterError(
            f"bbox must be 4 or 6 comma-separated numbers, not {value!r}"
        ) from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise ParameterError(f"bbox must be 4 or 6 finite numbers, not {value!r}")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if miny > maxy:
        raise ParameterError(f"bbox lower corner is above the upper corner: {value!r}")
    if minx > maxx:
        raise ParameterError(f"bbox crosses the antimeridian (minx > maxx): {value!r}")
    return minx, miny, maxx, maxy


def instant(text: str, end: bool = False) -> dt.datetime | None:
    """An RFC 3339 date-time or a full date; a date stands for its whole day."""
    if text in ("", ".."):
        return None
    if "\x00" in text:  # CPython's fromisoformat ignores a NUL after the time
        raise ParameterError(f"datetime {text!r} contains a NUL character")
    try:
        if "T" in text.upper():
            moment = dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"datetime {text!r} is not an RFC 3339 date-time or date (2024-05-01T00:00:00Z)"
        ) from None
    moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)
    return moment


def as_of(value: str | None) -> dt.datetime | None:
    """``as-of``: the moment whose data to read (a date: the end of that day), not the future."""
    if value is None:
        return None
    try:
        moment = instant(value, end=True)
    except ParameterError:
        raise ParameterError(
            f"as-of {value!r} is not an RFC 3339 date-time or date (2026-01-31T12:00:00Z)"
        ) from None
    if moment is None:
        raise ParameterError("as-of needs a date-time or a date")
    return moment


def check_transformable(
    box: tuple[float, float, float, float] | None, box_crs: crs_module.CRS
) -> None:
    """Refuse a bbox PostGIS could not transform to lon/lat (ST_Transform raises: a 500).

    E.g. -2e7,-2e7,2e7,2e7 in a UTM zone: the inverse projection has no answer that far out.
    """
    if box is None or box_crs.srid == 4326:
        return
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    x1, y1, x2, y2 = box
    transformer = Transformer.from_crs(box_crs.srid, 4326, always_xy=True)
    try:
        lons, lats = transformer.transform([x1, x2, x2, x1], [y1, y1, y2, y2], errcheck=True)
    except ProjError:
        lons = lats = [math.nan]
    if not all(math.isfinite(v) for v in [*lons, *lats]):
        raise ParameterError(f"bbox reaches outside the area bbox-crs {box_crs.uri} can represent")


def datetime(value: str | None) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """An instant, or an interval ``start/end`` with ``..`` or empty for an open end."""
    if value is None or value == "":
        return None
    parts = value.split("/")
    if len(parts) == 1:
        if parts[0] == "..":
            raise ParameterError("datetime '..' is only allowed as one end of an interval")
        return instant(parts[0]), instant(parts[0], end=True)
    if len(parts) != 2:
        raise ParameterError(f"datetime must be an instant or start/end, not {value!r}")
    start, end = instant(parts[0]), instant(parts[1], end=True)
    if start is None and end is None:
        raise ParameterError("datetime interval must have at least one closed end")
    if start and end and start > end:
        raise ParameterError(f"datetime interval ends before it starts: {value!r}")
    return start, end


def names(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def properties(source: Source, value: str | None) -> tuple[str, ...] | None:
    """``properties=a,b``: known names, each once, checked here, before any page is started.

    Why here: a page of more than 1,000 features is streamed, so a problem found once the
    statement runs could only cut the body short after a 200 (51 repeated names
    passed PostgreSQL's 100 arguments of json_build_object)."""
    chosen = names(value)
    if chosen is None:
        return None
    repeated = sorted({name for name in chosen if chosen.count(name) > 1})
    if repeated:
        raise ParameterError(f"properties: {', '.join(map(repr, repeated))} given more than once")
    unknown = [name for name in chosen if name not in source.published]  # nested records too
    if unknown:
        raise ParameterError(
            f"properties: unknown property {', '.join(map(repr, unknown))}; "
            f"{source.table} has {', '.join(source.published)}"
        )
    return chosen


def sortby(value: str | None) -> tuple[tuple[str, bool], ...]:
    """``name,-tonnage_mt`` or ``+name``: field names with an optional direction sign."""
    if not value:
        return ()
    keys = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if not name:
            raise ParameterError(f"sortby has an empty field name: {value!r}")
        keys.append((name, descending))
    return tuple(keys)


def boolean(name: str, value: str | None) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ParameterError(f"{name} must be true or false, not {value!r}")


def crs(name: str, value: str | None) -> crs_module.CRS:
    try:
        return crs_module.parse(value)
    except crs_module.CRSError as error:
        raise ParameterError(f"{name}: {error}") from None


def filter_where(source: Source, params: QueryParams) -> Where | None:
    text = params.get("filter")
    lang = params.get("filter-lang", "cql2-text")
    if lang not in FILTER_LANGS:
        raise ParameterError(f"filter-lang must be one of {', '.join(FILTER_LANGS)}, not {lang!r}")
    filter_crs = crs("filter-crs", params.get("filter-crs"))
    if filter_crs.lat_first:
        raise ParameterError("filter-crs: use CRS84 (lon/lat) or a projected CRS")
    if text is None or text.strip() == "":
        return None
    try:
        return to_sql(parse(text, lang), source.fields, filter_crs=filter_crs.srid)
    except CQLError as error:
        raise ParameterError(f"filter: {error}") from None


def items_query(source: Source, params: QueryParams) -> ItemsQuery:
    """Every items parameter checked; unknown parameters are refused, not silently ignored."""
    unknown = [k for k in params if k not in STANDARD and k not in source.properties]
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}; use the standard ones or "
            f"property names of {source.table} ({', '.join(source.properties)})"
        )
    for key in params:
        if len(params.getlist(key)) > 1:
            raise ParameterError(f"parameter {key!r} is given more than once")
    box, box_crs = bbox(params.get("bbox")), crs("bbox-crs", params.get("bbox-crs"))
    check_transformable(box, box_crs)
    return ItemsQuery(
        bbox=box,
        bbox_crs=box_crs,
        interval=datetime(params.get("datetime")),
        equals={k: v for k, v in params.items() if k in source.properties},
        where=filter_where(source, params),
        sortby=sortby(params.get("sortby")),
        properties=properties(source, params.get("properties")),
        skip_geometry=boolean("skipGeometry", params.get("skipGeometry")),
        crs=crs("crs", params.get("crs")),
        limit=integer("limit", params.get("limit"), LIMIT_DEFAULT, 1, LIMIT_MAX),
        offset=integer("offset", params.get("offset"), 0, 0, 10**9),
        as_of=as_of(params.get("as-of")),
    )
