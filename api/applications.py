"""Licence applications over HTTP: check a block, apply for it, an authority's decisions.

- ``POST /applications/check`` (a GeoJSON Feature): 200 "this area is free", or 409 with the
  conflicts;
- ``POST /applications`` (the same): 201 with the number and priority stamp, or 409;
- ``POST /licences/{id}/status`` (``{"status": …}``): 200 with the record after the decision.

Why beside, not inside, OGC Part 4: an application is a concession row, and Part 4 could write
one, but an applicant needs an answer Part 4 has no words for (which licences are in the way,
by how many km²), and a decision is one step of a licence's life, not an edit of its fields.
The database keeps the same rules for both paths (migration 0009).

Who: checking needs credentials (its answer speaks of confidential records, if only of their
existence and overlap); applying needs an editor, approver or admin of an enterprise or public
body; deciding an approver or admin of an authority. Anyone else is told 401 or 403 before any
work; the database refuses them again. Each request is one transaction acting as the caller:
a refused one leaves nothing behind.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.auth import identify, session
from api.ogc.respond import GEOJSON, JSON, link, send, url
from api.ogc.transactions import body_of, content_crs, failed, feature_id
from api.responses import JSONResponse
from geo import licensing
from geo.access import Claims
from geo.edit import EditError
from layers.catalogue import BY_ID

router = APIRouter(tags=["Licence applications"])
CONCESSIONS = BY_ID["concessions"]
NO_STORE = {"Cache-Control": "no-store"}


async def caller(request: Request) -> Claims:
    """The caller's claims; 401 for anonymous requests (every endpoint here needs credentials)."""
    async with request.app.state.pool.connection() as conn:
        claims = await identify(request, conn)
    if claims.anonymous:
        raise EditError(401, "licence applications need credentials (an API key or a token)")
    return claims


def refused(error: EditError) -> Response:
    """OGC exception JSON; conflicts and allowed steps ride along beside the description."""
    if isinstance(error, licensing.LicensingError):
        body = {"code": "Conflict", "description": str(error), **error.extra}
        return JSONResponse(body, status_code=error.status, headers=NO_STORE)
    return failed(error)


@router.post("/applications/check", summary="Is this block free?")
async def check(request: Request) -> Response:
    try:
        await caller(request)
        block = licensing.block_of(await body_of(request), content_crs(request))
        async with session(request) as conn:
            area = await licensing.check(conn, block)
    except EditError as error:
        return refused(error)
    document = {"free": True, "description": "this area is free", "area_km2": area}
    return send(request, document, JSON, headers=NO_STORE)


@router.post("/applications", summary="Apply for a block")
async def apply(request: Request) -> Response:
    try:
        claims = await caller(request)
        if not licensing.may_apply(claims):
            raise EditError(403, "editors, approvers or admins of an enterprise or public body "
                            "apply; authorities decide applications")  # fmt: skip
        block = licensing.block_of(await body_of(request), content_crs(request))
        async with session(request) as conn:
            record, etag = await licensing.apply(conn, block, claims)
    except EditError as error:
        return refused(error)
    location = url(request, f"/collections/{CONCESSIONS.id}/items/{record['id']}")
    record["description"] = (
        f"this area is free: application {record['licence_no']} stamped {record['applied_at']}"
    )
    record["links"] = [link(location, "item", GEOJSON, "The application as a concession")]
    headers = {"Location": location, "ETag": etag, **NO_STORE}
    return send(request, record, JSON, headers=headers, status=201)


@router.post("/licences/{fid}/status", summary="An authority's decision on a licence")
async def decide(request: Request, fid: str) -> Response:
    try:
        claims = await caller(request)
        if not licensing.may_decide(claims):
            raise EditError(403, "only an approver or admin of an authority decides")
        number = feature_id(CONCESSIONS, fid)
        decision = licensing.decision_of(await body_of(request))
        async with session(request) as conn:
            record = await licensing.decide(conn, number, decision)
    except EditError as error:
        return refused(error)
    location = url(request, f"/collections/{CONCESSIONS.id}/items/{number}")
    record["links"] = [
        link(location, "item", GEOJSON, "The record"),
        link(f"{location}/history", "version-history", JSON, "Every step, with who and when"),
    ]
    return send(request, record, JSON, headers=NO_STORE)
