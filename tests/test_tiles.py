"""OGC API – Tiles over the sample data: documents, MVT contents (mapbox-vector-tile and GDAL),
zoom ranges, thinning, ETag/304, the hot-tile cache and its invalidation, bad input.

Expected values come from the database and from morecantile's tile arithmetic, never from the
code under test: where a feature should land is computed here from its stored coordinates.
"""

from __future__ import annotations

import math
import re
import subprocess

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from api.tiles import TILE_VARY
from geo.tile_rank import THIN_CELLS
from geo.tiles import BUFFER, EXTENT, TileBox, TileLayer, tile_statement
from layers.catalogue import CATALOGUE, get

MVT = "application/vnd.mapbox-vector-tile"
WMQ = morecantile.tms.get("WebMercatorQuad")
CRS84Q = morecantile.tms.get("WorldCRS84Quad")
KNOWN = "Reko Diq"
TILES_CONFORMANCE = {
    f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}"
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets",
                 "mvt", "oas30")
}  # fmt: skip


@pytest.fixture(scope="module")
def client(samples_url):
    with TestClient(create_app(Settings(samples_url))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def known(samples_url) -> dict:
    """The known deposit's id, lon/lat, Web Mercator x/y and commodities, from SQL."""
    with psycopg.connect(samples_url) as conn:
        row = conn.execute(
            "SELECT id, ST_X(geom), ST_Y(geom), ST_X(ST_Transform(geom, 3857)), "
            "ST_Y(ST_Transform(geom, 3857)), commodities, as_of::text FROM deposits "
            "WHERE name = %s",
            [KNOWN],
        ).fetchone()
    keys = ("id", "lon", "lat", "x", "y", "commodities", "as_of")
    return dict(zip(keys, row, strict=True))


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def tile_of(tms: morecantile.TileMatrixSet, lon: float, lat: float, z: int) -> morecantile.Tile:
    return tms.tile(lon, lat, z)


def path(tile: morecantile.Tile, collection: str | None = "deposits", tms: str = "WebMercatorQuad"):
    base = f"/collections/{collection}" if collection else ""
    return f"{base}/tiles/{tms}/{tile.z}/{tile.x}/{tile.y}"


def features_by_id(body: bytes, layer: str) -> dict[int, dict]:
    return {f["id"]: f for f in decode(body).get(layer, {}).get("features", [])}


# --- documents -----------------------------------------------------------------------------------


def test_tile_matrix_sets_are_morecantiles(client):
    listed = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert {entry["id"] for entry in listed} == {"WebMercatorQuad", "WorldCRS84Quad"}
    body = client.get("/tileMatrixSets/WebMercatorQuad").json()
    assert body == WMQ.model_dump(mode="json", exclude_none=True)
    assert len(body["tileMatrices"]) == len(WMQ.tileMatrices)


def test_conformance_landing_page_and_collections_announce_the_tiles(client):
    assert set(client.get("/conformance").json()["conformsTo"]) >= TILES_CONFORMANCE
    rels = {link["rel"]: link["href"] for link in client.get("/").json()["links"]}
    ogc = "http://www.opengis.net/def/rel/ogc/1.0/"
    assert rels[ogc + "tiling-schemes"] == "http://testserver/tileMatrixSets"
    assert rels[ogc + "tilesets-vector"] == "http://testserver/tiles"
    for collection in client.get("/collections").json()["collections"]:
        hrefs = [link["href"] for link in collection["links"] if link["rel"].endswith("vector")]
        assert hrefs == [f"http://testserver/collections/{collection['id']}/tiles"]


def test_tilesets_list_links_each_tileset_and_its_tiling_scheme(client):
    body = client.get("/collections/deposits/tiles").json()
    assert {t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in body["tilesets"]} == {
        "WebMercatorQuad",
        "WorldCRS84Quad",
    }
    for tileset in body["tilesets"]:
        for link in tileset["links"]:  # every link answers (templates once filled in)
            href = link["href"].replace("{tileMatrix}/{tileCol}/{tileRow}", "0/0/0")
            assert client.get(href).status_code in (200, 204), href


def test_tileset_metadata_has_limits_layers_and_a_tile_template(client, samples_url):
    layer = get("concessions")
    body = client.get("/collections/concessions/tiles/WebMercatorQuad").json()
    assert body["dataType"] == "vector" and body["crs"].endswith("/3857")
    levels = [int(limit["tileMatrix"]) for limit in body["tileMatrixSetLimits"]]
    assert levels == list(range(layer.minzoom, layer.maxzoom + 1))
    with psycopg.connect(samples_url) as conn:
        west, south, east, north = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM concessions) AS x"
        ).fetchone()
    z8 = body["tileMatrixSetLimits"][8 - layer.minzoom]
    assert (z8["minTileCol"], z8["minTileRow"]) == tuple(WMQ.tile(west, north, 8))[:2]
    assert (z8["maxTileCol"], z8["maxTileRow"]) == tuple(WMQ.tile(east, south, 8))[:2]
    (entry,) = body["layers"]
    assert (entry["id"], entry["geometryDimension"]) == ("concessions", 2)
    assert entry["propertiesSchema"]["properties"]["commodities"]["type"] == "string"
    template = next(link for link in body["links"] if link["rel"] == "item")
    assert template["templated"] and template["type"] == MVT
    assert template["href"].endswith("/collections/concessions/tiles/WebMercatorQuad/"
                                     "{tileMatrix}/{tileCol}/{tileRow}")  # fmt: skip


