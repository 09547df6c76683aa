"""The HTML pages in a real headless Chromium (Debian's), and format negotiation over plain HTTP.

The browser is the system's /usr/bin/chromium driven by Playwright; it must load every page with
no console error, no failed request and no request leaving the server (the platform runs
offline: no CDN, no basemap tiles).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from geo.load import load_samples
from layers import display
from layers.catalogue import CATALOGUE
from tests import chromium
from tests.conftest import REPO, LiveServer, fresh_database

OUTPUT = REPO / "test-output" / "html"
EVIL = "<script>alert(1)</script>"
EVIL_NOTES = '"><img src=x onerror="alert(2)">'
EVIL_URL = "javascript:alert(3)"
REPORT = "https://example.org/report?a=1&b=2"
PAGES = [
    "/",
    "/conformance",
    "/collections",
    "/collections/deposits",
    "/collections/deposits/queryables",
    "/collections/deposits/items",
    "/collections/corridors/items",
    "/collections/deposits/items/1",
    "/api",
]


@dataclass
class Watched:
    """A browser page and everything that went wrong on it."""

    page: Page
    origin: str
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    navigations: int = 0  # of the main frame
    aborted: list[tuple[str, int]] = field(default_factory=list)  # URL, navigations at its start

    def open(self, path: str) -> Page:
        self.page.goto(self.origin + path, wait_until="networkidle")
        return self.page

    def assert_clean(self) -> None:
        """Nothing went wrong. A request the browser aborted counts unless the page was left
        after it started (a click to the next page while the favicon loads aborts it: no fault
        of the server's or the page's); whichever event came first, both are in by now."""
        still_there = [url for url, at in self.aborted if at == self.navigations]
        assert not self.problems and not still_there, self.problems + still_there
        assert not self.dialogs, self.dialogs
        outside = [u for u in self.requests if not u.startswith((self.origin + "/", "data:"))]
        assert not outside, f"requests leaving the server: {outside}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = chromium.launch(playwright)
        yield instance
        instance.close()


@contextmanager
def watching(browser: Browser, origin: str) -> Iterator[Watched]:
    """A fresh browser context whose console errors, failures and dialogs are recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = Watched(page, origin)

    def console(message) -> None:
        if message.type == "error":
            watched.problems.append(f"console: {message.text}")

    def response(answer) -> None:
        if answer.status >= 400:
            watched.problems.append(f"HTTP {answer.status}: {answer.url}")

    def dialog(opened) -> None:
        watched.dialogs.append(opened.message)
        opened.dismiss()

    page.on("console", console)
    page.on("response", response)
    page.on("dialog", dialog)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    started_on: dict[int, int] = {}

    def navigated(frame) -> None:
        if frame == page.main_frame:
            watched.navigations += 1

    def request(sent) -> None:
        watched.requests.append(sent.url)
        started_on[id(sent)] = watched.navigations

    def failed(sent) -> None:
        if "ERR_ABORTED" in (sent.failure or ""):
            watched.aborted.append((sent.url, started_on.get(id(sent), watched.navigations)))
        else:
            watched.problems.append(f"failed: {sent.url} {sent.failure}")

    page.on("framenavigated", navigated)
    page.on("requestfailed", failed)
    page.on("request", request)
    try:
        yield watched
    finally:
        context.close()


@pytest.fixture
def browse(browser, live_server) -> Iterator[Watched]:
    with watching(browser, live_server.url) as watched:
        yield watched


def rows(page: Page) -> int:
    return page.locator("table.features tbody tr").count()


