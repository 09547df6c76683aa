"""Rasters on the folium map (/map and `emining map -o`) in a real headless Chromium (Debian's).

Expectations come from the catalogue rows and from ``geo.zonal`` run here on the concessions
read from the database (not from the API's answer): the overlay's title in each language, the
PNG tiles it asks for and their loading, its legend, a concession popup's statistics, and the
standalone file's inlined picture with no request at all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
import rasterio
from playwright.sync_api import Locator, Page, expect
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from geo import raster_read
from geo.load import load_samples
from geo.raster import RasterInfo
from geo.zonal import zonal_rows, zones_statement
from layers import i18n
from tests.conftest import LiveServer, add_sample_rasters, fresh_database
from tests.test_html import Watched, browser, watching  # noqa: F401  (the browser fixture)
from tests.test_map import EMINING, OUTPUT, open_map, switch_layer

ACCESS = "accessibility"
DENSITY = "deposit_density"


@pytest.fixture(scope="module")
def store(cluster, tmp_path_factory) -> tuple[str, dict[str, RasterInfo]]:
    """The samples and both sample rasters; accessibility at 2 km, so blocks hold many cells."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
    folder = tmp_path_factory.mktemp("rasters")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return url, add_sample_rasters(url, folder, access_res=2_000.0, density_res=5_000.0)


@pytest.fixture(scope="module")
def server(store) -> Iterator[LiveServer]:
    with LiveServer(store[0]) as running:
        yield running


@pytest.fixture
def browse(browser, server) -> Iterator[Watched]:  # noqa: F811
    with watching(browser, server.url) as watched:
        yield watched


