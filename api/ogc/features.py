"""OGC API – Features (Parts 1, 2, 3) over the layer catalogue.

Why this shape: each endpoint parses its parameters once (``params``), asks ``geo.query`` for
bytes that PostGIS built, and wraps them with links; it never loops over features in Python.
"""

from __future__ import annotations

from functools import partial

import orjson
from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from api import rasters, tilesets
from api.auth import session
from api.ogc import html, openapi
from api.ogc.html import answer
from api.ogc.pages import page_head, page_links, query_errors, read_as_of, streamed_items
from api.ogc.params import IGNORED, LIMIT_MAX, ParameterError, as_of, items_query
from api.ogc.params import crs as parse_crs
from api.ogc.respond import (
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    link,
    send,
    url,
    wants_html,
    with_params,
)
from api.ogc.schemas import GEOMETRY_SCHEMA, JSON_SCHEMA_TYPES, NOT_QUERYABLE
from api.summaries import summaries
from api.tilesets import PAKISTAN
from geo import crs as crs_module
from geo.query import fetch_item, fetch_items
from geo.summary import Summary
from layers.catalogue import CATALOGUE, SERVICE_DESCRIPTION, Layer, get

OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
STREAM_ABOVE = 1_000  # pages of more features than this are streamed, not built whole
router = APIRouter(tags=["OGC API - Features"])
endpoint = partial(router.api_route, methods=["GET", "HEAD"])  # HEAD: headers only (OGC recommends)


def layer_or_404(collection_id: str) -> Layer:
    layer = get(collection_id)
    if layer is None:
        raise HTTPException(404, f"no collection {collection_id!r}; see /collections")
    return layer


@endpoint("/", summary="Landing page")
async def landing(request: Request) -> Response:
    title = request.app.state.settings.title
    document = {
        "title": title,
        "description": SERVICE_DESCRIPTION,
        "links": [
            link(url(request, "/"), "self", JSON, "This document"),
            link(url(request, "/", f="html"), "alternate", HTML, "This document as HTML"),
            link(url(request, "/api"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(url(request, "/api.html"), "service-doc", HTML, "The API documentation"),
            link(url(request, "/conformance"), "conformance", JSON, "Conformance classes"),
            link(url(request, "/conformance"), OGC_REL + "conformance", JSON),
            link(url(request, "/collections"), "data", JSON, "The collections"),
            link(url(request, "/collections"), OGC_REL + "data", JSON),
            link(url(request, "/map"), "related", HTML, "Interactive map (English, 中文, اردو)"),
            *tilesets.landing_links(request),
            link(
                url(request, "/collections/links/items"),
                "related",
                GEOJSON,
                "Every deposit's access, nearest SEZ and nearest port (routes)",
            ),
            link(url(request, "/rasters"), "related", JSON, "The raster catalogue (coverages)"),
        ],
    }
    return answer(request, document, "landing")


@endpoint("/conformance", summary="Conformance classes")
async def conformance(request: Request) -> Response:
    return answer(request, {"conformsTo": CONFORMANCE + tilesets.CONFORMANCE}, "conformance")


@endpoint("/api", summary="The API definition (OpenAPI 3.0)", include_in_schema=False)
async def api_definition(request: Request) -> Response:
    if wants_html(request):
        return await api_documentation(request)
    return send(request, openapi.document(request, await rasters.catalogue(request)), OPENAPI)


@endpoint("/api.html", summary="The API documentation", include_in_schema=False)
async def api_documentation(request: Request) -> Response:
    document = openapi.document(request, await rasters.catalogue(request))
    return send(request, html.render(request, "api", document), HTML)


async def describe(request: Request, layers: list[Layer]) -> list[dict]:
    """Collection documents; extents are what the caller may see (api.summaries)."""
    async with session(request, layers) as conn:
        known = await summaries(request, conn, layers)
    return [collection_document(request, layer, known[layer.id]) for layer in layers]


def collection_document(request: Request, layer: Layer, known: Summary) -> dict:
    base = f"/collections/{layer.id}"
    document = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "keywords": list(layer.keywords),
        "attribution": layer.attribution,
        "itemType": "feature",
        "crs": [c.uri for c in crs_module.SUPPORTED],
        "storageCrs": crs_module.STORAGE.uri,
        "extent": {
            "spatial": {
                "bbox": [list(known.bbox or PAKISTAN)],
                "crs": crs_module.CRS84,
            }
        },
        "links": [
            link(url(request, base), "self", JSON, layer.title),
            link(url(request, base, f="html"), "alternate", HTML, layer.title),
            link(url(request, f"{base}/items"), "items", GEOJSON, "Features as GeoJSON"),
            link(url(request, f"{base}/items", f="html"), "items", HTML, "Features as HTML"),
            link(
                url(request, f"{base}/queryables"),
                OGC_REL + "queryables",
                "application/schema+json",
                "Queryables",
            ),
            # GDAL's OAPIF driver matches this spelling only (RFC 8288 rels are case-insensitive).
            link(
                url(request, f"{base}/schema"),
                "describedBy",
                "application/schema+json",
                "JSON Schema of the features",
            ),
            *tilesets.collection_links(request, layer),
        ],
    }
    if known.interval is not None:
        document["extent"]["temporal"] = {
            "interval": [list(known.interval)],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return document


@endpoint("/collections", summary="The collections")
async def collections(request: Request) -> Response:
    document = {
        "links": [
            link(url(request, "/collections"), "self", JSON, "The collections"),
            link(url(request, "/collections", f="html"), "alternate", HTML, "As HTML"),
        ],
        "crs": [c.uri for c in crs_module.SUPPORTED],
        "collections": await describe(request, list(CATALOGUE))
        + await rasters.collection_documents(request),
    }
    return answer(request, document, "collections")


@endpoint("/collections/{collection_id}", summary="One collection")
async def collection(request: Request, collection_id: str) -> Response:
    if get(collection_id) is None and (
        coverage := await rasters.collection_response(request, collection_id)
    ):
        return coverage
    layer = layer_or_404(collection_id)
    return answer(request, (await describe(request, [layer]))[0], "collection")


@endpoint("/collections/{collection_id}/queryables", summary="Properties to filter on")
async def queryables(request: Request, collection_id: str) -> Response:
    layer = layer_or_404(collection_id)
    properties: dict = {}
    for name, field in layer.source.fields.items():
        if field.type == "geometry":
            properties["geometry"] = {
                "$ref": GEOMETRY_SCHEMA[layer.source.geometry_type],
                "x-ogc-role": "primary-geometry",
            }
        elif field.type not in NOT_QUERYABLE:
            properties[name] = {"title": name, **JSON_SCHEMA_TYPES[field.type]}
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, f"/collections/{layer.id}/queryables"),
        "type": "object",
        "title": layer.title,
        "properties": properties,
        "additionalProperties": False,
    }
    return answer(request, document, "queryables", "application/schema+json")


