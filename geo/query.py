"""The one place that writes SQL for feature requests.

Why PostGIS builds the bytes: a page of GeoJSON is one statement — the matching rows feed both
the exact count and the page through one CTE, and ``json_agg`` assembles the features — so no
per-feature Python runs and there is no second round trip for ``numberMatched``. User input only
ever reaches SQL as bound parameters or as identifiers checked against the layer's fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy import Table

from geo.cql import Field, Where
from geo.crs import CRS, DEFAULT
from geo.models import LAYERS, field_type, internal

GEOMETRY = "geom"
NEVER_PUBLISHED = ("shared_with", "minzoom")
"""Columns no response carries: whom a record is shared with is its owner's business; the tile
rank is the platform's own (geo.tile_rank)."""


class QueryError(ValueError):
    """A request names something the layer does not have, or a value of the wrong type."""


@dataclass(frozen=True)
class Source:
    """What a query needs to know of a table or view: its id, typed fields, time columns."""

    table: str
    id_column: str
    fields: dict[str, Field]
    properties: tuple[str, ...]
    geometry_type: str
    temporal: tuple[str, str | None] | None = None
    layer: str = ""
    """The name of its change counter in ``layer_changes`` (the layer's id): the table's name
    unless a view publishes the layer under another (``project_features`` is ``projects``)."""
    nested: tuple[tuple[str, str], ...] = ()
    """Records served inside each feature, as (property, SQL function of the row's id): a
    deposit's resources. Published, never filtered on or written (``info["published_only"]``)."""

    def __post_init__(self) -> None:
        if not self.layer:
            object.__setattr__(self, "layer", self.table)

    @property
    def published(self) -> tuple[str, ...]:
        """What a feature carries when no ``properties`` are asked for: columns, then nested."""
        return self.properties + tuple(name for name, _ in self.nested)


def source_for(
    table: Table,
    hidden: tuple[str, ...] = (),
    temporal: tuple[str, str | None] | None = None,
    layer: str = "",
) -> Source:
    """The ``published_only`` entries of the table's info are nested records (see Source)."""
    fields = {  # str(): a column named in its model (camelCase ERML names) is a quoted_name
        str(c.name): Field(str(c.name), field_type(c.type))
        for c in table.columns
        if c.name not in hidden
        and c.name not in NEVER_PUBLISHED
        and not c.primary_key
        and not internal(c)
    }
    properties = tuple(name for name in fields if name != GEOMETRY)
    geometry_type = table.columns[GEOMETRY].type.geometry_type.upper()
    nested = tuple(table.info.get("published_only", {}).items())
    return Source(str(table.name), "id", fields, properties, geometry_type, temporal, layer, nested)


@dataclass
class ItemsQuery:
    """A parsed items request; the API's dependencies build it, this module turns it into SQL."""

    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: CRS = DEFAULT
    interval: tuple[dt.datetime | None, dt.datetime | None] | None = None
    equals: dict[str, str] = field(default_factory=dict)
    where: Where | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    properties: tuple[str, ...] | None = None
    skip_geometry: bool = False
    crs: CRS = DEFAULT
    limit: int = 10
    offset: int = 0
    as_of: dt.datetime | None = None
    """Read the layer as it was then (its ``*_as_of`` view, see geo.history)."""


@dataclass(frozen=True)
class Page:
    matched: int
    returned: int
    features: bytes  # a JSON array of GeoJSON features, built by PostGIS


