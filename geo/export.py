"""Layers out of the store, streamed in batches so a million rows never sit in memory at once.

Why each path: CSV is PostgreSQL's own COPY TO (WKT geometry), GeoJSON is built row by row by
PostGIS and written as it arrives, and GeoPackage / FlatGeobuf go through GDAL (pyogrio) from an
Arrow stream fed by a server-side cursor. The wheel's GDAL has no PostgreSQL driver, so the
database side is always psycopg.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyogrio
from psycopg import sql
from sqlalchemy import ARRAY, Table

from geo.models import LAYERS, SRID, field_type, internal

FORMATS = {".gpkg": "GPKG", ".fgb": "FlatGeobuf", ".geojson": "GeoJSON", ".csv": "CSV"}
BATCH = 20_000
ARROW = {  # list columns travel as JSON text: GDAL formats have no list type
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
OGR_TYPES = {
    "POINT": "Point",
    "MULTIPOLYGON": "MultiPolygon",
    "MULTILINESTRING": "MultiLineString",
    "GEOMETRY": "Unknown",
}

Progress = Callable[[str, int, int], None]


class ExportError(ValueError):
    """The export cannot start (unknown layer or format); says which and why."""


def export_layer(
    conn: psycopg.Connection, layer: str, path: Path, progress: Progress | None = None
) -> int:
    """Write ``layer`` to ``path`` (format from the suffix); returns the number of features."""
    path = Path(path)
    if layer not in LAYERS:
        raise ExportError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")
    driver = FORMATS.get(path.suffix.lower())
    if driver is None:
        raise ExportError(f"{path}: unsupported format; use one of {', '.join(FORMATS)}")
    table = LAYERS[layer].__table__
    total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(layer)))
    total = total.fetchone()[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if driver == "CSV":
        _export_csv(conn, table, path)
    elif driver == "GeoJSON":
        _export_geojson(conn, table, path, total, progress)
    else:
        _export_ogr(conn, table, path, driver, total, progress)
    if progress:
        progress("exported", total, total)
    return total


def _attributes(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.name != "geom" and not internal(c)]


def _export_csv(conn: psycopg.Connection, table: Table, path: Path) -> None:
    columns = sql.SQL(", ").join(map(sql.Identifier, _attributes(table)))
    query = sql.SQL(
        "COPY (SELECT {c}, ST_AsText(geom) AS wkt FROM {t} ORDER BY id) "
        "TO STDOUT (FORMAT csv, HEADER)"
    ).format(c=columns, t=sql.Identifier(table.name))
    with path.open("wb") as out, conn.cursor().copy(query) as copy:
        for block in copy:
            out.write(block)


def _export_geojson(
    conn: psycopg.Connection, table: Table, path: Path, total: int, progress: Progress | None
) -> None:
    query = sql.SQL(
        "SELECT json_build_object('type', 'Feature', 'id', id, "
        "'geometry', ST_AsGeoJSON(geom, 9)::json, "
        "'properties', to_jsonb(t) - 'geom' - 'id')::text FROM {t} AS t ORDER BY id"
    ).format(t=sql.Identifier(table.name))
    done = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for rows in _batches(conn, query):
            if done:
                out.write(",\n")
            out.write(",\n".join(row[0] for row in rows))
            done += len(rows)
            if progress:
                progress("exported", done, total)
        out.write("\n]}\n")


def _export_ogr(
    conn: psycopg.Connection,
    table: Table,
    path: Path,
    driver: str,
    total: int,
    progress: Progress | None,
) -> None:
    names = _attributes(table)
    schema = pa.schema(
        [pa.field(n, ARROW.get(field_type(table.columns[n].type), pa.string())) for n in names]
        + [pa.field("geometry", pa.binary())]
    )
    query = sql.SQL("SELECT {c}, ST_AsBinary(geom) FROM {t} ORDER BY id").format(
        c=sql.SQL(", ").join(map(sql.Identifier, names)), t=sql.Identifier(table.name)
    )
    lists = [i for i, n in enumerate(names) if isinstance(table.columns[n].type, ARRAY)]

    def batches() -> Iterator[pa.RecordBatch]:
        done = 0
        for rows in _batches(conn, query):
            columns = list(zip(*rows, strict=True))
            for i in lists:  # GDAL formats have no list type: JSON text, which the loader reads
                columns[i] = [None if v is None else json.dumps(v) for v in columns[i]]
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(col, type=field.type)
                    for col, field in zip(columns, schema, strict=True)
                ],
                schema=schema,
            )
            done += len(rows)
            if progress:
                progress("exported", done, total)

    geometry_type = OGR_TYPES[table.columns["geom"].type.geometry_type.upper()]
    reader = pa.RecordBatchReader.from_batches(schema, batches())
    pyogrio.write_arrow(
        reader,
        path,
        layer=str(table.name),
        driver=driver,
        geometry_name="geometry",
        geometry_type=geometry_type,
        crs=f"EPSG:{SRID}",
    )


def _batches(conn: psycopg.Connection, query: sql.Composable) -> Iterator[list[tuple]]:
    """Rows from a server-side cursor, BATCH at a time, inside one read transaction."""
    with conn.transaction(), conn.cursor(name="export") as cursor:
        cursor.itersize = BATCH
        cursor.execute(query)
        while rows := cursor.fetchmany(BATCH):
            yield rows
