"""The investor's pages in real headless Chromium, in English, Chinese and Urdu, on a laptop and a
phone: landing, collections, items, item, site and route pages.

Every page must load with no console error and no request leaving the platform, be in the
chosen language (no English word of the catalogue's vocabulary or labels left outside text the
page itself marks as English data), right to left in Urdu, have every glyph drawn from the
platform's own fonts (read from the shipped woff2 files, and loaded per ``document.fonts``),
fit a 390 px screen, offer touch targets of 44 px, and pass axe-core with no serious or
critical violation. Expectations come from the loaded data and the catalogue's texts, never from
counts of the samples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import httpx
import psycopg
import pytest
from fontTools.ttLib import TTFont
from playwright.sync_api import Browser, sync_playwright

from layers import map_texts, page_text
from layers.catalogue import CATALOGUE
from layers.i18n import FIELDS, LANGUAGES, UI
from layers.terms import TERMS, UNITS
from tests import chromium
from tests.conftest import REPO

OUTPUT = REPO / "test-output" / "pages"
FONTS = REPO / "api" / "static" / "fonts" / "files"
SHIPPED = {"Noto Sans SC": "noto-sans-sc-*.woff2", "Noto Naskh Arabic": "noto-naskh-arabic-*.woff2"}
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
TOUCH = 44
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


@cache
def glyphs(family: str) -> frozenset[int]:
    """Code points the shipped files of ``family`` draw (their cmaps)."""
    points: set[int] = set()
    for path in sorted(FONTS.glob(SHIPPED[family])):
        points.update(TTFont(path).getBestCmap())
    return frozenset(points)


def english_vocabulary() -> set[str]:
    """Words of the catalogue's English terms and field labels that their translations do not
    also use (JORC, CPEC, ISO stay as they are in every language)."""
    words: set[str] = set()
    for text in [*TERMS.values(), *FIELDS.values()]:
        kept = {w.lower() for w in WORD.findall(text.zh + " " + text.ur)}
        words |= {w.lower() for w in WORD.findall(text.en)} - kept
    return words


LATIN = re.compile(r"\b[A-Za-z]{2,}\b")


@cache
def kept_latin() -> frozenset[str]:
    """Latin words the translations themselves write (codes and names of standards: JORC, ISO,
    URI, JSON, OGC, UTC, CC BY): not English left over when a zh/ur page shows them."""
    texts = [*TERMS.values(), *UNITS.values(), *FIELDS.values(), *UI.values(),
             *page_text.PAGE.values(), *map_texts.UI.values()]  # fmt: skip
    return frozenset(w for t in texts for lang in ("zh", "ur") for w in LATIN.findall(t[lang]))


UNMARKED_LATIN = """(root) => {
  // Latin words shown under root and not marked as English (nor code: a CRS URI, a query).
  const out = [];
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest("script, style, code, [lang=en]") || !el.checkVisibility()) continue;
    for (const word of node.textContent.match(/\\b[A-Za-z]{2,}\\b/g) || []) {
      out.push([word, node.textContent.trim().slice(0, 60)]);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = chromium.launch(playwright)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def paths(live_server) -> dict[str, str]:
    """One of each page, its ids read from the API: a deposit with links (and published
    resources, where one has both), and its SEZ route."""
    origin = live_server.url
    links = httpx.get(f"{origin}/collections/links/items", params={"limit": 1000}).json()
    deposits = httpx.get(
        f"{origin}/collections/deposits/items",
        params={"limit": 1000, "properties": "resources", "skipGeometry": "true"},
    ).json()["features"]
    with_resources = {f["id"] for f in deposits if f["properties"]["resources"]}
    routed = sorted(
        (
            f["properties"]
            for f in links["features"]
            if f["properties"]["kind"] == "sez" and f["geometry"] is not None
        ),
        key=lambda p: p["from_id"] not in with_resources,
    )[0]
    deposit = routed["from_id"]
    return {
        "landing": "/",
        "collections": "/collections?f=html",
        "items": "/collections/deposits/items?f=html",
        "item": f"/collections/deposits/items/{deposit}?f=html",
        "site": f"/sites/{deposit}",
        "route": f"/analysis/route?from=deposits:{deposit}&to=sezs:{routed['to_id']}&f=html",
    }


TEXT_NODES = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || el.closest("script, style") || !el.checkVisibility()) continue;
    const marked = el.closest("[lang]");
    out.push({ text, lang: marked ? marked.lang : "", font: getComputedStyle(el).fontFamily });
  }
  return out;
}"""

FONTS_LOADED = """async (text) => {
  await document.fonts.ready;
  const families = ['Noto Sans SC', 'Noto Naskh Arabic'];
  for (const family of families) await document.fonts.load(`16px "${family}"`, text);
  const faces = [...document.fonts].filter((f) => families.includes(f.family.replace(/['"]/g, "")));
  return {
    check: families.map((family) => document.fonts.check(`16px "${family}"`, text)),
    failed: faces.filter((f) => f.status === "error").map((f) => f.family),
    loaded: faces.filter((f) => f.status === "loaded").length,
  };
}"""

SMALL_TARGETS = """(size) => [...document.querySelectorAll("a[href], button, summary, input")]
  .filter((el) => el.checkVisibility() && !el.closest(".leaflet-marker-pane, .leaflet-popup"))
  .filter((el) => {
    const inline = el.parentElement.closest("p, td, dd, li");  // a link in running text
    if (inline && el.tagName === "A" && getComputedStyle(el).display === "inline") return false;
    const box = el.getBoundingClientRect();
    return box.height < size || box.width < size / 2;
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def open_page(browser: Browser, origin: str, path: str, lang: str, width: int, height: int):
    """The page in ``lang``: zh by ``?lang=``, ur by the browser's language (Accept-Language)."""
    locale = {"en": "en-GB", "zh": "en-GB", "ur": "ur-PK"}[lang]
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    page.on("request", lambda r: requests.append(r.url))
    if lang == "zh":
        path += ("&" if "?" in path else "?") + "lang=zh"
    page.goto(origin + path, wait_until="networkidle")
    return context, page, problems, requests


def uncovered(nodes: list[dict]) -> set[str]:
    """Characters no shipped font draws, or drawn by a font that is not shipped."""
    missing = set()
    for node in nodes:
        families = [f.strip().strip("'\"") for f in node["font"].split(",")]
        shipped = [f for f in families if f in SHIPPED]
        assert families[0] in SHIPPED, f"{node['text'][:40]!r} is set in {node['font']}"
        for char in node["text"]:
            if not char.isspace() and not any(ord(char) in glyphs(f) for f in shipped):
                missing.add(f"{char} U+{ord(char):04X} in {node['text'][:40]!r}")
    return missing


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("name", ["landing", "collections", "items", "item", "site", "route"])
def test_page_in_every_language_on_laptop_and_phone(browser, live_server, paths, name, lang,
                                                    viewport):  # fmt: skip
    width, height = VIEWPORTS[viewport]
    origin = live_server.url
    context, page, problems, requests = open_page(browser, origin, paths[name], lang, width, height)
    try:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=OUTPUT / f"{name}-{lang}-{viewport}.png", full_page=True)
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ur" else "ltr")
        nodes = page.evaluate(TEXT_NODES)
        assert not uncovered(nodes)
        fonts = page.evaluate(FONTS_LOADED, "".join(n["text"] for n in nodes))
        assert fonts["check"] == [True, True] and not fonts["failed"] and fonts["loaded"], fonts
        if lang != "en":
            vocabulary = english_vocabulary()
            left = {
                word
                for node in nodes
                if node["lang"] != "en"
                for word in WORD.findall(node["text"])
                if word.lower() in vocabulary
            }
            assert not left, f"English words on the {lang} page: {sorted(left)}"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if viewport == "phone":
            assert page.evaluate(SMALL_TARGETS, TOUCH) == []
        page.add_script_tag(url=f"{origin}/static/axe/axe.min.js")
        violations = page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".filter((v) => ['serious', 'critical'].includes(v.impact))"
            ".map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '))"
        )
        assert not violations, violations
        assert not problems, problems
        outside = [u for u in requests if not u.startswith((origin + "/", "data:"))]
        assert not outside, outside
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "ur"])
def test_no_english_left_unmarked_on_any_collection_page_or_popup(browser, live_server, paths,
                                                                  lang):  # fmt: skip
    """Every collection's page, items page and first item, the site and the route page, with
    the popups of their maps: a Latin word is either marked as English (the data's own words:
    names, sources, notes) or one the translations themselves use (a code such as JORC)."""
    origin = live_server.url
    pages = ["/collections?f=html", paths["site"], paths["route"]]
    for collection in httpx.get(f"{origin}/collections").json()["collections"]:
        base = f"/collections/{collection['id']}"
        first = httpx.get(f"{origin}{base}/items", params={"limit": 1}).json()["features"]
        pages += [f"{base}?f=html", f"{base}/items?f=html&limit=20"]
        pages += [f"{base}/items/{f['id']}?f=html" for f in first]
    allowed = kept_latin()
    left: dict[str, str] = {}
    context, page, problems, _ = open_page(browser, origin, "/", lang, 1366, 900)
    try:
        for path in pages:
            separator = "&" if "?" in path else "?"
            page.goto(f"{origin}{path}{separator}lang={lang}", wait_until="networkidle")
            found = page.evaluate(UNMARKED_LATIN, "body")
            shapes = page.locator("#map .leaflet-interactive").all()
            for shape in shapes:  # each popup of the page's map, opened in turn
                shape.dispatch_event("click")
                if page.locator(".leaflet-popup-content").count():
                    found += page.evaluate(UNMARKED_LATIN, ".leaflet-popup-content")
            for word, text in found:
                if word not in allowed:
                    left.setdefault(word, f"{path}: {text}")
        assert not left, left
        assert not problems, problems
    finally:
        context.close()


def test_site_page_shows_the_deposit_its_links_and_its_routes(browser, live_server, paths):
    origin = live_server.url
    deposit = int(paths["site"].rsplit("/", 1)[1])
    feature = httpx.get(f"{origin}/collections/deposits/items/{deposit}").json()
    links = httpx.get(
        f"{origin}/collections/links/items", params={"from_id": deposit, "from_layer": "deposits"}
    ).json()["features"]
    context, page, problems, _ = open_page(browser, origin, paths["site"], "en", 1366, 900)
    try:
        assert page.locator("h1").inner_text() == feature["properties"]["name"]
        resources = feature["properties"]["resources"]
        assert page.locator("table.resources tbody tr").count() == len(resources)
        rows = page.locator("table.resources tbody tr").all()
        for row, record in zip(rows, resources, strict=True):  # each figure with its source
            if record["source_url"]:
                source = row.locator("td").nth(9).locator("a")
                assert source.get_attribute("href") == record["source_url"]
        for link in links:
            kind, properties = link["properties"]["kind"], link["properties"]
            box = page.locator(f".link-{kind}")
            if properties["to_name"]:
                assert properties["to_name"] in box.inner_text()
            if properties["km"] is not None:
                assert box.locator(".km").inner_text() == f"{properties['km']:,.1f} km"
        drawn = sum(1 for link in links if link["geometry"] is not None)
        page.locator(".leaflet-overlay-pane path").first.wait_for(state="attached")
        # every routed link, and the provinces (drawn under them), are paths on the map
        assert page.locator(".leaflet-overlay-pane path").count() > drawn
        page.locator(".link-sez a.route-link").click()
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(f"{origin}/analysis/route?")
        assert page.locator("table.legs tbody tr").count() >= 1
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("name", ["site", "route"])
def test_site_and_route_maps_draw_the_offline_basemap(browser, live_server, samples_url, paths,
                                                      name, lang):  # fmt: skip
    """The platform's own basemap under the page's map (as on /map): asked of /basemap/all.json
    and answered, its land, lines and places drawn, the places named as the store names them in
    the page's language (or in English, marked so), and nothing asked of another host."""
    origin = live_server.url
    with psycopg.connect(samples_url) as conn:
        shapes = conn.execute("SELECT count(*) FROM basemap WHERE layer <> 'places'").fetchone()[0]
        names = conn.execute(
            "SELECT name, name_zh, name_ur FROM basemap WHERE layer = 'places'"
        ).fetchall()
    english = {row[0] for row in names}
    local = {"en": english, "zh": {r[1] for r in names}, "ur": {r[2] for r in names}}[lang]
    context, page, problems, requests = open_page(browser, origin, paths[name], lang, 1366, 900)
    try:
        page.wait_for_function("() => document.getElementById('map').dataset.basemap === '1'")
        answered = [
            r for r in requests if r.startswith(f"{origin}/basemap/")
        ]  # the one request the basemap makes
        assert answered == [f"{origin}/basemap/all.json"]
        drawn = page.evaluate("() => window.eminingReady.basemap.features")
        assert drawn == shapes + len(names)
        assert page.locator(".leaflet-pane.leaflet-em-basemap-pane canvas").count() == 1
        labels = page.locator(".em-place span").all()
        assert labels, "no place named on the map"
        for label in labels:
            text = label.inner_text()
            marked = label.get_attribute("lang")
            if marked == "en":
                assert text in english
            else:
                assert marked == lang and text in local, (text, marked)
        credit = page.locator(".map-credit a").all()
        assert {a.get_attribute("href") for a in credit} == {
            "https://www.naturalearthdata.com/",
            "https://www.geonames.org/",
        }  # credited, as links the reader may follow; not requested by the page
        assert not problems, problems
        outside = [u for u in requests if not u.startswith((origin + "/", "data:"))]
        assert not outside, outside
    finally:
        context.close()


def test_route_page_and_route_json_agree(live_server, paths):
    origin = live_server.url
    query = paths["route"].split("?", 1)[1].replace("&f=html", "")
    data = httpx.get(f"{origin}/analysis/route?{query}", headers={"Accept": "*/*"})
    assert data.headers["content-type"] == "application/geo+json"
    with_lang = httpx.get(f"{origin}/analysis/route?{query}&lang=ur", headers={"Accept": "*/*"})
    assert with_lang.json() == data.json()  # JSON clients ignore lang
    page = httpx.get(f"{origin}/analysis/route?{query}&lang=zh", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == "zh"
    properties = data.json()["properties"]
    assert f"{properties['km']:,.1f} 公里" in page.text
    assert f"{properties['hours']:,.1f} 小时" in page.text
    assert page.text.count('class="leg leg-') == len(properties["legs"])


@pytest.mark.parametrize("path", ["/collections/deposits/items", "/collections/deposits/items/1",
                                  "/collections", "/", "/conformance"])  # fmt: skip
def test_lang_is_honoured_by_pages_and_ignored_by_json_clients(live_server, path):
    origin = live_server.url
    plain = httpx.get(origin + path, headers={"Accept": "application/json"})
    for lang in LANGUAGES:
        answer = httpx.get(origin + path, params={"lang": lang},
                           headers={"Accept": "application/json"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == plain.headers["content-type"]
        assert answer.json().keys() == plain.json().keys()
        page = httpx.get(origin + path, params={"lang": lang}, headers={"Accept": "text/html"})
        assert page.status_code == 200 and f'<html lang="{lang}"' in page.text
        header = httpx.get(origin + path, headers={"Accept": "text/html", "Accept-Language": lang})
        assert f'<html lang="{lang}"' in header.text
        assert "Accept-Language" in header.headers["vary"]


def test_errors_are_pages_for_browsers_and_ogc_json_for_clients(live_server):
    origin = live_server.url
    page = httpx.get(f"{origin}/collections/nowhere?lang=ur", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'dir="rtl"' in page.text and "صفحہ نہیں ملا" in page.text
    data = httpx.get(f"{origin}/collections/nowhere?lang=ur")
    assert data.status_code == 404 and set(data.json()) == {"code", "description"}
    bad = httpx.get(f"{origin}/collections/deposits/items?limit=0&f=html&lang=zh")
    assert bad.status_code == 400 and "无法响应此请求" in bad.text
    assert httpx.get(f"{origin}/collections/deposits/items?f=xml").json()["code"]


def test_shipped_fonts_draw_urdu_and_chinese():
    """The vendored files themselves: Urdu's heh goal (U+06C1, drawn □ without them) and the
    Chinese of the catalogue's labels."""
    assert 0x06C1 in glyphs("Noto Naskh Arabic")
    chinese = {ord(c) for text in FIELDS.values() for c in text.zh if ord(c) > 0x2E80}
    assert chinese <= glyphs("Noto Sans SC")


def test_the_vocabulary_list_is_not_empty_and_excludes_shared_codes():
    words = english_vocabulary()
    assert {"copper", "granted", "province"} <= words
    assert "jorc" not in words  # the same in every language: not an English word left over


def test_every_published_column_has_a_label_in_every_language():
    """No column name reaches a reader: the pages label every column a layer publishes."""
    for layer in CATALOGUE:
        for name in layer.source.properties:
            assert name in FIELDS, f"{layer.id}.{name} has no label"
            assert all(FIELDS[name][lang] for lang in LANGUAGES), f"{layer.id}.{name}"


def test_the_network_builds_reasons_are_written_in_every_language():
    """Every sentence geo/network_sql.py writes when a deposit has no link of a kind is matched
    by layers/map_texts.py REASONS and written in Chinese and Urdu, the names in it (a site's, a
    corridor's) kept and marked as English: the sentences are rebuilt from the SQL itself."""
    from api.ogc.words import reason
    from geo.network_sql import REASONS as SQL

    joined = re.sub(r"'\s*\n\s*'", "", SQL)  # adjacent literals, as SQL joins them
    formats = [f.replace("%%s", "%s") for f in re.findall(r"'((?:[^']|'')*?)'", joined)]
    kinds = re.findall(r"\('(\w+)', \d, '(\w+)', '(\w+)'\)", SQL)  # (kind, one, plural)
    assert kinds
    sentences = set()
    for text in formats:
        if text.startswith("there are no corridors"):
            sentences.add(text)
        for _, one, plural in kinds:
            if text == "there are no %s in the store":
                sentences.add(text % plural)
            if text.startswith("no %s is reachable"):
                sentences.add(text % (one, "Test Site", "N-99", one))
    assert len(sentences) == 1 + 2 * len(kinds)  # three shapes, the last two per kind
    for sentence in sentences:
        assert str(reason(sentence, "en")) == sentence
        for lang in ("zh", "ur"):
            shown = str(reason(sentence, lang))
            assert not shown.startswith("<bdi"), (lang, shown)  # not left whole in English
            bare = re.sub(r'<bdi lang="en">[^<]*</bdi>', "", shown)
            assert not LATIN.findall(bare), (lang, shown)
            if "Test Site" in sentence:
                assert '<bdi lang="en">Test Site</bdi>' in shown
