"""Name the basemap's places in Urdu and Chinese only from sources that say the name is Urdu or
Chinese, and write down where each name comes from (``names_check.csv``).

Why: GeoNames' alternate names carry no language tag, and the spelling ``build.py`` picked from
them by its letters was wrong where it mattered (Bahawalnagar was written as Bahawalpur,
Srinagar as Jammu, Ghaziabad cut to غازی). A name is now taken only from a source that labels
it as Urdu or Chinese:

- Unicode CLDR (via Babel, a dependency of the platform): the exemplar city of a time zone in
  ``ur`` and ``zh`` (Karachi, Kabul, Tehran, Dubai, Tashkent, …);
- PyPI ``pak-geodata`` 0.1.0 (MIT): ``urduName`` of 40 cities of Pakistan;
- English Wikipedia's article on the place, whose first sentence gives "(Urdu: …)";
- Natural Earth's ``NAME_ZH`` (1:50m 4.1, already in ``places.geojson``; 1:10m 4.0.0 for the
  towns of Pakistan that came from GeoNames), in simplified characters (OpenCC ``t2s``) where
  Natural Earth wrote traditional ones.

A place no such source names in a language keeps ``name_ur`` / ``name_zh`` empty, and the map
shows its English name marked ``lang="en"``. GeoNames records that repeat a town under another
point with the same population (Bahawalnagar, Sahiwal) are dropped, keeping the one a source
places. Run by hand after ``build.py``:

    python data/basemap/names.py NE_50M_POPULATED_PLACES.json NE_10M_POPULATED_PLACES.shp \
        PAK_GEODATA.whl

``tests/test_basemap_names.py`` compares ``places.geojson`` with ``names_check.csv`` (and its
CLDR rows with Babel's CLDR), so a name that no source gives, or a wrong one, fails.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLACES = HERE / "places.geojson"
CHECK = HERE / "names_check.csv"
RETRIEVED = "2026-12-07"
NEAR = 0.35  # degrees: the same place in two gazetteers
LANGS = ("zh", "ur")
FIELDS = ("name", "lon", "lat", "lang", "checked", "source", "key", "url", "retrieved")

CLDR_ZONES = {
    "Karachi": "Asia/Karachi", "Kabul": "Asia/Kabul", "Tehran": "Asia/Tehran",
    "Dubai": "Asia/Dubai", "Muscat": "Asia/Muscat", "Tashkent": "Asia/Tashkent",
    "Samarqand": "Asia/Samarkand", "Dushanbe": "Asia/Dushanbe", "Bishkek": "Asia/Bishkek",
    "Ashgabat": "Asia/Ashgabat", "Almaty": "Asia/Almaty", "Qyzylorda": "Asia/Qyzylorda",
    "Ürümqi": "Asia/Urumqi", "Kathmandu": "Asia/Kathmandu",
}  # fmt: skip
"""Places of the basemap that are a time zone's exemplar city in CLDR."""
CLDR_URL = "https://cldr.unicode.org/"

PAK_GEODATA = "https://pypi.org/project/pak-geodata/0.1.0/"
PAK_ALIASES = {"Sheikhupura": "Shekhupura", "Muzaffarabad": "Muzaffarābād"}
"""pak-geodata's spelling → the basemap's (GeoNames') for the same town."""

WIKIPEDIA = {
    # name: (Urdu as the article's first sentence gives it, lon, lat, article)
    "Bahawalnagar": ("بہاولنگر", 73.25, 30.0, "https://en.wikipedia.org/wiki/Bahawalnagar"),
    # the Punjab government's page gives the same: https://pmu-lgcdd.gop.pk/public/
    # OutlineDevelopmentPlan/DGKhan ("Dera Ghazi Khan (ڈیرہ غازی خان)")
    "Dera Ghazi Khan": (
        "ڈیرہ غازی خان",
        70.64,
        30.033,
        "https://en.wikipedia.org/wiki/Dera_Ghazi_Khan",
    ),
    # the current article (an older revision wrote اوكاڑا, with the Arabic kāf)
    "Okara": ("اوکاڑہ", 73.454, 30.809, "https://en.wikipedia.org/wiki/Okara,_Pakistan"),
}
"""Urdu names read in English Wikipedia's first sentence "(Punjabi, Urdu: …)" (retrieved
through the search tool's stored copy of the page, 2026-12-07)."""

NE10 = "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/10m-populated-places/"
NE50 = "https://www.naturalearthdata.com/downloads/50m-cultural-vectors/50m-populated-places/"


def distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def cldr_rows(places: list[dict]) -> list[dict]:
    import babel
    from babel import Locale
    from babel.core import get_global

    rows = []
    cldr = get_global("cldr").get("version", "?")
    for place in places:
        zone = CLDR_ZONES.get(place["properties"]["name"])
        if not zone:
            continue
        for lang in LANGS:
            city = Locale(lang).time_zones.get(zone, {}).get("city")
            if city:
                key = f"{zone} (Babel {babel.__version__}, CLDR {cldr})"
                rows.append(row(place, lang, city, "CLDR", key, CLDR_URL))
    return rows


def pak_geodata_rows(places: list[dict], wheel: Path) -> list[dict]:
    rows = []
    with zipfile.ZipFile(wheel) as archive:
        cities = [
            city
            for name in archive.namelist()
            if name.startswith("pak_geodata/data/cities/") and name.endswith(".json")
            for city in json.loads(archive.read(name))
        ]
    for city in cities:
        name = PAK_ALIASES.get(city["name"], city["name"])
        at = (city["coordinates"]["lng"], city["coordinates"]["lat"])
        place = nearest(places, name, at)
        if place is not None:
            key = f"pak_geodata/data/cities ({city['id']})"
            rows.append(row(place, "ur", city["urduName"], "pak-geodata", key, PAK_GEODATA))
    return rows


