"""Build the committed sample layers in data/samples/ from the public facts in data/samples/source.

source/ is an unchanged copy of the project's shared facts and boundaries; the platform loads the
GeoJSON files written here, so the samples can be regenerated and reviewed as a plain diff.
Facts are copied, not improved: unknown values stay null, the original free text is kept next to
any value mapped onto a vocabulary, and the concession blocks are flagged as illustrative.

Usage: python data/samples/build.py [FACTS_DIR]   (FACTS_DIR defaults to data/samples/source)
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiLineString, MultiPolygon, Point, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_FACTS = HERE / "source"  # copied unchanged from the project's shared/data
BBOX = (60.0, 23.0, 78.0, 37.5)  # lon/lat envelope every sample geometry must fit in

_spec = importlib.util.spec_from_file_location("vocab", REPO / "geo" / "vocab.py")
assert _spec and _spec.loader
vocab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vocab)  # by path, so it works before geo/ becomes a package
_spec = importlib.util.spec_from_file_location("catalogue_rows", HERE / "catalogue_rows.py")
assert _spec and _spec.loader
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)  # the project's deposit catalogue (docs/catalogue.md)

# fmt: off
# Property names of each layer, in output order; any property not given a value is null.
FIELDS = {
    "deposits": "name name_zh name_ur commodities deposit_type status status_note tonnage_mt grade"
    " grade_unit classification reporting_code as_of operator province district coord_quality"
    " notes source source_url coord_radius_km names_source",
    "facilities": "name kind status capacity operator province coord_quality notes source"
    " source_url name_zh name_ur names_source coord_radius_km as_of",
    "sezs": "name status area_acres province sectors coord_quality notes source source_url"
    " name_zh name_ur names_source coord_radius_km as_of",
    "corridors": "ref name name_zh name_ur names_source mode road_class status cpec"
    " published_length_km length_source_url length_as_of coord_quality notes source source_url"
    " as_of",
    "concessions": "licence_no licence_type holder holder_country commodities status applied_on"
    " granted_on expires_on province authority illustrative notes source",
    "provinces": "name name_zh name_ur names_source iso_code shape_id source_url as_of source",
    "districts": "name province shape_id source_url as_of source",
}
MISSING_SOURCE = {
    "Gwadar Free Zone": "no public source recorded in the facts; location approximate, "
    "next to Gwadar Port",
}
CPEC_ROUTES = {"N-35", "M-8", "N-85", "ML-1", "M-5", "M-4", "N-50"}
GEOBOUNDARIES = "https://github.com/wmgeolab/geoBoundaries/tree/main/releaseData/gbOpen/PAK"
CPEC_NOTE = "cpec flag is the authors' reading of the CPEC project list"
AUTHORITY = {
    "Balochistan": "Mines and Minerals Department, Government of Balochistan",
    "Sindh": "Mines and Mineral Development Department, Government of Sindh",
    "Punjab": "Mines and Minerals Department, Government of the Punjab",
}
# Licence holders and the country each is registered in (a Pakistani company for Pakistani
# leases: Reko Diq's holder is Reko Diq Mining Company, not its Canadian shareholder).
HOLDER = {
    "Reko Diq": ("Reko Diq Mining Company", "Pakistan"),
    "Saindak": ("Saindak Metals Ltd", "Pakistan"),
    "Duddar": ("MCC Huaye Duddar Mining Co.", "China"),
    "Thar Block II": ("Sindh Engro Coal Mining Co. (SECMC)", "Pakistan"),
    "Lakhra": ("Lakhra Coal Development Co.", "Pakistan"),
    "Khewra": ("PMDC", "Pakistan"),
    "Chiniot-Rajoa": ("Punjab Mineral Co.", "Pakistan"),
}
# Illustrative blocks: deposit, rectangles in km (x0, y0, x1, y1) around the deposit in local
# UTM (touching rectangles merge into one L-shaped part, separate ones give a second part),
# licence_type, status, applied_on, granted_on, expires_on. Invented: no real polygon is public.
Rects = tuple[tuple[float, float, float, float], ...]
BLOCKS: tuple[tuple[str, Rects, str, str, str, str | None, str | None], ...] = (
    ("Reko Diq", ((-6, -5, 6, 1), (-6, 1, 0, 6)), "mining_lease", "granted",
     "2021-03-01", "2023-06-01", "2053-05-31"),
    ("Saindak", ((-5, -4, 5, 4), (7, -3, 11, 2)), "mining_lease", "granted",
     "2018-05-02", "2019-01-10", "2049-01-09"),
    ("Duddar", ((-3, -3, 3, 3),), "mining_lease", "granted",
     "2015-07-01", "2016-02-01", "2046-01-31"),
    ("Thar Block II", ((-5, -4.775, 5, 4.775),), "mining_lease", "granted",
     "2012-09-03", "2013-06-20", "2043-06-19"),
    ("Lakhra", ((-5, -7, 5, 7),), "mining_lease", "granted",
     "2010-01-04", "2010-11-15", "2040-11-14"),
    ("Khewra", ((-2, -1.5, 2, 1.5),), "mining_lease", "granted",
     "2014-04-01", "2014-12-01", "2044-11-30"),
    ("Chiniot-Rajoa", ((-3, -6, 3, 2),), "exploration", "application",
     "2025-06-16", None, None),
)
# fmt: on
CSV = dict[str, str]


def read_csv(path: Path) -> list[CSV]:
    """Rows with surrounding blanks stripped, so an empty cell is always ''."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def or_none(text: str) -> str | None:
    return text or None