def expected_stats(info: RasterInfo, url: str) -> dict[int, dict]:
    """What geo.zonal computes per concession (checked against a shapely reference in
    test_rasters.py); here the question is whether the popups show exactly that."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(*zones_statement(info, "concessions")).fetchall()
    return {row.pop("id"): row for row in zonal_rows(info, rows)}


def overlay_input(page: Page, info: RasterInfo) -> Locator:
    return (
        page.locator(".leaflet-control-layers-overlays label")
        .filter(has_text=info.title)
        .locator("input")
    )


def number(text: str) -> float:
    return float(text.replace(",", ""))


def check_popup_stats(page: Page, url: str, rasters: dict[str, RasterInfo]) -> None:
    """Open the popup of the concession with the most accessibility cells; compare every value
    shown with geo.zonal's, for each raster (4 significant digits on the page)."""
    access = expected_stats(rasters[ACCESS], url)
    block = max(access, key=lambda cid: access[cid]["count"])
    assert access[block]["count"] >= 10, access  # a real test of the numbers, not of "no cells"
    page.locator(f"path.em-concessions.em-id-{block}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup.locator(".em-zonal h4")).to_have_text(i18n.UI["zonal"].en)
    for name, info in rasters.items():
        want = expected_stats(info, url)[block]
        part = popup.locator(f".em-zonal-raster[data-raster={name}]")
        expect(part.locator("h5")).to_contain_text(info.title)
        if not want["count"]:
            expect(part.locator(".em-none")).to_have_text(i18n.UI["no_cells"].en)
            continue
        expect(part.locator(".em-count")).to_have_text(f"{want['count']:,}")
        for key in ("mean", "min", "max", "std"):
            shown = number(part.locator(f".em-{key}").inner_text())
            assert shown == pytest.approx(want[key], rel=6e-4, abs=1e-12), (name, key)
        expect(part.locator(".em-units")).to_have_text(info.units)


def test_rasters_are_overlays_off_at_first_with_titles_in_each_language(browse, store):
    page = open_map(browse)
    rasters = store[1]
    for info in rasters.values():
        expect(overlay_input(page, info)).not_to_be_checked()
    expect(page.locator(".em-raster")).to_have_count(0)  # nothing drawn, nothing asked
    assert not any("/map/tiles/" in r for r in browse.requests)
    for lang in ("zh", "ur"):
        page.locator(f".em-languages button[data-lang={lang}]").click()
        labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        for info in rasters.values():
            title = info.title_zh if lang == "zh" else info.title_ur
            assert title and any(title in label for label in labels), (lang, labels)
    browse.assert_clean()


def test_switching_a_raster_on_loads_its_png_tiles_and_shows_its_legend(browse, store):
    page = open_map(browse)
    info = store[1][ACCESS]
    switch_layer(overlay_input(page, info), True)
    tiles = page.locator(f".em-raster-{ACCESS} img.leaflet-tile-loaded")
    expect(tiles.first).to_be_attached()
    page.wait_for_function(f"() => window.eminingReady[{ACCESS!r}] !== undefined")
    loaded = page.evaluate(
        f"""() => [...document.querySelectorAll('.em-raster-{ACCESS} img.leaflet-tile')]
            .map((img) => [img.src, img.complete, img.naturalWidth])"""
    )
    prefix = f"{browse.origin}/collections/{ACCESS}/map/tiles/WebMercatorQuad/"
    assert loaded and all(src.startswith(prefix) and done and width == 256
                          for src, done, width in loaded), loaded  # fmt: skip
    asked = [r for r in browse.requests if r.startswith(prefix)]
    assert len(asked) >= len(loaded)
    legend = page.locator(f".em-legend section[data-layer={ACCESS}]")
    expect(legend.locator("h4")).to_have_text(info.title)
    lo, hi = raster_read.legend(info)["range"]
    assert number(legend.locator(".em-ramp-low").inner_text().lstrip("≤ ")) == pytest.approx(
        lo, rel=6e-4
    )
    assert number(legend.locator(".em-ramp-high").inner_text().lstrip("≥ ")) == pytest.approx(
        hi, rel=6e-4
    )
    expect(legend.locator(".em-units")).to_have_text(info.units)
    assert f"{browse.origin}/collections/{ACCESS}/legend" in browse.requests
    page.screenshot(path=OUTPUT / "map-raster.png")
    switch_layer(overlay_input(page, info), False)
    expect(legend).to_have_count(0)
    expect(page.locator(f".em-raster-{ACCESS}")).to_have_count(0)
    browse.assert_clean()


def test_a_concession_popup_shows_each_rasters_zonal_statistics(browse, store):
    url, rasters = store
    page = open_map(browse)
    page.wait_for_function("() => document.querySelectorAll('path.em-concessions').length > 0")
    check_popup_stats(page, url, rasters)
    asked = [r for r in browse.requests if "/zonal?" in r]
    assert {r.split("/collections/")[1].split("/")[0] for r in asked} == set(rasters)
    assert all("collection=concessions" in r and "ids=" in r for r in asked)
    page.screenshot(path=OUTPUT / "map-zonal-popup.png")
    browse.assert_clean()


def test_the_standalone_file_has_each_raster_inlined_with_legend_and_statistics(
    browser,  # noqa: F811
    store,
    tmp_path,
):
    url, rasters = store
    target = tmp_path / "map.html"
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [str(EMINING), "map", "-o", str(target)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    origin = target.as_uri()
    with watching(browser, origin) as watched:
        page = watched.page
        page.goto(origin, wait_until="load")
        page.wait_for_function("() => window.eminingMap !== undefined")
        page.evaluate("() => { eminingMap.control.expand(); }")
        info = rasters[ACCESS]
        switch_layer(overlay_input(page, info), True)
        picture = page.locator(f"img.leaflet-image-layer.em-raster-{ACCESS}")
        expect(picture).to_be_attached()
        page.wait_for_function(
            f"() => document.querySelector('img.em-raster-{ACCESS}').naturalWidth > 0"
        )
        src, width, height = picture.evaluate("i => [i.src, i.naturalWidth, i.naturalHeight]")
        assert src.startswith("data:image/png;base64,")
        made = raster_read.overlay(info)
        assert (width, height) == made.size and max(made.size) <= raster_read.OVERLAY_PIXELS
        corners = page.evaluate(
            f"""() => {{ const b = eminingMap.groups[{ACCESS!r}].getBounds();
                return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }}"""
        )
        west, south, east, north = info.bbox
        assert corners == pytest.approx([south, west, north, east])
        legend = page.locator(f".em-legend section[data-layer={ACCESS}]")
        expect(legend.locator(".em-ramp")).to_be_attached()
        check_popup_stats(page, url, rasters)
        page.screenshot(path=OUTPUT / "standalone-raster.png")
        assert watched.requests == [origin], watched.requests
        assert not watched.problems, watched.problems


def test_the_inlined_picture_is_drawn_in_web_mercator(store):
    """Pixels of the picture hold the colour of the raster cell under their centre (read with
    pyproj and numpy, not rasterio's warp): an image in degrees would be off by whole cells."""
    info = store[1][ACCESS]
    made = raster_read.overlay(info)
    # A PNG carries no georeferencing (the map places it by its bounds): rasterio says so.
    with (
        pytest.warns(NotGeoreferencedWarning),
        MemoryFile(made.png) as memory,
        memory.open() as image,
    ):
        index = image.read(1)
    with rasterio.open(info.file) as src:
        values, grid, nodata = src.read(1), src.transform, src.nodata
    (south, west), (north, east) = made.bounds
    to_merc = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    from_merc = Transformer.from_crs("EPSG:3857", info.crs, always_xy=True)
    (left, right), (bottom, top) = to_merc.transform([west, east], [south, north])
    width, height = made.size
    rows, cols = np.mgrid[0:height:7, 0:width:7]
    xs = left + (cols + 0.5) * (right - left) / width
    ys = top - (rows + 0.5) * (top - bottom) / height
    ex, ny = from_merc.transform(xs.ravel(), ys.ravel())
    fc = (np.array(ex) - grid.c) / grid.a
    fr = (np.array(ny) - grid.f) / grid.e
    inside = (fc > 0) & (fr > 0) & (fc < values.shape[1]) & (fr < values.shape[0])
    # away from cell edges, where nearest-neighbour sampling could go either way
    clear = inside & (np.abs(fc % 1 - 0.5) < 0.4) & (np.abs(fr % 1 - 0.5) < 0.4)
    cells = values[fr[clear].astype(int), fc[clear].astype(int)]
    got = index[rows.ravel()[clear], cols.ravel()[clear]]
    lo, hi = raster_read.value_range(info)
    want = np.where(cells == nodata, 0, 1 + np.round(np.clip((cells - lo) / (hi - lo), 0, 1) * 254))
    assert clear.sum() > 1_000
    assert (got == want).mean() > 0.995, (got != want).sum()


def test_popup_statistics_follow_a_language_switch_while_open(browse, store):
    """The statistics belong to the block (asked whether or not the overlay is shown); an open
    popup is rebuilt in the new language, statistics included."""
    page = open_map(browse)
    page.wait_for_function("() => document.querySelectorAll('path.em-concessions').length > 0")
    block = min(expected_stats(store[1][ACCESS], store[0]))
    page.locator(f"path.em-concessions.em-id-{block}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup.locator(".em-zonal h4")).to_have_text(i18n.UI["zonal"].en)
    page.locator(".em-languages button[data-lang=zh]").click()
    expect(popup.locator(".em-zonal h4")).to_have_text(i18n.UI["zonal"].zh)
    expect(popup.locator("th").first).to_have_text(i18n.FIELDS["licence_type"].zh)
    part = popup.locator(f".em-zonal-raster[data-raster={ACCESS}]")
    expect(part.locator("h5")).to_contain_text(store[1][ACCESS].title_zh)
    expect(part.locator("th").first).to_have_text(i18n.UI["mean"].zh)
    browse.assert_clean()
