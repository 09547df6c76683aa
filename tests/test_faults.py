"""Faults and hostile input: kills in the middle of a load, a PostgreSQL restart while
the API serves, injection attempts through every parameter that reaches SQL.

Real processes throughout: ``emining load`` and ``emining serve`` run as subprocesses, killed or
left serving while their PostgreSQL goes away. The restart test has a cluster of its own (the
session's cluster serves every other test module). The loads are of synthetic deposits, named
and sourced as such.
"""

from __future__ import annotations

import json
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

from geo import db, network
from geo.embedded import Cluster
from geo.load import BULK, SAMPLES, load_file
from tests.conftest import FAST, REPO, fresh_database

EMINING = [sys.executable, "-m", "cli"]
ROWS = 120_000  # three COPY chunks of geo.copy.CHUNK: a load takes a few seconds
MID_WRITE = "written 50,000/"  # the progress line after the first chunk went to the server


# -- fixtures ---------------------------------------------------------------------------------


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
def next_file(tmp_path_factory) -> Path:
    """The load after the killed one: the same names, and enough rows (BULK) to take the same
    path into an empty table (truncate, indexes dropped, COPY, indexes rebuilt)."""
    path = tmp_path_factory.mktemp("faults") / "synthetic-deposits-next.gpkg"
    pyogrio.write_dataframe(synthetic_deposits(BULK), path, use_arrow=True)
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


# -- kill in the middle of a bulk write -------------------------------------------------------


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
    cluster, big_file, next_file
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
        [*EMINING, "load", str(next_file), "--layer", "deposits", "--no-network"],
        env=env_for(url),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    after = state(url)
    assert after["rows"] == [(BULK, BULK)]
    assert after["schema"] == before["schema"]


def test_sigterm_in_the_middle_of_a_load_rolls_back_and_stops_the_cluster_it_started(
    own_cluster, big_file
):
    """SIGTERM (a supervisor, ``timeout``, ``kill``) ends the command as Ctrl-C would: the
    transaction is rolled back and the embedded cluster the command started is stopped again.
    Into a table that holds rows the loader checks the whole file before its COPY."""
    own_cluster.start()
    before = state(own_cluster.url())
    samples = json.loads((REPO / "data/samples/deposits.geojson").read_text(encoding="utf-8"))
    held = len(samples["features"])  # the samples the embedded cluster was seeded with
    assert before["rows"] == [(held, held)]
    own_cluster.stop()
    load = Load(big_file, env_for(home=own_cluster.home))
    load.wait_until_mid_copy(own_cluster.url())
    assert load.end(signal.SIGTERM) == 128 + signal.SIGTERM, load.output()
    assert not own_cluster.running(), "the command must stop the cluster it started"
    own_cluster.start()
    assert settled(own_cluster.url()) == before


# -- PostgreSQL restarts while the API serves ------------------------------------------------

OUTAGE = 8.0
"""Seconds the database stays down: longer than the pool's first reconnection delays (1, 2, 4 s
from psycopg_pool's exponential backoff), so a retry schedule that keeps doubling would leave the
API down for seconds after the database is back."""
RECOVERY = 5.0  # s: the longest readers may get errors once PostgreSQL is back
HAMMERED = (
    "/collections/deposits/items?limit=5",
    "/collections/deposits/items/1",
    "/collections",
    "/collections/deposits/items?filter=status%3D'producing'",
    "/collections/deposits/tiles/WebMercatorQuad/5/22/13",
    "/healthz",
)


class Served:
    """``emining serve`` as a subprocess on the store at ``url``."""

    def __init__(self, url: str):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [*EMINING, "serve", "--no-samples", "--port", str(port)],
            env=env_for(url),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> Served:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.process.kill()
        pytest.fail(f"emining serve did not start:\n{self.process.communicate()[1]}")

    def __exit__(self, *exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=30)