def number(text: str) -> int | float | None:
    """'1530' -> 1530, '' -> None; integers stay integers so the JSON reads as written."""
    if not text:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def check(value: str, allowed: Iterable[str], what: str) -> str:
    """Fail loudly on a value outside the vocabulary instead of writing it."""
    if value not in allowed:
        raise ValueError(f"{what}: {value!r} is not in the vocabulary")
    return value


def commodities(text: str) -> list[str]:
    return [check(c.strip(), vocab.COMMODITIES, "commodity") for c in text.split(";")]


def point(row: CSV) -> Point:
    return Point(float(row["lon"]), float(row["lat"]))


def props(layer: str, row: CSV | None = None, copy: str = "", **values: Any) -> dict[str, Any]:
    """Exactly the layer's properties, in schema order: the `copy` columns verbatim from the csv
    row (empty -> null), then the computed `values`; anything else is null, never a guess."""
    fields = FIELDS[layer].split()
    merged = {col: or_none(row[col]) for col in copy.split()} if row else {}
    merged.update(values)
    if extra := set(merged) - set(fields):
        raise KeyError(f"{layer}: properties not in the schema: {sorted(extra)}")
    if "coord_quality" in merged:
        check(merged["coord_quality"], vocab.COORD_QUALITY, "coord_quality")
    return {f: merged.get(f) for f in fields}


def round_coords(coords: Any) -> Any:
    """Round to 5 decimals (about 1 m), which is finer than any fact used here."""
    if isinstance(coords[0], (int, float)):
        return [round(float(c), 5) for c in coords]
    return [round_coords(c) for c in coords]