def test_tilejson_for_one_layer_and_for_a_subset_of_layers(client):
    one = client.get("/collections/corridors/tiles/WebMercatorQuad/tilejson.json").json()
    assert one == client.get("/collections/corridors/tiles/WebMercatorQuad?f=tilejson").json()
    corridors = get("corridors")
    assert (one["minzoom"], one["maxzoom"]) == (corridors.minzoom, corridors.maxzoom)
    assert one["tiles"] == [
        "http://testserver/collections/corridors/tiles/WebMercatorQuad/{z}/{x}/{y}"
    ]
    (layer,) = one["vector_layers"]
    assert layer["fields"]["length_km"] == "Number" and layer["fields"]["cpec"] == "Boolean"
    subset = client.get("/tiles/WebMercatorQuad/tilejson.json?collections=sezs,deposits").json()
    assert [v["id"] for v in subset["vector_layers"]] == ["sezs", "deposits"]
    assert subset["tiles"][0].endswith(
        "/tiles/WebMercatorQuad/{z}/{x}/{y}?collections=sezs%2Cdeposits"
    )


# --- tile contents -------------------------------------------------------------------------------


def test_a_known_deposit_lands_in_its_tile_at_its_pixel_with_its_attributes(client, known):
    deposits = get("deposits")
    tile = tile_of(WMQ, known["lon"], known["lat"], deposits.maxzoom)
    response = client.get(path(tile))
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    feature = features_by_id(response.content, "deposits")[known["id"]]
    left, bottom, right, top = WMQ.xy_bounds(tile)
    expected = ((known["x"] - left) / (right - left) * EXTENT,
                (top - known["y"]) / (top - bottom) * EXTENT)  # fmt: skip
    got = feature["geometry"]["coordinates"]
    assert math.dist(got, expected) <= 1, (got, expected)  # within one grid unit (rounding)
    properties = feature["properties"]
    assert properties["name"] == KNOWN
    assert properties["commodities"] == ",".join(known["commodities"])  # MVT has no lists
    assert properties.get("as_of") == known["as_of"]
    assert set(properties) <= set(deposits.source.properties)
    # Two columns away the deposit is outside the tile and its buffer.
    far = client.get(path(morecantile.Tile(tile.x + 2, tile.y, tile.z)))
    assert far.status_code == 204 or known["id"] not in features_by_id(far.content, "deposits")


def test_gdal_reads_the_tile_features_and_positions(client, samples_url, known, tmp_path):
    deposits = get("deposits")
    tile = tile_of(WMQ, known["lon"], known["lat"], deposits.maxzoom - 4)  # z10, thinned
    body = client.get(path(tile)).content
    (tmp_path / "tile.mvt").write_bytes(body)
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-oo", f"Z={tile.z}", "-oo", f"X={tile.x}", "-oo",
         f"Y={tile.y}", str(tmp_path / "tile.mvt")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert re.search(r"^Layer name: deposits$", done.stdout, re.M), done.stdout[:2000]
    count = int(re.search(r"^Feature Count: (\d+)$", done.stdout, re.M).group(1))
    assert count == len(features_by_id(body, "deposits")) > 0
    # The known deposit's block: its name, its commodities and its point in EPSG:3857.
    (block,) = [b for b in done.stdout.split("OGRFeature(") if f"name (String) = {KNOWN}\n" in b]
    assert f"commodities (String) = {','.join(known['commodities'])}" in block
    x, y = map(float, re.search(r"POINT \(([-\d.e+]+) ([-\d.e+]+)\)", block).groups())
    pixel = (WMQ.xy_bounds(tile).right - WMQ.xy_bounds(tile).left) / EXTENT
    assert abs(x - known["x"]) <= pixel and abs(y - known["y"]) <= pixel, (x, y, known)


