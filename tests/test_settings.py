"""One settings object: documented in full, read from the environment, and obeyed where used."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from geo import db, embedded, raster, settings
from tests.conftest import REPO

SOURCE = REPO / "geo" / "settings.py"
README = (REPO / "README.md").read_text()


def variables() -> set[str]:
    """The environment variables geo/settings.py reads (the names passed to _env and _path)."""
    found = set()
    for node in ast.walk(ast.parse(SOURCE.read_text())):
        called = isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_env", "_path")
        if called and isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
    return found


def table_rows() -> dict[str, str]:
    """The rows of the README's settings table (its section, up to the next heading), by field."""
    section = README.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if match := re.match(r"\| `(\w+)` \| (.*)", line):
            rows[match.group(1)] = match.group(2)
    return rows


def test_the_table_lists_every_field_and_variable():
    rows = table_rows()
    assert set(rows) == {f.name for f in dataclasses.fields(Settings)}
    variable_column = {row.split(" | ")[0] for row in rows.values()}
    assert {f"`{name}`" for name in variables()} <= variable_column, variables()


def test_the_environment_reaches_every_reader(monkeypatch, tmp_path):
    monkeypatch.setenv("EMINING_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EMINING_RASTERS", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@somewhere/store")
    assert embedded.default_home() == tmp_path / "home"
    assert embedded.Cluster().home == tmp_path / "home"
    assert raster.raster_home() == tmp_path / "home" / "rasters"
    assert db.configured_url() == "postgresql://someone@somewhere/store"
    monkeypatch.setenv("EMINING_RASTERS", str(tmp_path / "cogs"))
    assert raster.raster_home() == tmp_path / "cogs"
    monkeypatch.setenv("EMINING_PG_BINDIR", str(tmp_path / "bin"))
    assert embedded.find_bindir() == tmp_path / "bin"
    monkeypatch.setenv("EMINING_TILE_CACHE_MB", "0.5")
    monkeypatch.setenv("EMINING_BASEMAP", "osm")
    made = Settings("postgresql://x@y/z")
    assert made.tile_cache_bytes == 2**19 and made.basemap == "osm"
    monkeypatch.delenv("DATABASE_URL")
    assert db.configured_url() is None


def test_an_unset_home_is_dot_data_in_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("EMINING_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert settings.current().home == tmp_path / ".data"


def test_the_app_connections_carry_the_statement_timeout(db_url, monkeypatch):
    monkeypatch.setenv("EMINING_STATEMENT_TIMEOUT_MS", "4321")
    app = create_app(Settings(db_url))

    async def show() -> str:
        async with app.state.pool.connection() as conn:
            return (await (await conn.execute("SHOW statement_timeout")).fetchone())[0]

    with TestClient(app) as client:  # the app's lifespan opens its pool; ask it on its loop
        assert client.portal.call(show) == "4321ms"
    with psycopg.connect(db_url) as conn:  # a plain connection keeps the server's default
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "0"


def test_one_extent_and_one_map_limit():
    """The extent and the 5,000-row limit are written once: every user reads geo/settings.py."""
    from api import tilesets
    from geo import validate
    from layers import maps

    assert tilesets.PAKISTAN is settings.PAKISTAN_EXTENT is validate.EXTENT
    assert maps.EMBED_MAX == settings.MAP_EMBED_MAX == Settings("x").map_embed_max
    literal = re.compile(r"\(60\.88,|\b5_000\b(?!\.)")
    for path in [*REPO.glob("api/**/*.py"), *REPO.glob("layers/*.py"), *REPO.glob("geo/*.py")]:
        if path != SOURCE:
            text = path.read_text()
            hits = [line for line in text.splitlines() if literal.search(line)]
            assert not hits, f"{path.relative_to(REPO)}: {hits}"


def test_settings_are_read_nowhere_else():
    """No module but geo/settings.py reads the environment for a setting."""
    reads = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[[^]]+\](?!\s*=)")
    for path in [*REPO.glob("api/**/*.py"), *REPO.glob("layers/*.py"), *REPO.glob("geo/**/*.py")]:
        if path != SOURCE:
            hits = [line for line in path.read_text().splitlines() if reads.search(line)]
            assert not hits, f"{Path(path).relative_to(REPO)}: {hits}"
