"""Each kind of code in its room: SQL in geo/, HTTP in api/.

``api/`` holds no SQL: a statement it needs is a function (or a statement builder) of ``geo/``, so
the schema's users are all in one place when it changes. Read from the source, not run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO

# Upper-case keywords as SQL is written here; English prose ("select a layer") does not match.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bSELECT\s+[\w'\"*(]|\bINSERT\s+INTO\b|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
)


def literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module, f-strings with their fields as ``{}``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def sql_in(paths: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{line}: {text[:80]!r}"
        for path in paths
        for line, text in literals(path)
        if SQL.search(text)
    ]


def test_the_detector_finds_sql_where_it_is():
    """geo/ is where SQL lives: the same search finds it there (else it could find nothing)."""
    found = sql_in(sorted((REPO / "geo").glob("*.py")))
    for module in ("geo/access.py", "geo/db.py", "geo/raster.py", "geo/raster_read.py"):
        assert any(hit.startswith(module + ":") for hit in found), module


def test_no_sql_in_api():
    assert sql_in(sorted((REPO / "api").rglob("*.py"))) == []
