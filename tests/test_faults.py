"""Faults and hostile input (issue 5): kills in the middle of a load, a PostgreSQL restart while
the API serves, injection attempts through every parameter that reaches SQL.

Real processes throughout: ``emining load`` and ``emining serve`` run as subprocesses, killed or
left serving while their PostgreSQL goes away. The restart test has a cluster of its own (the
session's cluster serves every other test module). The loads are of synthetic deposits, named
and sourced as such.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pyogrio
import pytest
import shapely

from geo import db
from geo.embedded import Cluster
from geo.load import SAMPLES, load_file
from tests.conftest import FAST, REPO, fresh_database

EMINING = [sys.executable, "-m", "api.cli"]
ROWS = 120_000  # three COPY chunks of geo.copy.CHUNK: a load takes a few seconds
MID_WRITE = "written 50,000/"  # the progress line after the first chunk went to the server


# -- fixtures ------------------------------------------------------------------------------------


def synthetic_deposits(n: int, seed: int = 5) -> gpd.GeoDataFrame:
    """``n`` valid synthetic deposits inside Pakistan, labelled synthetic in name and source."""
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "name": [f"SYNTHETIC-faults-{i:07d}" for i in range(n)],
            "commodities": rng.choice(["copper;gold", "coal", "chromite", "gold"], n),
            "status": rng.choice(["occurrence", "prospect", "producing"], n),
            "coord_quality": "approximate",
            "tonnage_mt": rng.uniform(0.1, 500, n).round(2),
            "source": "synthetic: tests/test_faults.py (not real data)",
            "notes": "synthetic test row; not a real deposit",
        },
        geometry=shapely.points(rng.uniform(62, 75, n), rng.uniform(25, 35, n)),
        crs=4326,
    )


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "synthetic-deposits.gpkg"
    pyogrio.write_dataframe(synthetic_deposits(ROWS), path, use_arrow=True)
    return path


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A cluster this module may stop and start, holding the sample deposits."""
    home = Path(tempfile.mkdtemp(prefix="emining-faults-"))
    cluster = Cluster(home, extra_settings=FAST)
    cluster.start()
    db.migrate(cluster.url())
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        load_file(conn, SAMPLES / "deposits.geojson", "deposits")
    yield cluster
    cluster.destroy()
    shutil.rmtree(home, ignore_errors=True)


def env_for(url: str | None = None, home: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EMINING_HOME")}
    if url is not None:
        env["DATABASE_URL"] = url
    if home is not None:
        env["EMINING_HOME"] = str(home)
    return env | extra


# -- kill in the middle of a bulk write ------------------------------------------------------------


class Load:
    """``emining load FILE --layer deposits`` as a subprocess, its stderr collected as it comes."""

    def __init__(self, path: Path, env: dict[str, str]):
        self.process = subprocess.Popen(
            [*EMINING, "load", str(path), "--layer", "deposits", "--no-network"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_mid_copy(self, url: str) -> None:
        """Until a chunk has gone to the server and its COPY is still running there."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the load ended before it could be interrupted:\n{self.output()}")
            if any(MID_WRITE in line for line in self.lines) and copies(url):
                return
            time.sleep(0.05)
        pytest.fail(f"the load never reached its COPY:\n{self.output()}")

    def end(self, how: signal.Signals) -> int:
        self.process.send_signal(how)
        code = self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        return code


def copies(url: str) -> int:
    """COPY statements into deposits running in the database ``url`` names."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'COPY \"deposits\"%%'"
            ).fetchone()[0]
    except psycopg.OperationalError:  # the embedded cluster is not up yet
        return 0


def state(url: str) -> dict:
    """What a half-done load could leave behind: rows, keys, the schema, the change counter,
    temporary tables, locks and backends still at work."""
    with psycopg.connect(url, autocommit=True) as conn:

        def rows(query: str, *params: object) -> list[tuple]:
            return conn.execute(query, params).fetchall()

        return {
            "rows": rows("SELECT count(*), count(DISTINCT name) FROM deposits"),
            "schema": rows(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'deposits' "
                "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'deposits'::regclass ORDER BY 1, 2"
            ),
            "version": rows("SELECT version FROM layer_changes WHERE layer = 'deposits'"),
            "temporary tables": rows("SELECT relname FROM pg_class WHERE relpersistence = 't'"),
            "locks": rows(
                "SELECT mode FROM pg_locks WHERE relation = 'deposits'::regclass "
                "AND pid <> pg_backend_pid()"
            ),
            "other backends": rows(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ),
        }


def settled(url: str) -> dict:
    """``state`` once the server has noticed that its client is gone (it ends the backend when
    it next reads from the socket; a killed process cannot tell it sooner)."""
    deadline = time.monotonic() + 60
    while copies(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    return state(url)


def test_sigkill_in_the_middle_of_a_bulk_load_leaves_no_row_and_a_new_load_succeeds(
    cluster, big_file
):
    """Into an empty table the loader truncates it, drops its indexes and streams the COPY:
    killed with no chance to clean up, the server's rollback must undo all of it."""
    url = fresh_database(cluster)
    before = state(url)
    assert before["rows"] == [(0, 0)]
    load = Load(big_file, env_for(url))
    load.wait_until_mid_copy(url)
    assert load.end(signal.SIGKILL) == -signal.SIGKILL
    assert settled(url) == before

    done = subprocess.run(
        [*EMINING, "load", str(big_file), "--layer", "deposits", "--no-network"],
        env=env_for(url),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    after = state(url)
    assert after["rows"] == [(ROWS, ROWS)]
    assert after["schema"] == before["schema"]


def test_sigterm_in_the_middle_of_a_load_rolls_back_and_stops_the_cluster_it_started(
    own_cluster, big_file
):
    """SIGTERM (a supervisor, ``timeout``, ``kill``) ends the command as Ctrl-C would: the
    transaction is rolled back and the embedded cluster the command started is stopped again.
    Into a table that holds rows the loader checks the whole file before its COPY."""
    own_cluster.start()
    before = state(own_cluster.url())
    assert before["rows"] == [(13, 13)]
    own_cluster.stop()
    load = Load(big_file, env_for(home=own_cluster.home))
    load.wait_until_mid_copy(own_cluster.url())
    assert load.end(signal.SIGTERM) == 128 + signal.SIGTERM, load.output()
    assert not own_cluster.running(), "the command must stop the cluster it started"
    own_cluster.start()
    assert settled(own_cluster.url()) == before
