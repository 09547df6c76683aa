"""The map's colours, texts and fonts, checked without a browser.

Why: a colour reused by two kinds (roads and SEZs one magenta) or a cluster bubble in a layer's
colour is what made the map unreadable; a text missing a language or a character no
shipped font draws shows up as □ only on some reader's screen.
"""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from geo.basemap import BasemapError, load_basemap
from layers import i18n, map_fonts, map_texts, styles, terms
from tests.conftest import REPO

STATIC = REPO / "api" / "static"
KINDS = {
    "concession status": styles.CONCESSIONS.colours,
    "facility kind": styles.FACILITIES.colours,
    "SEZ status": {**styles.SEZS.colours, "": styles.SEZS.colour},
    "corridor mode": styles.CORRIDORS.colours,
    "link kind": styles.LINKS.colours,
}


@pytest.mark.parametrize(("a", "b"), list(combinations(KINDS, 2)))
def test_no_colour_is_shared_by_two_kinds(a, b):
    shared = set(KINDS[a].values()) & set(KINDS[b].values())
    assert not shared, (a, b, shared)


def test_deposits_do_not_take_the_colours_of_other_point_kinds():
    points = set(KINDS["facility kind"].values()) | set(KINDS["SEZ status"].values())
    assert not points & set(styles.COMMODITY_COLOURS.values())


def test_points_of_each_kind_have_their_own_shape():
    shapes = [styles.DEPOSITS.shape, styles.SEZS.shape, styles.FACILITIES.shape]
    assert len(set(shapes)) == len(shapes)


def test_cluster_bubbles_use_no_layer_colour():
    css = (STATIC / "emining-map.css").read_text(encoding="utf-8")
    rules = [r for r in re.findall(r"[^}]*\{[^}]*\}", css) if "marker-cluster" in r]
    assert rules
    used = {c.lower() for r in rules for c in re.findall(r"#[0-9a-fA-F]{3,6}\b", r)}
    palettes = {c.lower() for kind in KINDS.values() for c in kind.values()}
    palettes |= set(styles.COMMODITY_COLOURS.values())
    assert not used & palettes, used & palettes


def test_every_map_text_exists_in_every_language():
    for table in (map_texts.UI, map_texts.RASTERS, map_texts.UNITS, map_texts.PROVINCES):
        for key, text in table.items():
            for lang in i18n.LANGUAGES:
                assert text[lang].strip(), (key, lang)


def test_the_shipped_fonts_draw_every_character_the_map_can_show():
    texts = [*i18n.UI.values(), *i18n.FIELDS.values(), *terms.TERMS.values()]
    texts += [*map_texts.UI.values(), *map_texts.RASTERS.values(), *map_texts.PROVINCES.values()]
    faces = map_fonts.faces(STATIC)
    characters = {c for t in texts for lang in i18n.LANGUAGES for c in t[lang] if c.strip()}
    missing = {c for c in characters if not any(f.covers(ord(c)) for f in faces)}
    assert not missing, sorted(missing)


def test_a_broken_basemap_file_is_named(tmp_path):
    for layer in ("land", "lakes", "rivers", "borders", "disputed", "places"):
        (tmp_path / f"{layer}.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (tmp_path / "rivers.geojson").write_text('{"features": [{"properties": {}}]}')
    with pytest.raises(BasemapError, match=r"rivers\.geojson: feature 1 has no geometry"):
        load_basemap(None, tmp_path)  # the files are read before the database is touched
