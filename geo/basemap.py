"""The offline basemap in PostGIS: loaded from ``data/basemap`` and read back as GeoJSON.

Why the store and not static files: the basemap is geometry like the rest, so PostGIS clips and
simplifies it for a view (``layer_geojson``: one statement, the features built in the database)
and the same rows serve /map and a standalone map. Loading replaces the table's rows in one
transaction from the committed files, so a newer cut of the sources is picked up on the next
``emining db seed`` or ``emining serve`` (see ``data/basemap/SOURCES.md``).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg

from geo.sample_files import BASEMAP

LAYERS = ("land", "lakes", "rivers", "borders", "disputed", "places")
COLUMNS = ("name", "name_zh", "name_ur", "names_source", "rank", "capital", "note")


class BasemapError(ValueError):
    """A basemap file that cannot be loaded, naming the file and feature."""


def has_basemap(conn: psycopg.Connection) -> bool:
    """Whether the basemap is loaded (``emining serve`` loads it into a store that has none)."""
    return conn.execute("SELECT EXISTS (SELECT FROM basemap)").fetchone()[0]


def load_basemap(conn: psycopg.Connection, directory: Path = BASEMAP) -> int:
    """Replace the basemap's rows with the files' features; returns how many were loaded."""
    rows = []
    for layer in LAYERS:
        path = directory / f"{layer}.geojson"
        try:
            features = orjson.loads(path.read_bytes())["features"]
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise BasemapError(f"{path}: not a GeoJSON FeatureCollection ({error})") from error
        for number, feature in enumerate(features, 1):
            props = feature.get("properties") or {}
            if not feature.get("geometry"):
                raise BasemapError(f"{path}: feature {number} has no geometry")
            values = [props.get(c) for c in COLUMNS]
            values[5] = bool(values[5])
            rows.append((layer, *values, orjson.dumps(feature["geometry"]).decode()))
    with conn.transaction():
        conn.execute("DELETE FROM basemap")
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO basemap (layer, {', '.join(COLUMNS)}, geom) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))",
                rows,
            )
    return len(rows)


def layer_statement(layer: str) -> tuple[str, list]:
    """One layer as a GeoJSON FeatureCollection, built by PostGIS (coordinates to ~100 m)."""
    if layer not in LAYERS:
        raise BasemapError(f"no basemap layer {layer!r}: one of {', '.join(LAYERS)}")
    statement = (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "
        "coalesce(json_agg(json_build_object('type', 'Feature', 'id', id, "
        "'geometry', ST_AsGeoJSON(geom, 3)::json, 'properties', json_strip_nulls("
        "json_build_object('name', name, 'name_zh', name_zh, 'name_ur', name_ur, "
        "'names_source', names_source, 'rank', rank, 'capital', capital, 'note', note)))"
        " ORDER BY rank NULLS LAST, id), '[]'::json))::text FROM basemap WHERE layer = %s"
    )
    return statement, [layer]


def all_statement() -> str:
    """Every layer as {layer: FeatureCollection}, one JSON object built by PostGIS."""
    parts = ", ".join(
        f"'{layer}', ({layer_statement(layer)[0].replace('%s', repr(layer))})::json"
        for layer in LAYERS
    )
    return f"SELECT json_build_object({parts})::text"


def read_all(conn: psycopg.Connection) -> dict[str, bytes]:
    """Every layer's FeatureCollection (a standalone map inlines them)."""
    return {layer: conn.execute(*layer_statement(layer)).fetchone()[0].encode() for layer in LAYERS}
