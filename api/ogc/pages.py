"""A page of features: built whole or streamed, with its links, now or as of a moment.

Why apart from the endpoints: the items endpoint chooses between a page built by one statement
and a page streamed from a server-side cursor; both share the head of the FeatureCollection,
its links (next/prev for GDAL and QGIS, which page only through them) and the translation of
query errors into 400s.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import orjson
import psycopg
from fastapi import Request
from starlette.responses import Response, StreamingResponse

from api.auth import identify, note_staleness, pool_for
from api.ogc.params import ParameterError
from api.ogc.respond import GEOJSON, HTML, JSON, VARY, cache_control, link, url, with_params
from geo.history import as_of_source, set_as_of
from geo.query import ItemsQuery, QueryError, Source
from geo.stream import open_stream
from layers.catalogue import Layer


@contextmanager
def query_errors() -> Iterator[None]:
    try:
        yield
    except QueryError as error:
        raise ParameterError(str(error)) from None
    except psycopg.errors.DataError as error:  # e.g. division by zero inside a CQL2 filter
        raise ParameterError(f"filter: {error.diag.message_primary}") from None


def page_head(matched: int, returned: int, links: list[dict]) -> bytes:
    """A FeatureCollection up to the opening of its features (which the caller closes)."""
    head = b'{"type":"FeatureCollection","numberMatched":%d,"numberReturned":%d,' % (
        matched,
        returned,
    )
    return head + b'"links":' + orjson.dumps(links) + b',"features":'


async def streamed_items(
    request: Request, layer: Layer, query: ItemsQuery, headers: dict[str, str]
) -> Response:
    """A large page sent as it is read; the connection is held until the last byte is out.

    Its ETag cannot hash a body not yet read, so it names the data version instead: the layer's
    change counter (raised by the database on every write) and this request's URL. A database
    error after the first byte can only cut the body short: the status is already sent.
    """
    pool = pool_for(request)
    conn = await pool.getconn()
    try:
        await note_staleness(request, conn, [layer])
        claims = await identify(request, conn)
        with query_errors():
            if query.as_of is not None and not layer.editable:
                raise ParameterError(f"{layer.id} is derived and keeps no history: no as-of")
            source = layer.source if query.as_of is None else as_of_source(layer.source)
            stream = await open_stream(conn, source, query, claims)
    except BaseException:
        await pool.putconn(conn)
        raise
    if stream.version is not None:
        key = f"{layer.id}:{stream.version}:{claims.audience}:{request.url}".encode()
        headers = {
            **headers,
            "ETag": 'W/"' + hashlib.blake2b(key, digest_size=16).hexdigest() + '"',
        }
        if headers["ETag"] in request.headers.get("if-none-match", ""):
            await stream.close()
            await pool.putconn(conn)
            return Response(status_code=304, headers=headers)
    links = page_links(request, layer, query, stream.matched, stream.returned)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield page_head(stream.matched, stream.returned, links) + b"["
            async for chunk in stream.chunks():
                yield chunk
            yield b"]}"
        finally:
            await stream.close()
            await pool.putconn(conn)

    headers = {**headers, "Cache-Control": cache_control(request), "Vary": VARY}
    if request.method == "HEAD":
        await stream.close()
        await pool.putconn(conn)
        return Response(status_code=200, headers=headers, media_type=GEOJSON)
    return StreamingResponse(body(), media_type=GEOJSON, headers=headers)


def page_links(
    request: Request, layer: Layer, query: ItemsQuery, matched: int, returned: int
) -> list[dict]:
    base = f"/collections/{layer.id}"
    links = [
        link(with_params(request), "self", GEOJSON, "This page"),
        link(with_params(request, f="html"), "alternate", HTML, "This page as HTML"),
        link(url(request, base), "collection", JSON, layer.title),
    ]
    if query.offset + returned < matched:
        links.append(
            link(
                with_params(request, offset=query.offset + query.limit, f=None),
                "next",
                GEOJSON,
                "Next page",
            )
        )
    if query.offset > 0:
        links.append(
            link(
                with_params(request, offset=max(query.offset - query.limit, 0), f=None),
                "prev",
                GEOJSON,
                "Previous page",
            )
        )
    return links


async def read_as_of(conn: psycopg.AsyncConnection, layer: Layer, moment) -> Source:
    """The layer's source now, or (with ``as-of``) its view of the past, set up in ``conn``."""
    if moment is None:
        return layer.source
    if not layer.editable:
        raise ParameterError(f"{layer.id} is derived and keeps no history: no as-of")
    await set_as_of(conn, moment)
    return as_of_source(layer.source)
