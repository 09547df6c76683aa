"""The deposit catalogue (data/samples/catalogue/*.csv) as sample features and rows.

Why a module beside build.py: the catalogue is the project's own compilation (docs/catalogue.md),
not a copy of the shared facts, and keeping its reading apart keeps build.py to the facts. Every
row names a source key; sources.csv gives each key its citation, its page (never a mirror) and
the date of its facts, so a row cannot carry a citation without them. A province and district
are computed from the boundary layer, never typed: the point decides, and notes say where a
source names another district (the 2019 layer predates some districts).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

CATALOGUE = Path(__file__).resolve().parent / "catalogue"
Row = dict[str, str]


def read(name: str) -> list[Row]:
    with (CATALOGUE / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]


def sources() -> dict[str, Row]:
    return {r["key"]: r for r in read("sources.csv")}


def names() -> dict[tuple[str, str], Row]:
    """(layer, name) -> name_zh, name_ur, names_source."""
    return {(r["layer"], r["name"]): r for r in read("names.csv")}


def number(text: str) -> float | None:
    return float(text) if text else None


def locate(point: Point, areas: list[tuple[str, str, BaseGeometry]]) -> tuple[str, str]:
    """(district, province) of the district polygon holding the point; fails outside all."""
    for name, province, shape in areas:
        if shape.covers(point):
            return name, province
    raise ValueError(f"{point} lies in no district of the boundary layer")


def sourced(row: Row, table: dict[str, Row], what: str) -> dict[str, Any]:
    """source, source_url and as_of of a row, from its source key (which must exist)."""
    key = row["source_key"]
    if key not in table:
        raise KeyError(f"{what}: unknown source key {key!r} (add it to catalogue/sources.csv)")
    src = table[key]
    return {
        "source": src["citation"],
        "source_url": src["url"] or None,
        "as_of": src["as_of"] or None,
    }


def translated(layer: str, name: str, table: dict[tuple[str, str], Row]) -> dict[str, Any]:
    row = table.get((layer, name))
    if row is None:
        return {"names_source": "none yet: no sourced name found and no transliteration made"}
    return {
        "name_zh": row["name_zh"] or None,
        "name_ur": row["name_ur"] or None,
        "names_source": row["names_source"],
    }


def deposit_values(row: Row, district: str, province: str, src: dict, tr: dict) -> dict[str, Any]:
    return {
        "name": row["name"],
        "deposit_type": row["deposit_type"] or None,
        "status": row["status"],
        "status_note": row["status_note"] or None,
        "operator": row["operator"] or None,
        "province": province,
        "district": district,
        "coord_quality": row["coord_quality"],
        "coord_radius_km": number(row["coord_radius_km"]),
        "notes": row["notes"] or None,
        **src,
        **tr,
    }


def copy_resources(out: Path, deposit_names: set[str], table: dict[str, Row]) -> int:
    """deposit_resources.csv for geo.resources: the catalogue's rows with their sources."""
    rows = read("resources.csv")
    fields = ["deposit", "commodity", "category", "tonnage_mt", "grade", "grade_unit",
              "contained", "contained_unit", "reporting_code", "as_of", "source", "source_url",
              "notes"]  # fmt: skip
    with (out / "deposit_resources.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            if r["deposit"] not in deposit_names:
                raise KeyError(f"resources.csv: no deposit named {r['deposit']!r}")
            src = sourced(r, table, f"resource of {r['deposit']}")
            out_row = {k: r.get(k, "") for k in fields}
            out_row.update(source=src["source"], source_url=src["source_url"] or "")
            writer.writerow(out_row)
    return len(rows)