def deposit_count(browse: Watched) -> int:
    """How many deposits the server holds, from its JSON (the page must say the same)."""
    answer = httpx.get(f"{browse.origin}/collections/deposits/items", params={"limit": 1})
    return answer.json()["numberMatched"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_cleanly_in_chromium(browse, path):
    page = browse.open(path)
    expect(page.locator("h1")).not_to_be_empty()
    assert page.locator("footer a.format").get_attribute("href").startswith(browse.origin)
    browse.assert_clean()


def test_landing_page(browse):
    page = browse.open("/")
    expect(page.locator("h1")).to_have_text("E-Mining Platform")
    expect(page.locator(".lead")).to_contain_text("mineral value chain")
    assert page.locator("table.links tbody tr").count() >= 8
    browse.assert_clean()


def test_click_from_landing_to_the_items_and_page_through_them(browse):
    page = browse.open("/")
    page.locator(".cards").get_by_role("link", name="Collections").click()
    expect(page.locator("h1")).to_have_text("Collections")
    assert page.locator("table.collections tbody tr").count() == len(CATALOGUE)
    page.get_by_role("link", name="Mineral deposits").click()
    expect(page.locator("h1")).to_have_text("Mineral deposits")
    expect(page.locator(".chip").first).to_have_text("mineral deposits")
    expect(page.locator("#map .leaflet-interactive")).to_have_count(1)  # the extent's box
    page.get_by_role("link", name="Browse the features").click()
    page.wait_for_load_state("networkidle")
    assert "/collections/deposits/items" in page.url and "f=html" in page.url
    assert rows(page) == 10
    expect(page.locator("#map .leaflet-marker-icon")).to_have_count(10)
    total = deposit_count(browse)
    expect(page.locator(".matched")).to_have_text(str(total))
    expect(page.locator(".returned")).to_have_text("10")
    # the provinces background (Leaflet draws a polygon outside the view as "M0 0")
    page.locator(".leaflet-overlay-pane path:not([d='M0 0'])").first.wait_for()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.locator("#map").screenshot(path=OUTPUT / "items.png")
    page.screenshot(path=OUTPUT / "items-page.png", full_page=True)

    first_name = page.locator("table.features tbody tr td:nth-child(2)").first.inner_text()
    page.locator(".leaflet-marker-icon").first.dispatch_event("click")  # markers may overlap
    expect(page.locator(".leaflet-popup-content a")).to_have_text(first_name)

    page.locator("a[rel=next]").first.click()
    page.wait_for_load_state("networkidle")
    assert "offset=10" in page.url and rows(page) == min(10, total - 10)
    expect(page.locator("#map .leaflet-marker-icon")).to_have_count(min(10, total - 10))
    page.locator("a[rel=prev]").first.click()
    assert rows(page) == 10
    last = (total - 1) // 10 * 10  # the last page has no next link
    page = browse.open(f"/collections/deposits/items?f=html&offset={last}")
    assert rows(page) == total - last
    expect(page.locator("a[rel=next]")).to_have_count(0)
    browse.assert_clean()


def test_a_deposit_page_lists_its_resources_by_category(browse):
    found = httpx.get(
        f"{browse.origin}/collections/deposits/items",
        params={"filter": "name = 'Reko Diq'", "filter-lang": "cql2-text"},
    ).json()["features"]
    (deposit,) = found
    figures = deposit["properties"]["resources"]
    assert figures  # Reko Diq's resource by category is stored
    page = browse.open(f"/collections/deposits/items/{deposit['id']}?f=html")
    records = page.locator("table.properties ul.records li")
    expect(records).to_have_count(len(figures))
    for figure in figures:  # each category, as the page's language names it
        category = display.text("category", figure["category"], "en")
        expect(records.filter(has_text=category).first).to_be_visible()
    browse.assert_clean()


def test_paging_keeps_the_query_parameters(browse):
    page = browse.open("/collections/deposits/items?f=html&limit=4&sortby=-name")
    first = page.locator("table.features tbody tr td:nth-child(2)").all_inner_texts()
    assert first == sorted(first, reverse=True) and len(first) == 4
    expect(page.locator(".query")).to_contain_text("sortby=-name")
    page.locator("a[rel=next]").first.click()
    page.wait_for_load_state("networkidle")
    assert "limit=4" in page.url and "sortby=-name" in page.url and "offset=4" in page.url
    assert rows(page) == 4
    browse.assert_clean()


def test_item_page_shows_name_source_and_coord_quality(browse):
    features = httpx.get(f"{browse.origin}/collections/deposits/items?limit=1000").json()[
        "features"
    ]
    reko = next(f for f in features if f["properties"]["name"] == "Reko Diq")
    page = browse.open(f"/collections/deposits/items?f=html&limit={len(features)}")
    page.get_by_role("link", name=str(reko["id"]), exact=True).click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_have_text("Reko Diq")
    expect(page.locator("p.source .source-text")).to_have_text(reko["properties"]["source"])
    expect(page.locator(".quality")).to_contain_text("Sourced")
    expect(page.locator("#map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("table.properties")).to_contain_text("porphyry Cu-Au")
    browse.assert_clean()


def test_conformance_as_html_lists_the_classes(browse):
    page = browse.open("/conformance?f=html")
    classes = httpx.get(f"{browse.origin}/conformance").json()["conformsTo"]
    expect(page.locator("ul.conformance li")).to_have_count(len(classes))
    expect(page.locator("ul.conformance")).to_contain_text(
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
    )
    browse.assert_clean()


def test_queryables_page_lists_names_and_types(browse):
    page = browse.open("/collections/deposits/queryables?f=html")
    row = page.locator("table.queryables tr", has_text="commodities")
    expect(row.locator("td").nth(1)).to_have_text("array of string")
    expect(page.locator("table.queryables tr", has_text="as_of")).to_contain_text("date")
    browse.assert_clean()


def test_api_page_lists_paths_and_parameters(browse):
    page = browse.open("/api.html")
    expect(page.locator("details.operation summary").first).to_contain_text("GET")
    items = page.locator("details.operation", has_text="/collections/deposits/items").first
    items.locator("summary").click()
    expect(items.locator("table.parameters")).to_contain_text("bbox-crs")
    browse.assert_clean()


INSERT = (
    "INSERT INTO deposits (name, commodities, status, coord_quality, source, notes, source_url, "
    "geom) VALUES (%s, ARRAY['gold'], 'prospect', 'approximate', %s, %s, %s, "
    "ST_SetSRID(ST_MakePoint(67.0, 30.2), 4326)) RETURNING id"
)


@pytest.fixture(scope="module")
def evil_server(cluster) -> Iterator[tuple[LiveServer, int, int]]:
    """The sample data plus a deposit of hostile markup, and one with a real source URL."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        evil = conn.execute(INSERT, [EVIL, EVIL, EVIL_NOTES, EVIL_URL]).fetchone()[0]
        linked = conn.execute(INSERT, ["Linked deposit", "a report", None, REPORT]).fetchone()[0]
    with LiveServer(url) as server:
        yield server, evil, linked


def test_source_url_is_a_link_only_when_it_is_http(browser, evil_server):
    server, evil, linked = evil_server
    with watching(browser, server.url) as watched:
        page = watched.open(f"/collections/deposits/items/{linked}?f=html")
        expect(page.locator(".source a")).to_have_attribute("href", REPORT)
        expect(page.locator(".quality")).to_contain_text("Approximate")
        page = watched.open(f"/collections/deposits/items/{evil}?f=html")
        expect(page.locator(".source")).to_contain_text(EVIL_URL)
        assert page.locator("a[href^=javascript]").count() == 0
        watched.assert_clean()


def test_hostile_feature_properties_render_as_text(browser, evil_server):
    server, feature_id, _ = evil_server
    with watching(browser, server.url) as watched:
        page = watched.open(f"/collections/deposits/items?f=html&name={quote(EVIL)}")
        assert rows(page) == 1
        expect(page.locator("table.features")).to_contain_text(EVIL)
        expect(page.locator(".query")).to_contain_text(EVIL)
        page.locator(".leaflet-marker-icon").click()
        expect(page.locator(".leaflet-popup-content")).to_contain_text(EVIL)
        expect(page.locator("table.features")).to_contain_text(EVIL_NOTES)

        page = watched.open(f"/collections/deposits/items/{feature_id}?f=html")
        expect(page.locator("h1")).to_have_text(EVIL)
        expect(page.locator(".source-text")).to_have_text(EVIL)
        assert page.locator("img[src=x]").count() == 0
        scripts = page.locator("script").all_inner_texts()
        assert not [s for s in scripts if "<script" in s or "<img" in s], scripts
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content()
        watched.assert_clean()  # includes: no alert() dialog

    body = httpx.get(f"{server.url}/collections/deposits/items/{feature_id}?f=html").text
    assert EVIL not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img" not in body


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/collections", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, "text/html"),
        ("/collections/deposits/items", {"Accept": "text/html"}, "text/html"),
        ("/collections/deposits/items?f=html", {"Accept": "*/*"}, "text/html"),
        ("/collections/deposits/items/1?f=html", {}, "text/html"),
        ("/collections/deposits/items", {"Accept": "*/*"}, "application/geo+json"),
        ("/collections", {"Accept": "*/*"}, "application/json"),
        ("/", {"Accept": "application/json, text/html"}, "application/json"),
        ("/collections/deposits/queryables?f=html", {}, "text/html"),
        ("/api", {"Accept": "text/html"}, "text/html"),
    ],
)
def test_format_negotiation_over_plain_http(live_server, path, headers, expected):
    response = httpx.get(live_server.url + path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected
    if expected == "text/html":
        assert response.text.startswith("<!doctype html>")
        assert f'href="{live_server.url}/static/style.css"' in response.text
    else:
        response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/static/style.css",
        "/static/map.js",
        "/static/leaflet/leaflet.js",
        "/static/leaflet/leaflet.css",
        "/static/leaflet/images/marker-icon.png",
    ],
)
def test_static_files_are_served_locally(live_server, path):
    assert httpx.get(live_server.url + path).status_code == 200
