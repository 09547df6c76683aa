"""Rasters end to end: add (COG, validation), derive, tiles, subsets, sampling, zonal statistics.

References are computed another way than the code under test: cell values are looked up in the
numpy array written to the test file through pyproj (not rasterio's transforms), and zonal
statistics come from shapely predicates on cell centres / cell boxes, not from a rasterization.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import psycopg
import pytest
import rasterio
import requests
import shapely
from click.testing import CliRunner
from playwright.sync_api import expect
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from cli.main import main
from geo import raster_read
from geo.raster import RasterError, add_raster, get_raster
from geo.zonal import zonal_file
from layers import display
from tests.conftest import add_sample_rasters
from tests.test_html import OUTPUT, browser, watching  # noqa: F401  (the browser fixture)

ORIGIN = (300_000.0, 3_400_000.0)  # UTM 42N: west of Quetta-Sukkur, inside Pakistan
RES, SIZE, NODATA = 1_000.0, 200, -1.0
TO_LONLAT = Transformer.from_crs("EPSG:32642", "OGC:CRS84", always_xy=True)
TO_UTM = Transformer.from_crs("OGC:CRS84", "EPSG:32642", always_xy=True)


def grid_values() -> np.ndarray:
    values = np.random.default_rng(6).uniform(0, 100, (SIZE, SIZE)).astype("float32")
    values[50:60, 50:60] = NODATA
    return values


def write_tif(path: Path, values: np.ndarray, crs: str | None = "EPSG:32642", **extra) -> Path:
    transform = extra.pop("transform", None)
    profile = {"driver": "GTiff", "width": values.shape[1], "height": values.shape[0], "count": 1,
               "dtype": values.dtype, "nodata": NODATA, **extra}  # fmt: skip
    if crs is not None:
        profile |= {"crs": crs, "transform": transform or from_origin(*ORIGIN, RES, RES)}
    with rasterio.open(path, "w", **profile) as out:
        out.write(values, 1)
    return path


def cell_centre_lonlat(row: int, col: int) -> tuple[float, float]:
    x, y = ORIGIN[0] + (col + 0.5) * RES, ORIGIN[1] - (row + 0.5) * RES
    return TO_LONLAT.transform(x, y)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rasters")


@pytest.fixture(scope="module")
def registered(samples_url: str, folder: Path, tmp_path_factory) -> dict:
    """The synthetic test raster and the derived samples (10 km accessibility) in the store."""
    source = write_tif(tmp_path_factory.mktemp("in") / "synthetic.tif", grid_values())
    with psycopg.connect(samples_url, autocommit=True) as conn:
        test = add_raster(conn, source, "synthetic", units="test units", folder=folder)
    return {"synthetic": test, **add_sample_rasters(samples_url, folder)}


def test_add_stores_a_cog_with_overviews_and_registers_it(registered, samples_url):
    info = registered["synthetic"]
    with rasterio.open(info.file) as src:
        assert src.driver == "GTiff" and src.profile["tiled"]
        assert src.overviews(1), "a COG has overviews"
        assert src.crs.to_epsg() == 32642 and src.res == (RES, RES)
        np.testing.assert_array_equal(src.read(1), grid_values())
    with psycopg.connect(samples_url) as conn:
        row = get_raster(conn, "synthetic")
    assert row is not None and row.crs == "EPSG:32642" and row.nodata == NODATA
    west, south = TO_LONLAT.transform(*ORIGIN[:1], ORIGIN[1] - SIZE * RES)
    assert row.bbox[0] <= west + 1e-6 and row.bbox[1] <= south + 1e-6


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("text", "not a readable raster"),
        ("no_georef", "not georeferenced"),
        ("unknown_crs", "unknown CRS"),
        ("outside", "outside Pakistan"),
    ],
)
def test_bad_rasters_are_rejected_with_the_file_and_the_reason(
    case, reason, tmp_path, empty_url, monkeypatch
):
    path = tmp_path / f"{case}.tif"
    if case == "text":
        path.write_text("not a raster\n")
    elif case == "no_georef":  # rasterio warns as it writes one, and as the loader reads it
        with pytest.warns(NotGeoreferencedWarning):
            write_tif(path, grid_values(), crs=None)
    elif case == "unknown_crs":
        write_tif(path, grid_values(), crs='LOCAL_CS["mine grid",UNIT["metre",1]]')
    else:  # Europe, in lon/lat
        write_tif(path, grid_values(), crs="EPSG:4326", transform=from_origin(5, 50, 0.01, 0.01))

    def read():
        return pytest.warns(NotGeoreferencedWarning) if case == "no_georef" else nullcontext()

    with (
        psycopg.connect(empty_url, autocommit=True) as conn,
        pytest.raises(RasterError) as err,
        read(),
    ):
        add_raster(conn, path, folder=tmp_path / "store")
    assert str(path) in str(err.value) and reason in str(err.value)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    with read():
        result = CliRunner().invoke(main, ["raster", "add", str(path)])
    assert result.exit_code != 0 and reason in result.output
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT count(*) FROM rasters").fetchone()[0] == 0


def test_points_sample_the_cell_they_fall_in(registered, live_server):
    values = grid_values()
    cells = [(0, 0), (10, 150), (199, 199), (55, 55), (120, 7)]
    points = [cell_centre_lonlat(r, c) for r, c in cells] + [(75.0, 35.0)]  # last: off the raster
    text = ";".join(f"{lon:.7f},{lat:.7f}" for lon, lat in points)
    body = requests.get(
        f"{live_server.url}/collections/synthetic/sample", params={"points": text}, timeout=30
    ).json()
    got = [f["properties"]["synthetic"] for f in body["features"]]
    expected = [None if values[r, c] == NODATA else float(values[r, c]) for r, c in cells]
    assert got == pytest.approx([*expected, None]) and got[3] is None and got[-1] is None


def test_deposits_get_the_value_at_their_site(registered, live_server, samples_url):
    base = f"{live_server.url}/collections/accessibility/sample"
    sites = requests.get(base, params={"collection": "deposits"}, timeout=30).json()["features"]
    with psycopg.connect(samples_url) as conn:
        assert len(sites) == conn.execute("SELECT count(*) FROM deposits").fetchone()[0]
    text = ";".join("{},{}".format(*s["geometry"]["coordinates"]) for s in sites)
    points = requests.get(base, params={"points": text}, timeout=30).json()["features"]
    assert [s["properties"]["accessibility"] for s in sites] == [
        p["properties"]["accessibility"] for p in points
    ]
    assert all(s["properties"]["accessibility"] is not None for s in sites)


def reference_stats(path: str, polygons: list, all_touched: bool) -> list[dict]:
    """Cells by shapely: centre inside (or box intersecting), nodata left out."""
    with rasterio.open(path) as src:
        values, nodata = src.read(1), src.nodata
        (a, _, c, _, e, f) = src.transform[:6]
    rows, cols = np.indices(values.shape)
    xs, ys = c + (cols + 0.5) * a, f + (rows + 0.5) * e
    boxes = shapely.box(c + cols * a, f + (rows + 1) * e, c + (cols + 1) * a, f + rows * e)
    out = []
    for polygon in polygons:
        inside = (
            shapely.intersects(polygon, boxes) & ~shapely.touches(polygon, boxes)
            if all_touched
            else shapely.contains_xy(polygon, xs, ys)
        )
        cells = values[inside & (values != nodata)].astype(float)
        if not cells.size:
            out.append({"count": 0})
            continue
        out.append({"count": cells.size, "min": cells.min(), "max": cells.max(),
                    "mean": cells.mean(), "std": cells.std()})  # fmt: skip
    return out


@pytest.mark.parametrize("all_touched", [False, True])
def test_zonal_statistics_match_a_shapely_reference(registered, all_touched):
    info = registered["synthetic"]
    x0, y0 = ORIGIN
    polygons = [  # off the cell grid (no ties), one over the nodata square, two overlapping
        shapely.Polygon([(x0 + 3_300, y0 - 4_700), (x0 + 41_100, y0 - 9_200),
                         (x0 + 30_700, y0 - 60_300)]),
        shapely.box(x0 + 45_520, y0 - 65_470, x0 + 70_430, y0 - 45_380),
        shapely.box(x0 + 60_210, y0 - 75_730, x0 + 90_320, y0 - 55_840),
        shapely.Point(x0 + 150_000.3, y0 - 150_000.6).buffer(12_345),
    ]  # fmt: skip
    stats = zonal_file(info.file, polygons, all_touched=all_touched)
    for i, want in enumerate(reference_stats(info.file, polygons, all_touched)):
        got = stats.row(i)
        assert got["count"] == want["count"]
        for key in ("min", "max", "mean", "std"):
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key


def test_zonal_endpoint_per_concession_matches_the_reference(registered, live_server, samples_url):
    info = registered["accessibility"]
    with psycopg.connect(samples_url) as conn:
        rows = conn.execute("SELECT id, ST_AsBinary(geom) FROM concessions ORDER BY id").fetchall()
    polygons = [
        shapely.transform(shapely.from_wkb(bytes(g)), lambda xy: np.column_stack(
            TO_UTM.transform(xy[:, 0], xy[:, 1])))
        for _, g in rows
    ]  # fmt: skip
    for touched in (False, True):
        body = requests.get(
            f"{live_server.url}/collections/accessibility/zonal",
            params={"collection": "concessions", "all_touched": str(touched).lower()},
            timeout=30,
        ).json()
        zones = {z["id"]: z for z in body["zones"]}
        assert set(zones) == {r[0] for r in rows}
        for (cid, _), want in zip(rows, reference_stats(info.file, polygons, touched), strict=True):
            assert zones[cid]["count"] == want["count"]
            if want["count"]:
                assert zones[cid]["mean"] == pytest.approx(want["mean"], rel=1e-6)
                assert zones[cid]["max"] == pytest.approx(want["max"], rel=1e-6)


def test_coverage_subset_round_trip(registered, live_server):
    lon0, lat0 = cell_centre_lonlat(30, 40)
    lon1, lat1 = cell_centre_lonlat(80, 120)
    bbox = f"{lon0},{lat1},{lon1},{lat0}"
    response = requests.get(
        f"{live_server.url}/collections/synthetic/coverage", params={"bbox": bbox}, timeout=30
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/tiff")
    assert response.headers["etag"] and response.headers["cache-control"]
    with MemoryFile(response.content) as memory, memory.open() as sub:
        assert sub.crs.to_epsg() == 32642 and sub.res == (RES, RES)
        col = round((sub.transform.c - ORIGIN[0]) / RES)
        row = round((ORIGIN[1] - sub.transform.f) / RES)
        xs, ys = TO_UTM.transform([lon0, lon1], [lat1, lat0])
        assert sub.bounds.left <= min(xs) and sub.bounds.right >= max(xs)
        assert sub.bounds.bottom <= min(ys) and sub.bounds.top >= max(ys)
        data = sub.read(1)
    np.testing.assert_array_equal(
        data, grid_values()[row : row + data.shape[0], col : col + data.shape[1]]
    )


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("synthetic/coverage", {"bbox": "1,2,3"}, 400),
        ("synthetic/coverage", {"bbox": "70,30,69,31"}, 400),
        ("synthetic/coverage", {"bbox": "a,b,c,d"}, 400),
        ("synthetic/coverage", {"bbox": "10,10,11,11"}, 400),  # outside the raster
        ("synthetic/coverage", {}, 400),
        ("nowhere/coverage", {"bbox": "66,29,67,30"}, 404),
        ("synthetic/sample", {"points": "66,29;x,y"}, 400),
        ("synthetic/sample", {"points": "66,29", "collection": "deposits"}, 400),
        ("synthetic/sample", {"collection": "concessions"}, 400),
        ("synthetic/zonal", {"collection": "deposits"}, 400),
        ("synthetic/zonal", {"all_touched": "maybe"}, 400),
        ("synthetic/zonal", {"band": "7"}, 400),
        ("synthetic/legend", {"colour": "red"}, 400),
        ("synthetic/map/tiles/WebMercatorQuad/3/9/9.png", {}, 404),
        ("synthetic/map/tiles/WebMercatorQuad/a/1/1.png", {}, 400),
        # str.isdigit() takes "²" and int() refuses it: these were 500s
        ("synthetic/map/tiles/WebMercatorQuad/²/1/1.png", {}, 400),
        ("synthetic/zonal", {"ids": "1,²"}, 400),
        ("synthetic/legend", {"band": "²"}, 400),
        ("synthetic/zonal", {"all_touched": "TRUE"}, 400),  # as the OpenAPI says: a boolean
    ],
)
def test_bad_requests_are_ogc_exceptions(registered, live_server, path, params, status):
    response = requests.get(f"{live_server.url}/collections/{path}", params=params, timeout=30)
    assert response.status_code == status
    assert set(response.json()) == {"code", "description"}


def test_too_big_a_subset_is_refused(registered, live_server, monkeypatch):
    monkeypatch.setattr(raster_read, "MAX_SUBSET_CELLS", 100)
    response = requests.get(
        f"{live_server.url}/collections/synthetic/coverage", params={"bbox": "60,20,80,40"},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 400 and "at most 100" in response.json()["description"]


def png(content: bytes, size: tuple[int, int] = (256, 256)) -> np.ndarray:
    """A paletted PNG as RGBA bands (4, height, width)."""
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    # A PNG carries no georeferencing (the tile's place is its URL): rasterio says so on opening.
    with (
        pytest.warns(NotGeoreferencedWarning),
        MemoryFile(content) as memory,
        memory.open() as image,
    ):
        assert (image.width, image.height, image.count) == (*size, 1)
        colours = np.array([image.colormap(1)[i] for i in range(256)], dtype="uint8")
        return colours[image.read(1)].transpose(2, 0, 1)


def test_tiles_are_coloured_where_there_is_data(registered, live_server):
    import morecantile

    lon, lat = cell_centre_lonlat(100, 100)
    inside = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 8)
    base = f"{live_server.url}/collections/synthetic/map/tiles/WebMercatorQuad"
    response = requests.get(f"{base}/8/{inside.x}/{inside.y}.png", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["etag"] and "max-age" in response.headers["cache-control"]
    image = png(response.content)
    assert (image[3] == 255).mean() > 0.2, "opaque where the raster has data"
    colours = np.unique(image[:3].reshape(3, -1), axis=1).shape[1]
    assert colours > 20, "a colour ramp, not one colour"
    again = requests.get(
        f"{base}/8/{inside.x}/{inside.y}.png", headers={"If-None-Match": response.headers["etag"]},
        timeout=30,
    )  # fmt: skip
    assert again.status_code == 304
    far = png(requests.get(f"{base}/8/10/10.png", timeout=30).content)  # the Arctic: no data
    assert (far[3] == 0).all()
    legend = requests.get(f"{live_server.url}/collections/synthetic/legend", timeout=30).json()
    assert legend["units"] == "test units" and len(legend["stops"]) >= 2
    assert legend["range"][0] < legend["range"][1] <= 100


def test_rasters_are_collections_linked_from_the_landing_page(registered, live_server):
    landing = requests.get(live_server.url, params={"f": "json"}, timeout=30).json()
    assert any(x["href"].endswith("/rasters") for x in landing["links"])
    listed = requests.get(f"{live_server.url}/collections", params={"f": "json"}, timeout=30)
    ids = {c["id"] for c in listed.json()["collections"]}
    assert {"synthetic", "accessibility", "deposit_density", "deposits"} <= ids
    one = requests.get(f"{live_server.url}/collections/accessibility", timeout=30).json()
    assert one["itemType"] == "coverage" and one["derived"] is True
    assert "network_edges" in one["derivedFrom"] and one["titles"]["zh"] and one["titles"]["ur"]
    html = requests.get(f"{live_server.url}/collections", params={"f": "html"}, timeout=30)
    assert html.status_code == 200 and "accessibility" in html.text


def test_accessibility_is_no_faster_than_the_network_allows(registered, samples_url):
    """Lower bounds from first principles: no leg beats the fastest speed the network assumes."""
    from geo import network

    info = registered["accessibility"]
    with rasterio.open(info.file) as src:
        values = src.read(1)
        rows, cols = np.nonzero(values != src.nodata)
        pick = np.random.default_rng(1).choice(len(rows), 200, replace=False)
        xs, ys = rasterio.transform.xy(src.transform, rows[pick], cols[pick])
    lons, lats = TO_LONLAT.transform(xs, ys)
    with psycopg.connect(samples_url) as conn:
        corridor_km, target_km = zip(*conn.execute(
            """SELECT (SELECT min(ST_Distance(c.geom::geography, p.g::geography)) / 1e3
                       FROM corridors c),
                      (SELECT min(ST_Distance(t.geom::geography, p.g::geography)) / 1e3
                       FROM (SELECT geom FROM sezs UNION ALL
                             SELECT geom FROM facilities WHERE kind = 'port') t)
               FROM (SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) AS g
                     FROM unnest(%s::float8[], %s::float8[]) AS u(x, y)) p""",
            (list(lons), list(lats)),
        ).fetchall(), strict=True)  # fmt: skip
    hours = values[rows[pick], cols[pick]]
    fastest = max(network.SPEEDS.values())  # motorways
    # UTM 42N distances differ from geodesic ones by < 1.5% over Pakistan.
    assert np.all(hours >= np.array(corridor_km) / network.ACCESS_KMH * 0.985)
    assert np.all(hours >= np.array(target_km) / fastest * 0.985)
    assert hours.max() > 3 * hours.min(), "remote cells take longer"


def test_deposit_density_integrates_to_the_deposit_count(registered, samples_url):
    info = registered["deposit_density"]
    with psycopg.connect(samples_url) as conn:
        total = conn.execute("SELECT count(*) FROM deposits").fetchone()[0]
        coal = conn.execute("SELECT count(*) FROM deposits WHERE 'coal' = ANY(commodities)")
        coal = coal.fetchone()[0]
    with rasterio.open(info.file) as src:
        cell_km2 = src.res[0] * src.res[1] / 1e6
        bands = {name: src.read(i + 1, masked=True) for i, name in enumerate(src.descriptions)}
    mass = {name: float(band.sum()) * cell_km2 / 1e4 for name, band in bands.items()}
    # The kernel keeps 98.9% of its mass within 3σ; border deposits lose some outside the country.
    assert 0.7 * total <= mass["all"] <= total
    assert 0.7 * coal <= mass["coal"] <= coal


def test_openapi_lists_every_raster_path_with_its_parameters(registered, live_server):
    document = requests.get(f"{live_server.url}/api", timeout=30).json()
    paths, shared = document["paths"], document["components"]["parameters"]

    def parameters(path: str) -> dict[str, dict]:
        listed = paths[path]["get"]["parameters"]
        resolved = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in listed]
        return {p["name"]: p for p in resolved}

    assert "/rasters" in paths
    for name, info in registered.items():
        base = f"/collections/{name}"
        tile = f"{base}/map/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileCol}}/{{tileRow}}.png"
        assert set(parameters(tile)) == {"tileMatrix", "tileCol", "tileRow", "band"}
        assert "image/png" in paths[tile]["get"]["responses"]["200"]["content"]
        assert set(parameters(f"{base}/legend")["band"]["schema"]["enum"]) == {
            *map(str, range(1, info.bands + 1)),
            *info.band_names,
        }
        bbox = parameters(f"{base}/coverage")["bbox"]
        assert bbox["required"] and bbox["schema"]["minItems"] == 4
        assert set(parameters(f"{base}/sample")) == {"points", "collection", "band"}
        zonal = parameters(f"{base}/zonal")
        assert set(zonal) == {"collection", "all_touched", "ids", "band"}
        assert "concessions" in zonal["collection"]["schema"]["enum"]
        assert zonal["all_touched"]["schema"]["type"] == "boolean"
    page = requests.get(f"{live_server.url}/api.html", timeout=30).text
    assert "/collections/accessibility/zonal" in page


def test_html_pages_of_the_catalogue_and_of_each_raster(registered, live_server):
    listing = requests.get(f"{live_server.url}/rasters", headers={"Accept": "text/html"},
                           timeout=30)  # fmt: skip
    assert listing.headers["content-type"].startswith("text/html")
    for name, info in registered.items():
        assert f'data-raster="{name}"' in listing.text and info.title in listing.text
    page = requests.get(f"{live_server.url}/collections/deposit_density", params={"f": "html"},
                        timeout=30)  # fmt: skip
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    info = registered["deposit_density"]
    for text in (info.title, info.title_zh, info.title_ur, "coal", info.crs):
        assert text in page.text
    assert 'data-tiles="' in page.text and "linear-gradient" in page.text
    as_json = requests.get(f"{live_server.url}/collections/deposit_density", timeout=30).json()
    assert "legend" not in as_json and any(x["type"] == "text/html" for x in as_json["links"])
    bad = requests.get(f"{live_server.url}/rasters", params={"f": "xml"}, timeout=30)
    assert bad.status_code == 400 and set(bad.json()) == {"code", "description"}


def test_raster_pages_load_cleanly_in_chromium_with_tiles_and_legend(
    registered,
    live_server,
    browser,  # noqa: F811
):
    with watching(browser, live_server.url) as watched:
        page = watched.open("/rasters?f=html")
        rows = page.locator("table.rasters tbody tr")
        expect(rows).to_have_count(len(registered))
        rows.filter(has=page.locator("code", has_text="accessibility")).locator("a").first.click()
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(f"{live_server.url}/collections/accessibility")
        info = registered["accessibility"]
        expect(page.locator("h1")).to_have_text(info.title)
        tiles = page.locator("#map .raster-tiles img.leaflet-tile-loaded")
        expect(tiles.first).to_be_attached()
        prefix = f"{live_server.url}/collections/accessibility/map/tiles/WebMercatorQuad/"
        assert any(r.startswith(prefix) for r in watched.requests)
        lo, hi = raster_read.legend(info)["range"]
        expect(page.locator(".legend .low")).to_have_text(f"≤ {display.number(lo, 'en')}")
        expect(page.locator(".legend .high")).to_have_text(f"≥ {display.number(hi, 'en')}")
        page.screenshot(path=OUTPUT / "raster-page.png", full_page=True)
        watched.assert_clean()
