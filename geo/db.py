"""Where the store is and how to reach it.

``DATABASE_URL`` names a server to use; without it every command uses the embedded cluster under
``$EMINING_HOME``, starting it when needed and stopping it again if it was not running before,
so a one-off command (load, export) leaves the machine as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

from geo.embedded import Cluster
from geo.models import LAYERS
from geo.settings import current as current_settings
from geo.settings import normalize_url as normalize_url  # kept where callers found it

MIGRATION_LOCK = 724_311  # pg_advisory_lock key: one migrator at a time


def configured_url() -> str | None:
    """``DATABASE_URL`` (see geo/settings.py), or None for the embedded cluster."""
    return current_settings().database_url or None


@contextmanager
def store(keep_running: bool = False) -> Iterator[str]:
    """Yield the URL of a migrated store; start (and afterwards stop) the embedded one if needed."""
    if url := configured_url():
        migrate(url)
        yield url
        return
    cluster = Cluster()
    started = cluster.start()
    try:
        url = cluster.url()
        migrate(url)
        yield url
    finally:
        if started and not keep_running:
            cluster.stop()


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, **kwargs)


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision (the migrations are the schema's source)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                connection.commit()
    finally:
        engine.dispose()


def layer_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per layer: exact counts (the tables are small) for health checks and the CLI."""
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in LAYERS}


_VISIBLE_COUNTS = " UNION ALL ".join(
    f"SELECT '{name}', count(*) FROM \"{name}\"" for name in LAYERS
)


async def status(conn: psycopg.AsyncConnection) -> dict:
    """The server's and PostGIS's versions and the rows of each layer the connection's role may
    see (row-level security applies: /healthz counts what its caller may read)."""
    cursor = await conn.execute("SELECT current_setting('server_version'), postgis_lib_version()")
    postgresql, postgis = await cursor.fetchone()
    counts = await (await conn.execute(_VISIBLE_COUNTS)).fetchall()
    return {"postgresql": postgresql, "postgis": postgis, "layers": dict(counts)}


def layer_versions(conn: psycopg.Connection) -> dict[str, int]:
    """Each layer's change counter, raised by the database on every write (see migration 0002).

    Caches key their entries on it: a version read before the data can only make a cache entry
    older than its key, never newer, so a write is never hidden behind a cached answer.
    """
    return dict(conn.execute("SELECT layer, version FROM layer_changes").fetchall())
