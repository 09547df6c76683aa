"""Differential check: pygeoapi and our API, over one database, answer the same feature ids.

pygeoapi (from PyPI, installed by the test extra) serves the samples database with the
configuration ``emining pygeoapi-config`` writes, under uvicorn as its users run it; our API
serves the same database. A query passes when both match the same features; each query must
match some features and not all, so agreeing on "everything" or "nothing" proves nothing.

Filters: pygeoapi reads ``filter`` as ECQL (pygeofilter) and has neither A_CONTAINS nor the
other CQL2 array functions (pygeofilter's SQLAlchemy backend has no array operators), so the
filters compared are those both languages share: comparisons, LIKE, IN, BETWEEN, IS NULL,
NOT/AND/OR, and spatial intersection with a geometry literal or a box. For those the CQL2 text
is ECQL too, except the spatial function names (CQL2 ``S_INTERSECTS`` is ECQL ``INTERSECTS``;
CQL2's box literal ``BBOX(...)`` inside S_INTERSECTS is ECQL's ``BBOX(geometry, ...)``), date
literals, and ``NOT (comparison)``, which pygeofilter's ECQL grammar cannot parse.

Not compared, because the two differ by design: ``datetime``. Ours selects the features whose
time (an instant, or the interval start..end of a layer such as concessions) intersects the
query's, as OGC API Features asks; pygeoapi's provider tests one column (``time_field``), so on
concessions ``datetime=2015-01-01/..`` it drops licences granted earlier and still in force.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from click.testing import CliRunner
from psycopg import sql

from api.pygeoapi_config import write_openapi
from cli.main import main
from layers.catalogue import CATALOGUE, get

BIN = Path(sys.executable).parent
PAGE = 1000  # more than any sample layer holds: one page is the whole answer on both servers
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_proxy_for_loopback")]


@dataclass(frozen=True)
class Case:
    """One query: its parameters for our API and, where the language differs, for pygeoapi."""

    collection: str
    ours: dict[str, str]
    theirs: dict[str, str] = field(default_factory=dict)

    @property
    def pygeoapi(self) -> dict[str, str]:
        return self.theirs or self.ours

    def __str__(self) -> str:
        return f"{self.collection}?{'&'.join(f'{k}={v}' for k, v in self.ours.items())}"


def cql(collection: str, cql2: str, ecql: str | None = None) -> Case:
    return Case(
        collection,
        {"filter": cql2, "filter-lang": "cql2-text"},
        {"filter": ecql or cql2, "filter-lang": "cql-text"},
    )


CHAGAI = "61.0,28.5,62.5,29.6"  # around Reko Diq and Saindak
LOWER_INDUS = "66,24,71,28"
KARACHI = "66,24,68,26"
CASES = [
    # bbox on points, polygons and lines
    Case("deposits", {"bbox": CHAGAI}),
    Case("deposits", {"bbox": LOWER_INDUS}),
    Case("concessions", {"bbox": CHAGAI}),
    Case("districts", {"bbox": KARACHI}),
    Case("provinces", {"bbox": "70,30,71,31"}),
    Case("corridors", {"bbox": KARACHI}),
    # property equality, alone and with a bbox
    Case("deposits", {"status": "producing"}),
    Case("deposits", {"status": "producing", "bbox": LOWER_INDUS}),
    Case("districts", {"province": "Sindh"}),
    Case("facilities", {"province": "Sindh"}),
    Case("sezs", {"province": "Khyber Pakhtunkhwa"}),
    Case("corridors", {"mode": "rail"}),
    Case("corridors", {"cpec": "true"}),  # a boolean column
    # CQL2 text that is ECQL as well
    cql("deposits", "status IN ('explored', 'occurrence')"),
    cql("deposits", "coord_radius_km > 20"),
    cql("deposits", "as_of IS NULL AND province = 'Balochistan'"),
    cql("deposits", "name LIKE 'Thar%' OR status = 'development'"),
    cql(
        "districts",
        "name LIKE 'K%' AND NOT (province = 'Punjab')",
        "name LIKE 'K%' AND NOT province = 'Punjab'",  # pygeofilter: no NOT (comparison)
    ),
    cql("sezs", "area_acres BETWEEN 500 AND 1500"),
    cql("concessions", "licence_type = 'mining_lease' AND province <> 'Sindh'"),
    # dates: CQL2's DATE() literal is ECQL's AFTER with an instant
    cql(
        "concessions",
        "granted_on > DATE('2015-01-01')",
        "granted_on AFTER 2015-01-01T00:00:00Z",
    ),
    # spatial: the function's name differs
    cql(
        "deposits",
        "S_INTERSECTS(geometry, POLYGON((66 24, 71 24, 71 28, 66 28, 66 24)))",
        "INTERSECTS(geometry, POLYGON((66 24, 71 24, 71 28, 66 28, 66 24)))",
    ),
    cql(
        "districts",
        "S_INTERSECTS(geometry, POINT(67.0 25.0))",
        "INTERSECTS(geometry, POINT(67.0 25.0))",
    ),
    cql(
        "corridors",
        "S_INTERSECTS(geometry, BBOX(66, 24, 68, 26)) AND mode = 'road'",
        "BBOX(geometry, 66, 24, 68, 26) AND mode = 'road'",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(database_url: str, server_url: str, path: Path) -> dict:
    """The configuration as ``emining pygeoapi-config`` writes it for DATABASE_URL."""
    done = CliRunner().invoke(
        main,
        ["pygeoapi-config", "-o", str(path), "--url", server_url],
        env={"DATABASE_URL": database_url},
    )
    assert done.exit_code == 0, done.output
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def pygeoapi(samples_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pygeoapi under uvicorn over the samples database; yields its base URL."""
    folder = tmp_path_factory.mktemp("pygeoapi")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config, openapi = folder / "pygeoapi.yml", folder / "openapi.yml"
    write_config(samples_url, base, config)
    write_openapi(config, openapi, BIN / "pygeoapi")
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    log = folder / "pygeoapi.log"
    command = [str(BIN / "uvicorn"), "pygeoapi.starlette_app:APP", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"pygeoapi exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"pygeoapi did not start:\n{log.read_text()}"
            try:
                if requests.get(f"{base}/conformance", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(20)


def feature_ids(url: str, params: dict[str, str]) -> tuple[list, int]:
    """Sorted ids of one page holding every match, and numberMatched."""
    answer = requests.get(url, params={**params, "f": "json", "limit": str(PAGE)}, timeout=30)
    assert answer.status_code == 200, (answer.url, answer.text[:500])
    body = answer.json()
    assert body["numberReturned"] == len(body["features"]) == body["numberMatched"], answer.url
    return sorted(f["id"] for f in body["features"]), body["numberMatched"]


def count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        return conn.execute(query).fetchone()[0]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_pygeoapi_and_our_api_match_the_same_features(case, live_server, pygeoapi, samples_url):
    path = f"/collections/{case.collection}/items"
    ours, matched = feature_ids(live_server.url + path, case.ours)
    theirs, their_matched = feature_ids(pygeoapi + path, case.pygeoapi)
    total = count(samples_url, get(case.collection).source.table)
    assert 0 < matched < total, f"{case} matches {matched} of {total}: not a selective query"
    assert (ours, matched) == (theirs, their_matched)


def test_pygeoapi_publishes_every_catalogue_layer(pygeoapi):
    collections = requests.get(f"{pygeoapi}/collections", params={"f": "json"}, timeout=30).json()
    titles = {c["id"]: c["title"] for c in collections["collections"]}
    assert titles == {layer.id: layer.title for layer in CATALOGUE}


def test_config_is_valid_for_pygeoapi_and_private(samples_url, tmp_path):
    path = tmp_path / "pygeoapi.yml"
    write_config(samples_url, "http://127.0.0.1:5000", path)
    assert path.stat().st_mode & 0o777 == 0o600
    done = subprocess.run(
        [str(BIN / "pygeoapi"), "config", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Valid configuration" in done.stdout, done.stdout + done.stderr


def test_config_without_database_url_reaches_the_embedded_cluster_over_tcp(cluster, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("EMINING_HOME", str(cluster.home))
    done = CliRunner().invoke(main, ["pygeoapi-config"])
    assert done.exit_code == 0, done.output
    resources = yaml.safe_load(done.stdout)["resources"]
    assert list(resources) == [layer.id for layer in CATALOGUE]
    data = resources["deposits"]["providers"][0]["data"]
    assert (data["host"], data["port"]) == ("127.0.0.1", cluster.config()["port"])
    # What pygeoapi will connect with is accepted by the cluster over TCP (password auth).
    with psycopg.connect(
        host=data["host"], port=data["port"], dbname=data["dbname"], user=data["user"],
        password=data["password"],
    ) as conn:  # fmt: skip
        assert conn.execute("SELECT current_user").fetchone() == (data["user"],)