class Hammer:
    """Threads asking for HAMMERED in turn until stopped, every answer recorded."""

    def __init__(self, base: str, threads: int = 4):
        self.base, self.running = base, True
        self.answers: list[tuple[float, float, str, int | str, bytes]] = []
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, offset: int) -> None:
        import httpx

        # The pool's timeout (30 s) is the longest a request may wait for a connection.
        with httpx.Client(timeout=45) as client:
            turn = offset
            while self.running:
                path = HAMMERED[turn % len(HAMMERED)]
                turn += 1
                sent = time.monotonic()
                try:
                    response = client.get(self.base + path)
                    status, body = response.status_code, response.content
                except httpx.HTTPError as error:
                    status, body = type(error).__name__, str(error).encode()
                self.answers.append((sent, time.monotonic(), path, status, body))
                time.sleep(0.01)

    def __enter__(self) -> Hammer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=60)


def first_ok(base: str, path: str = "/collections/deposits/items?limit=1") -> float:
    """When a new request first answered 200, asking again and again from now."""
    import httpx

    with httpx.Client(timeout=45) as client:
        while True:
            if client.get(base + path).status_code == 200:
                return time.monotonic()
            time.sleep(0.02)


@pytest.fixture(scope="module")
def served(own_cluster) -> Iterator[Served]:
    own_cluster.start()
    with Served(own_cluster.url()) as server:
        yield server


def test_connections_the_restart_ended_are_never_handed_to_a_request(own_cluster, served):
    """A quiet restart (no request while the database is down) leaves the pool holding
    connections whose server is gone; none may cost a request a 503."""
    import httpx

    with httpx.Client(timeout=45) as client:
        threads = [
            threading.Thread(target=client.get, args=(served.base + path,)) for path in HAMMERED * 2
        ]  # concurrent requests: the pool opens several connections
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        own_cluster.stop()
        own_cluster.start()
        statuses = [client.get(served.base + path).status_code for path in HAMMERED * 2]
    assert statuses == [200] * len(statuses), str(statuses)


def test_the_api_answers_within_5_s_of_postgresql_coming_back(own_cluster, served):
    """Requests during the outage get a 503 in OGC exception JSON (or wait, at most the pool's
    timeout, and get their answer once the database is back), never a 500; /healthz says
    unavailable, then ok; a new request gets its 200 within 5 s of PostgreSQL being back."""
    import httpx

    own_cluster.start()
    with Hammer(served.base) as hammer:
        time.sleep(1)  # every endpoint answered at least once, the pool is warm
        own_cluster.stop()
        down = time.monotonic()
        health = httpx.get(served.base + "/healthz", timeout=45)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        time.sleep(max(0.0, down + OUTAGE - time.monotonic()))
        own_cluster.start()
        back = time.monotonic()
        recovery = first_ok(served.base) - back
        health = httpx.get(served.base + "/healthz", timeout=45)
        assert health.status_code == 200 and health.json()["status"] == "ok"
    print(f"recovery after {OUTAGE:.0f} s down: {recovery:.2f} s")
    assert recovery < RECOVERY, f"first 200 came {recovery:.1f} s after PostgreSQL was back"
    during = [a for a in hammer.answers if a[1] > down]
    statuses = {status for _, _, _, status, _ in during}
    assert statuses <= {200, 503}, [a for a in during if a[3] not in (200, 503)][:3]
    for _, _, path, status, body in during:
        if status == 503 and path != "/healthz":  # /healthz has a body of its own
            assert set(httpx.Response(503, content=body).json()) == {"code", "description"}
    assert any(a[3] == 200 and a[0] > back for a in during), "the hammer never got through"


# -- injection attempts and malformed input ------------------------------------------------------

RASTER = "synthetic_faults"


