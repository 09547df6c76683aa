"""The map as an investor meets it, in a real headless Chromium: on a laptop and on a phone, in
English, Chinese and Urdu, with the platform's own basemap and fonts and nothing from outside.

Expectations come from the database (the basemap's rows, the deposits and blocks loaded), the
catalogue's vocabularies (layers.terms) and the shipped stylesheet (api/static/fonts/fonts.css,
whose unicode-range rules say which characters the platform's fonts draw).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from geo.load import load_samples
from layers import i18n, map_fonts, terms
from layers.maps import FEATURED
from tests.conftest import REPO, LiveServer, fresh_database
from tests.test_html import Watched, browser, watching  # noqa: F401  (the browser fixture)
from tests.test_map import OUTPUT
from tests.test_pages import UNMARKED_LATIN, kept_latin

STATIC = REPO / "api" / "static"
SIZES = {"laptop": (1366, 900), "phone": (390, 844), "small laptop": (1280, 720)}
VIEWS = [(size, lang) for size in ("laptop", "phone") for lang in i18n.LANGUAGES]
VIEWS.append(("small laptop", "en"))  # where five sites sat under the control
BLOCK = "PK-EL-0001"
CENTRE = (67.35, 27.45)
OWN = (
    "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
    "VALUES ('Test copper prospect', ARRAY['copper'], 'prospect', 'approximate', 'test', "
    "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id"
)
OWN_BLOCK = (
    "INSERT INTO concessions (licence_no, licence_type, commodities, status, source, geom) "
    "VALUES (%s, 'exploration', ARRAY['copper'], 'granted', 'test', ST_Multi(ST_Buffer("
    "ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.05, 'quad_segs=1'))) RETURNING id"
)


@pytest.fixture(scope="module")
def store(cluster) -> dict:
    """The samples (with the basemap) plus a copper deposit at the centre of a block."""
    url = fresh_database(cluster)
    with psycopg.connect(url, autocommit=True) as conn:
        load_samples(conn)
        deposit = conn.execute(OWN, CENTRE).fetchone()[0]
        block = conn.execute(OWN_BLOCK, (BLOCK, *CENTRE)).fetchone()[0]
    return {"url": url, "deposit": deposit, "block": block}


@pytest.fixture(scope="module")
def server(store) -> Iterator[LiveServer]:
    with LiveServer(store["url"]) as running:
        yield running


@pytest.fixture
def browse(browser, server) -> Iterator[Watched]:  # noqa: F811
    with watching(browser, server.url) as watched:
        yield watched


def first_view(watched: Watched, size: str, lang: str) -> Page:
    watched.page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page = watched.open(f"/map?lang={lang}")
    page.wait_for_function(
        "() => window.eminingMap && eminingMap.map.getContainer().dataset.basemap"
    )
    page.wait_for_function("() => document.querySelectorAll('path.em-deposits').length > 0")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # cluster animations end
    return page


MARKERS = "path.em-deposits, .marker-cluster, path.em-sezs, path.em-facilities"
COVERED = """(selector) => {
    const controls = [...document.querySelectorAll('.leaflet-control')]
        .map((c) => [c, c.getBoundingClientRect()]).filter(([, r]) => r.width && r.height);
    const out = [];
    for (const m of document.querySelectorAll(selector)) {
        const r = m.getBoundingClientRect();
        if (!r.width || r.right < 0 || r.bottom < 0) continue;
        if (r.left > innerWidth || r.top > innerHeight) continue;
        for (const [c, b] of controls) {
            if (r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top) {
                out.push([m.getAttribute('class'), c.className]);
            }
        }
    }
    return out;
}"""


def english_words() -> list[str]:
    """Every English word of the catalogue's vocabularies (what a zh/ur reader must not see)."""
    words = set()
    for text in terms.TERMS.values():
        words.update(w for w in re.findall(r"[A-Za-z]{3,}", text.en))
    return sorted(words)