def _identifier(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _geometry(crs: CRS) -> sql.Composable:
    expression: sql.Composable = _identifier(GEOMETRY)
    if crs.srid != 4326:
        expression = sql.SQL("ST_Transform({}, {})").format(expression, sql.Literal(crs.srid))
    if crs.lat_first:
        expression = sql.SQL("ST_FlipCoordinates({})").format(expression)
    return expression


def feature_json(
    source: Source, properties: tuple[str, ...], crs: CRS, skip_geometry: bool
) -> sql.Composable:
    """A GeoJSON Feature as a json expression over one row of ``source``."""
    nested = dict(source.nested)
    pairs = sql.SQL(", ").join(
        sql.SQL("{}, {}({})").format(
            sql.Literal(name), _identifier(nested[name]), _identifier(source.id_column)
        )
        if name in nested
        else sql.SQL("{}, {}").format(sql.Literal(name), _identifier(name))
        for name in properties
    )
    geometry = (
        sql.SQL("NULL::json")
        if skip_geometry
        else sql.SQL("ST_AsGeoJSON({}, {})::json").format(_geometry(crs), sql.Literal(crs.decimals))
    )
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', {id}, 'geometry', {geometry}, "
        "'properties', json_build_object({pairs}))"
    ).format(id=_identifier(source.id_column), geometry=geometry, pairs=pairs)


def _check_names(source: Source, names: tuple[str, ...], what: str) -> None:
    unknown = [n for n in names if n not in source.properties]
    if unknown:
        raise QueryError(
            f"unknown {what} {', '.join(map(repr, unknown))}; "
            f"{source.table} has {', '.join(source.properties)}"
        )


def _check_published(source: Source, names: tuple[str, ...]) -> None:
    """``properties=`` may also name nested records (a deposit's resources)."""
    unknown = [n for n in names if n not in source.published]
    if unknown:
        raise QueryError(
            f"unknown property {', '.join(map(repr, unknown))}; "
            f"{source.table} has {', '.join(source.published)}"
        )


def _typed(source: Source, name: str, value: str) -> tuple[sql.Composable, object]:
    """A property=value filter with the value converted to the field's type."""
    kind = source.fields[name].type
    column = _identifier(name)
    if kind == "object[]":
        raise QueryError(f"{name} is a list of records; it cannot be matched by a value")
    if "\x00" in value:  # PostgreSQL text holds none (psycopg would raise a DataError)
        raise QueryError(f"{name}: {value!r} contains a NUL character")
    try:
        if kind == "number":
            return sql.SQL("{} = %s").format(column), float(value)
        if kind == "integer":
            return sql.SQL("{} = %s").format(column), int(value)
        if kind == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return sql.SQL("{} = %s").format(column), value.lower() == "true"
        if kind == "date":
            return sql.SQL("{} = %s").format(column), dt.date.fromisoformat(value)
        if kind == "datetime":
            return sql.SQL("{} = %s").format(column), dt.datetime.fromisoformat(value.upper())
    except ValueError:
        raise QueryError(f"{name} is a {kind}; {value!r} is not") from None
    if kind == "string[]":
        return sql.SQL("%s = ANY({})").format(column), value
    return sql.SQL("{} = %s").format(column), value


def _conditions(source: Source, query: ItemsQuery) -> tuple[list[sql.Composable], list]:
    conditions: list[sql.Composable] = []
    params: list = []
    if query.bbox is not None:
        x1, y1, x2, y2 = query.bbox
        if query.bbox_crs.lat_first:
            x1, y1, x2, y2 = y1, x1, y2, x2
        envelope = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(
            sql.Literal(query.bbox_crs.srid)
        )
        if query.bbox_crs.srid == 4326 and source.geometry_type == "POINT":
            # Exact for points and much cheaper than ST_Intersects: the index finds the
            # candidates (&& compares float4 boxes, so it may keep points a metre outside),
            # the coordinates decide.
            conditions.append(
                sql.SQL(
                    "{g} && {e} AND ST_X({g}) BETWEEN %s AND %s AND ST_Y({g}) BETWEEN %s AND %s"
                ).format(g=_identifier(GEOMETRY), e=envelope)
            )
            params += [x1, y1, x2, y2, x1, x2, y1, y2]
        else:
            if query.bbox_crs.srid != 4326:  # densified first: a projected box's edges curve
                envelope = sql.SQL("ST_Transform(ST_Segmentize({}, %s), 4326)").format(envelope)
            # The bare && lets the index work under row-level security (see geo.cql_sql).
            conditions.append(
                sql.SQL("{g} && {e} AND ST_Intersects({g}, {e})").format(
                    g=_identifier(GEOMETRY), e=envelope
                )
            )
            box = [x1, y1, x2, y2]
            if query.bbox_crs.srid != 4326:
                box.append(max(x2 - x1, y2 - y1, 1.0) / 64)
            params += box + box
    if query.interval is not None:
        if source.temporal is None:
            raise QueryError(f"{source.table} has no temporal property to filter by datetime")
        start_column, end_column = source.temporal
        start, end = query.interval
        first = _identifier(start_column)
        last = _identifier(end_column) if end_column else first
        if end is not None:
            conditions.append(sql.SQL("{} <= %s").format(first))
            params.append(end)
        if start is not None:
            conditions.append(
                sql.SQL("coalesce({}, 'infinity') >= %s").format(last)
                if end_column
                else sql.SQL("{} >= %s").format(last)
            )
            params.append(start)
        conditions.append(sql.SQL("{} IS NOT NULL").format(first))
    _check_names(source, tuple(query.equals), "property")
    for name, value in query.equals.items():
        condition, param = _typed(source, name, value)
        conditions.append(condition)
        params.append(param)
    if query.where is not None:
        conditions.append(sql.SQL("({})").format(query.where.sql))
        params += query.where.params
    return conditions, params


