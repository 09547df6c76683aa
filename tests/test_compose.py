"""docker-compose.yml: valid for docker-compose 1.29, PostGIS with a volume and a healthcheck, and
an API that waits for a healthy database and reaches it by its service name.

The file is checked through ``docker-compose config``, whose output is normalised (sorted keys,
two-space indent, variables interpolated), so plain text matching is enough and PyYAML is not
needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

COMPOSE_FILE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is not installed: install Debian's docker-compose (make deps)")
    return subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "config", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def service(config: str, name: str) -> str:
    """The lines of one service in ``docker-compose config`` output (services at indent 2)."""
    match = re.search(rf"^  {re.escape(name)}:\n((?:(?:    .*)?\n)*)", config, re.MULTILINE)
    assert match, f"no service {name!r} in:\n{config}"
    return match.group(1)


@pytest.fixture(scope="module")
def config() -> str:
    result = compose()
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_compose_file_is_valid() -> None:
    result = compose("-q")
    assert result.returncode == 0, result.stderr


def test_db_is_postgis_with_healthcheck_and_volume(config: str) -> None:
    db = service(config, "db")
    assert re.search(r"^    image: postgis/postgis:15-3\.\d+$", db, re.MULTILINE), db
    assert re.search(r"^    healthcheck:\n(?:      .*\n)*.*pg_isready", db, re.MULTILINE), db
    volume = re.search(r"^    - ([\w.-]+):/var/lib/postgresql/data\b", db, re.MULTILINE)
    assert volume, db
    assert volume.group(1) in compose("--volumes").stdout.split()


def test_api_waits_for_healthy_db_and_uses_it(config: str) -> None:
    api = service(config, "api")
    assert "    depends_on:\n      db:\n        condition: service_healthy\n" in api, api
    url = re.search(r"^      DATABASE_URL: (\S+)$", api, re.MULTILINE)
    assert url, api
    parts = urlsplit(url.group(1))
    assert (parts.scheme, parts.hostname, parts.port) == ("postgresql", "db", 5432)
    assert parts.path.strip("/"), "DATABASE_URL names no database"
    assert "/healthz" in api and re.search(r"^      target: 8000$", api, re.MULTILINE), api
