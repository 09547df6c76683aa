"""Feature writes (OGC API – Features Part 4): checked like a file, one transaction each.

Why the loader's checks: a feature sent by QGIS must meet the same rules as a row of a file
(types, vocabularies, required fields, valid geometry inside Pakistan), and every problem is
listed at once. The database's constraints and row-level security stay the last word: a write
the caller may not make fails there even if a check here were missed.

Optimistic concurrency: a feature's ETag is the MD5 of its stored row (``row_etag``), so it
changes with any change, by anyone, by any path. A replace, update or delete locks the row
(``FOR UPDATE``), compares the client's ``If-Match`` with the row's current ETag, and only then
writes: two editors holding the same version cannot both win. A write without ``If-Match`` is
accepted and marked unconditional in the history (``precondition``: QGIS sends none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from pyproj import Transformer
from sqlalchemy import ARRAY, Table

from geo import query
from geo.access import Claims
from geo.copy import pg_array
from geo.crs import CRS
from geo.models import LAYERS
from geo.settings import MAX_FEATURES, MAX_PARTS, MAX_VERTICES
from geo.validate import Problem, check, server_owned

ACCESS_COLUMNS = ("visibility", "owner_org", "shared_with")
"""Kept as they are when a replacement leaves them out: who sees a record is not a property
a client editing attributes should reset by omission."""


class EditError(Exception):
    """A write that cannot be done as asked. Each kind below says what went wrong in the
    store's terms; ``api.errors`` alone decides what a client is answered for it."""


class Invalid(EditError):
    """What was sent is not a valid feature (or body): every problem is named at once."""


class TooLarge(EditError):
    """Too many features, vertices or parts for one write (``geo.settings`` limits)."""


class PreconditionFailed(EditError):
    """``If-Match`` does not hold: the row changed since it was read, or ``*`` and no row."""


class NotFound(EditError):
    """No such record, as far as the caller can see."""


class NotAllowed(EditError):
    """The caller sees the record but may not write it (row-level security or a rule)."""


class Taken(EditError):
    """The record or the area is already someone else's (a unique key, an overlap)."""


@dataclass(frozen=True)
class Written:
    id: int
    etag: str


def row_etag(table: str) -> sql.Composable:
    """SQL for the strong ETag of the row ``table`` (its text, hashed: geo.query.row_etag)."""
    return query.row_etag(table)


def features_of(body: object) -> list[dict]:
    """The features of a Feature or FeatureCollection body."""
    if isinstance(body, dict) and body.get("type") == "Feature":
        return [body]
    if isinstance(body, dict) and body.get("type") == "FeatureCollection":
        features = body.get("features")
        if not isinstance(features, list) or not features:
            raise Invalid("a FeatureCollection needs a non-empty features array")
        if len(features) > MAX_FEATURES:
            raise TooLarge(f"at most {MAX_FEATURES} features per request")
        return features
    raise Invalid("the body must be a GeoJSON Feature or FeatureCollection")


def checked_rows(
    layer: str,
    features: list[dict],
    crs: CRS,
    max_vertices: int = MAX_VERTICES,
    max_parts: int = MAX_PARTS,
) -> tuple[pd.DataFrame, list[str]]:
    """The features as rows of ``layer`` (columns as the store has them), or ``Invalid``
    listing every problem as ``feature N: field: reason``.

    A geometry over ``max_vertices`` or ``max_parts`` is ``TooLarge`` before any other check and
    before the database: PostGIS's work on it (validity, overlaps) grows with its size, and
    one 10,000-part block held a connection for the whole statement timeout."""
    table = LAYERS[layer].__table__
    problems: list[Problem] = []
    properties, shapes = [], []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(i, "type", "not a GeoJSON Feature"))
            properties.append({})
            shapes.append(None)
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(Problem(i, "properties", "must be an object"))
            props = {}
        properties.append(props)
        shapes.append(_shape(i, feature.get("geometry"), problems))
    geometry = np.array(shapes, dtype=object)
    _within_limits(geometry, max_vertices, max_parts)
    if crs.srid != 4326 or crs.lat_first:
        geometry = _to_storage(geometry, crs)
    frame = gpd.GeoDataFrame(pd.DataFrame(properties), geometry=list(geometry), crs=4326)
    result = check(frame, table)
    problems += result.problems
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.field))
        raise Invalid("; ".join(_describe(p) for p in problems))
    return result.frame, result.columns