def test_at_maxzoom_a_tile_holds_every_point_under_it_and_its_buffer(client, samples_url, known):
    deposits = get("deposits")
    tile = tile_of(WMQ, known["lon"], known["lat"], deposits.maxzoom - 5)  # then zoom in
    children = [t for t in WMQ.children(tile, zoom=deposits.maxzoom)][:64]
    with psycopg.connect(samples_url) as conn:
        for child in children:
            left, bottom, right, top = WMQ.xy_bounds(child)
            margin = (right - left) * BUFFER / EXTENT
            expected = {
                row[0]
                for row in conn.execute(
                    "SELECT id FROM deposits WHERE ST_Transform(geom, 3857) && "
                    "ST_MakeEnvelope(%s, %s, %s, %s, 3857)",
                    [left - margin, bottom - margin, right + margin, top + margin],
                )
            }
            response = client.get(path(child))
            got = set(features_by_id(response.content, "deposits")) if response.content else set()
            assert got == expected, child


def morton(column: int, row: int) -> int:
    """Column and row bits interleaved (column bits even): the Z order of cells of one level."""
    return sum(((column >> i & 1) << 2 * i) | ((row >> i & 1) << (2 * i + 1)) for i in range(32))


def thinned(rows: list[tuple[int, float, float]], tile: morecantile.Tile) -> dict:
    """The documented rule, computed here with morecantile: per cell of the tile's
    THIN_CELLS² grid (the WebMercatorQuad tiles 7 levels down), over the tile and its buffer,
    the point first in the Z order of level-24 cells, then the lowest id. ``{cell: id}``."""
    left, bottom, right, top = WMQ.xy_bounds(tile)
    margin = (right - left) * BUFFER / EXTENT
    level = tile.z + THIN_CELLS.bit_length() - 1
    first: dict[tuple[int, int], tuple[int, int]] = {}
    for feature_id, lon, lat in rows:
        x, y = WMQ.xy(lon, lat)
        if not (left - margin <= x <= right + margin and bottom - margin <= y <= top + margin):
            continue
        cell, fine = WMQ.tile(lon, lat, level), WMQ.tile(lon, lat, 24)
        order = (morton(fine.x, fine.y), feature_id)
        first[cell.x, cell.y] = min(first.get((cell.x, cell.y), order), order)
    return {cell: order[1] for cell, order in first.items()}


@pytest.mark.parametrize("z", [0, 5])
def test_below_maxzoom_one_point_per_cell_stands_for_it(client, samples_url, known, z):
    """One point per 1/THIN_CELLS of the tile (the cells the old per-request thinning filled),
    the one the rule names: computed here from the stored coordinates."""
    tile = tile_of(WMQ, known["lon"], known["lat"], z)
    with psycopg.connect(samples_url) as conn:
        rows = conn.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM deposits").fetchall()
    expected = thinned(rows, tile)
    got = set(features_by_id(client.get(path(tile)).content, "deposits"))
    assert len(rows) > len(got) > 1
    assert got == set(expected.values())


@pytest.mark.parametrize("tms", [WMQ, CRS84Q], ids=lambda t: t.id)
def test_multi_layer_tile_has_each_layer_with_features_there(client, samples_url, known, tms):
    z = 5 if tms is WMQ else 4  # the same scale
    tile = tile_of(tms, known["lon"], known["lat"], z)
    layers = decode(client.get(path(tile, None, tms.id)).content)
    left, bottom, right, top = tms.xy_bounds(tile)
    srid = 3857 if tms is WMQ else 4326
    with psycopg.connect(samples_url) as conn:
        for layer in CATALOGUE:
            there = conn.execute(
                f"SELECT count(*) FROM {layer.source.table} WHERE ST_Intersects(ST_Transform(geom, "
                f"{srid}), ST_MakeEnvelope(%s, %s, %s, %s, {srid}))",
                [left, bottom, right, top],
            ).fetchone()[0]
            assert (layer.id in layers) == (there > 0), layer.id
    assert len(layers) >= 5
    subset = decode(
        client.get(path(tile, None, tms.id) + "?collections=corridors,deposits").content
    )
    assert list(subset) == ["corridors", "deposits"]
    assert subset["corridors"] == layers["corridors"]


