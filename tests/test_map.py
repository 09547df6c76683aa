"""The folium map (/map and `emining map -o`) in a real headless Chromium (Debian's).

Every expectation comes from the database or the catalogue: how many deposits there are, their
names and source links, the titles and labels in each language. The page must load with no
console error, no failed request and no request leaving the server (or, for the standalone
file, no request at all besides the file itself).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Locator, Page, expect

from geo import network, settings
from geo.load import load_samples
from layers import i18n, terms
from layers.catalogue import CATALOGUE, get
from tests.conftest import REPO, LiveServer, fresh_database
from tests.test_html import Watched, browser, watching  # noqa: F401  (the browser fixture)

OUTPUT = REPO / "test-output" / "map"
EMINING = Path(sys.executable).with_name("emining")


def deposit_rows(url: str) -> dict[int, tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id, name, source_url FROM deposits").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


REPORT = "https://example.org/report?a=1&b=2"
EVIL = "<img src=x onerror=alert(1)>"
INSERT = (
    "INSERT INTO deposits (name, commodities, status, coord_quality, source, source_url, geom) "
    "VALUES (%s, ARRAY['copper'], 'prospect', 'approximate', %s, %s, "
    "ST_SetSRID(ST_MakePoint(66.1, 28.9), 4326))"
)


@pytest.fixture(scope="module")
def map_url(cluster) -> str:
    """The sample data plus a deposit whose source has a web link and whose name is markup."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        conn.execute(INSERT, [EVIL, "a report", REPORT])
    return url


@pytest.fixture(scope="module")
def server(map_url) -> Iterator[LiveServer]:
    with LiveServer(map_url) as running:
        yield running


@pytest.fixture
def browse(browser, server) -> Iterator[Watched]:  # noqa: F811
    with watching(browser, server.url) as watched:
        yield watched


def open_map(watched: Watched, path: str = "/map") -> Page:
    page = watched.open(path)
    page.wait_for_function("() => window.eminingMap !== undefined")
    page.wait_for_function("() => [...document.querySelectorAll('.em-legend section')].length > 0")
    page.evaluate("() => { eminingMap.control.expand(); }")  # collapsed to a button at first
    return page


def switch_layer(checkbox: Locator, on: bool) -> None:
    """A layer control's checkbox clicked as a script does: the collapsed control ignores the
    first click after the pointer enters it (Leaflet's guard against a touch opening it and
    ticking a box at once), which a test's instant hover-and-click always hits."""
    checkbox.evaluate("(box, on) => { if (box.checked !== on) box.click(); }", on)


def wait_for_deposits(page: Page, expected: int) -> None:
    """Until the deposits on the map (single markers plus the counts written on the clusters)
    number ``expected``: clusters animate, so the count settles rather than being read once."""
    page.wait_for_function(
        """n => document.querySelectorAll('path.em-deposits').length +
        [...document.querySelectorAll('.marker-cluster')]
            .reduce((s, c) => s + Number(c.textContent), 0) === n""",
        arg=expected,
    )


def test_map_page_is_served_with_vendored_assets_only(server):
    response = httpx.get(server.url + "/map")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    for asset in ("leaflet/leaflet.js", "markercluster/leaflet.markercluster.js", "emining-map.js"):
        assert f'src="{server.url}/static/{asset}"' in body
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrap"):
        assert cdn not in body
    assert "tile.openstreetmap.org" not in body  # no basemap unless configured
    for path in ("markercluster/LICENSE", "vectorgrid/LICENSE", "vectorgrid/README.md"):
        assert (REPO / "api" / "static" / path).stat().st_size > 100


def test_map_draws_every_deposit_and_the_other_layers(browse, map_url):
    page = open_map(browse)
    expected = len(deposit_rows(map_url))
    wait_for_deposits(page, expected)
    assert page.locator(".marker-cluster").count() > 0  # clustered at the opening zoom
    for layer in ("provinces", "corridors", "concessions", "sezs", "facilities"):
        expect(page.locator(f"path.em-{layer}").first).to_be_attached()
    legend = page.locator(".em-legend")
    expect(legend.locator("section[data-layer=deposits] h4")).to_have_text(
        get("deposits").title_in("en")
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / "map.png")
    browse.assert_clean()