def _order(source: Source, query: ItemsQuery) -> sql.Composable:
    _check_names(source, tuple(name for name, _ in query.sortby), "sortby property")
    keys = [
        sql.SQL("{} {} NULLS LAST").format(_identifier(name), sql.SQL("DESC" if desc else "ASC"))
        for name, desc in query.sortby
    ]
    keys.append(sql.SQL("{} ASC").format(_identifier(source.id_column)))
    return sql.SQL(", ").join(keys)


def stream_statements(
    source: Source, query: ItemsQuery
) -> tuple[sql.Composable, list, sql.Composable, list]:
    """(count statement, its params, features statement, its params) for a streamed page.

    Why two statements: a streamed body must begin with numberMatched, so the count runs first,
    and the features follow from a cursor one row each. ``geo.stream`` runs both in one
    REPEATABLE READ snapshot, so they agree with each other.
    """
    properties = query.properties if query.properties is not None else source.published
    _check_published(source, properties)
    conditions, params = _conditions(source, query)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    table = _identifier(source.table)
    count = sql.SQL("SELECT count(*) FROM {table}{where}").format(table=table, where=where)
    feature = feature_json(source, properties, query.crs, query.skip_geometry)
    features = sql.SQL(
        "SELECT {feature}::text FROM {table}{where} ORDER BY {order} LIMIT %s OFFSET %s"
    ).format(feature=feature, table=table, where=where, order=_order(source, query))
    return count, params, features, [*params, query.limit, query.offset]


RENDERED_KEPT = 1_024  # statements kept rendered, one per request shape (bounded: reset when full)
_rendered: dict[tuple, sql.SQL] = {}


def _shape(source: Source, query: ItemsQuery, properties: tuple[str, ...]) -> tuple:
    """What an items statement's text depends on; the values themselves are parameters."""
    return (
        source.table,
        properties,
        query.crs.uri,
        query.skip_geometry,
        query.sortby,
        query.bbox is not None,
        query.bbox_crs.uri,
        None if query.interval is None else tuple(v is None for v in query.interval),
        tuple(query.equals),
        None if query.where is None else query.where.sql.as_string(None),
    )


def items_statement(source: Source, query: ItemsQuery) -> tuple[sql.Composable, list]:
    """One statement answering (numberMatched, numberReturned, features as a JSON array).

    Why rendered once per shape: composing the statement for a 20-property layer and rendering
    it to text took a fifth of the API's Python time per request under load (bench/OGC.md);
    requests of one shape differ only in their parameters.
    """
    properties = query.properties if query.properties is not None else source.published
    _check_published(source, properties)
    conditions, params = _conditions(source, query)
    key = _shape(source, query, properties)
    statement = _rendered.get(key)
    if statement is None:
        statement = _remember(key, _compose(source, query, properties, conditions))
    return statement, [*params, query.limit, query.offset]