def _within_limits(geometry: np.ndarray, max_vertices: int, max_parts: int) -> None:
    vertices = shapely.get_num_coordinates(geometry)
    parts = shapely.get_num_geometries(geometry)
    over = [f"feature {i}: geometry: {v:,} vertices and {p:,} parts; at most {max_vertices:,} "
            f"and {max_parts:,}" for i, (v, p) in enumerate(zip(vertices, parts, strict=True))
            if v > max_vertices or p > max_parts]  # fmt: skip
    if over:
        raise TooLarge("; ".join(over[:10]) + ("; …" if len(over) > 10 else ""))


def _shape(i: int, geometry: object, problems: list[Problem]) -> shapely.Geometry | None:
    if not isinstance(geometry, dict):
        problems.append(Problem(i, "geometry", "missing (a GeoJSON geometry object is needed)"))
        return None
    try:
        return shapely.from_geojson(orjson.dumps(geometry))
    except (shapely.errors.GEOSException, ValueError, TypeError) as error:
        problems.append(Problem(i, "geometry", f"not valid GeoJSON: {error}"))
        return None


def _to_storage(geometry: np.ndarray, crs: CRS) -> np.ndarray:
    to_lonlat = Transformer.from_crs(crs.srid, 4326, always_xy=not crs.lat_first)
    known = ~shapely.is_missing(geometry)
    geometry[known] = shapely.transform(
        geometry[known], lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
    )
    return geometry


def _describe(problem: Problem) -> str:
    where = "body" if problem.row is None else f"feature {problem.row}"
    return f"{where}: {problem.field}: {problem.reason}"


def _values(frame: pd.DataFrame, columns: list[str], table: Table, row: int) -> list:
    values = []
    for name in columns:
        value = frame[name].iloc[row]
        if isinstance(table.columns[name].type, ARRAY):
            value = pg_array(value) if isinstance(value, list) else None
        elif value is not None and not isinstance(value, str) and pd.isna(value):
            value = None
        elif isinstance(value, np.generic):
            value = value.item()
        values.append(value)
    return values


async def insert(
    conn: psycopg.AsyncConnection, layer: str, features: list[dict], crs: CRS, claims: Claims
) -> list[Written]:
    """New features (owned by the caller's organisation unless they say otherwise)."""
    frame, columns = checked_rows(layer, features, crs)
    table = LAYERS[layer].__table__
    if "owner_org" not in columns:
        frame = frame.assign(owner_org=claims.org_id)
        columns = [*columns, "owner_org"]
    statement = sql.SQL("INSERT INTO {t} ({c}) VALUES ({v}) RETURNING id, {etag}").format(
        t=sql.Identifier(layer),
        c=sql.SQL(", ").join(map(sql.Identifier, columns)),
        v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        etag=row_etag(layer),
    )
    written = []
    with database_errors():
        for row in range(len(frame)):
            cursor = await conn.execute(statement, _values(frame, columns, table, row))
            written.append(Written(*await cursor.fetchone()))
    return written


