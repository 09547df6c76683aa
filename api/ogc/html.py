"""HTML views of the OGC resources: Jinja2 templates over the very documents the JSON side sends.

Why the same documents: a page can then never show something the API does not say, and every
link on it is the document's own absolute link. Autoescaping is on everywhere; feature data
reaches the map scripts only as JSON inside ``<script type="application/json">`` (``|tojson``),
read with ``JSON.parse`` — never as markup or code.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, pass_context
from starlette.responses import Response

from api.ogc import values
from api.ogc.respond import (
    HTML,
    JSON,
    base_url,
    page_language,
    send,
    url,
    wants_html,
    with_params,
)
from api.ogc.words import feature_title, helpers, phrases
from geo import crs as crs_module
from geo.query import ItemsQuery, Page
from layers.catalogue import Layer, get
from layers.i18n import LANGUAGES
from layers.page_text import PAGE

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PAGE_TITLES = {
    "landing": None,
    "conformance": "conformance",
    "collections": "collections",
    "queryables": "queryables",
    "api": "api_doc",
    "rasters": "rasters",
    "login": "sign_in",
}
"""Templates whose title is a phrase of ``layers.page_text.PAGE`` (None: the site's name)."""
MAP_PAGES = ("collection", "items", "item", "raster", "site", "route")
"""Templates with a Leaflet map (api/static/map.js)."""


def with_format(href: str, fmt: str, lang: str | None = None) -> str:
    """``href`` with its ``f`` parameter set to ``fmt`` (the other parameters kept), and its
    ``lang`` set when the reader chose one with ``?lang=`` (so the choice follows every link)."""
    parts = urlsplit(href)
    drop = ("f", "lang") if lang else ("f",)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    query.append(("f", fmt))
    if lang:
        query.append(("lang", lang))
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_lang(href: str, lang: str | None) -> str:
    """A page's ``href`` carrying the reader's chosen language, if they chose one."""
    if not lang:
        return href
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("lang", lang)])))


def link_href(link: dict) -> str:
    """A link's href made to return what its type says, whatever the browser's Accept."""
    media_type = link.get("type", "")
    if media_type == "text/html":
        return with_format(link["href"], "html")
    if "json" in media_type:  # application/json, geo+json, schema+json, openapi+json
        return with_format(link["href"], "json")
    return link["href"]


def rel(links: list[dict], name: str, media_type: str | None = None) -> dict | None:
    """The first link with this relation (and media type, if given)."""
    return next(
        (
            x
            for x in links
            if x["rel"] == name and (media_type is None or x.get("type") == media_type)
        ),
        None,
    )


is_url = values.is_url


@pass_context
def html_href(context, href: str) -> str:
    return with_format(href, "html", context.get("chosen_lang"))


@pass_context
def page_href(context, href: str) -> str:
    return with_lang(href, context.get("chosen_lang"))


environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
)
environment.filters.update(
    html_href=html_href, page_href=page_href, href=link_href, feature_title=feature_title
)
environment.globals.update(rel=rel)
environment.tests["url"] = is_url


CRUMBS = {"collections": "collections", "items": "features", "conformance": "conformance",
          "rasters": "rasters", "sites": "features", "analysis": "route", "route": "route",
          "login": "sign_in", "queryables": "queryables"}  # fmt: skip


def breadcrumbs(request: Request, lang: str, chosen: str | None) -> list[tuple[str, str]]:
    """(label, HTML href) from the site's root down to this resource, in ``lang``."""
    parts = [p for p in request.url.path.split("/") if p]
    t = phrases(lang)
    crumbs = [(t("home"), url(request, "/", f="html", lang=chosen))]
    if parts[:1] in (["api"], ["api.html"]):
        return [*crumbs, (t("api_doc"), url(request, "/api.html", lang=chosen))]
    if parts[:1] == ["sites"] and len(parts) == 2:  # a site page: its deposit's collection
        parts = ["collections", "deposits", "sites", parts[1]]
    for depth, part in enumerate(parts):
        label = part
        if (layer := get(part)) is not None and depth == 1:
            label = layer.title_in(lang)
        elif part in CRUMBS:
            label = t(CRUMBS[part])
        path = "/" + "/".join(parts[: depth + 1])
        if parts[depth - 1 : depth + 1] == ["deposits", "sites"]:
            path = "/collections/deposits/items"
        crumbs.append((label, url(request, path, f="html", lang=chosen)))
    return crumbs


def lon_lat(request: Request) -> bool:
    """Whether the response's coordinates are CRS84 (lon/lat), i.e. drawable on the map."""
    try:
        return crs_module.parse(request.query_params.get("crs")) is crs_module.DEFAULT
    except crs_module.CRSError:
        return False