def feature(geom: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    """GeoJSON feature: outer rings counter-clockwise (RFC 7946), coordinates rounded, then
    re-checked, since rounding could in principle make a polygon invalid."""
    gj = mapping(shapely.orient_polygons(geom))
    out = {"type": gj["type"], "coordinates": round_coords(gj["coordinates"])}
    rounded = shape(out)
    x0, y0, x1, y1 = rounded.bounds
    if not rounded.is_valid or x0 < BBOX[0] or y0 < BBOX[1] or x1 > BBOX[2] or y1 > BBOX[3]:
        raise ValueError(f"invalid or out-of-area geometry for {properties}")
    return {"type": "Feature", "properties": properties, "geometry": out}


OUT = HERE


def write(name: str, features: list[dict[str, Any]]) -> None:
    """One feature per line: stable bytes across runs and readable diffs in review."""
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    text = '{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n"
    (OUT / name).write_text(text, encoding="utf-8")
    kinds = sorted({f["geometry"]["type"] for f in features})
    print(f"{name}: {len(features)} features ({', '.join(kinds)})")


Areas = list[tuple[str, str, BaseGeometry]]


def deposits(rows: list[CSV], areas: Areas) -> list[dict[str, Any]]:
    """The catalogue's deposits; each row gets its computed province and district (kept on the
    row, for the concession blocks drawn around some of them)."""
    table, names = catalogue.sources(), catalogue.names()
    out = []
    for r in rows:
        r["district"], r["province"] = catalogue.locate(point(r), areas)
        check(r["status"], vocab.DEPOSIT_STATUS, "deposit status")
        values = catalogue.deposit_values(
            r,
            r["district"],
            r["province"],
            catalogue.sourced(r, table, r["name"]),
            catalogue.translated("deposits", r["name"], names),
        )
        p = props("deposits", commodities=commodities(r["commodities"]), **values)
        out.append(feature(point(r), p))
    return out


def facilities(rows: list[CSV]) -> list[dict[str, Any]]:
    """Ports and processing sites of the catalogue, each with its source and date."""
    table, names = catalogue.sources(), catalogue.names()
    out = []
    for r in rows:
        p = props(
            "facilities",
            r,
            copy="name capacity operator province coord_quality notes",
            kind=check(r["kind"], vocab.FACILITY_KIND, "kind"),
            status=check(r["status"], vocab.FACILITY_STATUS, "facility status"),
            coord_radius_km=number(r["coord_radius_km"]),
            **catalogue.sourced(r, table, r["name"]),
            **catalogue.translated("facilities", r["name"], names),
        )
        out.append(feature(point(r), p))
    return out


def sezs(rows: list[CSV]) -> list[dict[str, Any]]:
    """Status and sectors stay null: the facts give neither."""
    out = []
    for r in rows:
        source = r["source"] or MISSING_SOURCE[r["name"]]
        area = number(r["area_acres"])
        names = catalogue.translated("sezs", r["name"], catalogue.names())
        p = props(
            "sezs",
            r,
            "name province coord_quality notes",
            area_acres=area,
            source=source,
            **names,
        )
        out.append(feature(point(r), p))
    return out


def corridors() -> list[dict[str, Any]]:
    """From the network's own facts (data/samples/network/: waypoints, published lengths and
    their sources, names in three languages), built by data/samples/network/build.py."""
    spec = importlib.util.spec_from_file_location("network_build", HERE / "network" / "build.py")
    assert spec and spec.loader
    network = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(network)
    out = []
    for line, values in network.corridors(OUT / "network"):
        check(values["mode"], vocab.CORRIDOR_MODE, "mode")
        check(values["road_class"], vocab.CORRIDOR_CLASS, "road_class")
        notes = "; ".join([values.pop("notes"), CPEC_NOTE])
        p = props("corridors", cpec=values["ref"] in CPEC_ROUTES, coord_quality="approximate",
                  notes=notes, source=values["source_url"], **values)  # fmt: skip
        out.append(feature(MultiLineString([line]), p))
    return out


def to_multi(geom: BaseGeometry) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def block_geometry(lon: float, lat: float, rects: Rects) -> MultiPolygon:
    """Rectangles laid out in metres in the deposit's UTM zone, so block sizes are real."""
    epsg = 32600 + int((lon + 180) // 6) + 1
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    to_geo = Transformer.from_crs(epsg, 4326, always_xy=True)
    x, y = to_utm.transform(lon, lat)
    parts = [box(x + a * 1000, y + b * 1000, x + c * 1000, y + d * 1000) for a, b, c, d in rects]
    back = shapely.transform(
        unary_union(parts), lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1]))
    )
    return to_multi(back)


