"""Tile ranks (migration 0010, geo.tile_rank): valid after every kind of write, and tiles that
show exactly the representatives the rule names.

The expected ranks are computed here from the rule itself, by brute force: per zoom, per
thinning cell (Web Mercator cells 7 levels down, from PostGIS's own ST_Transform), the point
first in (Morton order of its level-24 cell, id) stands for the cell; a point's rank is the
lowest zoom at which it does (18 if it never does below the key's resolution).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from geo import copy as copier
from geo import tile_rank
from geo.export import export_layer
from geo.load import load_file
from geo.tiles import BUFFER, EXTENT
from tests.test_load import deposits, write
from tests.test_tiles import thinned

WMQ = morecantile.tms.get("WebMercatorQuad")
MIGRATION = Path(tile_rank.__file__).parent / "migrations" / "versions" / "0010_tile_rank.py"
HALF_WORLD = 20037508.342789244  # EPSG:3857's half extent
LEVELS = tile_rank.KEY_LEVEL - tile_rank.THIN_LEVELS + 1  # zooms 0..17 have thinning cells
INSERT = (
    "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
    "VALUES (%s, '{coal}', 'prospect', 'approximate', 'test', ST_SetSRID(ST_MakePoint(%s, %s), "
    "4326)) RETURNING id"
)


def interleave(column: np.ndarray, row: np.ndarray) -> np.ndarray:
    out = np.zeros(len(column), dtype=np.int64)
    for bit in range(tile_rank.KEY_LEVEL):
        out |= ((column >> bit) & 1) << (2 * bit) | ((row >> bit) & 1) << (2 * bit + 1)
    return out


def expected_ranks(conn: psycopg.Connection, classes: str = "") -> dict[int, int]:
    """Each point's rank by the rule, from its stored coordinates (see the module docstring)."""
    rows = conn.execute(
        f"SELECT id, ST_X(m), ST_Y(m) {classes and ', ' + classes} "
        "FROM (SELECT *, ST_Transform(geom, 3857) m FROM deposits) d"
    ).fetchall()
    if not rows:
        return {}
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    size = 2**tile_rank.KEY_LEVEL
    x = np.array([r[1] for r in rows])
    y = np.array([r[2] for r in rows])
    column = np.clip(np.floor((x + HALF_WORLD) / (2 * HALF_WORLD) * size), 0, size - 1)
    row = np.clip(np.floor((HALF_WORLD - y) / (2 * HALF_WORLD) * size), 0, size - 1)
    column, row = column.astype(np.int64), row.astype(np.int64)
    group = np.unique([str(r[3:]) for r in rows], return_inverse=True)[1]
    order = np.lexsort((ids, interleave(column, row), group))
    rank = np.full(len(ids), LEVELS, dtype=np.int64)
    for zoom in reversed(range(LEVELS)):  # a point first in its cell at zoom z ranks ≤ z
        shift = tile_rank.KEY_LEVEL - tile_rank.THIN_LEVELS - zoom
        cell = np.stack([group[order], column[order] >> shift, row[order] >> shift])
        first = np.ones(len(ids), dtype=bool)
        first[1:] = (cell[:, 1:] != cell[:, :-1]).any(axis=0)
        rank[order[first]] = zoom
    return dict(zip(ids.tolist(), rank.tolist(), strict=True))


def stored_ranks(conn: psycopg.Connection) -> dict[int, int]:
    return dict(conn.execute("SELECT id, minzoom FROM deposits").fetchall())


def assert_valid(conn: psycopg.Connection) -> None:
    expected, stored = expected_ranks(conn), stored_ranks(conn)
    wrong = {i: (stored[i], expected[i]) for i in expected if stored[i] != expected[i]}
    assert not wrong, f"{len(wrong)} of {len(expected)} ranks wrong (stored, expected): {wrong}"


@pytest.fixture
def conn(empty_url):
    with psycopg.connect(empty_url, autocommit=True) as connection:
        yield connection


