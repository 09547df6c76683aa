"""Value-chain projects from a JSON file into the project tables (migration 0006).

Why JSON and not the layer loader: a project is not one row with one geometry but a record with
lists (partners, investments, agreements, sites), and its geometry is its sites' (the view
``project_features``). A site is named by its layer's natural key (a deposit's name, a
concession's licence number), so a file is independent of the ids a store gave its rows.

As for layers, every project is checked before anything is written, every problem is reported
with where it is, and the whole file is written in one transaction; the database checks the same
rules again (its constraints are the final word). With ``upsert`` a project whose name exists is
replaced: its row updated, its partners, investments, agreements and sites written anew.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator, Set
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from geo import vocab
from geo.load_errors import LoadError, LoadReport
from geo.models import LAYERS
from geo.sample_files import SAMPLES
from geo.validate import Problem

SAMPLE = SAMPLES / "projects.json"

PROJECT = {"name": True, "stage": True, "status": False, "description": False, "source": True,
           "source_url": False}  # fmt: skip
"""The fields of a project (True: required), besides its four lists."""
LISTS: dict[str, dict[str, bool]] = {
    "partners": {"organisation": True, "country": False, "role": True, "share_percent": False,
                 "note": False, "source": True, "source_url": False},
    "investments": {"amount": True, "currency": True, "committed_on": True, "note": False,
                    "source": True, "source_url": False},
    "agreements": {"kind": True, "parties": True, "signed_on": True, "subject": True,
                   "source": True, "source_url": False},
    "sites": {"layer": True, "key": True, "role": False},
}  # fmt: skip
TABLES = {"partners": "project_partners", "investments": "project_investments",
          "agreements": "project_agreements"}  # fmt: skip
VOCABULARIES = {
    None: {"stage": vocab.PROJECT_STAGE, "status": vocab.PROJECT_STATUS},
    "partners": {"role": vocab.PARTNER_ROLE},
    "investments": {"currency": vocab.CURRENCIES},
    "agreements": {"kind": vocab.AGREEMENT_KIND},
    "sites": {"layer": vocab.SITE_LAYERS},
}
"""The vocabulary of each field that has one, by list (None: the project itself)."""


def read(path: Path) -> list[dict]:
    """The file's projects: ``{"projects": [...]}`` or a bare list."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LoadError(path, [Problem(None, "file", str(error))]) from None
    projects = document.get("projects") if isinstance(document, dict) else document
    if not isinstance(projects, list) or not projects:
        raise LoadError(path, [Problem(None, "file", "holds no list of projects")])
    return projects


def check(projects: list) -> list[Problem]:
    """Every problem of every project (none: the file can be written)."""
    problems: list[Problem] = []
    names: set[str] = set()
    for row, project in enumerate(projects):
        if not isinstance(project, dict):
            problems.append(Problem(row, "project", "is not an object"))
            continue
        problems += [Problem(row, f, r) for f, r in _record(project, PROJECT, None, set(LISTS))]
        name = project.get("name")
        if name in names:
            problems.append(Problem(row, "name", f"{name!r} is in the file twice"))
        names.add(name)
        for key, fields in LISTS.items():
            items = project.get(key, [])
            if not isinstance(items, list):
                problems.append(Problem(row, key, "is not a list"))
                continue
            for i, item in enumerate(items):
                where = f"{key}[{i}]"
                if not isinstance(item, dict):
                    problems.append(Problem(row, where, "is not an object"))
                    continue
                found = _record(item, fields, key)
                problems += [Problem(row, f"{where}.{f}", r) for f, r in found]
    return problems


