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
from jinja2 import Environment, FileSystemLoader
from starlette.responses import Response

from api.ogc.respond import HTML, JSON, base_url, send, url, wants_html, with_params
from geo import crs as crs_module
from geo.query import ItemsQuery, Page
from layers.catalogue import Layer, get

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PAGE_TITLES = {
    "landing": None,
    "conformance": "Conformance",
    "collections": "Collections",
    "queryables": "Queryables",
    "api": "API definition",
    "rasters": "Rasters",
}
MAP_PAGES = ("collection", "items", "item", "raster")
"""Templates with a Leaflet map (api/static/map.js)."""


def with_format(href: str, fmt: str) -> str:
    """``href`` with its ``f`` parameter set to ``fmt`` (the other parameters kept)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("f", fmt)])))


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


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def feature_title(feature: dict) -> str:
    properties = feature.get("properties") or {}
    for key in ("name", "licence_no", "title"):
        if properties.get(key):
            return str(properties[key])
    return f"Feature {feature.get('id')}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
)
environment.filters.update(
    html_href=lambda href: with_format(href, "html"), href=link_href, feature_title=feature_title
)
environment.globals.update(rel=rel)
environment.tests["url"] = is_url


def breadcrumbs(request: Request) -> list[tuple[str, str]]:
    """(label, HTML href) from the site's root down to this resource."""
    parts = [p for p in request.url.path.split("/") if p]
    crumbs = [("Home", url(request, "/", f="html"))]
    if parts[:1] in (["api"], ["api.html"]):
        return [*crumbs, ("API", url(request, "/api.html"))]
    for depth, part in enumerate(parts):
        label = part
        if depth == 0:
            label = part.capitalize()
        elif depth == 1 and (layer := get(part)) is not None:
            label = layer.title
        elif depth == 2:
            label = part.capitalize()
        path = "/" + "/".join(parts[: depth + 1])
        crumbs.append((label, url(request, path, f="html")))
    return crumbs


def lon_lat(request: Request) -> bool:
    """Whether the response's coordinates are CRS84 (lon/lat), i.e. drawable on the map."""
    try:
        return crs_module.parse(request.query_params.get("crs")) is crs_module.DEFAULT
    except crs_module.CRSError:
        return False


def page_title(template: str, document: dict) -> str | None:
    if template in PAGE_TITLES:
        return PAGE_TITLES[template]
    if template == "item":
        return feature_title(document["feature"])
    if template == "items":
        return document["layer"]["title"]
    return document.get("title")


def render(request: Request, template: str, document: dict) -> bytes:
    site = request.app.state.settings.title
    json_href = (
        url(request, "/api", f="json") if template == "api" else with_params(request, f="json")
    )
    context = {
        "doc": document,
        "site": site,
        "title": page_title(template, document) or site,
        "crumbs": breadcrumbs(request),
        "json_href": json_href,
        "static": base_url(request) + "/static",
        "provinces_href": url(request, "/collections/provinces/items", f="json", limit=100),
        "lon_lat": lon_lat(request),
        "map": template in MAP_PAGES,
        "query": [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("f", "offset")
        ],
    }
    if template == "api":
        context["paths"] = api_paths(document)
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
    return {
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


def item_document(feature: bytes, links: list[dict], layer: Layer) -> dict:
    collection = rel(links, "collection")
    return {
        "layer": layer_summary(layer),
        "items_href": collection["href"] + "/items" if collection else "",
        "links": links,
        "feature": orjson.loads(feature),
    }