def wikipedia_rows(places: list[dict]) -> list[dict]:
    rows = []
    for name, (urdu, lon, lat, url) in WIKIPEDIA.items():
        place = nearest(places, name, (lon, lat))
        if place is not None:
            rows.append(row(place, "ur", urdu, "Wikipedia", name, url))
    return rows


def natural_earth_rows(places: list[dict], ne50: Path, ne10: Path) -> list[dict]:
    """NAME_ZH of Natural Earth's point at the place: 1:50m 4.1 (the points build.py copied),
    else the one 1:10m 4.0.0 point near a town GeoNames added."""
    import pyogrio

    rows = []
    fifty = [
        ((f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1]), f["properties"])
        for f in json.loads(ne50.read_text())["features"]
    ]
    frame = pyogrio.read_dataframe(ne10, columns=["NAME", "NAME_ZH", "GEONAMEID"])
    ten = [((g.x, g.y), {"NAME": n, "NAME_ZH": z, "GEONAMEID": i}) for g, n, z, i in zip(
        frame.geometry, frame.NAME, frame.NAME_ZH, frame.GEONAMEID, strict=True)]  # fmt: skip
    for place in places:
        at = coords(place)
        scales = (
            (fifty, 0.01, "Natural Earth 1:50m 4.1", NE50),
            (ten, NEAR / 3, "Natural Earth 1:10m 4.0.0", NE10),
        )
        for points, reach, source, url in scales:
            near = [p for xy, p in points if distance(xy, at) < reach]
            if len(near) == 1:
                zh = near[0].get("NAME_ZH")
                if isinstance(zh, str) and zh:
                    key = f"{near[0]['NAME']} (GeoNames {int(near[0].get('GEONAMEID') or -1)})"
                    simple = simplified(zh)
                    if simple != zh:  # the same name in the characters the map's Chinese uses
                        key += f", {zh} in simplified characters (OpenCC t2s)"
                    rows.append(row(place, "zh", simple, source, key, url))
                break
    return rows


def simplified(text: str) -> str:
    """Natural Earth 4 writes some Chinese names in traditional characters (拉合爾); the map's
    Chinese is Simplified (zh-Hans), so they are converted character by character by OpenCC's
    t2s tables (a change of script, not of name)."""
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def coords(place: dict) -> tuple[float, float]:
    lon, lat = place["geometry"]["coordinates"]
    return (lon, lat)


def nearest(places: list[dict], name: str, at: tuple[float, float]) -> dict | None:
    same = [f for f in places if f["properties"]["name"] == name]
    same = [f for f in same if distance(coords(f), at) < NEAR]
    return min(same, key=lambda f: distance(coords(f), at), default=None)


def row(place: dict, lang: str, checked: str, source: str, key: str, url: str) -> dict:
    lon, lat = coords(place)
    return {"name": place["properties"]["name"], "lon": lon, "lat": lat, "lang": lang,
            "checked": checked, "source": source, "key": key, "url": url,
            "retrieved": RETRIEVED}  # fmt: skip


def duplicates(places: list[dict], rows: list[dict]) -> list[dict]:
    """GeoNames records repeating a town (same name, same population: Bahawalnagar, Sahiwal)
    at another point: those a source does not place there are dropped."""
    placed = {(r["name"], r["lon"], r["lat"]) for r in rows}
    kept = []
    for place in places:
        name = place["properties"]["name"]
        twins = [f for f in places if f["properties"]["name"] == name and f is not place]
        placed_twin = any((name, *coords(t)) in placed for t in twins)
        if placed_twin and (name, *coords(place)) not in placed:
            print(f"dropped {name} at {coords(place)}: a repeat of the one a source places")
            continue
        kept.append(place)
    return kept


def main(ne50: Path, ne10: Path, wheel: Path) -> None:
    data = json.loads(PLACES.read_text())
    places = data["features"]
    rows = cldr_rows(places) + pak_geodata_rows(places, wheel) + wikipedia_rows(places)
    rows += natural_earth_rows(places, ne50, ne10)
    places = duplicates(places, rows)
    chosen: dict[tuple, dict] = {}
    for r in rows:  # CLDR first, then pak-geodata, Wikipedia, Natural Earth: the first wins
        chosen.setdefault((r["name"], r["lon"], r["lat"], r["lang"]), r)
    for place in places:
        p = place["properties"]
        sources = []
        for lang in LANGS:
            found = chosen.get((p["name"], *coords(place), lang))
            p[f"name_{lang}"] = found["checked"] if found else None
            if found:
                sources.append(f"{lang}: {found['source']}")
        p["names_source"] = "; ".join(sources) or "English only (no source names it in zh or ur)"
    data["features"] = places
    PLACES.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    with CHECK.open("w", newline="") as out:
        writer = csv.DictWriter(out, FIELDS)
        writer.writeheader()
        writer.writerows(sorted(chosen.values(), key=lambda r: (r["name"], r["lat"], r["lang"])))
    shown = {lang: sum(1 for f in places if f["properties"][f"name_{lang}"]) for lang in LANGS}
    print(f"{len(places)} places; named in zh {shown['zh']}, in ur {shown['ur']}; {CHECK.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
