"""OGC API – Features Part 4 (create, replace, update, delete) and each feature's history.

Why a module of its own: reads and writes share the catalogue and the errors, nothing else.
Each write is one transaction acting as the caller (``api.auth.session``), so row-level
security decides what they may change, history triggers record it (migration 0007), and a
failure leaves nothing behind. Replace, update and delete with ``If-Match`` go ahead only if
it holds the feature's current ETag (412 otherwise: no lost updates); without one (QGIS sends
none) or with ``*`` they are accepted and marked unconditional in the history
(``geo.edit.precondition``; docs/security.md). No endpoint here catches an error: what the
store refuses (``geo.edit``) and what this module refuses (``HTTPException``) are answered by
``api.errors``, the one place that gives each its status.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from api import errors, limits
from api.auth import identify, pool_for, session
from api.ogc.features import layer_or_404
from api.ogc.params import ParameterError
from api.ogc.params import crs as parse_crs
from api.ogc.respond import GEOJSON, JSON, link, send, url
from geo import edit, history, network
from geo.crs import DEFAULT
from geo.query import fetch_item
from layers.catalogue import Layer

MAX_BODY = 32 * 2**20  # bytes; a bigger bulk edit is a file for `emining load`
WRITABLE_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")
READ = "GET, HEAD, OPTIONS"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="emining"'}
router = APIRouter(tags=["OGC API - Features - Part 4"])


async def body_of(request: Request, limit: int = MAX_BODY) -> object:
    """The JSON body, read as it streams in: over ``limit`` bytes it is a 413 at once, not
    after the whole of it has been kept (api.limits.read_body)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in WRITABLE_TYPES:
        raise HTTPException(
            415, f"send GeoJSON ({', '.join(WRITABLE_TYPES)}), not {media or 'nothing'}"
        )
    try:
        raw = await limits.read_body(request, limit)
    except limits.LimitError as error:
        hint = "; load big files with `emining load`" if error.status_code == 413 else ""
        raise limits.LimitError(error.status_code, f"{error.detail}{hint}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise HTTPException(400, f"the body is not JSON: {error}") from None


def anonymous(description: str) -> HTTPException:
    """A 401 for a request that came without credentials (a wrong one is api.auth's)."""
    return HTTPException(401, description, headers=CHALLENGE)


async def writer(request: Request, layer: Layer) -> None:
    """403 before any work for callers who may not write at all (the database checks again)."""
    if not layer.editable:
        raise HTTPException(
            405, f"{layer.id} is derived from the other layers and read-only", {"Allow": READ}
        )
    async with pool_for(request).connection() as conn:
        claims = await identify(request, conn)
    if claims.anonymous:
        raise anonymous("writing needs credentials (an API key or a bearer token)")
    if not claims.can_write:
        raise HTTPException(403, f"a {claims.role} may read but not write; editors write")


def content_crs(request: Request):
    value = request.headers.get("content-crs")
    return parse_crs("Content-Crs", value.strip("<> ") if value else None)


def rebuild_links(request: Request, layer: Layer) -> None:
    """A committed write to a layer the links are built from wakes the background job now."""
    job = getattr(request.app.state, "network_job", None)
    if job is not None and layer.id in network.SOURCES:
        job.poke()


def feature_id(layer: Layer, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # '²' passes isdigit()
        raise HTTPException(404, f"no feature {text!r} in {layer.id}")
    return int(text)


@router.post("/collections/{collection_id}/items", summary="Add features")
async def create(request: Request, collection_id: str) -> Response:
    layer = layer_or_404(collection_id)
    await writer(request, layer)
    features = edit.features_of(await body_of(request))
    crs = content_crs(request)
    async with session(request) as conn:
        written = await edit.insert(conn, layer.id, features, crs, request.state.claims)
    rebuild_links(request, layer)
    base = f"/collections/{layer.id}/items"
    if len(written) == 1:
        location = url(request, f"{base}/{written[0].id}")
        headers = {"Location": location, "ETag": written[0].etag}
        return Response(status_code=201, headers=headers)
    links = [link(url(request, f"{base}/{w.id}"), "item", GEOJSON) for w in written]
    document = {"ids": [w.id for w in written], "links": links}
    return send(request, document, JSON, status=201)


@router.put("/collections/{collection_id}/items/{fid}", summary="Replace a feature")
async def replace(request: Request, collection_id: str, fid: str) -> Response:
    return await change(request, collection_id, fid, merge=False)


@router.patch("/collections/{collection_id}/items/{fid}", summary="Update a feature")
async def update(request: Request, collection_id: str, fid: str) -> Response:
    return await change(request, collection_id, fid, merge=True)


async def change(request: Request, collection_id: str, fid: str, merge: bool) -> Response:
    layer = layer_or_404(collection_id)
    await writer(request, layer)
    number = feature_id(layer, fid)
    body = await body_of(request)
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a GeoJSON Feature (an object)")
    crs = content_crs(request)
    async with session(request) as conn:
        if_match = request.headers.get("if-match")
        current = await edit.locked_etag(conn, layer.id, number, if_match)
        await edit.precondition(conn, current, if_match)
        if merge:
            body = await merged(conn, layer, number, body)
        written = await edit.replace(conn, layer.id, number, body, crs)
    rebuild_links(request, layer)
    return Response(status_code=204, headers={"ETag": written.etag})


async def merged(conn, layer: Layer, fid: int, patch: dict) -> dict:
    """RFC 7396 merge patch of the stored feature: given members replace, null removes."""
    stored = orjson.loads((await fetch_item(conn, layer.source, fid, DEFAULT)).feature)
    properties = dict(stored.get("properties") or {})
    for key, value in (patch.get("properties") or {}).items():
        if value is None:
            properties.pop(key, None)
        else:
            properties[key] = value
    unknown = set(patch) - {"type", "id", "properties", "geometry", "links", "bbox"}
    if unknown:
        raise HTTPException(400, f"unknown member(s) {', '.join(sorted(unknown))} in the patch")
    geometry = patch["geometry"] if "geometry" in patch else stored["geometry"]
    return {"type": "Feature", "properties": properties, "geometry": geometry}


@router.delete("/collections/{collection_id}/items/{fid}", summary="Delete a feature")
async def remove(request: Request, collection_id: str, fid: str) -> Response:
    layer = layer_or_404(collection_id)
    await writer(request, layer)
    number = feature_id(layer, fid)
    async with session(request) as conn:
        if_match = request.headers.get("if-match")
        current = await edit.locked_etag(conn, layer.id, number, if_match)
        await edit.precondition(conn, current, if_match)
        await edit.delete(conn, layer.id, number)
    rebuild_links(request, layer)
    return Response(status_code=204)


@router.options("/collections/{collection_id}/items", summary="Methods allowed on the items")
async def options_items(request: Request, collection_id: str) -> Response:
    layer = layer_or_404(collection_id)
    allowed = READ + (", POST" if layer.editable and await may_write(request) else "")
    return Response(status_code=204, headers={"Allow": allowed})


@router.options("/collections/{collection_id}/items/{fid}", summary="Methods allowed on a feature")
async def options_item(request: Request, collection_id: str, fid: str) -> Response:
    layer = layer_or_404(collection_id)
    writes = ", PUT, PATCH, DELETE" if layer.editable and await may_write(request) else ""
    return Response(status_code=204, headers={"Allow": READ + writes})


async def may_write(request: Request) -> bool:
    """What QGIS asks before it offers editing: does this caller's role write at all?"""
    async with pool_for(request).connection() as conn:
        return (await identify(request, conn)).can_write


@router.get("/collections/{collection_id}/items/{fid}/history", summary="A feature's versions")
async def versions(request: Request, collection_id: str, fid: str) -> Response:
    layer = layer_or_404(collection_id)
    if set(request.query_params) - {"f"}:
        raise ParameterError("history takes no parameters but f")
    if request.query_params.get("f", "json").lower() != "json":
        raise ParameterError("history is JSON only: f=json")
    if not layer.editable:
        return errors.exception(404, f"{layer.id} is derived and keeps no history of its own")
    number = feature_id(layer, fid)
    async with session(request) as conn:
        found = await history.versions(conn, layer.source, number)
    if found is None:
        return errors.exception(404, f"no feature {fid!r} in {layer.id}")
    base = f"/collections/{layer.id}/items/{number}"
    document = {
        "id": number,
        "collection": layer.id,
        "versions": found,
        "links": [
            link(url(request, f"{base}/history"), "self", JSON, "This feature's history"),
            link(url(request, base), "item", GEOJSON, "The feature now"),
        ],
    }
    return send(request, document, JSON)
