"""Documents that describe the vector tiles: tile matrix sets, tilesets, TileJSON.

Why apart from the router (api/tiles.py): these are pure functions of the catalogue, the tile
matrix set and the data's extent, so the router stays about requests and the documents can be
checked on their own. The zoom ranges in the catalogue are WebMercatorQuad levels; another tile
matrix set's levels are matched to them by scale (WorldCRS84Quad level z ≈ WebMercatorQuad z+1).
"""

from __future__ import annotations

import math

import morecantile
from fastapi import Request
from morecantile import TileMatrixSet

from api.ogc.oas import operation as _path
from api.ogc.respond import JSON, link, url
from api.ogc.schemas import QUERY_PARAMETER_TYPES
from geo.crs import CRS84
from geo.settings import PAKISTAN_EXTENT
from layers.catalogue import Layer

MVT = "application/vnd.mapbox-vector-tile"
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
SUPPORTED = ("WebMercatorQuad", "WorldCRS84Quad")
MATRIX_SETS: dict[str, TileMatrixSet] = {name: morecantile.tms.get(name) for name in SUPPORTED}
REFERENCE = MATRIX_SETS["WebMercatorQuad"]
PAKISTAN = PAKISTAN_EXTENT  # the fallback extent of an empty layer
DIMENSIONS = {"POINT": 0, "MULTIPOINT": 0, "LINESTRING": 1, "MULTILINESTRING": 1,
              "POLYGON": 2, "MULTIPOLYGON": 2}  # fmt: skip
# MVT values are scalars: a list travels comma-joined, dates as ISO 8601 text.
MVT_TYPES = {
    **QUERY_PARAMETER_TYPES,
    "string[]": {"type": "string", "description": "comma-separated list"},
    "object[]": {"type": "string", "description": "JSON text of a list of records"},
}
TILEJSON_TYPES = {"number": "Number", "integer": "Number", "boolean": "Boolean"}
# XYZ order (TileJSON, TiPg): level, column, row; the template names them for OGC clients.
ITEM_TEMPLATE = "{tileMatrix}/{tileCol}/{tileRow}"
SPEC = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
CONFORMANCE = [SPEC + name for name in (
    "core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets",
    "geodata-selection", "mvt", "oas30",
)] + [
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
]  # fmt: skip


def landing_links(request: Request) -> list[dict]:
    return [
        link(url(request, "/tileMatrixSets"), OGC_REL + "tiling-schemes", JSON, "Tile matrix sets"),
        link(url(request, "/tiles"), OGC_REL + "tilesets-vector", JSON, "Vector tiles, all layers"),
    ]


def collection_links(request: Request, layer: Layer) -> list[dict]:
    return [
        link(
            url(request, f"/collections/{layer.id}/tiles"),
            OGC_REL + "tilesets-vector",
            JSON,
            f"Vector tiles of {layer.id}",
        )
    ]


def level_offset(tms: TileMatrixSet) -> int:
    """WebMercatorQuad level minus this set's level at the same scale (0 for WebMercatorQuad)."""
    ratio = REFERENCE.matrix(0).scaleDenominator / tms.matrix(0).scaleDenominator
    return round(math.log2(ratio))


def zoom_range(layers: list[Layer], tms: TileMatrixSet) -> tuple[int, int]:
    """The levels of ``tms`` at which at least one of ``layers`` has tiles."""
    offset = level_offset(tms)
    low = min(layer.minzoom for layer in layers) - offset
    high = max(layer.maxzoom for layer in layers) - offset
    return max(low, tms.minzoom), min(max(high, 0), tms.maxzoom)


def limits(tms: TileMatrixSet, bbox: tuple[float, ...], low: int, high: int) -> list[dict]:
    """tileMatrixSetLimits: per level, the rows and columns that cover the data's extent."""
    west, south, east, north = bbox
    epsilon = 1e-9
    result = []
    for z in range(low, high + 1):
        first = tms.tile(west + epsilon, north - epsilon, z)
        last = tms.tile(east - epsilon, south + epsilon, z)
        result.append(
            {
                "tileMatrix": tms.matrix(z).id,
                "minTileRow": first.y,
                "maxTileRow": last.y,
                "minTileCol": first.x,
                "maxTileCol": last.x,
            }
        )
    return result


def union(boxes: list[tuple[float, ...] | None]) -> tuple[float, float, float, float]:
    known = [box for box in boxes if box]
    if not known:
        return PAKISTAN
    return (
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    )


