"""The basemap's place names in Urdu and Chinese against the independent sources they come from.

``data/basemap/names_check.csv`` holds, for each place named in a language, the name a source
that labels it as that language gives (CLDR, pak-geodata, Wikipedia, Natural Earth), with its
URL and the date it was read (``data/basemap/names.py``). A shipped name that differs from it
(Bahawalnagar written as Bahawalpur, as before), or that no source gives, fails here; the CLDR
rows are read again from the CLDR that Babel ships.
"""

from __future__ import annotations

import csv
import json
import re

from babel import Locale

from geo.sample_files import BASEMAP

LANGS = ("ur", "zh")


def places() -> list[dict]:
    return json.loads((BASEMAP / "places.geojson").read_bytes())["features"]


def checked() -> dict[tuple, dict]:
    with (BASEMAP / "names_check.csv").open(newline="") as source:
        rows = list(csv.DictReader(source))
    keyed = {(r["name"], float(r["lon"]), float(r["lat"]), r["lang"]): r for r in rows}
    assert len(keyed) == len(rows), "one row per place and language"
    return keyed


def key(place: dict, lang: str) -> tuple:
    lon, lat = place["geometry"]["coordinates"]
    return (place["properties"]["name"], lon, lat, lang)


def test_every_shipped_name_is_the_one_its_source_gives():
    rows = checked()
    for place in places():
        for lang in LANGS:
            shipped = place["properties"].get(f"name_{lang}")
            row = rows.pop(key(place, lang), None)
            if row is None:
                assert shipped is None, f"{key(place, lang)}: {shipped!r} has no source"
            else:
                assert shipped == row["checked"], (key(place, lang), shipped, row)
    assert not rows, f"names a source gives for places the basemap lacks: {list(rows)[:5]}"


def test_every_source_row_says_where_and_when():
    for row in checked().values():
        assert row["source"] and re.match(r"https?://", row["url"]), row
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["retrieved"]), row
        script = r"[\u0600-\u06ff]" if row["lang"] == "ur" else r"[\u4e00-\u9fff]"
        assert re.search(script, row["checked"]), row  # the name is in that language's script


def test_cldr_names_are_cldrs():
    """The rows taken from CLDR are what the CLDR shipped with Babel says today."""
    rows = [r for r in checked().values() if r["source"] == "CLDR"]
    assert rows
    for row in rows:
        zone = row["key"].split()[0]
        assert Locale(row["lang"]).time_zones[zone]["city"] == row["checked"], row


def test_two_places_never_share_a_name_they_do_not_share_in_english():
    """What a wrong pick from untagged alternate names looks like (Srinagar named as Jammu)."""
    for lang in LANGS:
        english: dict[str, str] = {}
        for place in places():
            p = place["properties"]
            local = p.get(f"name_{lang}")
            if local:
                assert english.setdefault(local, p["name"]) == p["name"], (lang, local, p["name"])


def test_chinese_names_are_in_simplified_characters():
    """The map's Chinese is Simplified (zh-Hans): OpenCC's t2s tables change none of them."""
    import opencc

    to_simplified = opencc.OpenCC("t2s")
    shown = [p["properties"]["name_zh"] for p in places() if p["properties"].get("name_zh")]
    assert shown
    assert [n for n in shown if to_simplified.convert(n) != n] == []
