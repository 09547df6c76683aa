"""CQL2 filters (OGC API - Features Part 3: Filtering) translated into PostGIS SQL.

cql2 (Rust) parses both encodings; this module translates the canonical CQL2-JSON it returns. It
is the one place where a user's filter meets SQL, so it is strict on purpose:

* a property becomes an ``sql.Identifier`` only after it was found among the layer's queryables;
* every user value becomes a bound parameter (``%s``) with an explicit cast, never SQL text, so
  PostgreSQL neither sees user text as SQL nor has to guess a type;
* every operand is type-checked first: a filter that passes becomes SQL that PostgreSQL accepts,
  so a bad filter is a CQLError (the caller's mistake), never a database error (a bug). The
  exceptions are arithmetic errors (division by zero, float overflow: ``psycopg.errors.DataError``,
  SQLSTATE class 22), which callers should also treat as the filter's fault.

Choices where CQL2 leaves room, or where the platform's users are served better than by the
letter of the spec:

* Arrays are compared as sets (/req/array-functions/array-predicates B), so A_EQUALS is
  ``@> AND <@``, not ``=``; only arrays of strings exist here.
* A date meeting a timestamp is compared at date granularity: the timestamp is cut to its UTC
  date. A date means a whole day, so ``updated_at = DATE('2024-05-01')`` means "on that day".
* A temporal instant is the degenerate interval [t, t] in every T_ function (CQL2 would reject
  instants in the interval-only functions; we evaluate them, see ``Compiler.temporal``).
* A well-formed but invalid geometry literal (a bow-tie polygon) is repaired with make_valid; a
  malformed one (too few points, wrong nesting) is a CQLError. Coordinates are in ``filter_crs``
  in x/y (longitude/latitude) order, as PostGIS stores them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import Any

import cql2

from geo.cql_sql import Compiler
from geo.cql_terms import TYPES, CQLError, Field, Where

__all__ = ["TYPES", "CQLError", "Field", "Where", "parse", "to_sql"]

MAX_TEXT = 100_000  # characters of CQL2-Text; see _on_big_stack
MAX_DEPTH = 100  # nesting of the filter (parentheses in text, objects and lists in JSON)
MAX_PARAMS = 10_000  # bound values in one filter; PostgreSQL's hard limit is 65535
INLINE_TEXT = 512  # CQL2-Text up to this length parses on the caller's stack (see _on_big_stack)

_PARSER_STACK = 512 * 2**20
_STACK_LOCK = threading.Lock()


def parse(filter: str | dict, lang: str = "cql2-text") -> dict:
    """Parse CQL2-Text (str) or CQL2-JSON (str holding JSON, or dict); return canonical CQL2-JSON.

    A dict is CQL2-JSON whatever ``lang`` says. Raises CQLError on syntax errors, an unknown
    ``lang``, or a filter too long or too deeply nested to parse safely.
    """
    lang = lang.lower() if isinstance(lang, str) else lang
    if lang not in ("cql2-text", "cql2-json"):
        raise CQLError(f"unknown filter-lang {lang!r}; use cql2-text or cql2-json")
    if isinstance(filter, str) and lang == "cql2-json":
        try:
            filter = json.loads(filter)
        except (ValueError, RecursionError) as error:
            raise CQLError(f"invalid CQL2-JSON: {error}") from None
    if isinstance(filter, str):
        if len(filter) > MAX_TEXT:
            raise CQLError(f"the filter is longer than {MAX_TEXT} characters")
        unquoted = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "", filter)
        steps = (1 if c == "(" else -1 for c in unquoted if c in "()")
        if max(accumulate(steps), default=0) > MAX_DEPTH:
            raise CQLError(f"the filter nests parentheses more than {MAX_DEPTH} deep")
        text = filter
        result = _parse_safely(lambda: cql2.parse_text(text).to_json(), "CQL2-Text", len(text))
    else:
        _check_depth(filter)  # at most MAX_DEPTH levels: cql2 recurses no deeper than that
        tree = filter
        result = _parse_safely(lambda: cql2.Expr(tree).to_json(), "CQL2-JSON", 0)
    _check_depth(result)  # e.g. 5000 chained minus signs: flat text, deep tree
    return result


def to_sql(expr: dict, fields: Mapping[str, Field], filter_crs: int = 4326) -> Where:
    """Translate canonical CQL2-JSON into a SQL condition over ``fields`` (see module docstring).

    ``fields`` maps queryable names to Fields; the property ``geometry`` also names whichever
    field has type geometry. ``filter_crs`` is the EPSG code of the filter's coordinates; they
    are transformed to the store's 4326. Raises CQLError for anything PostgreSQL would refuse.
    """
    _check_depth(expr)
    term = Compiler(fields, int(filter_crs)).predicate(expr)
    if len(term.params) > MAX_PARAMS:
        raise CQLError(f"the filter has more than {MAX_PARAMS} values")
    return Where(term.sql, list(term.params))


def _check_depth(node: Any) -> None:
    """Refuse filters nested deeper than MAX_DEPTH, before any recursive code (ours or cql2's)."""
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CQLError(f"the filter nests more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)


def _parse_safely(work: Callable[[], Any], what: str, length: int) -> Any:
    """Parse here when the input is too small to overflow a stack, else on a big one.

    Why not always on the big stack: starting a thread costs ~80 µs, the largest share of a
    short filter's cost per request, and at ~4 KiB of stack per character a filter of
    INLINE_TEXT characters needs at most 2 MiB of the usual 8.
    """
    if length > INLINE_TEXT:
        return _on_big_stack(work, what)
    try:
        return work()
    except BaseException as error:  # pyo3 panics are BaseExceptions
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        raise CQLError(f"invalid {what}: {error}") from None


def _on_big_stack(work: Callable[[], Any], what: str) -> Any:
    """Run cql2 on a thread with a 512 MiB stack (virtual memory: only pages used cost anything).

    Why: cql2 parses recursively in Rust. On a usual 8 MiB stack some 2000 nested parentheses or
    5000 chained minus signs overflow it, and the whole server dies of SIGSEGV with no exception
    to catch. Measured worst case is about 4 KiB of stack per character, so MAX_TEXT fits.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # pyo3 panics are BaseExceptions
            outcome["error"] = error

    with _STACK_LOCK:  # stack_size is process-wide: set it only while starting our thread
        previous = threading.stack_size(_PARSER_STACK)
        try:
            thread = threading.Thread(target=run, name="cql2-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    if "value" not in outcome:
        raise CQLError(f"invalid {what}: {outcome.get('error', 'cannot be parsed')}")
    return outcome["value"]