def test_zoom_ranges_are_honoured(client, known):
    concessions, provinces = get("concessions"), get("provinces")
    low = tile_of(WMQ, known["lon"], known["lat"], concessions.minzoom - 1)
    assert client.get(path(low, "concessions")).status_code == 404
    assert "concessions" not in decode(client.get(path(low, None)).content)
    assert "deposits" in decode(client.get(path(low, None)).content)
    high = tile_of(WMQ, known["lon"], known["lat"], provinces.maxzoom + 1)
    assert client.get(path(high, "provinces")).status_code == 404
    assert "provinces" not in decode(client.get(path(high, None)).content)
    at_max = tile_of(WMQ, known["lon"], known["lat"], provinces.maxzoom)
    assert "provinces" in decode(client.get(path(at_max, "provinces")).content)


def test_an_empty_tile_is_204_with_an_etag(client):
    sea = WMQ.tile(60.0, 15.0, 8)  # the Arabian Sea
    response = client.get(path(sea))
    assert response.status_code == 204 and response.content == b""
    assert response.headers["ETag"] and "max-age" in response.headers["Cache-Control"]


def test_the_tile_filter_uses_the_spatial_index(samples_url):
    box = TileBox(3857, tuple(WMQ.xy_bounds(9, 6, 4)), (4, 9, 6))
    statement, params = tile_statement([TileLayer("deposits", get("deposits").source)], box)
    with psycopg.connect(samples_url) as conn:
        conn.execute("SET enable_seqscan = off")  # small table: make the index the only way
        plan = "\n".join(row[0] for row in conn.execute(b"EXPLAIN " + statement.as_bytes(conn),
                                                        params))  # fmt: skip
    assert re.search(r"Index.* on deposits|Bitmap Index Scan", plan), plan
    assert "Seq Scan" not in plan, plan


# --- caching -------------------------------------------------------------------------------------


def test_etag_304_and_the_hot_tile_cache(client, known):
    tile = tile_of(WMQ, known["lon"], known["lat"], 7)
    first = client.get(path(tile))
    second = client.get(path(tile))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.headers["ETag"] == second.headers["ETag"]
    assert second.headers["X-Tile-Cache"] == "hit"
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(path(tile), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.get(path(morecantile.Tile(tile.x, tile.y, tile.z), None))
    assert other.headers["ETag"] != first.headers["ETag"]  # one key per tile and layer set


def test_gzip_clients_get_the_same_tile_compressed_once(client, known):
    import gzip

    tile = tile_of(WMQ, known["lon"], known["lat"], 6)
    plain = client.get(path(tile), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == TILE_VARY
    raw = client.stream("GET", path(tile), headers={"Accept-Encoding": "gzip"})
    with raw as zipped:
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["ETag"] == plain.headers["ETag"]
        assert gzip.decompress(b"".join(zipped.iter_raw())) == plain.content
    cached = client.app.state.tile_cache.entries
    here = (tile.z, tile.x, tile.y, ("deposits",))
    mine = [key.encoding for key in cached if (key.z, key.x, key.y, key.layers) == here]
    assert sorted(mine) == ["gzip", "identity"]


def test_a_write_changes_the_tile_and_its_etag(empty_url):
    """Insert, update, delete a deposit: each write is in the next answer, never a cached one."""
    lon, lat = 66.5, 30.2
    tile = tile_of(WMQ, lon, lat, 12)
    with (
        TestClient(create_app(Settings(empty_url))) as client,
        psycopg.connect(empty_url, autocommit=True) as conn,
    ):
        empty = client.get(path(tile))
        assert empty.status_code == 204
        conn.execute(
            "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
            "VALUES ('Test deposit', '{copper,gold}', 'prospect', 'approximate', 'test', "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [lon, lat],
        )
        inserted = client.get(path(tile))
        assert inserted.status_code == 200 and inserted.headers["ETag"] != empty.headers["ETag"]
        (feature,) = features_by_id(inserted.content, "deposits").values()
        assert feature["properties"]["commodities"] == "copper,gold"
        assert client.get(path(tile)).headers["X-Tile-Cache"] == "hit"
        conn.execute("UPDATE deposits SET name = 'Renamed deposit'")
        renamed = client.get(path(tile), headers={"If-None-Match": inserted.headers["ETag"]})
        assert renamed.status_code == 200 and renamed.headers["X-Tile-Cache"] == "miss"
        (feature,) = features_by_id(renamed.content, "deposits").values()
        assert feature["properties"]["name"] == "Renamed deposit"
        # A write to another layer leaves this tile's key, and its cache entry, as they were.
        conn.execute("DELETE FROM corridors")
        assert client.get(path(tile)).headers["X-Tile-Cache"] == "hit"
        conn.execute("DELETE FROM deposits")
        assert client.get(path(tile)).status_code == 204


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/collections/deposits/tiles/WebMercatorQuad/5/32/0", 404),  # column beyond the matrix
        ("/collections/deposits/tiles/WebMercatorQuad/25/0/0", 404),  # level beyond the set
        ("/collections/deposits/tiles/WebMercatorQuad/15/0/0", 404),  # beyond the layer's range
        ("/collections/deposits/tiles/WebMercatorQuad/5/-1/0", 400),
        ("/collections/deposits/tiles/WebMercatorQuad/5/x/0", 400),
        ("/collections/deposits/tiles/WebMercatorQuad/5/1.5/0", 400),
        ("/collections/deposits/tiles/NoSuchSet/5/1/0", 404),
        ("/collections/nothing/tiles/WebMercatorQuad/5/1/0", 404),
        ("/collections/deposits/tiles/WebMercatorQuad/5/1/0?limit=5", 400),
        ("/collections/deposits/tiles/WebMercatorQuad/5/1/0?f=png", 400),
        ("/tiles/WebMercatorQuad/5/1/0?collections=deposits,nothing", 400),
        ("/tiles/WorldCRS84Quad/0/2/0", 404),  # WorldCRS84Quad level 0 has two columns
        ("/tiles/WorldCRS84Quad/tilejson.json", 400),
        ("/collections/deposits/tiles/WebMercatorQuad?f=html", 400),
        ("/tileMatrixSets/NoSuchSet", 404),
    ],
)
def test_bad_tile_requests_are_ogc_exceptions(client, url, status):
    response = client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == ("NotFound" if status == 404 else "InvalidParameterValue")
    assert body["description"]


