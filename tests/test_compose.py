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


def compose(*args: str, profile: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is not installed: install Debian's docker-compose (make deps)")
    return subprocess.run(
        [
            exe,
            "-f",
            str(COMPOSE_FILE),
            *(["--profile", profile] if profile else []),
            "config",
            *args,
        ],
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


def built_dockerfile(service_text: str) -> Path:
    """The Dockerfile a service builds (``build: context, dockerfile``), as a path."""
    context = re.search(r"^      context: (\S+)$", service_text, re.MULTILINE)
    dockerfile = re.search(r"^      dockerfile: (\S+)$", service_text, re.MULTILINE)
    assert context and dockerfile, service_text
    return (COMPOSE_FILE.parent / context.group(1) / dockerfile.group(1)).resolve()


def test_db_is_postgis_with_healthcheck_and_volume(config: str) -> None:
    db = service(config, "db")
    assert re.search(r"^    image: emining-db:latest$", db, re.MULTILINE), db
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


def test_the_database_image_declares_postgis_and_pgrouting(config: str) -> None:
    """Every deployment has the whole platform: the image the db service builds installs
    PostGIS and pgRouting for the PostgreSQL it runs, read from its Dockerfile."""
    dockerfile = built_dockerfile(service(config, "db"))
    text = dockerfile.read_text()
    installed = set(re.findall(r"\bpostgresql-(\d+)(?:-([a-z0-9-]+))?\b", text))
    majors = {major for major, extra in installed if extra == ""}
    assert len(majors) == 1, installed
    (major,) = majors
    assert (major, "postgis-3") in installed and (major, "pgrouting") in installed, installed
    assert 'emining.extensions="postgis,pgrouting"' in text


@pytest.fixture(scope="module")
def ha_config() -> str:
    result = compose(profile="ha")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_ha_profile_is_valid_and_has_the_whole_topology(ha_config: str) -> None:
    assert compose("-q", profile="ha").returncode == 0
    for name in ("etcd1", "etcd2", "etcd3"):
        assert re.search(r"^      ETCD_INITIAL_CLUSTER: .*etcd3=", service(ha_config, name), re.M)
    for name in ("pg1", "pg2", "pg3"):
        member = service(ha_config, name)
        assert "/etc/emining/patroni.yml" in member and f"PATRONI_NAME: {name}" in member
        assert re.search(r"^    image: emining-db:latest$", member, re.MULTILINE)
    assert "/etc/emining/haproxy.cfg" in service(ha_config, "haproxy")
    for name in ("api-ha1", "api-ha2"):
        api = service(ha_config, name)
        write = re.search(r"^      DATABASE_URL: (\S+)$", api, re.MULTILINE).group(1)
        read = re.search(r"^      DATABASE_READ_URL: (\S+)$", api, re.MULTILINE).group(1)
        assert (urlsplit(write).hostname, urlsplit(write).port) == ("haproxy", 5000)
        assert (urlsplit(read).hostname, urlsplit(read).port) == ("haproxy", 5001)


def test_the_ha_files_are_generated_from_the_topology_dicts() -> None:
    """docker/ha/ is what ``python -m geo.ha_config`` writes: the compose cluster and
    ``emining cluster`` share Patroni's DCS settings and HAProxy's routing."""
    import yaml

    from geo.ha_config import DCS, compose_haproxy_config, compose_patroni_config

    folder = COMPOSE_FILE.parent / "docker" / "ha"
    patroni = yaml.safe_load((folder / "patroni.yml").read_text())
    assert patroni == compose_patroni_config() and patroni["bootstrap"]["dcs"] == DCS
    haproxy = (folder / "haproxy.cfg").read_text()
    assert haproxy.split("\n", 1)[1] == compose_haproxy_config()
    assert "option httpchk OPTIONS /sync" in haproxy and "nbsrv(replicas)" in haproxy