def matrix_sets(request: Request) -> dict:
    return {
        "links": [link(url(request, "/tileMatrixSets"), "self", JSON, "Tile matrix sets")],
        "tileMatrixSets": [
            {
                "id": name,
                "title": tms.title,
                "uri": str(tms.uri),
                "crs": tms.model_dump(mode="json")["crs"],
                "links": [
                    link(url(request, f"/tileMatrixSets/{name}"), "self", JSON, tms.title),
                    link(url(request, f"/tileMatrixSets/{name}"), OGC_REL + "tiling-scheme", JSON),
                ],
            }
            for name, tms in MATRIX_SETS.items()
        ],
    }


def matrix_set(tms: TileMatrixSet) -> dict:
    return tms.model_dump(mode="json", exclude_none=True)


def tilesets(request: Request, base: str, title: str) -> dict:
    """The tilesets list of a collection (``base`` = /collections/{id}) or of the dataset."""
    return {
        "links": [link(url(request, f"{base}/tiles"), "self", JSON, f"Tilesets of {title}")],
        "tilesets": [
            {
                "title": f"{title}, {name}",
                "dataType": "vector",
                "crs": tms.model_dump(mode="json")["crs"],
                "tileMatrixSetURI": str(tms.uri),
                "links": [
                    link(url(request, f"{base}/tiles/{name}"), "self", JSON, f"{name} tileset"),
                    link(
                        url(request, f"/tileMatrixSets/{name}"),
                        OGC_REL + "tiling-scheme",
                        JSON,
                        tms.title,
                    ),
                    {**link(tile_url(request, base, name), "item", MVT), "templated": True},
                ],
            }
            for name, tms in MATRIX_SETS.items()
        ],
    }


def tile_url(request: Request, base: str, tms_id: str, query: str = "") -> str:
    return url(request, f"{base}/tiles/{tms_id}/") + ITEM_TEMPLATE + (f"?{query}" if query else "")


def layer_entry(layer: Layer, tms: TileMatrixSet) -> dict:
    offset = level_offset(tms)
    entry: dict = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "dataType": "vector",
        "minTileMatrix": str(max(layer.minzoom - offset, 0)),
        "maxTileMatrix": str(max(layer.maxzoom - offset, 0)),
        "propertiesSchema": {
            "type": "object",
            "properties": {
                name: MVT_TYPES[layer.source.fields[name].type] for name in layer.source.properties
            },
        },
    }
    if (dimension := DIMENSIONS.get(layer.source.geometry_type)) is not None:
        entry["geometryDimension"] = dimension
    return entry


def tileset(
    request: Request,
    base: str,
    tms_id: str,
    layers: list[Layer],
    bbox: tuple[float, float, float, float],
    title: str,
    query: str = "",
) -> dict:
    """Tileset metadata (OGC 2D Tile Matrix Set and Tileset Metadata, JSON encoding)."""
    tms = MATRIX_SETS[tms_id]
    low, high = zoom_range(layers, tms)
    suffix = f"?{query}" if query else ""
    here = url(request, f"{base}/tiles/{tms_id}") + suffix
    return {
        "title": f"{title}, {tms_id}",
        "description": "Mapbox Vector Tiles built by PostGIS. Lists (commodities, sectors) are "
        "comma-joined strings, dates ISO 8601 text; the feature id is the row id. Point layers "
        "are thinned below their maxTileMatrix to one point per 1/128 of a tile (the lowest "
        "id); tiles at maxTileMatrix hold every feature (overzoom them).",
        "dataType": "vector",
        "crs": tms.model_dump(mode="json")["crs"],
        "tileMatrixSetURI": str(tms.uri),
        "boundingBox": {"lowerLeft": list(bbox[:2]), "upperRight": list(bbox[2:]), "crs": CRS84},
        "tileMatrixSetLimits": limits(tms, bbox, low, high),
        "layers": [layer_entry(layer, tms) for layer in layers],
        "links": [
            link(here, "self", JSON, "This tileset"),
            link(
                url(request, f"/tileMatrixSets/{tms_id}"), OGC_REL + "tiling-scheme", JSON, tms_id
            ),
            {
                **link(tile_url(request, base, tms_id, query), "item", MVT, "Tiles"),
                "templated": True,
            },
        ]
        + (
            [link(here + ("&" if query else "?") + "f=tilejson", "describedby", JSON, "TileJSON")]
            if tms_id == "WebMercatorQuad"
            else []
        ),
    }


