"""Each kind of code in its room: SQL in geo/, HTTP in api/.

``api/`` holds no SQL: a statement it needs is a function (or a statement builder) of ``geo/``, so
the schema's users are all in one place when it changes. ``geo/`` holds no HTTP: it raises what
went wrong in the store's terms and imports no web framework; ``api/errors.py`` alone turns each
error into a status, so a store used by the CLI or a notebook speaks no HTTP. Read from the
source, not run.
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


WEB_FRAMEWORKS = ("fastapi", "starlette")


def shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


def http_numbers(call: ast.Call) -> list[int]:
    values = [*call.args, *(k.value for k in call.keywords)]
    return [v.value for v in values if isinstance(v, ast.Constant) and type(v.value) is int
            and 400 <= v.value <= 599]  # fmt: skip


def statuses_in(paths: list[Path]) -> list[str]:
    """Exceptions raised (or built, ``…Error(…)``/``…Exception(…)``) with an HTTP status among
    their arguments, and exception classes that keep a ``status``/``status_code`` attribute."""
    found = []
    for path in paths:
        where = shown(path)
        for node in ast.walk(ast.parse(path.read_text())):
            call = node.exc if isinstance(node, ast.Raise) else node
            if isinstance(call, ast.Call):
                name = getattr(call.func, "id", getattr(call.func, "attr", ""))
                raised = isinstance(node, ast.Raise) or name.endswith(("Error", "Exception"))
                if raised and http_numbers(call):
                    found.append(f"{where}:{call.lineno}: {name}{http_numbers(call)}")
            elif isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", "")).endswith(("Error", "Exception"))
                for base in node.bases
            ):
                for inner in ast.walk(node):
                    stored = isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store)
                    if stored and inner.attr in ("status", "status_code"):
                        found.append(f"{where}:{inner.lineno}: self.{inner.attr}")
    return sorted(set(found))  # a raised call is met twice: as the raise and as the call


def web_imports_in(paths: list[Path]) -> list[str]:
    """Imports of the web framework (``fastapi``, ``starlette``), anywhere in a module."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            found += [f"{shown(path)}:{node.lineno}: {n}" for n in names
                      if n.split(".")[0] in WEB_FRAMEWORKS]  # fmt: skip
    return found


def test_the_detectors_find_http_where_it_is(tmp_path):
    """api/ raises HTTPException(4xx, …) and imports fastapi: the same searches find them there,
    and find the shapes geo/ once had (``EditError(412, …)``, a ``status`` kept on an error)."""
    api = sorted((REPO / "api").rglob("*.py"))
    assert any("HTTPException[" in hit for hit in statuses_in(api))
    assert any(hit.endswith(": fastapi") for hit in web_imports_in(api))
    old = tmp_path / "old.py"
    old.write_text(
        "from starlette.exceptions import HTTPException\n"
        "class EditError(Exception):\n"
        "    def __init__(self, status, message):\n"
        "        self.status = status\n"
        "def f():\n"
        "    raise EditError(412, 'stale')\n"
    )
    found = [hit.split(": ", 1)[1] for hit in statuses_in([old]) + web_imports_in([old])]
    assert sorted(found) == ["EditError[412]", "self.status", "starlette.exceptions"]


def geo_modules() -> list[Path]:
    return sorted((REPO / "geo").rglob("*.py"))


def test_no_http_status_in_geo():
    """The store raises what went wrong in its own terms; api/errors.py gives each a status."""
    assert statuses_in(geo_modules()) == []


def test_geo_does_not_import_the_web_framework():
    assert web_imports_in(geo_modules()) == []


def test_every_domain_error_of_an_edit_has_its_status():
    """A new kind of edit error that api/errors.py does not know would be a 500 (a bug): each
    is a client's mistake with a 4xx of its own, and the 4xx differ by kind."""
    from api import errors
    from geo import edit

    kinds = edit.EditError.__subclasses__()
    statuses = {kind: errors.status_of(kind("x")) for kind in kinds}
    assert kinds and all(400 <= s < 500 for s in statuses.values()), statuses
    assert len(set(statuses.values())) == len(kinds), statuses


# Code is read without the tracker: "(issue 15)" or "as the brief says" tells a reader nothing,
# the reason itself does. Documentation may tell a change's history; code and comments may not.
CITATION = re.compile(r"\bissues? \d+|\bthe brief\b", re.IGNORECASE)
CODE = ("*.py", "*.sql", "*.html", "*.js", "*.sh", "*.yml", "*.conf", "*.toml", "*.cfg")
VENDORED = tuple(
    f"api/static/{name}/" for name in ("leaflet", "markercluster", "vectorgrid", "axe", "fonts")
)


def code_files() -> list[Path]:
    found = [REPO / "Makefile", REPO / "Dockerfile"]
    for pattern in CODE:
        for path in REPO.rglob(pattern):
            relative = path.relative_to(REPO).as_posix()
            if relative.startswith((".", "build/", *VENDORED)) or "/." in relative:
                continue
            found.append(path)
    return [path for path in found if path.is_file() and path != Path(__file__)]


def citations_in(paths: list[Path]) -> list[str]:
    return [
        f"{path.name}:{number}: {line.strip()[:80]}"
        for path in paths
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if CITATION.search(line)
    ]


def test_the_citation_detector_finds_what_it_should(tmp_path):
    cited = tmp_path / "cited.py"
    cited.write_text(
        "x = 1  # the bound of issue 5\ny = 2  # as the brief says\nz = 3  # no issue\n"
    )
    assert [hit.split(":")[1] for hit in citations_in([cited])] == ["1", "2"]


def test_code_and_comments_cite_no_issue_or_brief():
    assert citations_in(code_files()) == []
