"""CQL2-JSON to SQL: the translator behind ``geo.cql.to_sql``.

Every operand is typed and checked first, every property is checked against the layer's fields
before it becomes an identifier, and every value is a bound parameter with an explicit cast, so a
filter that passes here is SQL that PostgreSQL accepts (see ``geo.cql`` for the choices made).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import replace
from typing import Any

import shapely
import shapely.geometry
from psycopg import sql

from geo.cql_terms import (
    CAST,
    FAMILY,
    GEOMETRY_TYPES,
    TYPE_NAMES,
    CQLError,
    Field,
    Term,
    as_date,
    checked_string,
    cql_text,
    finite_number,
    fmt,
    instant,
    join,
    mismatch,
    param,
)

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

    def predicate(self, node: Any) -> Term:
        term = self.compile(node)
        if term.type != "boolean":
            raise CQLError(f"{term.label} is {TYPE_NAMES[term.type]}, not a condition")
        return term

    def compile(self, node: Any) -> Term:
        if isinstance(node, dict):
            if "op" in node:
                return self.call(node)
            if "property" in node:
                return self.property(node)
            if "date" in node or "timestamp" in node:
                key = "date" if "date" in node else "timestamp"
                kind = "date" if key == "date" else "datetime"
                return param(instant(node[key], kind), kind, node)
            if "bbox" in node:
                return self.bbox(node)
            if "type" in node:
                return self.geometry(node)
            if "interval" in node:
                raise CQLError(f"{cql_text(node)}: an INTERVAL can only be a T_ function argument")
        elif isinstance(node, list):
            raise CQLError(f"{cql_text(node)}: a list can only follow IN or be an A_ argument")
        elif node is None:
            raise CQLError("NULL is not a value; to select missing values write 'property IS NULL'")
        elif isinstance(node, bool):
            return param(node, "boolean", node)
        elif isinstance(node, int | float):
            return param(finite_number(node), "number", node)
        elif isinstance(node, str):
            return param(checked_string(node), "string", node)
        raise CQLError(f"not a CQL2 expression: {cql_text(node)}")

    def call(self, node: dict) -> Term:
        op, args = node.get("op"), node.get("args", [])
        if not isinstance(op, str) or not isinstance(args, list):
            raise CQLError(f"malformed operation: {cql_text(node)}")
        name = op.lower()
        if name in _REJECTED:
            raise CQLError(_REJECTED[name])
        if name not in _HANDLERS:
            raise CQLError(f"unknown function '{op}'")
        handler, arity = _HANDLERS[name]
        if len(args) != arity if arity else not args:
            wanted = f"{arity} argument{'s' * (arity > 1)}" if arity else "arguments"
            raise CQLError(f"{op.upper()} takes {wanted}, got {len(args)}: {cql_text(node)}")
        return replace(handler(self, name, args), node=node)

    def property(self, node: dict) -> Term:
        name = node["property"]
        field = self.fields.get(name) if isinstance(name, str) else None
        if field is None and name == "geometry":
            field = next((f for f in self.fields.values() if f.type == "geometry"), None)
        if field is None:
            known = ", ".join(sorted(n for n, f in self.fields.items() if f.type != "object[]"))
            raise CQLError(f"unknown property {cql_text(name)}; queryables are: {known}")
        if field.type == "object[]":  # JSON: no SQL comparison of it is meaningful
            raise CQLError(f"{field.name} is {TYPE_NAMES[field.type]}, which filters cannot use")
        return Term(sql.Identifier(field.name), (), field.type, node)

    def unify(self, op: str, terms: list[Term]) -> list[Term]:
        """Check that the operands of a comparison can be compared; align dates and timestamps."""
        first = terms[0]
        for other in terms[1:]:
            if FAMILY[other.type] != FAMILY[first.type]:
                raise CQLError(mismatch(first, other))
        family = FAMILY[first.type]
        if family in ("geometry", "array"):
            instead = "S_EQUALS or another S_" if family == "geometry" else "A_EQUALS or another A_"
            raise CQLError(
                f"{op.upper()} cannot compare {TYPE_NAMES[first.type]}; use {instead} function"
            )
        if {t.type for t in terms} == {"date", "datetime"}:
            terms = [as_date(t) if t.type == "datetime" else t for t in terms]
        return terms

    def logical(self, name: str, args: list) -> Term:
        joined = join(f" {name.upper()} ", [self.predicate(a) for a in args])
        return fmt("({})", joined)

    def negate(self, name: str, args: list) -> Term:
        return fmt("(NOT {})", self.predicate(args[0]))

    def compare(self, name: str, args: list) -> Term:
        left, right = self.unify(name, [self.compile(a) for a in args])
        return fmt(f"({{}} {_COMPARISON[name]} {{}})", left, right)

    def like(self, name: str, args: list) -> Term:
        value, pattern = self.compile(args[0]), args[1]
        casei = isinstance(pattern, dict) and str(pattern.get("op")).lower() == "casei"
        raw = pattern["args"][0] if casei and pattern.get("args") else pattern
        if not isinstance(raw, str):
            raise CQLError(f"the LIKE pattern must be a string literal, not {cql_text(pattern)}")
        if (len(raw) - len(raw.rstrip("\\"))) % 2:
            raise CQLError(
                f"the LIKE pattern {cql_text(raw)} ends with a lone escape character '\\'"
            )
        if value.type != "string":
            raise CQLError(f"LIKE needs a string: {value.label} is {TYPE_NAMES[value.type]}")
        return fmt("({} LIKE {})", value, self.compile(pattern))

    def between(self, name: str, args: list) -> Term:
        return fmt("({} BETWEEN {} AND {})", *self.unify(name, [self.compile(a) for a in args]))

    def in_(self, name: str, args: list) -> Term:
        value, items = args
        if not isinstance(items, list) or not items:
            raise CQLError(f"IN needs a non-empty list of values, not {cql_text(items)}")
        terms = self.unify(name, [self.compile(value), *(self.compile(i) for i in items)])
        return fmt("({} IN ({}))", terms[0], join(", ", terms[1:]))

    def is_null(self, name: str, args: list) -> Term:
        return fmt("({} IS NULL)", self.compile(args[0]))

    def casei(self, name: str, args: list) -> Term:
        arg = self.compile(args[0])
        if arg.type != "string":
            raise CQLError(f"CASEI needs a string: {arg.label} is {TYPE_NAMES[arg.type]}")
        return replace(fmt("lower({})", arg, type="string"), literal=arg.literal)

    def arithmetic(self, name: str, args: list) -> Term:
        terms = [self.compile(a) for a in args]
        for term in terms:
            if FAMILY[term.type] != "number":
                raise CQLError(f"'{name}' needs numbers: {term.label} is {TYPE_NAMES[term.type]}")
        result = fmt(_ARITH[name], *terms, type="number")
        return replace(result, literal=all(t.literal for t in terms))

    def spatial(self, name: str, args: list) -> Term:
        terms = [self.compile(a) for a in args]
        for term in terms:
            if term.type != "geometry":
                raise CQLError(
                    f"{name.upper()} needs geometries: {term.label} is {TYPE_NAMES[term.type]}"
                )
        if name == "s_disjoint":
            return fmt(_SPATIAL[name] + "({}, {})", *terms)
        # The bare && beside the predicate lets the index work under row-level security: only
        # LEAKPROOF conditions may drive an index scan there, and && is (migration 0005).
        return fmt("({0} && {1} AND " + _SPATIAL[name] + "({0}, {1}))", *terms)

    def array(self, name: str, args: list) -> Term:
        terms = []
        for node in args:
            if isinstance(node, list):
                if not all(isinstance(item, str) for item in node):
                    raise CQLError(f"{name.upper()}: only lists of strings are supported, "
                                   f"not {cql_text(node)}")  # fmt: skip
                terms.append(Term(sql.SQL("%s::text[]"), ([checked_string(i) for i in node],),
                                   "string[]", node, literal=True))  # fmt: skip
                continue
            term = self.compile(node)
            if term.type != "string[]":
                raise CQLError(
                    f"{name.upper()} needs arrays: {term.label} is {TYPE_NAMES[term.type]}"
                )
            terms.append(term)
        return fmt(_ARRAY[name], *terms)

    def temporal(self, name: str, args: list) -> Term:
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
                ends[i] = Term(sql.SQL(f"'{sign}infinity'::{CAST[kind]}"), (), kind)
            elif end.type != kind:
                ends[i] = as_date(end)
        s1, e1, s2, e2 = ends
        return fmt(f"({_TEMPORAL[name]})", s1=s1, e1=e1, s2=s2, e2=e2)

    def period(self, name: str, node: Any) -> tuple[Term | None, Term | None]:
        """An operand of a T_ function as (start, end); None for an open end."""
        if not (isinstance(node, dict) and "interval" in node):
            term = self.instant(name, node)
            return term, term
        bounds = node["interval"]
        if not (isinstance(bounds, list) and len(bounds) == 2):
            raise CQLError(f"an INTERVAL needs a start and an end: {cql_text(node)}")
        start, end = (None if b == ".." else self.instant(name, b) for b in bounds)
        literals = start and end and start.literal and end.literal and start.type == end.type
        if literals and start.params[0] > end.params[0]:
            raise CQLError(f"{cql_text(node)} ends before it starts")
        return start, end

    def instant(self, name: str, node: Any) -> Term:
        if isinstance(node, str):  # an INTERVAL bound: a date or a timestamp
            for kind in ("date", "datetime"):
                with suppress(CQLError):
                    return param(instant(node, kind), kind, node)
            raise CQLError(f"{cql_text(node)} in an INTERVAL is neither a date nor a timestamp")
        term = self.compile(node)
        if term.type not in ("date", "datetime"):
            raise CQLError(f"{name.upper()} needs dates, timestamps or intervals: "
                           f"{term.label} is {TYPE_NAMES[term.type]}")  # fmt: skip
        return term

    def bbox(self, node: dict) -> Term:
        box = node["bbox"]
        if not (isinstance(box, list) and len(box) in (4, 6)):
            raise CQLError(f"a BBOX needs 4 or 6 numbers: {cql_text(node)}")
        corners = (0, 1, 2, 3) if len(box) == 4 else (0, 1, 3, 4)  # 6 numbers: ignore heights
        west, south, east, north = (finite_number(box[i]) for i in corners)
        if south > north:
            raise CQLError(f"{cql_text(node)}: its south edge is north of its north edge")
        if west > east and self.srid != 4326:
            raise CQLError(f"{cql_text(node)}: its west edge is east of its east edge")
        self.check_transformable([west, east, west, east], [south, north, north, south])
        # West > east in longitude/latitude: the box spans the antimeridian (CQL2 7.5.1).
        boxes = [(west, south, east, north)]
        if west > east:
            boxes = [(west, south, 180.0, north), (-180.0, south, east, north)]
        envelope = "ST_MakeEnvelope(%s::float8, %s::float8, %s::float8, %s::float8, %s::integer)"
        parts = [Term(sql.SQL(envelope), (*b, self.srid), "geometry") for b in boxes]
        term = parts[0] if len(parts) == 1 else fmt("ST_Collect({}, {})", *parts, type="geometry")
        return self.to_storage_crs(term, node)

    def geometry(self, node: dict) -> Term:
        kind = node.get("type")
        if kind not in GEOMETRY_TYPES:
            raise CQLError(f"unknown geometry type {cql_text(kind)}; use one of {GEOMETRY_TYPES}")
        try:
            shape = shapely.geometry.shape(node)
            xy = shapely.get_coordinates(shape)
        except Exception as error:
            message = str(error).strip()
            reason = message.splitlines()[0] if message else type(error).__name__
            raise CQLError(f"malformed {kind} literal {cql_text(node)}: {reason}") from None
        if shape.is_empty:
            raise CQLError(f"the {kind} literal {cql_text(node)} is empty")
        if not all(math.isfinite(v) for v in xy.flat):
            raise CQLError(
                f"the {kind} literal {cql_text(node)} has a coordinate that is not finite"
            )
        self.check_transformable(list(xy[:, 0]), list(xy[:, 1]))
        if not shape.is_valid:  # e.g. a bow-tie polygon: GEOS predicates need valid input
            shape = shapely.make_valid(shape)
        geojson = shapely.to_geojson(shapely.force_2d(shape))
        term = Term(sql.SQL("ST_GeomFromGeoJSON(%s::text)"), (geojson,), "geometry")
        srid = Term(sql.SQL("%s::integer"), (self.srid,), "integer")
        return self.to_storage_crs(fmt("ST_SetSRID({}, {})", term, srid, type="geometry"), node)

    def to_storage_crs(self, term: Term, node: dict) -> Term:
        if self.srid != 4326:
            term = fmt("ST_Transform({}, 4326)", term, type="geometry")
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


_HANDLERS: dict[str, tuple[Callable[[Compiler, str, list], Term], int | None]] = {
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