def test_toggling_a_layer_in_the_control_hides_it(browse):
    page = open_map(browse)
    page.wait_for_function("() => document.querySelectorAll('path.em-corridors').length > 0")
    control = page.locator(".leaflet-control-layers-overlays label")
    corridors = control.filter(has_text=get("corridors").title_in("en")).locator("input")
    deposits = control.filter(has_text=get("deposits").title_in("en")).locator("input")
    switch_layer(corridors, False)
    expect(page.locator("path.em-corridors")).to_have_count(0)
    switch_layer(deposits, False)
    expect(page.locator("path.em-deposits")).to_have_count(0)
    expect(page.locator(".marker-cluster")).to_have_count(0)
    expect(page.locator(".em-legend section[data-layer=deposits]")).to_have_count(0)
    switch_layer(corridors, True)
    expect(page.locator("path.em-corridors").first).to_be_attached()
    browse.assert_clean()


def reveal(page: Page, layer: str, feature_id: int) -> None:
    """Zoom until a clustered feature is drawn on its own (the cluster group's own method)."""
    page.evaluate(
        """([layer, id]) => new Promise((done, fail) => {
            const group = eminingMap.groups[layer];
            const find = (g) => g && g.getLayers().find((m) => m.feature.id === id);
            const marker = find(group) || find(group.featured);  // copper and gold: unclustered
            if (!marker) return fail(new Error("no feature " + id + " in " + layer));
            // zoomToShowLayer waits for a move that never comes if the marker is already drawn
            if (eminingMap.map.hasLayer(marker)) return done();
            group.zoomToShowLayer(marker, done);
        })""",
        [layer, feature_id],
    )


def with_source_link(url: str) -> tuple[int, str, str]:
    """A deposit whose source has a web link: (id, name, link)."""
    rows = deposit_rows(url)
    feature_id = min(i for i, (_, link) in rows.items() if link)
    return feature_id, *rows[feature_id]


