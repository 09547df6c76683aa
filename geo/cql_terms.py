"""Typed pieces of CQL2's SQL: fields, terms with their bound values, literal values checked.

Why apart from the translator (``geo.cql_sql``): these are the vocabulary every operator is
written in (a term knows its SQL, its parameters in order, its type and the CQL2 it came from,
for messages), and the checks a literal passes before it may become a parameter.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import cql2
from psycopg import sql

TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "string[]", "geometry",
         "object[]")  # fmt: skip
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                   "MultiPolygon", "GeometryCollection")  # fmt: skip
FAMILY = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean",
           "date": "time", "datetime": "time", "string[]": "array",
           "geometry": "geometry", "object[]": "records"}  # fmt: skip
CAST = {"string": "text", "number": "float8", "boolean": "boolean", "date": "date",
         "datetime": "timestamptz"}  # fmt: skip
TYPE_NAMES = {"string": "a string", "number": "a number", "integer": "an integer",
              "boolean": "a boolean", "date": "a date", "datetime": "a datetime",
              "string[]": "an array of strings", "geometry": "a geometry",
              "object[]": "a list of records"}  # fmt: skip


class CQLError(ValueError):
    """Message says what is wrong in the filter, in words fit to show whoever wrote it."""


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
class Term:
    """A typed piece of SQL with the values of its placeholders, in order of appearance."""

    sql: sql.Composable
    params: tuple[Any, ...]
    type: str  # a Field type; conditions are "boolean"
    node: Any = None  # the CQL2-JSON it came from, to name it in messages
    literal: bool = False  # no property involved

    @property
    def label(self) -> str:
        return cql_text(self.node)


_SLOT = re.compile(r"\{(\w*)\}")


def fmt(template: str, *args: Term, type: str = "boolean", **kwargs: Term) -> Term:
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
    return Term(composed, tuple(params), type)


def join(separator: str, terms: list[Term]) -> Term:
    params = tuple(p for t in terms for p in t.params)
    return Term(sql.SQL(separator).join(t.sql for t in terms), params, "boolean")


def param(value: Any, type: str, node: Any) -> Term:
    return Term(sql.SQL(f"%s::{CAST[type]}"), (value,), type, node, literal=True)


def as_date(term: Term) -> Term:
    """A timestamp cut to its UTC date (for comparisons with dates; see module docstring)."""
    converted = fmt("(({}) AT TIME ZONE 'UTC')::date", term, type="date")
    return replace(converted, node=term.node, literal=term.literal)


def mismatch(a: Term, b: Term) -> str:
    if a.literal != b.literal:  # name the property side by its type, the value as written
        value, other = (a, b) if a.literal else (b, a)
        hint = ""
        if FAMILY[other.type] == "time" and value.type == "string":
            hint = f" (write {'TIMESTAMP' if other.type == 'datetime' else 'DATE'}({value.label}))"
        return f"{other.label} is {TYPE_NAMES[other.type]}; {value.label} is not{hint}"
    return f"cannot compare {a.label} ({TYPE_NAMES[a.type]}) with {b.label} ({TYPE_NAMES[b.type]})"


def instant(value: Any, kind: str) -> date | datetime:
    """A DATE('…') or TIMESTAMP('…') value; a timestamp without a UTC offset is taken as UTC."""
    if isinstance(value, str) and "\x00" not in value:  # fromisoformat skips a NUL after a time
        try:
            if kind == "date":
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    if kind == "date":
        raise CQLError(f"DATE({cql_text(value)}) is not a valid date (YYYY-MM-DD)")
    raise CQLError(
        f"TIMESTAMP({cql_text(value)}) is not a valid timestamp (e.g. 2024-05-01T12:00Z)"
    )


def finite_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CQLError(f"{cql_text(value)} is not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise CQLError(f"{cql_text(value)} is not a finite number")
    return number


def checked_string(value: str) -> str:
    """PostgreSQL text holds no NUL and only encodable Unicode; refuse others before SQL does."""
    if "\x00" in value:
        raise CQLError(f"the string {cql_text(value)} contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise CQLError(f"the string {cql_text(value)} is not valid Unicode") from None
    return value


def cql_text(node: Any) -> str:
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