def concessions(rows: list[CSV]) -> list[dict[str, Any]]:
    """Invented blocks around real deposits, so the licence layer can be exercised honestly."""
    by_name = {r["name"]: r for r in rows}
    out, geoms = [], []
    for i, (dep, rects, ltype, status, applied, granted, expires) in enumerate(BLOCKS, 1):
        r = by_name[dep]
        geom = block_geometry(float(r["lon"]), float(r["lat"]), rects)
        if not geom.contains(point(r)):
            raise ValueError(f"block for {dep} does not cover the deposit")
        if not (applied <= (granted or applied) and (granted is None or granted < expires)):
            raise ValueError(f"inconsistent dates for {dep}")
        geoms.append(geom)
        holder, country = HOLDER[dep]
        p = props(
            "concessions",
            licence_no=f"ILLUS-{i:04d}",
            licence_type=check(ltype, vocab.LICENCE_TYPE, "licence_type"),
            holder=holder,
            holder_country=country,
            commodities=commodities(r["commodities"]),
            status=check(status, vocab.LICENCE_STATUS, "licence status"),
            applied_on=applied,
            granted_on=granted,
            expires_on=expires,
            province=r["province"],
            authority=AUTHORITY[r["province"]],
            illustrative=True,
            notes="ILLUSTRATIVE block drawn around the public deposit coordinate; "
            "not a real licence boundary",
            source=f"illustrative: generated by data/samples/build.py around {dep} (deposits.csv)",
        )
        out.append(feature(geom, p))
    for a, b in combinations(range(len(geoms)), 2):
        if geoms[a].intersection(geoms[b]).area > 0:
            raise ValueError(f"blocks {BLOCKS[a][0]} and {BLOCKS[b][0]} overlap")
    return out


def boundaries(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Provinces as MultiPolygons; each district gets the province holding its inner point."""
    adm1 = json.loads((folder / "pak_adm1.geojson").read_text(encoding="utf-8"))["features"]
    adm2 = json.loads((folder / "pak_adm2.geojson").read_text(encoding="utf-8"))["features"]
    provinces = []
    for f in adm1:
        a = f["properties"]
        p = props(
            "provinces",
            name=a["shapeName"],
            iso_code=a["shapeISO"],
            shape_id=a["shapeID"],
            source="geoBoundaries gbOpen PAK ADM1 (2019), public domain",
            source_url=GEOBOUNDARIES,
            as_of="2021-12-04",  # source data updated (pak_adm1_metaData.json)
            **catalogue.translated("provinces", a["shapeName"], catalogue.names()),
        )
        provinces.append(feature(to_multi(shape(f["geometry"])), p))
    shapes = [(p["properties"]["name"], shape(p["geometry"])) for p in provinces]
    districts = []
    for f in adm2:
        geom = to_multi(shape(f["geometry"]))
        inner = geom.point_on_surface()
        province = next((n for n, s in shapes if s.contains(inner)), None)
        if province is None:  # inner point on a seam or outside ADM1: take the largest overlap
            province = max(shapes, key=lambda ns: ns[1].intersection(geom).area)[0]
        a = f["properties"]
        p = props(
            "districts",
            name=a["shapeName"],
            province=province,
            shape_id=a["shapeID"],
            source="geoBoundaries gbOpen PAK ADM2 (2019), public domain",
            source_url=GEOBOUNDARIES,
            as_of="2022-02-25",  # source data updated (pak_adm2_metaData.json)
        )
        districts.append(feature(geom, p))
    return provinces, districts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "facts_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_FACTS,
        help="folder holding facts/ and boundaries/ (default: data/samples/source)",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="folder to write to (default: data/samples)"
    )
    args = parser.parse_args()
    global OUT
    OUT = args.out
    OUT.mkdir(parents=True, exist_ok=True)
    folder = args.facts_dir
    facts = folder / "facts"
    provinces, districts = boundaries(folder / "boundaries")
    areas = [(d["properties"]["name"], d["properties"]["province"], shape(d["geometry"]))
             for d in districts]  # fmt: skip
    deposit_rows = catalogue.read("deposits.csv")
    write("deposits.geojson", deposits(deposit_rows, areas))
    count = catalogue.copy_resources(OUT, {r["name"] for r in deposit_rows}, catalogue.sources())
    print(f"deposit_resources.csv: {count} rows")
    write("facilities.geojson", facilities(catalogue.read("facilities.csv")))
    write("sezs.geojson", sezs(read_csv(facts / "sezs.csv")))
    write("corridors.geojson", corridors())
    write("concessions.geojson", concessions(deposit_rows))
    write("provinces.geojson", provinces)
    write("districts.geojson", districts)


if __name__ == "__main__":
    main()
