"""The embedded default and the ``emining`` command, run for real as a user would run them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from geo.embedded import Cluster, ClusterError
from tests.conftest import REPO

EMINING = [sys.executable, "-m", "cli"]


@pytest.fixture
def home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="emining-home-"))
    folder.chmod(0o711)  # the postgres user must traverse it when we are root
    yield folder / "data"
    Cluster(folder / "data").destroy()
    shutil.rmtree(folder, ignore_errors=True)


def emining(
    *args: str, home: Path | None = None, url: str | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if home is not None:
        env["EMINING_HOME"] = str(home)
    if url is not None:
        env["DATABASE_URL"] = url
    result = subprocess.run(
        [*EMINING, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"emining {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def test_cluster_starts_stops_restarts_and_keeps_its_data(home):
    cluster = Cluster(home)
    assert not cluster.exists() and not cluster.running()
    assert cluster.start() is True
    assert cluster.start() is False  # already running
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    assert cluster.stop() is True and not cluster.running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.url(), connect_timeout=2)
    assert cluster.start() is True
    with psycopg.connect(cluster.url(tcp=True)) as conn:  # loopback TCP, with the password
        assert conn.execute("SELECT value FROM kept").fetchone() == ("still here",)
    assert (home / "cluster.json").stat().st_mode & 0o077 == 0  # the password is private
    cluster.stop()


def test_db_commands_manage_the_embedded_cluster(home):
    result = emining("db", "status", home=home, check=False)
    assert result.returncode == 3 and "not created yet" in result.stdout
    assert "started" in emining("db", "start", home=home).stdout
    status = emining("db", "status", home=home).stdout
    assert "running" in status and "deposits" in status
    tcp = emining("db", "url", "--tcp", home=home).stdout.strip()
    with psycopg.connect(tcp) as conn:
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'").fetchone()
    assert "stopped" in emining("db", "stop", home=home).stdout
    assert "stopped" in emining("db", "status", home=home, check=False).stdout


def test_load_and_export_commands_use_database_url(db_url, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [66.4, 26.1]},
                        "properties": {
                            "name": "X",
                            "commodities": ["lead"],
                            "status": "booming",
                            "coord_quality": "approximate",
                            "source": "test",
                        },
                    }
                ],
            }
        )
    )
    result = emining("load", str(bad), "--layer", "deposits", url=db_url, check=False)
    assert result.returncode == 1
    assert f"{bad}: feature 1: status: 'booming' is not one of" in result.stderr
    assert "nothing was written" in result.stderr

    samples = REPO / "data/samples/deposits.geojson"
    n = len(json.loads(samples.read_text(encoding="utf-8"))["features"])
    loaded = emining("load", str(samples), "--layer", "deposits", url=db_url).stdout
    assert f"{n:,} inserted, 0 updated" in loaded
    again = emining("load", str(samples), "--layer", "deposits", "--upsert", url=db_url).stdout
    assert f"0 inserted, {n:,} updated" in again
    figures = REPO / "data/samples/deposit_resources.csv"
    rows = len(figures.read_text(encoding="utf-8").splitlines()) - 1
    added = emining("load", str(figures), "--layer", "deposit_resources", url=db_url).stdout
    assert f"deposit_resources: {rows:,} inserted, 0 updated" in added
    out = tmp_path / "deposits.gpkg"
    assert f"{n:,} features" in emining("export", "deposits", "-o", str(out), url=db_url).stdout
    assert out.stat().st_size > 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_the_embedded_store_with_samples_and_stops_it_cleanly(home):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"EMINING_HOME": str(home)}
    server = subprocess.Popen(
        [*EMINING, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    health = json.load(r)
                    break
            except OSError:
                time.sleep(0.5)
        assert health is not None, server.stdout.read() if server.poll() is not None else "timeout"
        assert health["status"] == "ok" and health["database"]["connected"]
        samples = REPO / "data/samples"
        assert health["layers"] == {  # every sample file, loaded whole
            layer: len(json.loads((samples / f"{layer}.geojson").read_text("utf-8"))["features"])
            for layer in health["layers"]
        }
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output
    assert not Cluster(home).running(), "serve must stop the cluster it started"


def test_a_private_home_works_for_its_owner_and_is_refused_with_the_fix_for_postgres(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    cluster = Cluster(private / "data")
    if os.geteuid() == 0:  # the server would run as postgres, who cannot enter the folder
        with pytest.raises(ClusterError, match=r"postgres user cannot reach .*EMINING_HOME"):
            cluster.start()
    else:  # the server runs as us: a private folder is exactly right
        try:
            assert cluster.start() is True
        finally:
            cluster.destroy()
