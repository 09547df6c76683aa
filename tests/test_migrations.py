"""Each database function's current definition is findable: geo/migrations/README.md names the
migration that last (re)defined it, and this test derives the same from the migrations themselves
by upgrading an empty database one revision at a time and noting where each definition changed.
"""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from tests.conftest import REPO, with_database
from tests.migrating import alembic, functions, revisions

README = REPO / "geo" / "migrations" / "README.md"
ROW = re.compile(r"^\| `([a-z_]+\([^`]*\))` \| `(\d{4})_\w+\.py` \|", re.MULTILINE)


def last_definitions(url: str) -> dict[str, str]:
    """function(arguments) -> the revision whose upgrade last changed its definition."""
    last: dict[str, str] = {}
    previous: dict[str, str] = {}
    for revision in revisions():
        alembic(url, "upgrade", revision)
        with psycopg.connect(url) as conn:
            now = functions(conn)
        last |= {name: revision for name, body in now.items() if previous.get(name) != body}
        previous = now
    return {name: last[name] for name in previous}


@pytest.fixture(scope="module")
def derived(cluster) -> dict[str, str]:
    name = f"steps_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return last_definitions(with_database(cluster.url(), name))


def test_the_readme_names_where_each_function_is_defined_now(derived):
    documented = dict(ROW.findall(README.read_text()))
    assert documented == derived


def test_every_documented_migration_file_exists():
    files = {p.name[:4] for p in (REPO / "geo" / "migrations" / "versions").glob("*.py")}
    assert {revision for _, revision in ROW.findall(README.read_text())} <= files
