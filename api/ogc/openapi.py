"""The OpenAPI 3.0 definition, written from the catalogue rather than generated from handlers.

Why by hand: OGC clients read specific parts of it (QGIS takes ``components.parameters.limit``
with its ``default`` and ``maximum``), each collection's items path lists its own queryable
parameters, and OGC's conformance class is OpenAPI 3.0, which FastAPI no longer emits.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from api import applications_openapi, raster_openapi, tilesets
from api.ogc.oas import AUTH, operation, query, ref, responses, write_responses
from api.ogc.params import FILTER_LANGS, LIMIT_DEFAULT, LIMIT_MAX, STANDARD
from api.ogc.schemas import NOT_QUERYABLE, QUERY_PARAMETER_TYPES
from geo import crs as crs_module
from geo.raster import RasterInfo
from layers.catalogue import CATALOGUE

CRS_URIS = [c.uri for c in crs_module.SUPPORTED]
SCHEMA_TYPES = QUERY_PARAMETER_TYPES


PARAMETERS = {
    "f": query("f", {"type": "string", "enum": ["json", "html"]}, "Response format."),
    "lang": query(
        "lang",
        {"type": "string"},
        "Language of an HTML page: en, zh or ur (else the browser's Accept-Language, else "
        "English). JSON answers ignore it.",
    ),
    "limit": query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
        f"Features per page (default {LIMIT_DEFAULT}, at most {LIMIT_MAX}).",
        style="form",
        explode=False,
    ),
    "offset": query(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0},
        "Features to skip (the next and prev links carry it).",
    ),
    "bbox": query(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "minx,miny,maxx,maxy in bbox-crs (default CRS84).",
        style="form",
        explode=False,
    ),
    "bbox-crs": query(
        "bbox-crs", {"type": "string", "format": "uri", "enum": CRS_URIS}, "CRS of bbox."
    ),
    "crs": query(
        "crs",
        {"type": "string", "format": "uri", "enum": CRS_URIS},
        "CRS of the response's geometries.",
    ),
    "datetime": query(
        "datetime",
        {"type": "string"},
        "Instant or interval (RFC 3339, '..' for an open end) on the layer's temporal property.",
    ),
    "filter": query("filter", {"type": "string"}, "A CQL2 expression."),
    "filter-lang": query(
        "filter-lang",
        {"type": "string", "enum": list(FILTER_LANGS), "default": "cql2-text"},
        "Language of filter.",
    ),
    "filter-crs": query(
        "filter-crs",
        {
            "type": "string",
            "format": "uri",
            "enum": [u for u in CRS_URIS if not u.endswith("/4326")],
        },
        "CRS of geometry literals in filter.",
    ),
    "sortby": query(
        "sortby",
        {"type": "string"},
        "Properties to sort by, '-' for descending.",
        style="form",
        explode=False,
    ),
    "properties": query(
        "properties",
        {"type": "array", "items": {"type": "string"}},
        "Properties to return.",
        style="form",
        explode=False,
    ),
    "skipGeometry": query(
        "skipGeometry", {"type": "boolean", "default": False}, "Leave geometries out."
    ),
    "as-of": query(
        "as-of",
        {"type": "string"},
        "Read the layer as it was at this RFC 3339 date-time (a date: the end of that day).",
    ),
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag the feature was read with: 412 when the feature changed "
        "since. Without it (or with *) the write is accepted and marked unconditional in the "
        "feature's history.",
        "schema": {"type": "string"},
    },
    "featureId": {
        "name": "featureId",
        "in": "path",
        "required": True,
        "description": "Feature id.",
        "schema": {"type": "integer", "minimum": 1},
    },
}
# The server reads these with an empty value as if they were left out (``crs=`` is CRS84).
for _name in (
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-crs",
    "sortby",
    "skipGeometry",
):
    PARAMETERS[_name]["allowEmptyValue"] = True

ITEMS_PARAMETERS = list(STANDARD)


def get(summary: str, parameters: list, media_type: str = "application/json") -> dict:
    return operation(summary, parameters, media_type, html=True)


FEATURE_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "object"}}
        for media in ("application/geo+json", "application/json")
    },
}


def write_operations(layer_id: str) -> tuple[dict, dict]:
    """Part 4 operations on a layer's items and on one of its features."""
    common = {"security": AUTH}
    errors = ("400", "401", "403", "404", "409", "413", "415", "429")
    create = {"summary": f"Add features to {layer_id} (a Feature or a FeatureCollection)",
              "requestBody": FEATURE_BODY, "responses": write_responses("201", *errors),
              **common}  # fmt: skip
    one = [ref("featureId"), ref("If-Match")]
    change = {"parameters": one, "requestBody": FEATURE_BODY,
              "responses": write_responses("204", *errors, "412"), **common}  # fmt: skip
    return {"post": create}, {
        "put": {"summary": f"Replace a feature of {layer_id}", **change},
        "patch": {"summary": f"Update a feature of {layer_id} (JSON merge patch)", **change},
        "delete": {
            "summary": f"Delete a feature of {layer_id}",
            "parameters": one,
            "responses": write_responses("204", "401", "403", "404", "412", "429"),
            **common,
        },
    }