def test_clicking_a_deposit_shows_its_fields_and_source_link(browse, map_url):
    page = open_map(browse)
    page.locator(".marker-cluster").first.wait_for()
    feature_id, name, link = with_source_link(map_url)
    reveal(page, "deposits", feature_id)
    page.locator(f"path.em-deposits.em-id-{feature_id}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup.locator("h3")).to_have_text(name)  # markup shown as text, not run
    assert page.locator(".leaflet-popup-content img").count() == 0
    expect(popup.locator("th").first).to_have_text(i18n.FIELDS["commodities"].en)
    expect(popup.locator(".em-source a")).to_have_attribute("href", link)
    details = f"{browse.origin}/collections/deposits/items/{feature_id}?f=html"
    expect(popup.locator("a.em-details")).to_have_attribute("href", details)
    site = f"{browse.origin}/sites/{feature_id}?lang=en"
    expect(popup.locator("a.em-site")).to_have_attribute("href", site)
    assert httpx.get(site, headers={"Accept": "text/html"}).status_code == 200
    browse.assert_clean()


def test_a_deposits_popup_lists_its_resources_by_category(browse, map_url):
    with psycopg.connect(map_url) as conn:
        feature_id, figures = conn.execute(
            "SELECT deposit_id, count(*) FROM deposit_resources GROUP BY deposit_id "
            "ORDER BY count(*) DESC, deposit_id LIMIT 1"
        ).fetchone()
    page = open_map(browse)
    page.locator(".marker-cluster").first.wait_for()
    reveal(page, "deposits", feature_id)
    page.locator(f"path.em-deposits.em-id-{feature_id}").dispatch_event("click")
    section = page.locator(".leaflet-popup-content .em-popup .em-resources")
    expect(section.locator("h4")).to_have_text(i18n.UI["resources"].en)
    expect(section.locator("tr")).to_have_count(figures)
    browse.assert_clean()


def test_switching_to_urdu_sets_rtl_and_urdu_labels(browse, map_url):
    page = open_map(browse)
    page.locator(".em-languages button[data-lang=ur]").click()
    legend = page.locator(".em-legend")
    expect(legend).to_have_attribute("dir", "rtl")
    expect(legend.locator("summary")).to_have_text(i18n.UI["legend"].ur)
    expect(page.locator(".leaflet-control-layers")).to_have_attribute("dir", "rtl")
    expect(page.locator(".em-languages")).to_have_attribute("dir", "rtl")
    assert page.evaluate("document.documentElement.lang") == "ur"
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    for layer in CATALOGUE:
        assert any(layer.title_in("ur") in label for label in labels), (layer.id, labels)
    feature_id = min(deposit_rows(map_url))
    reveal(page, "deposits", feature_id)
    page.locator(f"path.em-deposits.em-id-{feature_id}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup).to_have_attribute("dir", "rtl")
    expect(popup.locator("th").first).to_have_text(i18n.FIELDS["commodities"].ur)
    page.locator(".em-languages button[data-lang=zh]").click()
    expect(legend).to_have_attribute("dir", "ltr")
    expect(legend.locator("summary")).to_have_text(i18n.UI["legend"].zh)
    browse.assert_clean()


def test_map_opens_in_the_language_asked_for(server):
    response = httpx.get(server.url + "/map", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.headers["content-language"] == "zh"
    assert f"<title>{i18n.UI['map_title'].zh}</title>" in response.text
    response = httpx.get(server.url + "/map?lang=ur")
    assert response.headers["content-language"] == "ur"


def write_map(url: str, home: Path, target: Path) -> str:
    """``emining map -o`` with its own home (where it keeps its font subsets); the page."""
    env = {**os.environ, "DATABASE_URL": url, "EMINING_HOME": str(home)}
    done = subprocess.run(
        [str(EMINING), "map", "-o", str(target)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return target.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def written(map_url, tmp_path_factory) -> tuple[Path, Path]:
    """One standalone file written by the CLI: (the file, the home it wrote its cache under)."""
    folder = tmp_path_factory.mktemp("standalone")
    write_map(map_url, folder / "home", folder / "map.html")
    return folder / "map.html", folder / "home"


def test_emining_map_writes_a_file_that_works_offline(browser, map_url, written):  # noqa: F811
    target, _ = written
    html = target.read_text(encoding="utf-8")
    assert "<script src=" not in html and 'rel="stylesheet"' not in html
    origin = target.as_uri()
    with watching(browser, origin) as watched:
        page = watched.page
        page.goto(origin, wait_until="load")
        page.wait_for_function("() => window.eminingMap !== undefined")
        expected = len(deposit_rows(map_url))
        wait_for_deposits(page, expected)
        check_links_shown(page, map_url, linked_deposit(map_url))  # from the inlined links
        page.locator(".em-languages button[data-lang=ur]").click()
        expect(page.locator(".em-legend")).to_have_attribute("dir", "rtl")
        page.screenshot(path=OUTPUT / "standalone-ur.png")
        assert watched.requests == [origin], watched.requests
        assert not watched.problems, watched.problems


def test_a_second_map_file_takes_its_fonts_from_the_cache(map_url, written, tmp_path):
    """The first file left its font subsets under the home; the second inlines those very files
    (one is replaced by a marker to tell a cached subset from a new one) and makes none."""
    first, home = written
    cache = settings.Settings(home=home).font_cache
    kept = {path.name: path.read_bytes() for path in cache.glob("*.woff2")}
    inlined = set(re.findall(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", first.read_text()))
    assert kept and {base64.b64encode(data).decode() for data in kept.values()} == inlined
    marked = sorted(kept)[0]
    marker = b"\0a subset read from the cache\0"
    (cache / marked).write_bytes(marker)
    second = write_map(map_url, home, tmp_path / "again.html")
    assert f"base64,{base64.b64encode(marker).decode()})" in second
    assert {path.name for path in cache.glob("*.woff2")} == set(kept)
    assert not [path for path in cache.iterdir() if path.name.startswith(".")]


def deposit_links(url: str, deposit: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT kind, to_name, km, hours, road_km, rail_km, transfers, access_detour, "
            "access_kmh FROM links WHERE from_layer = 'deposits' AND from_id = %s ORDER BY id",
            [deposit],
        ).fetchall()


def link_how(road_km, rail_km, transfers, detour, kmh) -> str:
    """The popup's account of a route, from the link's columns (English)."""
    ui = i18n.UI
    parts = []
    if rail_km:
        parts += [
            f"{ui['by_road'].en} {number(road_km)} km",
            f"{ui['by_rail'].en} {number(rail_km)} km",
        ]
    if transfers:
        parts.append(f"{transfers} {ui['transfers'].en}")
    if detour:
        parts.append(ui["straight"].en.format(factor=f"{detour:g}", kmh=f"{kmh:g}"))  # as stated
    return " · ".join(parts)


def linked_deposit(url: str) -> int:
    """A deposit all of whose links were found (the map has asked for the links by then)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT from_id FROM links WHERE from_layer = 'deposits' GROUP BY from_id "
            "HAVING count(*) = 3 AND bool_and(km IS NOT NULL) ORDER BY from_id LIMIT 1"
        ).fetchone()[0]


def number(value: float) -> str:
    """As the page writes km and hours (toLocaleString, one decimal)."""
    return f"{value:,.1f}" if value >= 0.05 or value == 0 else "less than 0.1"


def check_links_shown(page: Page, url: str, deposit: int) -> None:
    reveal(page, "deposits", deposit)
    page.locator(f"path.em-deposits.em-id-{deposit}").dispatch_event("click")
    expected = deposit_links(url, deposit)
    rows = page.locator(".leaflet-popup-content .em-link")
    expect(rows).to_have_count(len(expected))
    for row, (kind, to_name, km, hours, *how) in zip(rows.all(), expected, strict=True):
        expect(row).to_have_class(f"em-link em-link-{kind}")
        expect(row.locator(".em-to")).to_have_text(to_name)
        expect(row.locator(".em-km")).to_have_text(f"{number(km)} km")
        expect(row.locator(".em-hours")).to_have_text(f"{number(hours)} h")
        expect(row.locator(".em-how")).to_have_text(link_how(*how))
    expect(page.locator("path.em-highlight")).to_have_count(len(expected))
    # A deposit with resources has a tall popup (it scrolls: maxHeight), whose close button may
    # sit beyond the test window's edge after the map fits the routes: click it as an event.
    page.locator(".leaflet-popup-close-button").dispatch_event("click")
    expect(page.locator("path.em-highlight")).to_have_count(0)


def test_clicking_a_deposit_shows_its_links_with_km_and_hours(browse, map_url):
    page = open_map(browse)
    page.locator(".marker-cluster").first.wait_for()
    check_links_shown(page, map_url, linked_deposit(map_url))
    links = page.locator(".leaflet-control-layers-overlays label").filter(
        has_text=get("links").title_in("en")
    )
    expect(links.locator("input")).not_to_be_checked()  # all the routes: off at first
    switch_layer(links.locator("input"), True)
    expect(page.locator("path.em-links").first).to_be_attached()
    assert any("from_id=" in r for r in browse.requests)  # asked of the links collection
    browse.assert_clean()


def test_layers_over_the_embedding_limit_come_as_vector_tiles(browser, map_url):  # noqa: F811
    """With the limit below the deposits' count, /map draws them from the MVT endpoint."""
    total = len(deposit_rows(map_url))
    with LiveServer(map_url, map_embed_max=total - 1) as small, watching(browser, small.url) as w:
        page = open_map(w)
        tiles = f"{small.url}/collections/deposits/tiles/WebMercatorQuad/"
        page.wait_for_function("() => document.querySelectorAll('.leaflet-pane canvas').length > 0")
        page.wait_for_load_state("networkidle")
        assert any(r.startswith(tiles) for r in w.requests), w.requests
        assert not any("/collections/deposits/items" in r for r in w.requests)
        expect(page.locator("path.em-deposits")).to_have_count(0)
        legend = page.locator(".em-legend section[data-layer=deposits] .em-partial")
        expect(legend).to_contain_text(i18n.UI["tiles"].en)
        expect(legend).to_contain_text(str(total))
        # the page counted no further than the limit; the total was asked for after the tiles
        assert map_config(httpx.get(small.url + "/map").text)["layers"][0]["total"] in (None, total)
        asked = f"{small.url}/map/totals?layers=deposits"
        assert [r for r in w.requests if "/map/totals" in r] == [asked]
        drawn = [i for i, r in enumerate(w.requests) if r.startswith(tiles)]
        assert drawn and w.requests.index(asked) > max(drawn), w.requests
        # small layers (fewer rows than the limit) are still fetched as features
        with psycopg.connect(map_url) as conn:
            assert conn.execute("SELECT count(*) FROM facilities").fetchone()[0] < total - 1
        expect(page.locator("path.em-facilities").first).to_be_attached()
        page.screenshot(path=OUTPUT / "map-vector-tiles.png")
        # the grid's click event as VectorGrid fires it for a drawn feature (hit-testing a
        # canvas pixel is VectorGrid's own business): the popup opens, links asked of the API
        feature_id = linked_deposit(map_url)
        page.evaluate(
            """(id) => {
                const grid = eminingMap.groups.deposits.getLayers()[0];
                const m = L.circleMarker([0, 0]);
                m.featureId = id;
                m.properties = {};
                grid.fire("click", { layer: m, latlng: eminingMap.map.getCenter() });
            }""",
            feature_id,
        )
        rows = page.locator(".leaflet-popup-content .em-link")
        expect(rows).to_have_count(len(deposit_links(map_url, feature_id)))
        w.assert_clean()


def map_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="emining-config">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_a_layer_off_at_first_is_counted_when_shown(browser, map_url):  # noqa: F811
    """Over the limit and off at first (the links), a layer is planned from a count that stops
    past the limit; its exact total is asked of /map/totals when it is switched on."""
    with psycopg.connect(map_url, autocommit=True) as conn:
        network.build(conn)  # current (the fixture's extra deposit), so no server rebuilds them
        links = conn.execute("SELECT count(*) FROM links").fetchone()[0]
    assert links > 1
    with LiveServer(map_url, map_embed_max=links - 1) as small, watching(browser, small.url) as w:
        config = map_config(httpx.get(small.url + "/map").text)
        assert config["links"]["source"]["kind"] == "tiles"
        assert config["links"]["total"] is None
        page = open_map(w)
        assert not any("/map/totals" in r for r in w.requests)
        label = get("links").title_in("en")
        toggle = page.locator(".leaflet-control-layers-overlays label").filter(has_text=label)
        switch_layer(toggle.locator("input"), True)
        legend = page.locator(".em-legend section[data-layer=links] .em-partial")
        expect(legend).to_have_text(f"{i18n.UI['tiles'].en} · {links:,}")
        assert sum("/map/totals?layers=links" in r for r in w.requests) == 1, w.requests
        w.assert_clean()


def test_layers_off_at_first_are_fetched_when_switched_on(browse):
    """The first view asks for the layers it shows only; another is asked for when switched on."""
    page = open_map(browse)
    page.wait_for_load_state("networkidle")
    hidden = [layer for layer in CATALOGUE if not layer.visible]
    shown = [layer for layer in CATALOGUE if layer.visible]
    assert hidden and shown
    asked = lambda layer: any(f"/collections/{layer.id}/items" in r for r in browse.requests)  # noqa: E731
    assert all(asked(layer) for layer in shown), browse.requests
    assert not any(asked(layer) for layer in hidden), browse.requests
    later = next(layer for layer in hidden if layer.id != "links")
    label = page.locator(".leaflet-control-layers-overlays label")
    switch_layer(label.filter(has_text=later.title_in("en")).locator("input"), True)
    page.wait_for_function(f"() => document.querySelector('.em-map').dataset.loaded{later.id}")
    assert asked(later)
    browse.assert_clean()


def test_a_straight_access_leg_is_flagged_in_the_popup(browse, map_url):
    """A deposit with no road within reach: its popup says straight line, factor and speed."""
    with psycopg.connect(map_url) as conn:
        found = conn.execute(
            "SELECT from_id, access_detour, access_kmh FROM links "
            "WHERE kind = 'access' AND access_detour IS NOT NULL ORDER BY from_id LIMIT 1"
        ).fetchone()
    assert found, "the samples have a deposit beyond the reach of every road"
    deposit, detour, kmh = found
    page = open_map(browse)
    page.locator(".marker-cluster").first.wait_for()
    reveal(page, "deposits", deposit)
    page.locator(f"path.em-deposits.em-id-{deposit}").dispatch_event("click")
    how = page.locator(".leaflet-popup-content .em-link-access .em-how")
    expect(how).to_have_text(i18n.UI["straight"].en.format(factor=f"{detour:g}", kmh=f"{kmh:g}"))
    browse.assert_clean()


def test_a_corridor_popup_shows_its_published_length_not_the_drawn_one(browse, map_url):
    with psycopg.connect(map_url) as conn:
        corridor, name, published = conn.execute(
            "SELECT id, name, published_length_km FROM corridors "
            "WHERE published_length_km IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    page = open_map(browse)
    page.wait_for_function("() => document.querySelectorAll('path.em-corridors').length > 0")
    page.locator(f"path.em-corridors.em-id-{corridor}").first.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup.locator("h3")).to_have_text(name)
    expect(popup.locator("td.em-published_length_km")).to_have_text(number(published))
    labels = popup.locator("th").all_inner_texts()
    assert i18n.FIELDS["published_length_km"].en in labels
    assert i18n.FIELDS["length_km"].en not in labels and "Length (km)" not in labels
    browse.assert_clean()


def test_the_landing_page_links_to_the_map(browse):
    page = browse.open("/")
    page.locator(".cards a.map-link").click()
    page.wait_for_function("() => window.eminingMap !== undefined")
    assert page.url == f"{browse.origin}/map"
    browse.assert_clean()


def test_projects_are_a_layer_of_the_control_with_their_partners_in_the_popup(browse, map_url):
    """Off at opening (their points sit on the deposits); switched on, every project is drawn
    from its sites and its popup names its stage and partner countries."""
    with psycopg.connect(map_url) as conn:
        ids = dict(conn.execute("SELECT name, id FROM projects").fetchall())
    page = open_map(browse)
    control = page.locator(".leaflet-control-layers-overlays label")
    switch = control.filter(has_text=get("projects").title_in("en")).locator("input")
    expect(switch).not_to_be_checked()
    expect(page.locator(".em-projects")).to_have_count(0)
    switch_layer(switch, True)
    for project_id in ids.values():
        expect(page.locator(f"path.em-projects.em-id-{project_id}").first).to_be_attached()
    expect(page.locator(".em-legend section[data-layer=projects]")).to_have_count(1)
    page.locator(f"path.em-projects.em-id-{ids['Reko Diq']}").first.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup.locator("h3")).to_have_text("Reko Diq")
    expect(popup.locator("td.em-stage")).to_have_text(terms.TERMS["mining"].en)
    expect(popup.locator("td.em-partner_countries")).to_have_text("CA, PK")
    page.screenshot(path=OUTPUT / "projects.png")
    browse.assert_clean()
