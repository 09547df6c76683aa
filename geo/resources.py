"""Deposit resource figures from a CSV file into ``deposit_resources`` (migration 0014).

Why a loader of its own: a resource row has no geometry and belongs to a deposit, named by the
deposit's natural key (its name) so that a file does not depend on the ids a store gave. As for
layers, every row is checked before anything is written, each problem names the file, the row
and the field, and the file is written in one transaction; the database checks the same rules
again. A file states the whole resource table of each deposit it names: with ``upsert`` those
deposits' rows are replaced, so a figure dropped from the file is dropped from the store.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import time
from pathlib import Path

import psycopg

from geo import vocab
from geo.load_errors import LoadError, LoadReport
from geo.sample_files import SAMPLES
from geo.validate import Problem

SAMPLE = SAMPLES / "deposit_resources.csv"
REQUIRED = ("deposit", "commodity", "category", "reporting_code", "as_of", "source")
OPTIONAL = ("tonnage_mt", "grade", "grade_unit", "contained", "contained_unit", "source_url",
            "notes")  # fmt: skip
NUMBERS = ("tonnage_mt", "grade", "contained")
VOCABULARIES = {
    "commodity": vocab.COMMODITIES,
    "category": vocab.RESOURCE_CATEGORY,
    "reporting_code": vocab.RESOURCE_CODE,
}
COLUMNS = ("deposit_id", "commodity", "category", "tonnage_mt", "grade", "grade_unit",
           "contained", "contained_unit", "reporting_code", "as_of", "source", "source_url",
           "notes")  # fmt: skip


def read(path: Path) -> list[dict[str, str]]:
    try:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            return [
                {k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(fh)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise LoadError(path, [Problem(None, "file", f"cannot be read as CSV: {error}")]) from None


def check_row(i: int, row: dict[str, str]) -> tuple[dict[str, object], list[Problem]]:
    """One row's values typed for the table, or the problems that stop it."""
    problems: list[Problem] = []
    values: dict[str, object] = {}
    for name in REQUIRED:
        if not row.get(name):
            problems.append(Problem(i, name, "required, and empty"))
    for name, allowed in VOCABULARIES.items():
        if row.get(name) and row[name] not in allowed:
            problems.append(Problem(i, name, f"{row[name]!r} is not one of {', '.join(allowed)}"))
    for name in NUMBERS:
        text = row.get(name, "")
        try:
            number = float(text) if text else None
        except ValueError:
            number = math.nan
        if number is not None and not (math.isfinite(number) and number >= 0):
            problems.append(Problem(i, name, f"{text!r} is not a number >= 0"))
        values[name] = number
    for value, unit in (("grade", "grade_unit"), ("contained", "contained_unit")):
        if values[value] is not None and not row.get(unit):
            problems.append(Problem(i, unit, f"a {value} needs its unit"))
    if values["tonnage_mt"] is None and values["contained"] is None:
        problems.append(Problem(i, "tonnage_mt", "a figure needs a tonnage or a contained amount"))
    try:
        values["as_of"] = dt.date.fromisoformat(row.get("as_of", "")) if row.get("as_of") else None
    except ValueError:
        problems.append(Problem(i, "as_of", f"{row['as_of']!r} is not a date (YYYY-MM-DD)"))
    for name in (*REQUIRED, *OPTIONAL):
        values.setdefault(name, row.get(name) or None)
    return values, problems


def load_resources(conn: psycopg.Connection, path: Path, upsert: bool = False) -> LoadReport:
    """Load a resources CSV; raises LoadError (and writes nothing) on any problem."""
    started = time.perf_counter()
    rows = read(path)
    if not rows:
        raise LoadError(path, [Problem(None, "file", "holds no rows: nothing to load")])
    problems: list[Problem] = []
    if missing := [c for c in REQUIRED if c not in rows[0]]:
        raise LoadError(path, [Problem(None, c, "required column missing") for c in missing])
    checked = []
    for i, row in enumerate(rows):
        values, found = check_row(i, row)
        checked.append(values)
        problems += found
    names = sorted({str(v["deposit"]) for v in checked if v["deposit"]})
    ids = dict(conn.execute("SELECT name, id FROM deposits WHERE name = ANY(%s)", [names]))
    for i, values in enumerate(checked):
        if values["deposit"] and values["deposit"] not in ids:
            problems.append(Problem(i, "deposit", f"no deposit named {values['deposit']!r}"))
        values["deposit_id"] = ids.get(str(values["deposit"]))
    keys: dict[tuple, int] = {}
    for i, v in enumerate(checked):
        key = (v["deposit"], v["commodity"], v["category"], v["as_of"])
        if key in keys:
            problems.append(Problem(i, "deposit", f"repeats row {keys[key] + 1}'s figure"))
        keys.setdefault(key, i)
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.field))
        raise LoadError(path, problems)
    deposit_ids = sorted({int(v["deposit_id"]) for v in checked})  # type: ignore[call-overload]
    try:
        with conn.transaction():
            replaced = 0
            if upsert:
                replaced = conn.execute(
                    "DELETE FROM deposit_resources WHERE deposit_id = ANY(%s)", [deposit_ids]
                ).rowcount
            with conn.cursor().copy(
                f"COPY deposit_resources ({', '.join(COLUMNS)}) FROM STDIN"
            ) as copy:
                for values in checked:
                    copy.write_row([values[c] for c in COLUMNS])
    except psycopg.Error as error:
        detail = error.diag.message_primary if hasattr(error, "diag") else str(error)
        raise LoadError(path, [Problem(None, "database", detail or str(error))]) from None
    inserted = max(len(checked) - replaced, 0)
    updated = len(checked) - inserted
    return LoadReport("deposit_resources", Path(path), len(checked), inserted, updated,
                      time.perf_counter() - started)  # fmt: skip