def page_title(template: str, document: dict, lang: str) -> str | None:
    if template in PAGE_TITLES:
        key = PAGE_TITLES[template]
        return PAGE[key][lang] if key else None
    if template == "error":
        return PAGE.get(f"error_{document['status']}", PAGE["error"])[lang]
    if template in ("item", "site"):
        return feature_title(document["feature"], lang)
    if template == "route":
        ends = document["feature"]["properties"]
        return PAGE["route_title"][lang].format(
            origin=ends["from"]["name"], destination=ends["to"]["name"]
        )
    layer_id = document["layer"]["id"] if template == "items" else document.get("id")
    if template in ("items", "collection") and (layer := get(layer_id)) is not None:
        return layer.title_in(lang)
    if template == "raster":
        return (document.get("titles") or {}).get(lang) or document.get("title")
    return document.get("title")


def render(request: Request, template: str, document: dict) -> bytes:
    site = request.app.state.settings.title
    lang = page_language(request)
    chosen = lang if request.query_params.get("lang") else None
    json_href = (
        url(request, "/api", f="json")
        if template == "api"
        else with_params(request, f="json", lang=None)
    )
    context = {
        **helpers(lang),
        "chosen_lang": chosen,
        "language_hrefs": {code: with_params(request, lang=code) for code in LANGUAGES},
        "doc": document,
        "site": site,
        "title": page_title(template, document, lang) or site,
        "crumbs": breadcrumbs(request, lang, chosen),
        "json_href": json_href,
        "static": base_url(request) + "/static",
        "provinces_href": url(request, "/collections/provinces/items", f="json", limit=100),
        "basemap_href": url(request, "/basemap/all.json"),
        "lon_lat": lon_lat(request),
        "site_href": lambda deposit_id: url(request, f"/sites/{deposit_id}", lang=chosen),
        "collection_items": lambda layer_id: url(request, f"/collections/{layer_id}/items"),
        "map": template in MAP_PAGES,
        "query": [
            (k, v)
            for k, v in request.query_params.multi_items()
            if k not in ("f", "offset", "lang")
        ],
    }
    if template in ("item", "site", "route"):  # the last crumb names the thing, not its id
        context["crumbs"][-1] = (context["title"], context["crumbs"][-1][1])
    if template == "api":
        context["paths"] = api_paths(document)
    if template == "site":
        feature_id = document["feature"]["id"]
        context["item_href"] = url(
            request, f"/collections/deposits/items/{feature_id}", f="html", lang=chosen
        )
    return environment.get_template(f"{template}.html").render(context).encode()


def answer(
    request: Request,
    document: dict,
    template: str,
    media_type: str = JSON,
    headers: dict | None = None,
) -> Response:
    """The document as HTML (``f=html`` or a browser's Accept) or as ``media_type``."""
    if wants_html(request):
        return send(request, render(request, template, document), HTML, headers)
    return send(request, document, media_type, headers)


def api_paths(document: dict) -> list[dict]:
    """The OpenAPI paths with their parameters' ``$ref`` resolved, for the API page."""
    shared = document.get("components", {}).get("parameters", {})
    paths = []
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            parameters = [
                shared.get(p["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in p else p
                for p in operation.get("parameters", [])
            ]
            paths.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "parameters": parameters,
                    "summary": operation.get("summary", ""),
                    "responses": operation.get("responses", {}),
                }
            )
    return paths


def layer_summary(layer: Layer) -> dict:
    return {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "attribution": layer.attribution,
    }


def items_document(page: Page, links: list[dict], layer: Layer, query: ItemsQuery) -> dict:
    collection = rel(links, "collection")
    document = {
        "layer": layer_summary(layer),
        "numberMatched": page.matched,
        "numberReturned": page.returned,
        "offset": query.offset,
        "limit": query.limit,
        "columns": list(
            query.properties if query.properties is not None else layer.source.properties
        ),
        "items_href": collection["href"] + "/items" if collection else "",
        "links": links,
        "features": orjson.loads(page.features),
    }
    # The table shows the columns with a value on this page (an all-empty column says nothing).
    document["shown_columns"] = [
        c
        for c in document["columns"]
        if any(
            (f.get("properties") or {}).get(c) not in (None, "", []) for f in document["features"]
        )
    ]
    return document


def item_document(feature: bytes, links: list[dict], layer: Layer) -> dict:
    collection = rel(links, "collection")
    return {
        "layer": layer_summary(layer),
        "items_href": collection["href"] + "/items" if collection else "",
        "links": links,
        "feature": orjson.loads(feature),
    }