def _compose(
    source: Source,
    query: ItemsQuery,
    properties: tuple[str, ...],
    conditions: list[sql.Composable],
) -> sql.Composable:
    order = _order(source, query)
    feature = feature_json(source, properties, query.crs, query.skip_geometry)
    table = _identifier(source.table)
    if conditions:
        where = sql.SQL(" AND ").join(conditions)
        keys = sql.SQL(", ").join(
            _identifier(n) for n in dict.fromkeys([source.id_column, *(n for n, _ in query.sortby)])
        )
        statement = sql.SQL(
            "WITH matched AS (SELECT {keys} FROM {table} WHERE {where}), "
            "page AS (SELECT * FROM {table} WHERE {id} IN "
            "(SELECT {id} FROM matched ORDER BY {order} LIMIT %s OFFSET %s)) "
            "SELECT (SELECT count(*) FROM matched), count(*), "
            "coalesce(json_agg({feature} ORDER BY {order}), '[]')::text FROM page"
        ).format(
            table=table,
            where=where,
            order=order,
            feature=feature,
            keys=keys,
            id=_identifier(source.id_column),
        )
    else:  # no filter: count the table directly rather than materialising all of it
        statement = sql.SQL(
            "WITH page AS (SELECT * FROM {table} ORDER BY {order} LIMIT %s OFFSET %s) "
            "SELECT (SELECT count(*) FROM {table}), count(*), "
            "coalesce(json_agg({feature} ORDER BY {order}), '[]')::text FROM page"
        ).format(table=table, order=order, feature=feature)
    return statement


async def fetch_items(conn: psycopg.AsyncConnection, source: Source, query: ItemsQuery) -> Page:
    statement, params = items_statement(source, query)
    cursor = await conn.execute(statement, params)
    matched, returned, features = await cursor.fetchone()
    return Page(matched, returned, features.encode())


def item_statement(
    source: Source, crs: CRS, properties: tuple[str, ...] | None = None
) -> sql.Composable:
    properties = properties or source.published
    key = ("item", source.table, crs.uri, properties)
    statement = _rendered.get(key)
    if statement is None:
        feature = feature_json(source, properties, crs, skip_geometry=False)
        # The row's ETag beside it: the MD5 of the stored row, which geo.edit compares with
        # If-Match (any change by anyone changes it; a CRS or format does not).
        composed = sql.SQL("SELECT {feature}::text, {etag} FROM {table} WHERE {id} = %s").format(
            feature=feature,
            etag=row_etag(source.table),
            table=_identifier(source.table),
            id=_identifier(source.id_column),
        )
        statement = _remember(key, composed)
    return statement


def row_etag(table: str) -> sql.Composable:
    """SQL for the strong ETag of the stored row of ``table``: the MD5 of its text, without the
    platform's own columns (a tile rank changes when a neighbour moves; the record did not)."""
    model = LAYERS.get(table)
    if model is None or not any(internal(c) for c in model.__table__.columns):
        return sql.SQL("'\"' || md5({}::text) || '\"'").format(_identifier(table))
    columns = sql.SQL(", ").join(
        sql.SQL("{}.{}").format(_identifier(table), _identifier(c.name))
        for c in model.__table__.columns
        if not internal(c)
    )
    return sql.SQL("'\"' || md5(ROW({})::text) || '\"'").format(columns)


def _remember(key: tuple, composed: sql.Composable) -> sql.SQL:
    if len(_rendered) >= RENDERED_KEPT:
        _rendered.clear()
    statement = _rendered[key] = sql.SQL(composed.as_string(None))
    return statement


@dataclass(frozen=True)
class Item:
    feature: bytes  # a GeoJSON Feature, built by PostGIS
    etag: str  # the stored row's strong ETag (see item_statement)


async def fetch_item(
    conn: psycopg.AsyncConnection, source: Source, feature_id: int, crs: CRS
) -> Item | None:
    cursor = await conn.execute(item_statement(source, crs), [feature_id])
    row = await cursor.fetchone()
    return Item(row[0].encode(), row[1]) if row else None