TEXT = """(root) => {
    // The text a reader sees under root, without what is marked as English left untranslated.
    const copy = document.querySelector(root).cloneNode(true);
    copy.querySelectorAll('[lang=en]').forEach((n) => n.remove());
    return copy.textContent;
}"""


def check_language(page: Page, lang: str, where: str) -> None:
    if lang == "en":
        return
    text = page.evaluate(TEXT, where)
    left = [w for w in english_words() if re.search(rf"\b{w}\b", text, re.IGNORECASE)]
    assert not left, (lang, where, left, text[:300])


def check_glyphs(page: Page, lang: str) -> None:
    """Every character shown is in a shipped @font-face's unicode-range, the faces for the
    page's script are loaded, and document.fonts says the text can be drawn with them."""
    text = page.evaluate("() => document.body.innerText")
    faces = map_fonts.faces(STATIC)
    missing = {c for c in set(text) if c.strip() and not any(f.covers(ord(c)) for f in faces)}
    assert not missing, sorted(missing)
    family = {"ur": "Noto Naskh Arabic", "zh": "Noto Sans SC", "en": "Noto Sans SC"}[lang]
    sample = {"ur": "\u06c1\u06d2\u0679", "zh": "图例", "en": "Legend"}[lang]
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    loaded = page.evaluate(
        "(family) => [...document.fonts].filter((f) => f.family.replace(/[\"']/g, '') === family"
        " && f.status === 'loaded').length",
        family,
    )
    assert loaded > 0, (lang, family)
    assert page.evaluate(
        "([family, sample]) => document.fonts.check(`13px '${family}'`, sample)", [family, sample]
    )


def run_axe(page: Page) -> list:
    page.add_script_tag(path=str(STATIC / "axe" / "axe.min.js"))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_first_view_is_clean_readable_and_uncovered(browse, store, size, lang):
    page = first_view(browse, size, lang)
    assert not page.evaluate(COVERED, MARKERS)
    expect(page.locator(".leaflet-control-layers")).not_to_have_class(
        re.compile("leaflet-control-layers-expanded")
    )
    legend_open = page.evaluate("() => document.querySelector('.em-legend').open")
    assert legend_open == (size != "phone")  # a disclosure, closed on a phone
    assert page.evaluate(
        "() => document.documentElement.dir || getComputedStyle("
        "document.querySelector('.em-legend')).direction"
    ) in ("rtl", "ltr")
    expect(page.locator(".em-legend")).to_have_attribute("dir", "rtl" if lang == "ur" else "ltr")
    # place names from the store in the map's language, or English marked as such
    with psycopg.connect(store["url"]) as conn:
        local = {
            r[0]
            for r in conn.execute(
                f"SELECT name_{lang if lang != 'en' else 'zh'} FROM basemap WHERE layer = 'places'"
            )
        }
        english = {r[0] for r in conn.execute("SELECT name FROM basemap WHERE layer = 'places'")}
    labels = page.locator(".em-place span").all()
    assert labels
    for label in labels:
        text = label.inner_text()
        if lang == "en" or label.get_attribute("lang") == "en":
            assert text in english
        else:
            assert text in local
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / f"first-view-{size.replace(' ', '-')}-{lang}.png")
    if size == "phone":
        page.locator(".em-legend summary").click()
    check_language(page, lang, ".em-legend")
    check_glyphs(page, lang)
    assert run_axe(page) == []
    browse.assert_clean()


def test_featured_commodities_are_drawn_alone_at_first_view(browse, store):
    page = first_view(browse, "laptop", "en")
    with psycopg.connect(store["url"]) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM deposits WHERE commodities[1] = ANY(%s)", [list(FEATURED)]
            )
        ]
    assert ids
    for deposit in ids:
        expect(page.locator(f"path.em-deposits.em-id-{deposit}")).to_have_count(1)
    browse.assert_clean()


