"""Analyses over the store that are not plain features: for now, a route between two sites.

Why a separate router: these are computed answers (GeoJSON built per request by pgRouting),
not collections; errors still speak OGC exception JSON, and a route that cannot exist is a 400
that says why, never a 500.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import errors
from api.auth import session
from api.ogc.respond import GEOJSON, send
from geo.route import RouteError, route
from layers.catalogue import get

router = APIRouter(tags=["Analysis"])


@router.api_route("/analysis/route", methods=["GET", "HEAD"], summary="Route between two sites")
async def route_between(request: Request) -> Response:
    unknown = set(request.query_params) - {"from", "to", "f"}
    if unknown:
        return errors.exception(
            400, f"unknown parameter(s) {', '.join(sorted(unknown))}; use from, to"
        )
    try:
        async with session(request, [get("links")]) as conn:
            feature = await route(
                conn, request.query_params.get("from"), request.query_params.get("to")
            )
    except RouteError as error:
        return errors.refusal(error)
    return send(request, feature, GEOJSON)