def tilejson(
    request: Request,
    base: str,
    layers: list[Layer],
    bbox: tuple[float, float, float, float],
    title: str,
    query: str = "",
) -> dict:
    """TileJSON 3.0.0 for WebMercatorQuad (MapLibre, Leaflet plugins and QGIS read it)."""
    low, high = zoom_range(layers, REFERENCE)
    template = url(request, f"{base}/tiles/WebMercatorQuad/") + "{z}/{x}/{y}"
    return {
        "tilejson": "3.0.0",
        "name": title,
        "description": "Lists are comma-joined strings; point layers are thinned below their "
        "maxzoom (one point per 1/128 of a tile, by its stored tile rank), complete at maxzoom.",
        "attribution": "; ".join(
            dict.fromkeys(a for a in (layer.attribution for layer in layers) if a)
        ),
        "scheme": "xyz",
        "tiles": [template + (f"?{query}" if query else "")],
        "minzoom": low,
        "maxzoom": high,
        "bounds": list(bbox),
        "center": [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, max(low, 5)],
        "vector_layers": [
            {
                "id": layer.id,
                "description": layer.title,
                "minzoom": layer.minzoom,
                "maxzoom": layer.maxzoom,
                "fields": {
                    name: TILEJSON_TYPES.get(layer.source.fields[name].type, "String")
                    for name in layer.source.properties
                },
            }
            for layer in layers
        ],
    }


def openapi_paths(collection_ids: list[str]) -> tuple[dict, dict]:
    """The tiles paths and their parameters, for api/ogc/openapi.py."""

    def path_parameter(name: str, schema: dict, description: str) -> dict:
        return {
            "name": name, "in": "path", "required": True, "description": description,
            "schema": schema,
        }  # fmt: skip

    parameters = {
        "tileMatrixSetId": path_parameter(
            "tileMatrixSetId", {"type": "string", "enum": list(SUPPORTED)}, "Tile matrix set."
        ),
        "tileMatrix": path_parameter("tileMatrix", {"type": "integer", "minimum": 0}, "Level."),
        "tileCol": path_parameter("tileCol", {"type": "integer", "minimum": 0}, "Column (x)."),
        "tileRow": path_parameter("tileRow", {"type": "integer", "minimum": 0}, "Row (y)."),
        "collections": {
            "name": "collections",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "Layers of a dataset tile (default: all).",
            "schema": {"type": "array", "items": {"type": "string", "enum": collection_ids}},
        },
        "f-tileset": {
            "name": "f",
            "in": "query",
            "required": False,
            "description": "Tileset metadata (json) or TileJSON (WebMercatorQuad only).",
            "schema": {"type": "string", "enum": ["json", "tilejson"]},
        },
    }

    def ref(name: str) -> dict:
        return {"$ref": f"#/components/parameters/{name}"}

    tms, tile = ref("tileMatrixSetId"), [ref("tileMatrix"), ref("tileCol"), ref("tileRow")]
    empty = {"204": {"description": "Empty tile: no feature in it"}}
    paths = {
        "/tileMatrixSets": _path("Tile matrix sets", [], JSON),
        "/tileMatrixSets/{tileMatrixSetId}": _path("One tile matrix set", [tms], JSON),
        "/tiles": _path("Vector tilesets of all layers", [], JSON),
        "/tiles/{tileMatrixSetId}": _path(
            "Tileset metadata of all layers", [tms, ref("collections"), ref("f-tileset")], JSON
        ),
        "/tiles/{tileMatrixSetId}/tilejson.json": _path(
            "TileJSON of all layers", [tms, ref("collections")], JSON
        ),
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileCol}/{tileRow}": _path(
            "A vector tile of several layers", [tms, *tile, ref("collections")], MVT, empty
        ),
    }
    for collection in collection_ids:
        base = f"/collections/{collection}/tiles"
        paths[base] = _path(f"Vector tilesets of {collection}", [], JSON)
        paths[f"{base}/{{tileMatrixSetId}}"] = _path(
            f"Tileset metadata of {collection}", [tms, ref("f-tileset")], JSON
        )
        paths[f"{base}/{{tileMatrixSetId}}/tilejson.json"] = _path(
            f"TileJSON of {collection}", [tms], JSON
        )
        paths[f"{base}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"] = _path(
            f"A vector tile of {collection}", [tms, *tile], MVT, empty
        )
    return paths, parameters