async def locked_etag(
    conn: psycopg.AsyncConnection, layer: str, fid: int, if_match: str | None = None
) -> str:
    """The row's current ETag, with the row locked until the transaction ends; ``NotFound`` if
    the caller cannot see it (``PreconditionFailed`` under ``If-Match: *``, which is false for
    no row: RFC 9110), ``NotAllowed`` if they see it but may not change it."""
    cursor = await conn.execute(
        sql.SQL("SELECT {etag} FROM {t} WHERE id = %s FOR UPDATE").format(
            etag=row_etag(layer), t=sql.Identifier(layer)
        ),
        [fid],
    )
    row = await cursor.fetchone()
    if row is not None:
        return row[0]
    cursor = await conn.execute(
        sql.SQL("SELECT 1 FROM {t} WHERE id = %s").format(t=sql.Identifier(layer)), [fid]
    )
    if await cursor.fetchone() is None:
        if if_match is not None and "*" in [t.strip() for t in if_match.split(",")]:
            raise PreconditionFailed(f"If-Match: * and there is no feature {fid} in {layer}")
        raise NotFound(f"no feature {fid} in {layer}")
    raise NotAllowed(f"feature {fid} of {layer} belongs to another organisation")


async def precondition(conn: psycopg.AsyncConnection, current: str, if_match: str | None) -> None:
    """The write policy for ``If-Match`` (RFC 9110 §13.1.1, strong comparison):

    * none: the write is accepted *unconditionally* (QGIS's OAPIF provider sends none) and
      the history marks it so (``history.unconditional``, migration 0015);
    * ``*``: true for any existing row, so the same as none: accepted, marked unconditional
      (a row that does not exist fails the precondition, see ``locked_etag``);
    * one or more ETags: the write goes ahead only if one is the row's current ETag, else
      ``PreconditionFailed`` (always: a stale tag never falls back to an unconditional write).
    """
    tags = [tag.strip() for tag in (if_match or "").split(",") if tag.strip()]
    if not tags or "*" in tags:
        await conn.execute("SELECT set_config('emining.unconditional', 'on', true)")
        return
    if current not in tags:
        raise PreconditionFailed(
            f"the feature changed since it was read (its ETag is now {current})"
        )


async def replace(
    conn: psycopg.AsyncConnection, layer: str, fid: int, feature: dict, crs: CRS
) -> Written:
    """The feature's properties and geometry replaced (absent properties become empty, except
    who may see it: ``ACCESS_COLUMNS`` stay as they are unless given)."""
    frame, columns = checked_rows(layer, [feature], crs)
    table = LAYERS[layer].__table__
    writable = [c.name for c in table.columns if not server_owned(c) and not c.primary_key]
    assigned = [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in columns]
    cleared = [sql.SQL("{} = DEFAULT").format(sql.Identifier(c)) for c in writable
               if c not in columns and c not in ACCESS_COLUMNS]  # fmt: skip
    statement = sql.SQL("UPDATE {t} SET {s} WHERE id = %s RETURNING {etag}").format(
        t=sql.Identifier(layer), s=sql.SQL(", ").join(assigned + cleared), etag=row_etag(layer)
    )
    with database_errors():
        cursor = await conn.execute(statement, [*_values(frame, columns, table, 0), fid])
    return Written(fid, (await cursor.fetchone())[0])


async def delete(conn: psycopg.AsyncConnection, layer: str, fid: int) -> None:
    with database_errors():
        await conn.execute(
            sql.SQL("DELETE FROM {t} WHERE id = %s").format(t=sql.Identifier(layer)), [fid]
        )


@contextmanager
def database_errors() -> Iterator[None]:
    """Constraint and policy failures as the client's problem, in words they can act on."""
    try:
        yield
    except psycopg.errors.UniqueViolation as error:
        raise Taken(f"already exists: {error.diag.message_detail}") from None
    except psycopg.errors.ExclusionViolation as error:  # an area taken (migration 0009)
        raise Taken(error.diag.message_primary) from None
    except psycopg.errors.InsufficientPrivilege as error:
        if "PL/pgSQL" in (error.diag.context or ""):  # a rule's own words (migration 0009)
            raise NotAllowed(f"not allowed: {error.diag.message_primary}") from None
        raise NotAllowed(
            "not allowed: an organisation writes its own records only (owner_org must be "
            "yours); authorities write the platform's",
        ) from None
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as error:
        raise Invalid(f"rejected by the store: {error.diag.message_primary}") from None
