"""A regular (non-editable) ``pip install .`` carries the samples and the migrations.

The project is installed into a fresh venv (tests/install.py), and run from a folder outside the
checkout: ``emining db seed`` must migrate an empty database with the installed migrations and
load the installed samples.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, with_database
from tests.install import installed_venv, outside

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory) -> Iterator[Path]:
    yield installed_venv(tmp_path_factory.mktemp("install"))


@pytest.fixture
def unmigrated_url(cluster) -> str:
    """A database with nothing in it, not even PostGIS: the installed migrations make it all."""
    name = f"bare_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return with_database(cluster.url(), name)


def test_the_installed_package_has_its_samples_and_migrations(venv_bin, tmp_path):
    where = subprocess.run(
        [venv_bin / "python", "-c",
         "import geo, geo.load, cli.main; print(geo.__file__); print(geo.load.SAMPLES); "
         "print(cli.main.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=outside(),
    ).stdout.split()  # fmt: skip
    package = Path(where[0]).parent
    assert package.is_relative_to(venv_bin.parent), where
    assert Path(where[2]).is_relative_to(venv_bin.parent), where  # the CLI is in the wheel too
    assert Path(where[1]) == package / "samples"
    for name in os.listdir(REPO / "data" / "samples"):
        if name.endswith((".geojson", ".json", ".md")):
            assert (package / "samples" / name).read_bytes() == (
                REPO / "data" / "samples" / name
            ).read_bytes()
    versions = sorted(p.name for p in (REPO / "geo" / "migrations" / "versions").glob("*.py"))
    assert sorted(p.name for p in (package / "migrations" / "versions").glob("*.py")) == versions


def test_emining_db_seed_from_outside_the_checkout(venv_bin, unmigrated_url, tmp_path):
    env = {**outside(), "DATABASE_URL": unmigrated_url, "EMINING_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [venv_bin / "emining", "db", "seed"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    deposits = json.loads((REPO / "data" / "samples" / "deposits.geojson").read_text())
    head = max(
        p.name.split("_")[0] for p in (REPO / "geo" / "migrations" / "versions").glob("*.py")
    )
    with psycopg.connect(unmigrated_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
        count = conn.execute("SELECT count(*) FROM deposits").fetchone()[0]
    assert count == len(deposits["features"])