@endpoint("/collections/{collection_id}/schema", summary="JSON Schema of the features")
async def feature_schema(request: Request, collection_id: str) -> Response:
    """A GeoJSON Feature schema with each property's type, linked from the collection.

    Why: without it GDAL types fields from the first page of features, so a float column whose
    first values are whole (PostgreSQL writes 165.0 as 165) becomes Integer and later fractions
    are truncated, and a column null on that page becomes String. GDAL 3.6 reads only a plain
    string ``type`` (a ["number", "null"] list would make the field a String), so nullability
    is left unsaid.
    """
    layer = layer_or_404(collection_id)
    properties = {
        name: dict(JSON_SCHEMA_TYPES[field.type])
        for name, field in layer.source.fields.items()
        if field.type != "geometry"
    }
    # Records nested in each feature (a deposit's resources) are lists of objects too.
    properties.update(
        {name: dict(JSON_SCHEMA_TYPES["object[]"]) for name, _ in layer.source.nested}
    )
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, f"/collections/{layer.id}/schema"),
        "title": layer.title,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"$ref": GEOMETRY_SCHEMA[layer.source.geometry_type]},
            "properties": {"type": "object", "properties": properties},
        },
    }
    return send(request, document, "application/schema+json")


@endpoint("/collections/{collection_id}/items", summary="Features of a collection")
async def items(request: Request, collection_id: str) -> Response:
    layer = layer_or_404(collection_id)
    query = items_query(layer.source, request.query_params)
    headers = {"Content-Crs": f"<{query.crs.uri}>"}
    if query.limit > STREAM_ABOVE and not wants_html(request):
        return await streamed_items(request, layer, query, headers)
    with query_errors():
        async with session(request, [layer]) as conn:
            source = await read_as_of(conn, layer, query.as_of)
            page = await fetch_items(conn, source, query)
    links = page_links(request, layer, query, page.matched, page.returned)
    if wants_html(request):
        document = html.items_document(page, links, layer, query)
        return send(request, html.render(request, "items", document), HTML, headers)
    # No timeStamp (it is optional): the body then depends on the data only, so its ETag does.
    body = page_head(page.matched, page.returned, links) + page.features + b"}"
    return send(request, body, GEOJSON, headers)


@endpoint("/collections/{collection_id}/items/{feature_id}", summary="One feature")
async def item(request: Request, collection_id: str, feature_id: str) -> Response:
    layer = layer_or_404(collection_id)
    for key in request.query_params:
        if key not in ("f", "crs", "as-of", *IGNORED):
            raise ParameterError(
                f"unknown parameter {key!r} for a single feature (use f, crs, as-of)"
            )
    crs = parse_crs("crs", request.query_params.get("crs"))
    moment = as_of(request.query_params.get("as-of"))
    # ASCII only: str.isdigit() also accepts '²' (int() refuses it: a 500) and '١' (an alias).
    if not (feature_id.isascii() and feature_id.isdigit()) or len(feature_id) > 18:
        raise HTTPException(404, f"no feature {feature_id!r} in {layer.id}")
    async with session(request, [layer]) as conn:
        source = await read_as_of(conn, layer, moment)
        found = await fetch_item(conn, source, int(feature_id), crs)
    if found is None:
        raise HTTPException(404, f"no feature {feature_id!r} in {layer.id}")
    headers = {"Content-Crs": f"<{crs.uri}>"}
    base = f"/collections/{layer.id}"
    links = [
        link(with_params(request), "self", GEOJSON, "This feature"),
        link(with_params(request, f="html"), "alternate", HTML, "This feature as HTML"),
        link(url(request, base), "collection", JSON, layer.title),
    ]
    if layer.editable:
        links.append(link(url(request, f"{base}/items/{feature_id}/history"), "version-history",
                          JSON, "Every version of this feature"))  # fmt: skip
    if wants_html(request):
        return send(
            request,
            html.render(request, "item", html.item_document(found.feature, links, layer)),
            HTML,
            headers,
        )
    if moment is None:  # the stored row's ETag: what If-Match of a write compares with
        headers["ETag"] = found.etag
    body = found.feature[:-1] + b',"links":' + orjson.dumps(links) + b"}"
    return send(request, body, GEOJSON, headers)


__all__ = ["LIMIT_MAX", "router"]
