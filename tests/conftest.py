"""Fixtures: one real throwaway PostgreSQL + PostGIS cluster for the whole run.

The cluster is the platform's own embedded cluster (initdb and pg_ctl, as the postgres user when
we are root) in a temporary folder, with durability switched off for speed. A template database
holds the migrated schema; each test module gets a fresh copy of it, so modules never see each
other's rows and a copy costs milliseconds.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from geo import db
from geo.embedded import Cluster
from geo.load import load_samples

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = "emining_template"
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def with_database(url: str, name: str) -> str:
    return url.replace("/emining?", f"/{name}?", 1)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    # Directly under /tmp: the postgres user must reach it (pytest's own tmp dirs are 0700).
    home = Path(tempfile.mkdtemp(prefix="emining-test-"))
    instance = Cluster(home, extra_settings=FAST)
    instance.start()
    with psycopg.connect(instance.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    db.migrate(with_database(instance.url(), TEMPLATE))
    yield instance
    instance.destroy()
    shutil.rmtree(home, ignore_errors=True)


def fresh_database(cluster: Cluster) -> str:
    """A new database copied from the migrated template; returns its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return with_database(cluster.url(), name)


@pytest.fixture(scope="module")
def db_url(cluster: Cluster) -> str:
    """An empty, migrated database for one test module."""
    return fresh_database(cluster)


@pytest.fixture(scope="module")
def samples_url(cluster: Cluster) -> str:
    """A database for one test module with the sample data loaded."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
    return url


def add_sample_rasters(
    url: str, folder: Path, access_res: float = 10_000.0, density_res: float = 10_000.0
) -> dict:
    """Derive and register the two sample rasters in the store at ``url`` (name → RasterInfo).

    Coarser than ``emining raster derive`` by default (10 km cells), so a test module pays
    well under a second for them.
    """
    from geo.raster_derive import derive_samples

    with psycopg.connect(url, autocommit=True) as conn:
        derived = derive_samples(conn, folder, access_res=access_res, density_res=density_res)
    return {info.name: info for info in derived}


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def empty_url(cluster: Cluster) -> str:
    """An empty database for one test (for tests that must start from nothing)."""
    return fresh_database(cluster)


class LiveServer:
    """The real app under uvicorn on a loopback port, in a background thread."""

    def __init__(self, database_url: str, **settings: object):
        import socket
        import threading

        import uvicorn

        from api.app import Settings, create_app
        from api.server import config

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # The platform's own server settings (api.server): header deadline, connection caps.
        app = self.app = create_app(Settings(database_url, **settings))
        self.server = uvicorn.Server(config(app, "127.0.0.1", self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def no_proxy_for_loopback() -> Iterator[None]:
    """Servers under test are on loopback: no client (requests, GDAL's curl, a notebook's kernel
    started meanwhile) may go through a proxy set in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("no_proxy", "NO_PROXY"):
            patch.setenv(name, "127.0.0.1,localhost")
        yield


def run_notebook(path: Path, server_url: str):
    """Execute a notebook of notebooks/ against ``server_url`` (its EMINING_URL); return it run."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMINING_URL", server_url)
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return notebook


@pytest.fixture(scope="module")
def live_server(samples_url: str) -> Iterator[LiveServer]:
    """The platform served over HTTP on loopback, with the sample data (one per test module)."""
    with LiveServer(samples_url) as server:
        yield server