@pytest.mark.parametrize("lang", ["zh", "ur"])
def test_popups_speak_the_maps_language(browse, server, store, lang):
    page = first_view(browse, "phone", lang)
    page.locator(f"path.em-deposits.em-id-{store['deposit']}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .em-popup")
    expect(popup).to_have_attribute("dir", "rtl" if lang == "ur" else "ltr")
    expect(popup.locator("td.em-commodities")).to_have_text(terms.TERMS["copper"][lang])
    check_language(page, lang, ".leaflet-popup-content")
    check_glyphs(page, lang)
    page.screenshot(path=OUTPUT / f"popup-phone-{lang}.png")
    # deposits with resource figures: units, codes and dates in the map's language, and the
    # data's own words (a source's title, a licence number) marked as English
    deposits = httpx.get(
        f"{server.url}/collections/deposits/items",
        params={"limit": 1000, "properties": "commodities,resources", "skipGeometry": "true"},
    ).json()["features"]
    figured = [
        f["id"]
        for f in deposits
        if f["properties"]["resources"] and f["properties"]["commodities"][0] in FEATURED
    ]
    assert figured
    for deposit in figured:
        page.locator(f"path.em-deposits.em-id-{deposit}").dispatch_event("click")
        expect(page.locator(".leaflet-popup")).to_have_count(1)  # the last one has closed
        expect(popup.locator(".em-resources")).to_be_visible()
        page.wait_for_load_state("networkidle")
        left = {
            word: text
            for word, text in page.evaluate(UNMARKED_LATIN, ".leaflet-popup-content")
            if word not in kept_latin()
        }
        assert not left, (deposit, lang, left)
    browse.assert_clean()


def test_the_block_under_a_deposit_opens_from_the_deposits_popup(browse, store):
    """The deposit's circle sits on the block's centre: its popup offers the block's."""
    page = first_view(browse, "laptop", "en")
    page.locator(f"path.em-deposits.em-id-{store['deposit']}").dispatch_event("click")
    button = page.locator(f".em-open-area[data-layer=concessions][data-id='{store['block']}']")
    expect(button).to_contain_text(BLOCK)
    button.click()
    popup = page.locator(".leaflet-popup-content .em-popup[data-layer=concessions]")
    expect(popup.locator("h3")).to_have_text(BLOCK)
    expect(popup.locator("td.em-status")).to_have_text(terms.TERMS["granted"].en)
    browse.assert_clean()


def test_the_basemap_is_served_from_the_store(server, store):
    with psycopg.connect(store["url"]) as conn:
        counts = dict(conn.execute("SELECT layer, count(*) FROM basemap GROUP BY layer"))
    assert set(counts) == {"land", "lakes", "rivers", "borders", "disputed", "places"}
    for layer, count in counts.items():
        response = httpx.get(f"{server.url}/basemap/{layer}.geojson")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/geo+json")
        assert len(response.json()["features"]) == count
    together = httpx.get(f"{server.url}/basemap/all.json").json()  # what /map asks for
    assert {layer: len(c["features"]) for layer, c in together.items()} == counts
    missing = httpx.get(f"{server.url}/basemap/roads.geojson")
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "description"}


def test_the_standalone_file_carries_the_fonts_it_needs(store):
    """Every face holding a character of the page, cut down to those characters."""
    from layers.maps import standalone

    with psycopg.connect(store["url"]) as conn:
        html = standalone(conn, STATIC, lang="ur")
    assert "url(./files/" not in html
    fonts = re.findall(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", html)
    needed = {f.path for f in map_font_faces() if any(f.covers(ord(c)) for c in "ہے图例")}
    assert len(fonts) >= len(needed) > 0
    shipped = sum(f.path.stat().st_size for f in map_font_faces())
    inlined = sum(len(base64.b64decode(f)) for f in fonts)
    assert inlined < shipped / 4, (inlined, shipped)


def map_font_faces() -> list:
    return map_fonts.faces(STATIC)