def document(request: Request, rasters: Sequence[RasterInfo] = ()) -> dict:
    """The whole definition; ``rasters``: the registered rasters, each with its own paths."""
    paths: dict = {
        "/": get("Landing page", [ref("f"), ref("lang")]),
        "/conformance": get("Conformance classes", [ref("f"), ref("lang")]),
        "/collections": get("The collections", [ref("f"), ref("lang")]),
        "/healthz": {
            "get": {
                "summary": "Database status and rows per layer",
                "responses": {
                    "200": {"description": "Healthy"},
                    "503": {"description": "Database unavailable"},
                },
            }
        },
    }
    site = {"type": "string", "pattern": "^(deposits|sezs|facilities):[0-9]+$"}
    paths["/analysis/route"] = {
        "get": {
            "summary": "Route between two sites over the road/rail network",
            "description": "A GeoJSON Feature: the route (access leg, network, access leg), "
            "km, hours and its legs. 400 with the reason when no route exists, an id is "
            "unknown, or from/to is not LAYER:ID.",
            "parameters": [
                {"name": "from", "in": "query", "required": True, "schema": site,
                 "description": "Start: deposits:ID, sezs:ID or facilities:ID."},
                {"name": "to", "in": "query", "required": True, "schema": site,
                 "description": "End: deposits:ID, sezs:ID or facilities:ID."},
                ref("f"), ref("lang"),
            ],
            "responses": {
                k: v for k, v in responses("application/geo+json").items() if k != "404"
            },
        }
    }  # fmt: skip
    paths["/sites/{featureId}"] = get(
        "A deposit's page for investors (docs/pages.md): the deposit, the concessions covering "
        "it, its links with km and hours, its projects and partners, its sources",
        [ref("featureId"), ref("f"), ref("lang")],
    )
    for layer in CATALOGUE:
        base = f"/collections/{layer.id}"
        equals = [
            query(
                name,
                SCHEMA_TYPES[layer.source.fields[name].type],
                f"Only features whose {name} equals this value"
                + (
                    " (one of the list's items)"
                    if layer.source.fields[name].type == "string[]"
                    else ""
                )
                + ".",
            )
            for name in layer.source.properties
            if layer.source.fields[name].type not in NOT_QUERYABLE
        ]
        paths[base] = get(layer.title, [ref("f"), ref("lang")])
        paths[f"{base}/queryables"] = get(
            f"Queryables of {layer.id}", [ref("f"), ref("lang")], "application/schema+json"
        )
        paths[f"{base}/schema"] = get(
            f"JSON Schema of the features of {layer.id}", [], "application/schema+json"
        )
        paths[f"{base}/items"] = get(
            f"Features of {layer.id}",
            [ref(p) for p in ITEMS_PARAMETERS] + equals,
            "application/geo+json",
        )
        paths[f"{base}/items/{{featureId}}"] = get(
            f"One feature of {layer.id}",
            [ref("featureId"), ref("f"), ref("crs"), ref("as-of"), ref("lang")],
            "application/geo+json",
        )
        if layer.editable:
            on_items, on_item = write_operations(layer.id)
            paths[f"{base}/items"].update(on_items)
            paths[f"{base}/items/{{featureId}}"].update(on_item)
            paths[f"{base}/items/{{featureId}}/history"] = get(
                f"Every version of a feature of {layer.id}", [ref("featureId"), ref("f")]
            )
    tile_paths, tile_parameters = tilesets.openapi_paths([layer.id for layer in CATALOGUE])
    paths.update(tile_paths)
    raster_paths, raster_parameters = raster_openapi.openapi_paths(rasters)
    paths.update(raster_paths)
    paths.update(applications_openapi.openapi_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": request.app.state.settings.title,
            "version": "0.1.0",
            "description": "OGC API - Features and Tiles, and rasters (map tiles, subsets, "
            "sampling, zonal statistics), over the E-Mining Platform's store.",
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": str(request.base_url).rstrip("/")}],
        "paths": paths,
        "components": {
            "parameters": {**PARAMETERS, **tile_parameters, **raster_parameters},
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "password": {
                    "type": "oauth2",
                    "flows": {
                        "password": {
                            "tokenUrl": str(request.base_url).rstrip("/") + "/auth/token",
                            "scopes": {},
                        }
                    },
                },
            },
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                }
            },
        },
    }