def test_points_metres_apart_are_both_kept_at_maxzoom_and_one_is_kept_below(empty_url):
    deposits = get("deposits")
    lon, lat = 67.0105, 24.8507
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
            "SELECT 'Twin ' || n, '{coal}', 'occurrence', 'approximate', 'test', "
            "ST_SetSRID(ST_MakePoint(%s + n * 0.00005, %s), 4326) FROM generate_series(0, 1) n",
            [lon, lat],
        )
        ids = {row[0] for row in conn.execute("SELECT id FROM deposits")}
    with TestClient(create_app(Settings(empty_url))) as client:
        at_max = client.get(path(tile_of(WMQ, lon, lat, deposits.maxzoom))).content
        assert set(features_by_id(at_max, "deposits")) == ids
        below = client.get(path(tile_of(WMQ, lon, lat, deposits.maxzoom - 6))).content
        assert set(features_by_id(below, "deposits")) == {min(ids)}


def test_concurrent_requests_for_a_new_tile_build_it_once(live_server):
    from concurrent.futures import ThreadPoolExecutor

    import requests

    url = f"{live_server.url}/tiles/WorldCRS84Quad/0/1/0"  # all layers: the dearest tile here
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.get(url, timeout=60), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    states = sorted(a.headers["X-Tile-Cache"] for a in answers)
    assert states.count("miss") == 1, states  # the others joined the build or hit its result


def test_the_cache_is_bounded_by_bytes_least_recently_used_first():
    from api.tile_cache import TileCache, TileKey

    def key(n: int) -> TileKey:
        return TileKey(1, (("deposits", 1),), "WebMercatorQuad", 10, n, 0, ("deposits",))

    cache = TileCache(capacity=10_000)
    for n in range(10):
        cache.put(key(n), bytes(1_000))
        if n == 5:
            assert cache.get(key(0)) is not None  # used: now the most recent
    assert cache.size <= cache.capacity
    assert cache.get(key(0)) is not None and cache.get(key(1)) is None
    assert cache.get(key(9)) is not None
    cache.put(key(99), bytes(5_000))  # more than a quarter of the capacity: not kept
    assert cache.get(key(99)) is None
