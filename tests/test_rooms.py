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


# EditError still carries its status: its If-Match rules were being reworked at the same time, so
# it moves to a domain error of its own in a later change.
STILL_WITH_STATUS = {"EditError"}


def statuses_in(paths: list[Path]) -> list[str]:
    """Calls of an exception class (``…Error``/``…NotFound``/…) with an HTTP status among their
    arguments, and exception classes that keep a ``status`` attribute."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                numbers = [a.value for a in node.args if isinstance(a, ast.Constant)]
                http = [n for n in numbers if isinstance(n, int) and 400 <= n <= 599]
                exception = name.endswith(("Error", "NotFound", "Conflict", "Unavailable"))
                if http and exception and name not in STILL_WITH_STATUS:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}{http}")
            elif isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", "").endswith(("Error", "Exception")) for base in node.bases
            ):
                for inner in ast.walk(node):
                    stored = isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store)
                    if stored and inner.attr == "status":
                        found.append(f"{path.relative_to(REPO)}:{inner.lineno}: self.status")
    return found


def test_the_status_detector_finds_what_api_raises():
    """api/ raises EditError(401, …) and keeps statuses: the same search finds them there."""
    found = statuses_in(sorted((REPO / "api").rglob("*.py")))
    assert any("self.status" in hit for hit in found), found


def test_no_http_status_in_geo_but_the_edit_errors():
    paths = [p for p in sorted((REPO / "geo").glob("*.py")) if p.name != "edit.py"]
    assert statuses_in(paths) == []
