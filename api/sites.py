"""A deposit's page for investors: where it is, who holds the ground, how goods leave, who works
on it, and where each fact comes from.

Why a page of its own (``/sites/{deposit_id}``): the item page lists a row's columns; an investor
asks questions across tables, and this page answers them with the platform's own queries (the
OGC items statements of ``geo.query``, each narrowed by a condition PostGIS evaluates), as the
caller: a concession or project they may not see is not on their page. Each answer is a section
(``SECTIONS``, one macro each in ``templates/site_sections.html``); a new one is a name here, a
query below (or, like the resources, records the deposit already carries) and a macro there.
JSON clients get the same document.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from api.auth import session
from api.ogc.html import answer
from api.ogc.params import IGNORED, ParameterError
from api.ogc.respond import GEOJSON, HTML, JSON, link, url
from geo.crs import DEFAULT
from geo.query import fetch_item, fetch_items
from geo.site_query import COVERING, INVOLVED, LINKED, where
from layers.catalogue import get

router = APIRouter(tags=["Sites"])
SECTIONS = ("location", "resources", "licences", "value_chain", "projects", "sources")
"""The page's sections, in order; each is a macro of templates/site_sections.html."""


def route_href(request: Request, deposit_id: int, link_feature: dict) -> str | None:
    """The route page of a link: from the deposit to the SEZ or port it links to."""
    properties = link_feature.get("properties") or {}
    if not properties.get("to_layer") or properties.get("to_id") is None:
        return None
    if properties["to_layer"] not in ("sezs", "facilities", "deposits"):
        return None
    return url(request, "/analysis/route", **{
        "from": f"deposits:{deposit_id}",
        "to": f"{properties['to_layer']}:{properties['to_id']}",
        "f": "html",
        "lang": request.query_params.get("lang"),
    })  # fmt: skip


@router.api_route("/sites/{deposit_id}", methods=["GET", "HEAD"], summary="A deposit's site page")
async def site(request: Request, deposit_id: str) -> Response:
    for key in request.query_params:
        if key not in ("f", *IGNORED):
            raise ParameterError(f"unknown parameter {key!r} for a site page (use f, lang)")
    if not (deposit_id.isascii() and deposit_id.isdigit()) or len(deposit_id) > 18:
        raise HTTPException(404, f"no deposit {deposit_id!r}")
    number = int(deposit_id)
    deposits, concessions, links, projects = (
        get("deposits"), get("concessions"), get("links"), get("projects")
    )  # fmt: skip
    async with session(request, [deposits, concessions, links, projects]) as conn:
        found = await fetch_item(conn, deposits.source, number, DEFAULT)
        if found is None:
            raise HTTPException(404, f"no deposit {deposit_id!r}; see /collections/deposits/items")
        covering = await fetch_items(conn, concessions.source, where(COVERING, number))
        linked = await fetch_items(conn, links.source, where(LINKED, number))
        involved = await fetch_items(conn, projects.source, where(INVOLVED, number))
    value_chain = orjson.loads(linked.features)
    for feature in value_chain:
        feature["route"] = route_href(request, number, feature)
    item, page = f"/collections/deposits/items/{number}", f"/sites/{number}"
    document = {
        "type": "Site",
        "feature": orjson.loads(found.feature),
        "sections": list(SECTIONS),
        "concessions": orjson.loads(covering.features),
        "value_chain": value_chain,
        "projects": orjson.loads(involved.features),
        "links": [
            link(url(request, page), "self", JSON, "This site"),
            link(url(request, page, f="html"), "alternate", HTML, "This site as HTML"),
            link(url(request, item), "item", GEOJSON, "The deposit"),
            link(url(request, item, f="html"), "item", HTML, "The deposit as HTML"),
        ],
    }
    return answer(request, document, "site")
