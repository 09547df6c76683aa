"""CQL2-JSON to SQL: the translator behind ``geo.cql.to_sql``.

Every operand is typed and checked first, every property is checked against the layer's fields
before it becomes an identifier, and every value is a bound parameter with an explicit cast, so a
filter that passes here is SQL that PostgreSQL accepts (see ``geo.cql`` for the choices made).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import cql2
import shapely
import shapely.geometry
from psycopg import sql

TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "string[]", "geometry",
         "object[]")  # fmt: skip
_GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                   "MultiPolygon", "GeometryCollection")  # fmt: skip
_FAMILY = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean",
           "date": "time", "datetime": "time", "string[]": "array",
           "geometry": "geometry", "object[]": "records"}  # fmt: skip
_CAST = {"string": "text", "number": "float8", "boolean": "boolean", "date": "date",
         "datetime": "timestamptz"}  # fmt: skip
_A = {"string": "a string", "number": "a number", "integer": "an integer", "boolean": "a boolean",
      "date": "a date", "datetime": "a datetime", "string[]": "an array of strings",
      "geometry": "a geometry", "object[]": "a list of records"}  # fmt: skip


class CQLError(ValueError):
    """Message says what is wrong, fit for an OGC 400 'description'."""


@dataclass(frozen=True)
class Field:
    name: str  # the queryable name users write, also the column name
    type: str  # one of TYPES

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"field {self.name}: type {self.type!r} is not one of {TYPES}")


@dataclass(frozen=True)
class Where:
    """A SQL boolean expression holding ``%s`` placeholders, and their values in order.

    Use: ``cur.execute(sql.SQL("SELECT ... WHERE {}").format(where.sql), where.params)``.
    """

    sql: sql.Composable
    params: list[Any]


@dataclass(frozen=True)
class _Term:
    """A typed piece of SQL with the values of its placeholders, in order of appearance."""

    sql: sql.Composable
    params: tuple[Any, ...]
    type: str  # a Field type; conditions are "boolean"
    node: Any = None  # the CQL2-JSON it came from, to name it in messages
    literal: bool = False  # no property involved

    @property
    def label(self) -> str:
        return _text(self.node)


_SLOT = re.compile(r"\{(\w*)\}")


def _fmt(template: str, *args: _Term, type: str = "boolean", **kwargs: _Term) -> _Term:
    """``sql.SQL(template).format(...)``, collecting params in the order the slots appear.

    Slots may repeat ({0} ... {0}); the operand's params are then repeated too.
    """
    params: list[Any] = []
    auto = iter(args)
    for slot in _SLOT.findall(template):
        term = next(auto) if not slot else args[int(slot)] if slot.isdigit() else kwargs[slot]
        params.extend(term.params)
    composed = sql.SQL(template).format(
        *(a.sql for a in args), **{k: t.sql for k, t in kwargs.items()}
    )
    return _Term(composed, tuple(params), type)


def _join(separator: str, terms: list[_Term]) -> _Term:
    params = tuple(p for t in terms for p in t.params)
    return _Term(sql.SQL(separator).join(t.sql for t in terms), params, "boolean")


def _param(value: Any, type: str, node: Any) -> _Term:
    return _Term(sql.SQL(f"%s::{_CAST[type]}"), (value,), type, node, literal=True)


def _as_date(term: _Term) -> _Term:
    """A timestamp cut to its UTC date (for comparisons with dates; see module docstring)."""
    converted = _fmt("(({}) AT TIME ZONE 'UTC')::date", term, type="date")
    return replace(converted, node=term.node, literal=term.literal)


# CQL2 comparison operator -> SQL operator (never user text in SQL).
_COMPARISON = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Floats on both sides: "/" must not become integer division, integers must not overflow.
_ARITH = {op: f"({{}}::float8 {op} {{}}::float8)" for op in "+-*/"}
_SPATIAL = {"s_intersects": "ST_Intersects", "s_equals": "ST_Equals", "s_disjoint": "ST_Disjoint",
            "s_touches": "ST_Touches", "s_within": "ST_Within", "s_overlaps": "ST_Overlaps",
            "s_crosses": "ST_Crosses", "s_contains": "ST_Contains"}  # fmt: skip
_ARRAY = {"a_equals": "({0} @> {1} AND {0} <@ {1})", "a_contains": "({0} @> {1})",
          "a_containedby": "({0} <@ {1})", "a_overlaps": "({0} && {1})"}  # fmt: skip
# The definitions of the T_ functions: see Compiler.temporal.
_TEMPORAL = {
    "t_after": "{s1} > {e2}",
    "t_before": "{e1} < {s2}",
    "t_contains": "{s1} < {s2} AND {e1} > {e2}",
    "t_disjoint": "({e1} < {s2} OR {s1} > {e2})",
    "t_during": "{s1} > {s2} AND {e1} < {e2}",
    "t_equals": "{s1} = {s2} AND {e1} = {e2}",
    "t_finishedby": "{s1} < {s2} AND {e1} = {e2}",
    "t_finishes": "{s1} > {s2} AND {e1} = {e2}",
    "t_intersects": "{s1} <= {e2} AND {e1} >= {s2}",
    "t_meets": "{e1} = {s2}",
    "t_metby": "{s1} = {e2}",
    "t_overlappedby": "{s1} > {s2} AND {s1} < {e2} AND {e1} > {e2}",
    "t_overlaps": "{s1} < {s2} AND {e1} > {s2} AND {e1} < {e2}",
    "t_startedby": "{s1} = {s2} AND {e1} > {e2}",
    "t_starts": "{s1} = {s2} AND {e1} < {e2}",
}
_REJECTED = {
    "accenti": "ACCENTI (accent-insensitive comparison) is not supported; CASEI is",
    **{op: f"arithmetic operator '{op}' is not supported; use +, -, * or /" for op in "%^"},
    "div": "arithmetic operator 'div' is not supported; use +, -, * or /",
}


class Compiler:
    """Turns CQL2-JSON nodes into _Terms; ``call`` dispatches operations through _HANDLERS."""

    def __init__(self, fields: Mapping[str, Field], srid: int):
        self.fields, self.srid = fields, srid

    def predicate(self, node: Any) -> _Term:
        term = self.compile(node)
        if term.type != "boolean":
            raise CQLError(f"{term.label} is {_A[term.type]}, not a condition")
        return term

    def compile(self, node: Any) -> _Term:
        if isinstance(node, dict):
            if "op" in node:
                return self.call(node)
            if "property" in node:
                return self.property(node)
            if "date" in node or "timestamp" in node:
                key = "date" if "date" in node else "timestamp"
                kind = "date" if key == "date" else "datetime"
                return _param(_instant(node[key], kind), kind, node)
            if "bbox" in node:
                return self.bbox(node)
            if "type" in node:
                return self.geometry(node)
            if "interval" in node:
                raise CQLError(f"{_text(node)}: an INTERVAL can only be a T_ function argument")
        elif isinstance(node, list):
            raise CQLError(f"{_text(node)}: a list can only follow IN or be an A_ argument")
        elif node is None:
            raise CQLError("NULL is not a value; to select missing values write 'property IS NULL'")
        elif isinstance(node, bool):
            return _param(node, "boolean", node)
        elif isinstance(node, int | float):
            return _param(_number(node), "number", node)
        elif isinstance(node, str):
            return _param(_string(node), "string", node)
        raise CQLError(f"not a CQL2 expression: {_text(node)}")

    def call(self, node: dict) -> _Term:
        op, args = node.get("op"), node.get("args", [])
        if not isinstance(op, str) or not isinstance(args, list):
            raise CQLError(f"malformed operation: {_text(node)}")
        name = op.lower()
        if name in _REJECTED:
            raise CQLError(_REJECTED[name])
        if name not in _HANDLERS:
            raise CQLError(f"unknown function '{op}'")
        handler, arity = _HANDLERS[name]
        if len(args) != arity if arity else not args:
            wanted = f"{arity} argument{'s' * (arity > 1)}" if arity else "arguments"
            raise CQLError(f"{op.upper()} takes {wanted}, got {len(args)}: {_text(node)}")
        return replace(handler(self, name, args), node=node)

    def property(self, node: dict) -> _Term:
        name = node["property"]
        field = self.fields.get(name) if isinstance(name, str) else None
        if field is None and name == "geometry":
            field = next((f for f in self.fields.values() if f.type == "geometry"), None)
        if field is None:
            known = ", ".join(sorted(n for n, f in self.fields.items() if f.type != "object[]"))
            raise CQLError(f"unknown property {_text(name)}; queryables are: {known}")
        if field.type == "object[]":  # JSON: no SQL comparison of it is meaningful
            raise CQLError(f"{field.name} is {_A[field.type]}, which filters cannot use")
        return _Term(sql.Identifier(field.name), (), field.type, node)

    def unify(self, op: str, terms: list[_Term]) -> list[_Term]:
        """Check that the operands of a comparison can be compared; align dates and timestamps."""
        first = terms[0]
        for other in terms[1:]:
            if _FAMILY[other.type] != _FAMILY[first.type]:
                raise CQLError(_mismatch(first, other))
        family = _FAMILY[first.type]
        if family in ("geometry", "array"):
            instead = "S_EQUALS or another S_" if family == "geometry" else "A_EQUALS or another A_"
            raise CQLError(f"{op.upper()} cannot compare {_A[first.type]}; use {instead} function")
        if {t.type for t in terms} == {"date", "datetime"}:
            terms = [_as_date(t) if t.type == "datetime" else t for t in terms]
        return terms

    def logical(self, name: str, args: list) -> _Term:
        joined = _join(f" {name.upper()} ", [self.predicate(a) for a in args])
        return _fmt("({})", joined)

    def negate(self, name: str, args: list) -> _Term:
        return _fmt("(NOT {})", self.predicate(args[0]))

    def compare(self, name: str, args: list) -> _Term:
        left, right = self.unify(name, [self.compile(a) for a in args])
        return _fmt(f"({{}} {_COMPARISON[name]} {{}})", left, right)

    def like(self, name: str, args: list) -> _Term:
        value, pattern = self.compile(args[0]), args[1]
        casei = isinstance(pattern, dict) and str(pattern.get("op")).lower() == "casei"
        raw = pattern["args"][0] if casei and pattern.get("args") else pattern
        if not isinstance(raw, str):
            raise CQLError(f"the LIKE pattern must be a string literal, not {_text(pattern)}")
        if (len(raw) - len(raw.rstrip("\\"))) % 2:
            raise CQLError(f"the LIKE pattern {_text(raw)} ends with a lone escape character '\\'")
        if value.type != "string":
            raise CQLError(f"LIKE needs a string: {value.label} is {_A[value.type]}")
        return _fmt("({} LIKE {})", value, self.compile(pattern))

    def between(self, name: str, args: list) -> _Term:
        return _fmt("({} BETWEEN {} AND {})", *self.unify(name, [self.compile(a) for a in args]))

    def in_(self, name: str, args: list) -> _Term:
        value, items = args
        if not isinstance(items, list) or not items:
            raise CQLError(f"IN needs a non-empty list of values, not {_text(items)}")
        terms = self.unify(name, [self.compile(value), *(self.compile(i) for i in items)])
        return _fmt("({} IN ({}))", terms[0], _join(", ", terms[1:]))

    def is_null(self, name: str, args: list) -> _Term:
        return _fmt("({} IS NULL)", self.compile(args[0]))

    def casei(self, name: str, args: list) -> _Term:
        arg = self.compile(args[0])
        if arg.type != "string":
            raise CQLError(f"CASEI needs a string: {arg.label} is {_A[arg.type]}")
        return replace(_fmt("lower({})", arg, type="string"), literal=arg.literal)

    def arithmetic(self, name: str, args: list) -> _Term:
        terms = [self.compile(a) for a in args]
        for term in terms:
            if _FAMILY[term.type] != "number":
                raise CQLError(f"'{name}' needs numbers: {term.label} is {_A[term.type]}")
        result = _fmt(_ARITH[name], *terms, type="number")
        return replace(result, literal=all(t.literal for t in terms))

    def spatial(self, name: str, args: list) -> _Term:
        terms = [self.compile(a) for a in args]
        for term in terms:
            if term.type != "geometry":
                raise CQLError(f"{name.upper()} needs geometries: {term.label} is {_A[term.type]}")
        if name == "s_disjoint":
            return _fmt(_SPATIAL[name] + "({}, {})", *terms)
        # The bare && beside the predicate lets the index work under row-level security: only
        # LEAKPROOF conditions may drive an index scan there, and && is (migration 0005).
        return _fmt("({0} && {1} AND " + _SPATIAL[name] + "({0}, {1}))", *terms)

    def array(self, name: str, args: list) -> _Term:
        terms = []
        for node in args:
            if isinstance(node, list):
                if not all(isinstance(item, str) for item in node):
                    raise CQLError(f"{name.upper()}: only lists of strings are supported, "
                                   f"not {_text(node)}")  # fmt: skip
                terms.append(_Term(sql.SQL("%s::text[]"), ([_string(i) for i in node],),
                                   "string[]", node, literal=True))  # fmt: skip
                continue
            term = self.compile(node)
            if term.type != "string[]":
                raise CQLError(f"{name.upper()} needs arrays: {term.label} is {_A[term.type]}")
            terms.append(term)
        return _fmt(_ARRAY[name], *terms)

    def temporal(self, name: str, args: list) -> _Term:
        """T_ functions: Allen's interval relations as OWL-Time defines them (CQL2 cites it).

        The operands are A = [s1, e1] and B = [s2, e2], closed intervals; an instant t is [t, t],
        an open end ('..') is -infinity as a start and +infinity as an end. Then (_TEMPORAL):
          after: s1 > e2                before: e1 < s2
          meets: e1 = s2                metBy: s1 = e2
          starts: s1 = s2, e1 < e2      startedBy: s1 = s2, e1 > e2
          finishes: s1 > s2, e1 = e2    finishedBy: s1 < s2, e1 = e2
          during: s1 > s2, e1 < e2      contains: s1 < s2, e1 > e2
          overlaps: s1 < s2 < e1 < e2   overlappedBy: s2 < s1 < e2 < e1
          equals: s1 = s2, e1 = e2
          disjoint: before or after     intersects: not disjoint, i.e. s1 <= e2 and e1 >= s2
        With a date anywhere, timestamps are cut to UTC dates; an interval holding a date and a
        timestamp is compared as dates.
        """
        ends = [end for node in args for end in self.period(name, node)]
        kind = "datetime" if all(e is None or e.type == "datetime" for e in ends) else "date"
        for i, end in enumerate(ends):
            if end is None:  # an open end: starts (0, 2) reach back, ends (1, 3) forward
                sign = "-" if i % 2 == 0 else ""
                ends[i] = _Term(sql.SQL(f"'{sign}infinity'::{_CAST[kind]}"), (), kind)
            elif end.type != kind:
                ends[i] = _as_date(end)
        s1, e1, s2, e2 = ends
        return _fmt(f"({_TEMPORAL[name]})", s1=s1, e1=e1, s2=s2, e2=e2)

    def period(self, name: str, node: Any) -> tuple[_Term | None, _Term | None]:
        """An operand of a T_ function as (start, end); None for an open end."""
        if not (isinstance(node, dict) and "interval" in node):
            term = self.instant(name, node)
            return term, term
        bounds = node["interval"]
        if not (isinstance(bounds, list) and len(bounds) == 2):
            raise CQLError(f"an INTERVAL needs a start and an end: {_text(node)}")
        start, end = (None if b == ".." else self.instant(name, b) for b in bounds)
        literals = start and end and start.literal and end.literal and start.type == end.type
        if literals and start.params[0] > end.params[0]:
            raise CQLError(f"{_text(node)} ends before it starts")
        return start, end

    def instant(self, name: str, node: Any) -> _Term:
        if isinstance(node, str):  # an INTERVAL bound: a date or a timestamp
            for kind in ("date", "datetime"):
                with suppress(CQLError):
                    return _param(_instant(node, kind), kind, node)
            raise CQLError(f"{_text(node)} in an INTERVAL is neither a date nor a timestamp")
        term = self.compile(node)
        if term.type not in ("date", "datetime"):
            raise CQLError(f"{name.upper()} needs dates, timestamps or intervals: "
                           f"{term.label} is {_A[term.type]}")  # fmt: skip
        return term

    def bbox(self, node: dict) -> _Term:
        box = node["bbox"]
        if not (isinstance(box, list) and len(box) in (4, 6)):
            raise CQLError(f"a BBOX needs 4 or 6 numbers: {_text(node)}")
        corners = (0, 1, 2, 3) if len(box) == 4 else (0, 1, 3, 4)  # 6 numbers: ignore heights
        west, south, east, north = (_number(box[i]) for i in corners)
        if south > north:
            raise CQLError(f"{_text(node)}: its south edge is north of its north edge")
        if west > east and self.srid != 4326:
            raise CQLError(f"{_text(node)}: its west edge is east of its east edge")
        self.check_transformable([west, east, west, east], [south, north, north, south])
        # West > east in longitude/latitude: the box spans the antimeridian (CQL2 7.5.1).
        boxes = [(west, south, east, north)]
        if west > east:
            boxes = [(west, south, 180.0, north), (-180.0, south, east, north)]
        envelope = "ST_MakeEnvelope(%s::float8, %s::float8, %s::float8, %s::float8, %s::integer)"
        parts = [_Term(sql.SQL(envelope), (*b, self.srid), "geometry") for b in boxes]
        term = parts[0] if len(parts) == 1 else _fmt("ST_Collect({}, {})", *parts, type="geometry")
        return self.to_storage_crs(term, node)

    def geometry(self, node: dict) -> _Term:
        kind = node.get("type")
        if kind not in _GEOMETRY_TYPES:
            raise CQLError(f"unknown geometry type {_text(kind)}; use one of {_GEOMETRY_TYPES}")
        try:
            shape = shapely.geometry.shape(node)
            xy = shapely.get_coordinates(shape)
        except Exception as error:
            message = str(error).strip()
            reason = message.splitlines()[0] if message else type(error).__name__
            raise CQLError(f"malformed {kind} literal {_text(node)}: {reason}") from None
        if shape.is_empty:
            raise CQLError(f"the {kind} literal {_text(node)} is empty")
        if not all(math.isfinite(v) for v in xy.flat):
            raise CQLError(f"the {kind} literal {_text(node)} has a coordinate that is not finite")
        self.check_transformable(list(xy[:, 0]), list(xy[:, 1]))
        if not shape.is_valid:  # e.g. a bow-tie polygon: GEOS predicates need valid input
            shape = shapely.make_valid(shape)
        geojson = shapely.to_geojson(shapely.force_2d(shape))
        term = _Term(sql.SQL("ST_GeomFromGeoJSON(%s::text)"), (geojson,), "geometry")
        srid = _Term(sql.SQL("%s::integer"), (self.srid,), "integer")
        return self.to_storage_crs(_fmt("ST_SetSRID({}, {})", term, srid, type="geometry"), node)

    def to_storage_crs(self, term: _Term, node: dict) -> _Term:
        if self.srid != 4326:
            term = _fmt("ST_Transform({}, 4326)", term, type="geometry")
        return replace(term, node=node, literal=True)

    def check_transformable(self, xs: list[float], ys: list[float]) -> None:
        """Refuse coordinates that PostGIS could not transform to 4326 (it would raise an error)."""
        if self.srid == 4326:
            return
        from pyproj import Transformer
        from pyproj.exceptions import CRSError, ProjError

        try:
            transformer = Transformer.from_crs(self.srid, 4326, always_xy=True)
        except CRSError:
            raise CQLError(f"unknown filter-crs EPSG:{self.srid}") from None
        try:
            lons, lats = transformer.transform(xs, ys, errcheck=True)
        except ProjError:
            lons = lats = [math.nan]
        if not all(math.isfinite(v) for v in [*lons, *lats]):
            raise CQLError(f"a coordinate lies outside the area of filter-crs EPSG:{self.srid}")


_HANDLERS: dict[str, tuple[Callable[[Compiler, str, list], _Term], int | None]] = {
    "and": (Compiler.logical, None),
    "or": (Compiler.logical, None),
    "not": (Compiler.negate, 1),
    "like": (Compiler.like, 2),
    "between": (Compiler.between, 3),
    "in": (Compiler.in_, 2),
    "isnull": (Compiler.is_null, 1),
    "casei": (Compiler.casei, 1),
    **{op: (Compiler.compare, 2) for op in _COMPARISON},
    **{op: (Compiler.arithmetic, 2) for op in _ARITH},
    **{op: (Compiler.spatial, 2) for op in _SPATIAL},
    **{op: (Compiler.temporal, 2) for op in _TEMPORAL},
    **{op: (Compiler.array, 2) for op in _ARRAY},
}


def _mismatch(a: _Term, b: _Term) -> str:
    if a.literal != b.literal:  # name the property side by its type, the value as written
        value, other = (a, b) if a.literal else (b, a)
        hint = ""
        if _FAMILY[other.type] == "time" and value.type == "string":
            hint = f" (write {'TIMESTAMP' if other.type == 'datetime' else 'DATE'}({value.label}))"
        return f"{other.label} is {_A[other.type]}; {value.label} is not{hint}"
    return f"cannot compare {a.label} ({_A[a.type]}) with {b.label} ({_A[b.type]})"


def _instant(value: Any, kind: str) -> date | datetime:
    """A DATE('…') or TIMESTAMP('…') value; a timestamp without a UTC offset is taken as UTC."""
    if isinstance(value, str):
        try:
            if kind == "date":
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    if kind == "date":
        raise CQLError(f"DATE({_text(value)}) is not a valid date (YYYY-MM-DD)")
    raise CQLError(f"TIMESTAMP({_text(value)}) is not a valid timestamp (e.g. 2024-05-01T12:00Z)")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CQLError(f"{_text(value)} is not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise CQLError(f"{_text(value)} is not a finite number")
    return number


def _string(value: str) -> str:
    """PostgreSQL text holds no NUL and only encodable Unicode; refuse others before SQL does."""
    if "\x00" in value:
        raise CQLError(f"the string {_text(value)} contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise CQLError(f"the string {_text(value)} is not valid Unicode") from None
    return value


def _text(node: Any) -> str:
    """A node as CQL2-Text, shortened, for messages."""
    if isinstance(node, str):
        text = "'" + node.replace("'", "''").replace("\x00", "\\0") + "'"
    elif isinstance(node, dict) and isinstance(node.get("property"), str):
        text = node["property"]
    else:
        try:
            text = cql2.Expr(node).to_text()
        except Exception:
            text = json.dumps(node, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