def _record(
    record: dict, fields: dict[str, bool], kind: str | None, lists: Set[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """(field, reason) for each problem of one record of ``kind`` (a list's name, None: the
    project itself)."""
    for name in record:
        if name not in fields and name not in lists:
            yield name, f"unknown field; expected {', '.join([*fields, *sorted(lists)])}"
    for name, required in fields.items():
        value = record.get(name)
        if value is None or value == "":
            if required:
                yield name, "is required"
            continue
        reason = _value_problem(name, value, VOCABULARIES[kind].get(name))
        if reason:
            yield name, reason


def _value_problem(name: str, value: Any, values: Set[str] | None) -> str | None:
    if values is not None and value not in values:
        shown = sorted(values)
        listed = ", ".join(shown) if len(shown) < 20 else "an ISO 4217 code such as USD or PKR"
        return f"{value!r} is not one of {listed}"
    if name == "country" and not re.fullmatch(vocab.COUNTRY_CODE, str(value)):
        return f"{value!r} is not an ISO 3166-1 alpha-2 code (such as PK or CN)"
    if name in ("amount", "share_percent"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{value!r} is not a number"
        if value <= 0 or (name == "share_percent" and value > 100):
            return f"{value} is not {'above 0' if name == 'amount' else 'in (0, 100]'}"
    if name in ("committed_on", "signed_on"):
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"{value!r} is not a date (YYYY-MM-DD)"
    if name == "parties" and not (
        isinstance(value, list) and len(value) >= 2 and all(isinstance(p, str) and p for p in value)
    ):
        return "must list at least two parties by name"
    if name in ("key", "name", "organisation", "subject", "source") and not isinstance(value, str):
        return f"{value!r} is not text"
    return None


def site_ids(conn: psycopg.Connection, projects: list[dict]) -> tuple[dict, list[Problem]]:
    """{(layer, natural key): id} of every site the projects name; a problem for each missing."""
    wanted: dict[str, set[str]] = {}
    for project in projects:
        for site in project.get("sites", []):
            wanted.setdefault(site["layer"], set()).add(site["key"])
    found: dict[tuple[str, str], int] = {}
    for layer, keys in wanted.items():
        key = LAYERS[layer].__table__.info["natural_key"]
        rows = conn.execute(
            sql.SQL("SELECT {k}, id FROM {t} WHERE {k} = ANY(%s)").format(
                k=sql.Identifier(key), t=sql.Identifier(layer)
            ),
            [sorted(keys)],
        )
        found.update(((layer, k), i) for k, i in rows)
    problems = [
        Problem(row, f"sites[{i}].key", f"{site['layer']} has no {site['key']!r}")
        for row, project in enumerate(projects)
        for i, site in enumerate(project.get("sites", []))
        if (site["layer"], site["key"]) not in found
    ]
    return found, problems


def load_projects(
    conn: psycopg.Connection, path: Path = SAMPLE, upsert: bool = False
) -> LoadReport:
    """Check, then write every project of the file in one transaction (LoadError on a problem)."""
    started = time.perf_counter()
    projects = read(path)
    problems = check(projects)
    if problems:
        raise LoadError(path, problems)
    with conn.transaction():
        sites, problems = site_ids(conn, projects)
        existing = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM projects WHERE name = ANY(%s)", [[p["name"] for p in projects]]
            )
        }
        if existing and not upsert:
            problems += [
                Problem(row, "name", f"{p['name']!r} is already in projects; use --upsert")
                for row, p in enumerate(projects)
                if p["name"] in existing
            ]
        if problems:
            raise LoadError(path, problems)
        try:
            for project in projects:
                _write(conn, project, sites)
        except psycopg.Error as error:
            raise LoadError(path, [Problem(None, "database", str(error).strip())]) from None
    inserted = len(projects) - len(existing)
    seconds = time.perf_counter() - started
    return LoadReport("projects", Path(path), len(projects), inserted, len(existing), seconds)


def _write(conn: psycopg.Connection, project: dict, sites: dict[tuple[str, str], int]) -> None:
    """One project: its row upserted (absent fields become NULL: the file is its whole truth),
    then its lists replaced."""
    columns = sql.SQL(", ").join(map(sql.Identifier, PROJECT))
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in PROJECT if c != "name"
    )
    (project_id,) = conn.execute(
        sql.SQL(
            "INSERT INTO projects ({c}) VALUES ({v}) ON CONFLICT (name) DO UPDATE SET {u} "
            "RETURNING id"
        ).format(c=columns, v=sql.SQL(", ").join(sql.Placeholder() * len(PROJECT)), u=updates),
        [project.get(c) for c in PROJECT],
    ).fetchone()
    for table in (*TABLES.values(), "project_sites"):
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE project_id = %s").format(sql.Identifier(table)),
            [project_id],
        )
    for key, table in TABLES.items():
        for item in project.get(key, []):
            fields = list(item)
            conn.execute(
                sql.SQL("INSERT INTO {t} (project_id, {c}) VALUES (%s, {v})").format(
                    t=sql.Identifier(table),
                    c=sql.SQL(", ").join(map(sql.Identifier, fields)),
                    v=sql.SQL(", ").join(sql.Placeholder() * len(fields)),
                ),
                [project_id, *(item[f] for f in fields)],
            )
    for site in project.get("sites", []):
        conn.execute(
            "INSERT INTO project_sites (project_id, layer, site_id, role) VALUES (%s, %s, %s, %s)",
            [project_id, site["layer"], sites[site["layer"], site["key"]], site.get("role")],
        )
