"""Licence applications over HTTP: check a block, apply for it, an authority's decisions.

- ``POST /applications/check`` (a GeoJSON Feature): 200 "this area is free", or 409 with the
  conflicts;
- ``POST /applications`` (the same): 201 with the number and priority stamp, or 409;
- ``POST /applications/{id}/withdraw`` (``{"reason": …}``): the applicant's own pending
  application becomes ``withdrawn`` (migration 0012); 200 with the record;
- ``POST /licences/{id}/status`` (``{"status": …, "reason": …}``): 200 with the record after the
  decision;
- ``GET /licences/{id}/decisions``: every decided step with its reason, to whoever sees the licence.

Why beside, not inside, OGC Part 4: an application is a concession row, and Part 4 could write
one, but an applicant needs an answer Part 4 has no words for (which licences are in the way,
by how many km²), and a decision is one step of a licence's life, not an edit of its fields.
The database keeps the same rules for both paths (migration 0009).

Who: checking needs credentials (its answer speaks of confidential records, if only of their
existence and overlap); applying needs an editor, approver or admin of an enterprise or public
body; deciding an approver or admin of an authority. Anyone else is told 401 or 403 before any
work; the database refuses them again. Each request is one transaction acting as the caller:
a refused one leaves nothing behind. Refusals are answered by ``api.errors`` (conflicts and
allowed steps ride along beside the description), not caught here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from psycopg import AsyncConnection
from psycopg.errors import QueryCanceled
from starlette.responses import Response

from api import limits
from api.auth import identify, pool_for, session
from api.ogc.respond import GEOJSON, JSON, link, send, url
from api.ogc.transactions import anonymous, body_of, content_crs, feature_id
from geo import licensing
from geo.access import Claims
from layers.catalogue import BY_ID

router = APIRouter(tags=["Licence applications"])
CONCESSIONS = BY_ID["concessions"]
NO_STORE = {"Cache-Control": "no-store"}


async def caller(request: Request) -> Claims:
    """The caller's claims; 401 for anonymous requests (every endpoint here needs credentials)."""
    async with pool_for(request).connection() as conn:
        claims = await identify(request, conn)
    if claims.anonymous:
        raise anonymous("licence applications need credentials (an API key or a token)")
    return claims


@asynccontextmanager
async def checking(
    request: Request, claims: Claims
) -> AsyncIterator[tuple[AsyncConnection, licensing.Block]]:
    """A connection to check the request's block on, and the block, in the worker's turn.

    In order: the body is read (413 above BLOCK_BYTES) before any turn is taken, so a slow
    sender holds no one up; then the worker's turn (api.limits.Turns: ``check_slots`` at once,
    ``check_queue`` waiting, else 503); in it the block is parsed and checked in the worker's
    checking process, below the server's priority (api.limits.Offloaded: the loader's checks
    take 15-50 ms of the interpreter for a block at the limits), one check of the caller's hour
    is spent (bad bodies cost none), and the connection's statements are bounded by
    ``check_timeout_ms``."""
    body = await body_of(request, limits.BLOCK_BYTES)
    crs = content_crs(request)
    state, settings = request.app.state, request.app.state.settings
    turns = limits.per_loop(
        state, "check_turns",
        lambda: limits.Turns(settings.check_slots, settings.check_queue, settings.turn_wait,
                             "conflict checks"),
    )  # fmt: skip
    budget = limits.per_loop(state, "check_budget", lambda: limits.Bucket(
        settings.checks_per_hour / 3600, settings.check_burst))  # fmt: skip
    async with turns.turn():
        found = await state.checking.run(licensing.block_of, body, crs)
        wait = budget.take(f"user:{claims.user_id}")
        if wait > 0:
            raise limits.LimitError(429, f"at most {settings.checks_per_hour} checks and "
                                    "applications an hour per user", retry_after=wait)  # fmt: skip
        async with session(request) as conn:
            await licensing.time_limit(conn, settings.check_timeout_ms)
            try:
                yield conn, found
            except QueryCanceled:
                took = f"the check took longer than {settings.check_timeout_ms / 1000:g} s"
                raise limits.LimitError(503, f"{took}; try a simpler block",
                                        retry_after=settings.turn_wait) from None  # fmt: skip


@router.post("/applications/check", summary="Is this block free?")
async def check(request: Request) -> Response:
    async with checking(request, await caller(request)) as (conn, block_):
        area = await licensing.check(conn, block_)
    document = {"free": True, "description": "this area is free", "area_km2": area}
    return send(request, document, JSON, headers=NO_STORE)


@router.post("/applications", summary="Apply for a block")
async def apply(request: Request) -> Response:
    claims = await caller(request)
    if not licensing.may_apply(claims):
        raise HTTPException(403, "editors, approvers or admins of an enterprise or public body "
                            "apply; authorities decide applications")  # fmt: skip
    async with checking(request, claims) as (conn, block_):
        record, etag = await licensing.apply(conn, block_, claims)
    location = url(request, f"/collections/{CONCESSIONS.id}/items/{record['id']}")
    record["description"] = (
        f"this area is free: application {record['licence_no']} stamped {record['applied_at']}"
    )
    record["links"] = [link(location, "item", GEOJSON, "The application as a concession")]
    headers = {"Location": location, "ETag": etag, **NO_STORE}
    return send(request, record, JSON, headers=headers, status=201)


async def take_step(
    request: Request,
    fid: str,
    may: Callable[[Claims], bool],
    refusal: str,
    read: Callable[[object], Any],
    act: Callable[[AsyncConnection, int, Any], Awaitable[dict]],
) -> Response:
    """One step of a licence's life: who may, the body read, the step in one transaction acting
    as the caller; the record after it with its links (a refusal is api.errors' to answer)."""
    claims = await caller(request)
    if not may(claims):
        raise HTTPException(403, refusal)
    number = feature_id(CONCESSIONS, fid)
    given = read(await body_of(request))
    async with session(request) as conn:
        record = await act(conn, number, given)
    location = url(request, f"/collections/{CONCESSIONS.id}/items/{number}")
    record["links"] = [
        link(location, "item", GEOJSON, "The record"),
        link(f"{location}/history", "version-history", JSON, "Every step, with who and when"),
        link(url(request, f"/licences/{number}/decisions"), "describedby", JSON,
             "Every decided step, with its reason"),
    ]  # fmt: skip
    return send(request, record, JSON, headers=NO_STORE)


@router.post("/licences/{fid}/status", summary="An authority's decision on a licence")
async def decide(request: Request, fid: str) -> Response:
    only = "only an approver or admin of an authority decides"
    return await take_step(request, fid, licensing.may_decide, only, licensing.decision_of,
                           licensing.decide)  # fmt: skip


@router.post("/applications/{fid}/withdraw", summary="Withdraw one's own pending application")
async def withdraw(request: Request, fid: str) -> Response:
    """The database checks the rest: the application is the caller's organisation's, pending."""
    only = "an editor, approver or admin of the applicant withdraws"
    return await take_step(request, fid, lambda claims: claims.can_write, only,
                           licensing.withdrawal_of, licensing.withdraw)  # fmt: skip


@router.get("/licences/{fid}/decisions", summary="Every decided step of a licence, with why")
async def decisions(request: Request, fid: str) -> Response:
    number = feature_id(CONCESSIONS, fid)
    async with session(request) as conn:
        steps = await licensing.decisions(conn, number)
    location = url(request, f"/collections/{CONCESSIONS.id}/items/{number}")
    document = {"decisions": steps, "links": [link(location, "item", GEOJSON, "The record")]}
    return send(request, document, JSON, headers=NO_STORE)
