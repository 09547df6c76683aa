"""Analyses over the store that are not plain features: for now, a route between two sites.

Why a separate router: these are computed answers (GeoJSON built per request by pgRouting),
not collections; errors still speak OGC exception JSON, and a route that cannot exist is a 400
that says why, never a 500. A browser (``f=html`` or its Accept) gets the route as a page: the
line on a map, its legs, modes, km and hours in the reader's language; JSON clients get the
same Feature as before.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import errors
from api.auth import session
from api.ogc import html
from api.ogc.params import IGNORED
from api.ogc.respond import GEOJSON, HTML, send, wants_html
from geo.route import route
from layers.catalogue import get

router = APIRouter(tags=["Analysis"])


@router.api_route("/analysis/route", methods=["GET", "HEAD"], summary="Route between two sites")
async def route_between(request: Request) -> Response:
    unknown = set(request.query_params) - {"from", "to", "f", *IGNORED}
    if unknown:
        return errors.exception(
            400, f"unknown parameter(s) {', '.join(sorted(unknown))}; use from, to", request=request
        )
    page = wants_html(request)  # a bad f is a 400 before any routing
    params = request.query_params
    async with session(request, [get("links")]) as conn:  # a RouteError is api.errors' to answer
        feature = await route(conn, params.get("from"), params.get("to"))
    if page:
        return send(request, html.render(request, "route", {"feature": feature}), HTML)
    return send(request, feature, GEOJSON)