def q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@pytest.fixture(scope="module")
def hostile(cluster, tmp_path_factory) -> Iterator[tuple]:
    """The app in process over deposits, concessions and a small synthetic raster."""
    import rasterio
    from fastapi.testclient import TestClient
    from rasterio.transform import from_origin

    from api.app import Settings, create_app
    from geo.raster import add_raster

    url = fresh_database(cluster)
    folder = tmp_path_factory.mktemp("faults-rasters")
    tif = folder / "source.tif"
    profile = {"driver": "GTiff", "width": 20, "height": 20, "count": 1, "dtype": "float32",
               "crs": "EPSG:4326", "transform": from_origin(66, 30, 0.1, 0.1)}  # fmt: skip
    with rasterio.open(tif, "w", **profile) as out:
        out.write(np.arange(400, dtype="float32").reshape(20, 20), 1)
    with psycopg.connect(url, autocommit=True) as conn:
        for layer in ("deposits", "concessions"):
            load_file(conn, SAMPLES / f"{layer}.geojson", layer)
        add_raster(conn, tif, RASTER, source="synthetic: tests/test_faults.py",
                   folder=folder / "store")  # fmt: skip
        if network.routable(conn):  # built now: a route request would build it (and write)
            network.build(conn)
    with TestClient(create_app(Settings(url)), raise_server_exceptions=False) as client:
        yield client, url