def synthetic(n: int, seed: int, path, prefix: str = "Deposit") -> gpd.GeoDataFrame:
    """``n`` deposits clustered around 30 centres in a 1°×1° box near Peshawar (a few share a
    position), written to ``path``: dense and sparse cells, as in real layers."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform((71.0, 33.0), (72.0, 34.0), (30, 2))
    spread = rng.uniform(0.001, 0.03, 30)
    around = rng.integers(0, 30, n)
    lon, lat = (centres[around] + rng.normal(0, 1, (n, 2)) * spread[around, None]).T
    lon[: n // 100], lat[: n // 100] = lon[n // 100], lat[n // 100]  # the same position
    frame = deposits(n, seed, geometry=shapely.points(lon, lat))
    frame["name"] = [f"{prefix} {seed}-{i}" for i in range(n)]
    write(frame, path)
    return frame


def test_numpy_and_sql_agree_on_keys_and_ranks(conn):
    rng = np.random.default_rng(1)
    lon = np.concatenate([rng.uniform(-180, 180, 2000), rng.uniform(66, 67, 2000)])
    lat = np.concatenate([rng.uniform(-85, 85, 2000), rng.uniform(30, 30.01, 2000)])
    lon[:2], lat[:2] = (lon[2], lon[2]), (lat[2], lat[2])  # a point three times: equal keys
    got = conn.execute(
        "SELECT tile_key(ST_SetSRID(ST_MakePoint(x, y), 4326)) "
        "FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, n) ORDER BY n",
        (lon.tolist(), lat.tolist()),
    ).fetchall()
    keys = tile_rank.keys(lon, lat)
    assert keys.tolist() == [k for (k,) in got]
    ranks = conn.execute(
        "SELECT tile_rank(k, lag(k) OVER (ORDER BY k, n)) FROM unnest(%s::bigint[]) "
        "WITH ORDINALITY AS p(k, n) ORDER BY n",
        (keys.tolist(),),
    ).fetchall()
    assert tile_rank.ranks(keys).tolist() == [r for (r,) in ranks]
    assert tile_rank.ranks(keys)[1:3].tolist() == [LEVELS, LEVELS]  # the lower id stands


def test_a_bulk_copy_load_and_a_small_load_leave_valid_ranks(conn, tmp_path, monkeypatch):
    monkeypatch.setattr(copier, "CHUNK", 5000)  # several chunks, ranks sliced per chunk
    frame = synthetic(12_000, 3, tmp_path / "bulk.gpkg")  # ≥ 10,000 rows, empty table: COPY
    lone = frame.geometry.iloc[:100].map(lambda point: shapely.MultiPoint([point]))
    frame["geometry"] = list(lone) + list(frame.geometry.iloc[100:])  # stored as points
    write(frame, tmp_path / "bulk.gpkg")
    load_file(conn, tmp_path / "bulk.gpkg", "deposits")
    assert_valid(conn)
    ranks = stored_ranks(conn)
    assert min(ranks.values()) == 0 and sum(r <= 5 for r in ranks.values()) < len(ranks) / 10
    # The loader sent the ranks; the database's check found nothing to correct.
    assert conn.execute("SELECT tile_rank_refresh('deposits')").fetchone()[0] == 0

    frame = synthetic(300, 4, tmp_path / "small.gpkg")  # into a table that has rows
    load_file(conn, tmp_path / "small.gpkg", "deposits")
    assert_valid(conn)
    write(frame.set_geometry(frame.translate(0.003, -0.002)), tmp_path / "moved.gpkg")  # upsert
    assert load_file(conn, tmp_path / "moved.gpkg", "deposits", upsert=True).updated == 300
    assert_valid(conn)


def test_psql_inserts_updates_deletes_and_copies_keep_ranks_valid(conn, tmp_path):
    synthetic(2000, 5, tmp_path / "base.gpkg")
    load_file(conn, tmp_path / "base.gpkg", "deposits")
    assert_valid(conn)
    # A point where there was none shows from zoom 0 (its cell was empty at every level).
    (lonely,) = conn.execute(INSERT, ("Lonely", 64.0, 26.0)).fetchone()
    assert conn.execute("SELECT minzoom FROM deposits WHERE id = %s", (lonely,)).fetchone()[0] < 3
    assert_valid(conn)
    # One row at a time, next to the representatives of low zooms (they may lose their cells).
    reps = conn.execute(
        "SELECT id, ST_X(geom), ST_Y(geom) FROM deposits WHERE minzoom <= 6 ORDER BY id LIMIT 5"
    ).fetchall()
    for n, (_, lon, lat) in enumerate(reps):
        conn.execute(INSERT, (f"Beside {n}", lon - 1e-5, lat + 1e-5))
        assert_valid(conn)
    # Several rows in one statement; a COPY, as psql's \copy sends it.
    conn.execute(
        "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
        "SELECT 'Many ' || n, '{gold}', 'prospect', 'approximate', 'test', "
        "ST_SetSRID(ST_MakePoint(71.5 + n * 0.0007, 33.5 - n * 0.0003), 4326) "
        "FROM generate_series(1, 40) n"
    )
    assert_valid(conn)
    with conn.cursor().copy(
        "COPY deposits (name, commodities, status, coord_quality, source, geom) FROM STDIN"
    ) as copy:
        for n in range(30):
            point = f"SRID=4326;POINT({71.2 + n * 0.001} {33.7 + n * 0.0005})"
            copy.write_row((f"Copied {n}", ["gold"], "prospect", "approximate", "t", point))
    assert_valid(conn)
    # Moving points, one and many; an update that moves nothing; a change of id.
    conn.execute("UPDATE deposits SET geom = ST_Translate(geom, 0.2, 0) WHERE id = %s", (lonely,))
    assert_valid(conn)
    conn.execute("UPDATE deposits SET geom = ST_Translate(geom, -0.001, 0.001) WHERE minzoom <= 7")
    assert_valid(conn)
    conn.execute("UPDATE deposits SET operator = 'someone' WHERE id % 3 = 0")
    assert_valid(conn)
    conn.execute("UPDATE deposits SET id = id + 100000 WHERE id = %s", (reps[1][0],))
    assert_valid(conn)
    # Deleting representatives: the next point in each of their cells takes over.
    for (rep,) in conn.execute("SELECT id FROM deposits WHERE minzoom <= 4").fetchall()[:5]:
        conn.execute("DELETE FROM deposits WHERE id = %s", (rep,))
        assert_valid(conn)
    conn.execute("DELETE FROM deposits WHERE minzoom BETWEEN 5 AND 8 AND id % 2 = 0")
    assert_valid(conn)
    conn.execute("DELETE FROM deposits WHERE id % 4 = 1")  # a large share: one pass
    assert_valid(conn)


def test_rank_upkeep_is_not_a_change_of_the_records(conn):
    """updated_at stays the time of a record's last change, and a statement raises its
    layer's version once, however many neighbours' ranks it changed."""
    (first,) = conn.execute(INSERT, ("First", 66.0, 30.0)).fetchone()
    touched = conn.execute("SELECT updated_at FROM deposits").fetchone()[0]
    version = conn.execute("SELECT version FROM layer_changes WHERE layer = 'deposits'")
    version = version.fetchone()[0]
    # West and north by 3 m: a smaller Morton key, in every cell of the first down to ~10 m, so
    # the new point takes them all over.
    conn.execute(INSERT, ("Second", 66.0 - 3e-5, 30.0 + 3e-5))
    ranks = dict(conn.execute("SELECT name, minzoom FROM deposits").fetchall())
    assert ranks["Second"] == 0 and ranks["First"] > 10
    after = conn.execute("SELECT updated_at FROM deposits WHERE id = %s", (first,)).fetchone()[0]
    assert after == touched
    now = conn.execute("SELECT version FROM layer_changes WHERE layer = 'deposits'").fetchone()
    assert now[0] == version + 1


def test_rank_classes_rank_each_class_among_itself(conn, tmp_path):
    """What row-level security needs (migration 0010's RANKED): with a class expression (here
    whether a deposit produces), a cell has a representative of each class present in it,
    and every write keeps that."""
    producing = "status = 'producing'"
    synthetic(1500, 6, tmp_path / "base.gpkg")
    load_file(conn, tmp_path / "base.gpkg", "deposits")
    conn.execute("UPDATE deposits SET status = (ARRAY['occurrence', 'producing'])[1 + id % 2]")
    conn.execute(
        "UPDATE tile_ranks SET rank_class = %s WHERE layer = 'deposits'::regclass", (producing,)
    )
    assert conn.execute("SELECT tile_rank_refresh('deposits')").fetchone()[0] > 0
    assert stored_ranks(conn) == expected_ranks(conn, producing)
    conn.execute(INSERT, ("New prospect", 71.5, 33.5))
    conn.execute("UPDATE deposits SET status = 'producing' WHERE id % 7 = 0")
    conn.execute("DELETE FROM deposits WHERE id % 11 = 0")
    assert stored_ranks(conn) == expected_ranks(conn, producing)
    firsts = conn.execute("SELECT count(*) FROM deposits WHERE minzoom = 0").fetchone()[0]
    assert firsts == 2  # the first point of each class


def audience() -> str:
    """The migration's AUDIENCE expression (a migration is a file, not an importable module)."""
    spec = importlib.util.spec_from_file_location("tile_rank_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AUDIENCE


def test_the_audience_class_keeps_each_audience_its_own_representatives(conn, tmp_path):
    """Migration 0010's AUDIENCE, the class row-level security (migration 0005's rule) needs:
    public rows are ranked among themselves, and rows seen by the same organisations likewise,
    whatever else lies in their cells. The access columns are added here if missing."""
    AUDIENCE = audience()
    synthetic(1500, 9, tmp_path / "base.gpkg")
    load_file(conn, tmp_path / "base.gpkg", "deposits")
    conn.execute(
        "ALTER TABLE deposits ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'public', "
        "ADD COLUMN IF NOT EXISTS owner_org bigint, "
        "ADD COLUMN IF NOT EXISTS shared_with bigint[] NOT NULL DEFAULT '{}'"
    )
    if conn.execute("SELECT to_regclass('organisations')").fetchone()[0]:  # the owners' table
        conn.execute(
            "INSERT INTO organisations (id, name, kind) OVERRIDING SYSTEM VALUE "
            "SELECT n, 'Organisation ' || n, 'enterprise' FROM generate_series(1, 9) n"
        )
    conn.execute(
        "UPDATE deposits SET visibility = (ARRAY['shared', 'confidential'])[1 + id % 2], "
        "owner_org = 1 + id % 3, shared_with = ARRAY[4 + id % 5] WHERE id % 4 = 0"
    )
    conn.execute("UPDATE tile_ranks SET rank_class = %s", (AUDIENCE,))
    conn.execute(f"CREATE INDEX audience_idx ON deposits (({AUDIENCE}), tile_key(geom), id)")
    conn.execute("SELECT tile_rank_refresh('deposits')")
    assert stored_ranks(conn) == expected_ranks(conn, AUDIENCE)
    public = conn.execute(
        "SELECT id FROM deposits WHERE visibility = 'public' ORDER BY random() LIMIT 20"
    ).fetchall()
    conn.execute(INSERT, ("Public newcomer", 71.5, 33.5))
    conn.execute(
        "UPDATE deposits SET visibility = 'confidential', owner_org = 2 WHERE id = ANY(%s)",
        ([i for (i,) in public[:10]],),
    )
    conn.execute("DELETE FROM deposits WHERE id = ANY(%s)", ([i for (i,) in public[10:]],))
    assert stored_ranks(conn) == expected_ranks(conn, AUDIENCE)


def tile_ids(client: TestClient, tile: morecantile.Tile) -> set[int]:
    response = client.get(f"/collections/deposits/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}")
    layers = mapbox_vector_tile.decode(response.content) if response.content else {}
    return {feature["id"] for feature in layers.get("deposits", {}).get("features", [])}


def test_tiles_show_the_representatives_the_rule_names(conn, empty_url, tmp_path):
    synthetic(12_000, 7, tmp_path / "bulk.gpkg")
    load_file(conn, tmp_path / "bulk.gpkg", "deposits")
    rows = conn.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM deposits ORDER BY id").fetchall()
    lon, lat = rows[len(rows) // 2][1:]  # in a cluster
    with TestClient(create_app(Settings(empty_url))) as client:
        for z in (5, 8, 10, 13):
            tile = WMQ.tile(lon, lat, z)
            got = tile_ids(client, tile)
            assert got == set(thinned(rows, tile).values()), z
            assert len(got) > (100 if z < 10 else 1)
        tile = WMQ.tile(lon, lat, 14)  # maxzoom: every point under the tile and its buffer
        left, bottom, right, top = WMQ.xy_bounds(tile)
        margin = (right - left) * BUFFER / EXTENT
        xy = [(i, *WMQ.xy(x, y)) for i, x, y in rows]
        under = {i for i, x, y in xy if left - margin <= x <= right + margin
                 and bottom - margin <= y <= top + margin}  # fmt: skip
        assert tile_ids(client, tile) == under and under


def test_ranks_are_internal_never_published_exported_or_loaded(conn, empty_url, tmp_path):
    frame = synthetic(50, 8, tmp_path / "few.gpkg")
    frame["minzoom"] = 17
    write(frame, tmp_path / "few.gpkg")
    load_file(conn, tmp_path / "few.gpkg", "deposits")
    assert conn.execute("SELECT min(minzoom) FROM deposits").fetchone()[0] == 0  # not the file's
    assert_valid(conn)
    export_layer(conn, "deposits", tmp_path / "out.gpkg")
    assert "minzoom" not in gpd.read_file(tmp_path / "out.gpkg").columns
    with TestClient(create_app(Settings(empty_url))) as client:
        feature = client.get("/collections/deposits/items?limit=1").json()["features"][0]
        assert "minzoom" not in feature["properties"]
        queryables = client.get("/collections/deposits/queryables").json()["properties"]
        assert "minzoom" not in queryables


def test_a_neighbours_rank_change_leaves_its_etag_and_history_alone(conn):
    """A point inserted beside another takes its cells over (its rank changes): the other's
    record did not change, so neither its ETag (If-Match) nor its history may."""
    from geo.query import row_etag

    (first,) = conn.execute(INSERT, ("First", 66.0, 30.0)).fetchone()
    etag = conn.execute(
        psycopg.sql.SQL("SELECT {} FROM deposits WHERE id = %s").format(row_etag("deposits")),
        (first,),
    )
    before = etag.fetchone()[0]
    versions = conn.execute("SELECT count(*) FROM history WHERE fid = %s", (first,)).fetchone()
    conn.execute(INSERT, ("Second", 66.0 - 3e-5, 30.0 + 3e-5))
    assert conn.execute("SELECT minzoom FROM deposits WHERE id = %s", (first,)).fetchone()[0] > 10
    after = conn.execute(
        psycopg.sql.SQL("SELECT {} FROM deposits WHERE id = %s").format(row_etag("deposits")),
        (first,),
    ).fetchone()[0]
    assert after == before
    now = conn.execute("SELECT count(*) FROM history WHERE fid = %s", (first,)).fetchone()
    assert now == versions