def contents(url: str) -> dict:
    """Every table of the store with its rows, and the roles: what an injection would change."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]  # fmt: skip
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        roles = conn.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1").fetchall()
    return {"rows": counts, "roles": roles}


ITEMS = "/collections/deposits/items"
CQL_JSON = ITEMS + "?filter-lang=cql2-json&filter="
SLEEP = '{"function": {"name": "pg_sleep", "args": [5]}}'
SNEAKY = '{"property": "name\\"; DROP TABLE deposits; --"}'
GEOM = '{"property": "geom"}'
NUL_AFTER_TIME = "2020-01-01T00:00:00Z\x00"  # CPython's fromisoformat ignored the NUL
POINT = '{"type": "Point", "coordinates": ["0); DROP TABLE deposits; --", 0]}'
REJECTED = [  # (path, status, what the description must name)
    # CQL2 text: functions, properties, syntax, NUL, nesting
    (ITEMS + "?filter=" + q("pg_sleep(5) = 1"), 400, "unknown function 'pg_sleep'"),
    (ITEMS + "?filter=" + q("name = pg_sleep(5)"), 400, "unknown function 'pg_sleep'"),
    (ITEMS + "?filter=" + q("name = 'x' OR 1=1 --"), 400, "filter"),
    (ITEMS + "?filter=" + q("name) OR 1=1 --"), 400, "filter"),
    (ITEMS + "?filter=" + q("name = 'x'; DROP TABLE deposits"), 400, "filter"),
    (ITEMS + "?filter=" + q("\"name; DROP TABLE deposits\" = 'x'"), 400, "unknown property"),
    (ITEMS + "?filter=" + q('"na""me" = \'x\''), 400, "unknown property 'na\"me'"),
    (ITEMS + "?filter=" + q("name = 'a\x00b'"), 400, "NUL"),
    (ITEMS + "?filter=" + q("(" * 150 + "name = 'x'" + ")" * 150), 400, "nests"),
    (ITEMS + "?filter=" + q(f"updated_at > TIMESTAMP('{NUL_AFTER_TIME}')"), 400, "TIMESTAMP"),
    # CQL2 JSON
    (CQL_JSON + q('{"op": "pg_sleep", "args": [5]}'), 400, "unknown function 'pg_sleep'"),
    (CQL_JSON + q(f'{{"op": "=", "args": [{SLEEP}, 1]}}'), 400, "invalid CQL2-JSON"),
    (CQL_JSON + q(f'{{"op": "=", "args": [{SNEAKY}, "x"]}}'), 400, "unknown property"),
    (CQL_JSON + q('{"op": "=", "args": [{"property": "name"}, "\\u0000"]}'), 400, "NUL"),
    (CQL_JSON + q(f'{{"op": "s_intersects", "args": [{GEOM}, {POINT}]}}'), 400, "CQL2-JSON"),
    (CQL_JSON + q('{"op": "=", "args": [{"property": "name"}'), 400, "invalid CQL2-JSON"),
    # sortby, properties, property=value, unknown parameters
    (ITEMS + "?sortby=" + q("name; DROP TABLE deposits"), 400, "unknown sortby property"),
    (ITEMS + "?sortby=" + q('"name"'), 400, "unknown sortby property"),
    (ITEMS + "?sortby=" + q("name DESC, (SELECT 1)"), 400, "unknown sortby property"),
    (ITEMS + "?sortby=" + q("-name\x00"), 400, "unknown sortby property"),
    (ITEMS + "?properties=" + q("name) OR 1=1 --"), 400, "unknown property"),
    (ITEMS + "?properties=" + q("name,(SELECT usename FROM pg_user)"), 400, "unknown property"),
    (ITEMS + "?name=" + q("a\x00b"), 400, "name: 'a\\x00b' contains a NUL"),
    (ITEMS + "?tonnage_mt=" + q("1 OR 1=1"), 400, "tonnage_mt is a number"),
    (ITEMS + "?" + q("name;--") + "=x", 400, "unknown parameter"),
    # feature ids ('²' passed str.isdigit() and failed int(): a 500)
    (ITEMS + "/" + q("1 OR 1=1"), 404, "no feature"),
    (ITEMS + "/" + q("1;DROP TABLE deposits"), 404, "no feature"),
    (ITEMS + "/" + q("²"), 404, "no feature"),
    (ITEMS + "/" + q("١"), 404, "no feature"),  # an Arabic-Indic one: not an alias of 1
    (ITEMS + "/" + "9" * 40, 404, "no feature"),
    (ITEMS + "/" + q("1\x00"), 404, "no feature"),
    (ITEMS + "/" + q("²") + "/history", 404, "no feature"),
    (ITEMS + "/1?as-of=" + q(NUL_AFTER_TIME), 400, "as-of"),
    # bbox, crs, datetime (CPython's fromisoformat ignored a NUL after the time)
    (ITEMS + "?bbox=" + q("60,20,70,30) OR 1=1 --"), 400, "bbox"),
    (ITEMS + "?bbox=" + q("0x3C,20,70,30"), 400, "bbox"),
    (ITEMS + "?bbox=" + q("1e999,20,70,30"), 400, "bbox"),
    (ITEMS + "?crs=" + q("EPSG:4326; DROP TABLE deposits"), 400, "unsupported CRS"),
    (ITEMS + "?bbox=60,20,70,30&bbox-crs=" + q("EPSG:3857'--"), 400, "unsupported CRS"),
    (ITEMS + "?filter-crs=" + q("EPSG:0 OR 1=1") + "&filter=" + q("name='x'"), 400, "filter-crs"),
    (ITEMS + "?datetime=" + q("2020-01-01'; DROP TABLE deposits; --"), 400, "datetime"),
    (ITEMS + "?datetime=" + q("now()"), 400, "datetime"),
    (ITEMS + "?datetime=" + q(NUL_AFTER_TIME), 400, "datetime"),
    (ITEMS + "?datetime=" + q("2020-01-01/2021-01-01' OR '1'='1"), 400, "datetime"),
    # collection ids (a NUL reached the raster catalogue's query: a 500)
    ("/collections/" + q("deposits; DROP TABLE deposits") + "/items", 404, "no collection"),
    ("/collections/" + q('deposits" --') + "/items", 404, "no collection"),
    ("/collections/pg_authid/items", 404, "no collection"),
    ("/collections/" + q("deposits\x00"), 404, "no collection"),
    ("/collections/" + q("x'; DROP TABLE rasters; --") + "/legend", 404, "no raster"),
    ("/collections/" + q("x\x00") + "/legend", 404, "no raster"),
    ("/collections/" + q("x\x00") + "/map/tiles/WebMercatorQuad/5/22/13.png", 404, "no raster"),
    # tiles and rasters ('²' again: level, band, zonal ids)
    ("/tiles/WebMercatorQuad/5/22/13?collections=" + q("deposits;DROP"), 400, "collections"),
    ("/collections/deposits/tiles/WebMercatorQuad/5/" + q("22 OR 1=1") + "/13", 400, "whole"),
    (f"/collections/{RASTER}/map/tiles/WebMercatorQuad/{q('²')}/0/0.png", 400, "whole numbers"),
    (f"/collections/{RASTER}/legend?band={q('²')}", 400, "band"),
    (f"/collections/{RASTER}/zonal?ids={q('²')}", 400, "ids"),
    (f"/collections/{RASTER}/zonal?ids={q('1) OR (1=1')}", 400, "ids"),
    (f"/collections/{RASTER}/zonal?collection={q('concessions; DROP TABLE x')}", 400, "collection"),
    (f"/collections/{RASTER}/sample?collection={q('deposits OR 1=1')}", 400, "collection"),
    (f"/collections/{RASTER}/sample?points={q('66.5,29.5); DROP TABLE rasters')}", 400, "points"),
    ("/analysis/route?from=" + q("deposits:1 OR 1=1") + "&to=sezs:1", 400, "from"),
    ("/analysis/route?from=" + q("pg_authid:1") + "&to=sezs:1", 400, "from"),
]
LITERAL = [  # values inside valid requests: matched as text, so nothing matches them
    ITEMS + "?filter=" + q("name = 'x''; DROP TABLE deposits; --'"),
    ITEMS + "?filter=" + q("name LIKE '%'' OR ''1''=''1'"),
    ITEMS + "?filter=" + q("name = 'Saindak'' --'"),
    ITEMS + "?filter=" + q("name = 'سینڈک 山达克 \u202e\U0001f600'"),
    ITEMS + "?filter=" + q("name = '" + "x'' OR ''1''=''1" * 1000 + "'"),
    ITEMS + "?filter=" + q("A_CONTAINS(commodities, ('gold''}', '{copper'))"),
    CQL_JSON + q('{"op": "=", "args": [{"property": "name"}, "x\'; DROP TABLE deposits; --"]}'),
    ITEMS + "?status=" + q("x'; DROP TABLE deposits; --"),
    ITEMS + "?commodities=" + q("gold'}"),
    ITEMS + "?name=" + q("Saindak' OR '1'='1"),
]


@pytest.mark.parametrize(("path", "status", "named"), REJECTED)
def test_injection_attempts_are_refused_naming_what_was_wrong(hostile, path, status, named):
    client, url = hostile
    before = contents(url)
    response = client.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "description"} and named in body["description"], body
    assert contents(url) == before


@pytest.mark.parametrize("path", LITERAL)
def test_hostile_values_in_valid_requests_are_just_values(hostile, path):
    client, url = hostile
    before = contents(url)
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.json()["numberMatched"] == 0
    assert contents(url) == before


LOGINS = [  # form bodies of POST /auth/token (a NUL in the address reached SQL: a 500)
    "username=a%00b&password=x",
    "username=x'%20OR%201=1--&password=x",
    "username=%27%3B%20DROP%20TABLE%20users%3B%20--&password=%00",
]


@pytest.mark.parametrize("form", LOGINS)
def test_hostile_logins_are_wrong_logins(hostile, form):
    client, url = hostile
    before = contents(url)
    kind = {"content-type": "application/x-www-form-urlencoded"}
    response = client.post("/auth/token", content=form, headers=kind)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_grant"
    assert contents(url) == before


def test_a_database_outage_is_a_503_in_ogc_json_on_every_endpoint(tmp_path):
    """Requests wait for a connection at most the pool's timeout, then say why (/healthz waits
    5 s of its own: see the restart test and tests/test_api.py)."""
    from fastapi.testclient import TestClient

    from api.app import Settings, create_app

    nowhere = f"postgresql://nobody@/nothing?host={tmp_path}&port=1"
    paths = [ITEMS, ITEMS + "/1", ITEMS + "?limit=5000", "/collections", "/collections/deposits",
             "/collections/deposits/tiles/WebMercatorQuad/5/22/13", "/analysis/route?from="
             "deposits:1&to=sezs:1", f"/collections/{RASTER}/legend", "/auth/me"]  # fmt: skip
    settings = Settings(nowhere, pool_min=0, pool_timeout=0.2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["code"] == "ServiceUnavailable", path


def test_an_unexpected_error_is_a_500_in_ogc_json(hostile, monkeypatch):
    client, _ = hostile
    from api.ogc import features

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(features, "items_query", broken)
    response = client.get(ITEMS)
    assert response.status_code == 500
    assert response.json() == {
        "code": "ServerError",
        "description": "internal error; the server's log has the details",
    }
