"""OGC API – Tiles (vector tiles, MVT) over the layer catalogue.

Why this shape: dependencies parse the path once (tile matrix set, level/row/column, the
collections) into typed values or an OGC exception (404 for what does not exist, 400 for what is
malformed); the handler reads the layers' change counters, takes the tile from the hot-tile
cache (keyed on them) or has PostGIS build it in one statement (geo.tiles), and answers 304
when the client holds these bytes (the ETag is their hash). Empty tiles answer 204, as OGC API
– Tiles allows, with an ETag too.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request
from morecantile import Tile, TileMatrixSet
from starlette.responses import Response

from api import tilesets
from api.auth import session
from api.ogc.params import IGNORED, FormatError, ParameterError
from api.ogc.respond import JSON, cache_control, send
from api.summaries import summaries
from api.tile_cache import FORMAT, TileCache, TileKey
from geo.tiles import TileBox, TileLayer, fetch_tile, fetch_versions
from layers.catalogue import CATALOGUE, Layer, get

DEFAULT_CACHE_BYTES = 64 * 2**20
TILE_PARAMETERS = ("f",)
TILE_VARY = "Accept-Encoding, Authorization, X-API-Key, Cookie"
"""The same on 200, 204 and 304: a tile depends on who asks (credentials or the session
cookie) and on its encoding, and a shared cache must keep one per combination."""
router = APIRouter(tags=["OGC API - Tiles"])
endpoint = partial(router.api_route, methods=["GET", "HEAD"])


def matrix_set(tms_id: str) -> TileMatrixSet:
    tms = tilesets.MATRIX_SETS.get(tms_id)
    if tms is None:
        raise HTTPException(
            404, f"no tile matrix set {tms_id!r}; use {', '.join(tilesets.SUPPORTED)}"
        )
    return tms


def collection_layer(collection_id: str) -> Layer:
    layer = get(collection_id)
    if layer is None:
        raise HTTPException(404, f"no collection {collection_id!r}; see /collections")
    return layer


def chosen_layers(request: Request) -> list[Layer]:
    """``collections=a,b`` of a dataset tile request (OGC geodata-selection), or every layer."""
    value = request.query_params.get("collections")
    if value is None or not value.strip():
        return list(CATALOGUE)
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if get(name) is None]
    if unknown:
        raise ParameterError(
            f"collections: unknown {', '.join(map(repr, unknown))}; "
            f"use {', '.join(layer.id for layer in CATALOGUE)}"
        )
    return [get(name) for name in names]


def check_parameters(request: Request, allowed: tuple[str, ...]) -> None:
    unknown = [key for key in request.query_params if key not in allowed and key not in IGNORED]
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}; use {', '.join(allowed)}"
        )


def tile_index(tms: Annotated[TileMatrixSet, Depends(matrix_set)], z: str, x: str, y: str) -> Tile:
    """Level, column, row as integers inside the matrix (404 outside it, 400 if not numbers)."""
    if not all(part.isascii() and part.isdigit() and len(part) < 10 for part in (z, x, y)):
        raise ParameterError(f"tile level, row and column must be whole numbers: {z}/{x}/{y}")
    level, column, row = int(z), int(x), int(y)
    if not tms.minzoom <= level <= tms.maxzoom:
        raise HTTPException(
            404, f"no tile matrix {level} in {tms.id} ({tms.minzoom}–{tms.maxzoom})"
        )
    matrix = tms.matrix(level)
    if not (0 <= column < matrix.matrixWidth and 0 <= row < matrix.matrixHeight):
        raise HTTPException(
            404,
            f"tile {level}/{column}/{row} is outside {tms.id} level {level} "
            f"({matrix.matrixWidth} columns, {matrix.matrixHeight} rows)",
        )
    return Tile(column, row, level)


def tile_layers(layers: list[Layer], tms: TileMatrixSet, z: int) -> list[TileLayer]:
    """The layers whose zoom range holds level ``z`` (as a WebMercatorQuad level); point
    layers below their maxzoom show that level's representatives (geo.tile_rank)."""
    level = z + tilesets.level_offset(tms)
    chosen = [layer for layer in layers if layer.minzoom <= level <= layer.maxzoom]
    thinned = {layer.id for layer in chosen
               if layer.source.geometry_type == "POINT" and level < layer.maxzoom}  # fmt: skip
    return [
        TileLayer(layer.id, layer.source, rank_zoom=level if layer.id in thinned else None)
        for layer in chosen
    ]


def tile_box(tms: TileMatrixSet, tile: Tile) -> TileBox:
    bounds = tms.xy_bounds(tile)
    srid = tms.crs.to_epsg() or 4326  # OGC:CRS84 has no EPSG code; PostGIS 4326 is lon/lat
    web_mercator = (tile.z, tile.x, tile.y) if tms.id == "WebMercatorQuad" else None
    return TileBox(srid, tuple(bounds), web_mercator)


def cache(request: Request) -> TileCache:
    state = request.app.state
    if getattr(state, "tile_cache", None) is None:
        size = getattr(state.settings, "tile_cache_bytes", DEFAULT_CACHE_BYTES)
        state.tile_cache = TileCache(size)
    return state.tile_cache


async def serve_tile(
    request: Request, tms: TileMatrixSet, tile: Tile, layers: list[Layer]
) -> Response:
    chosen = tile_layers(layers, tms, tile.z)
    async with session(request, layers) as conn:
        database, versions = await fetch_versions(conn)
    key = TileKey(
        database,
        tuple((layer.name, versions.get(layer.name, 0)) for layer in chosen),
        tms.id, tile.z, tile.x, tile.y,
        tuple(layer.name for layer in chosen),
        request.state.claims.audience,
    )  # fmt: skip
    headers = {"Cache-Control": cache_control(request), "Vary": TILE_VARY}

    async def build() -> bytes:
        if not chosen:
            return b""
        async with session(request) as conn:
            return await fetch_tile(conn, chosen, tile_box(tms, tile))

    body, headers["X-Tile-Cache"] = await cache(request).fetch(key, build)
    # The ETag is the tile's own content: a write to a row this caller cannot see changes the
    # layer's counter (so the cache key) but not these bytes, and must not change the ETag
    # either (an anonymous ETag that moved told that a hidden row was written).
    headers["ETag"] = content_etag(body)
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if not body:
        return Response(status_code=204, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        zipped = dataclasses.replace(key, encoding="gzip")
        body, _ = await cache(request).fetch(zipped, lambda: compress(body))
        headers["Content-Encoding"] = "gzip"  # so the app's GZip middleware leaves it alone
    return Response(body, media_type=tilesets.MVT, headers=headers)


def content_etag(tile: bytes) -> str:
    return '"' + hashlib.blake2b(FORMAT.encode() + tile, digest_size=16).hexdigest() + '"'


async def compress(tile: bytes) -> bytes:
    """gzip at level 6, in a thread, once per tile version (the gzipped tile is cached too).

    Why not the app's GZip middleware: it compresses every response again; a 900 KB z5 tile
    costs 56 ms at level 6 (210 ms at Starlette's default 9), and a map's first view holds
    several such tiles.
    """
    return await anyio.to_thread.run_sync(lambda: gzip.compress(tile, 6, mtime=0))


def metadata_format(request: Request, tms_id: str) -> str:
    """``f=json`` (default) or ``f=tilejson`` (WebMercatorQuad only) for tileset metadata."""
    f = request.query_params.get("f", "json").lower()
    if f not in ("json", "tilejson"):
        raise FormatError(f"f must be json or tilejson for tileset metadata, not {f!r}")
    if f == "tilejson" and tms_id != "WebMercatorQuad":
        raise ParameterError("TileJSON describes WebMercatorQuad tiles only")
    return f


async def bbox_of(request: Request, layers: list[Layer]) -> tuple[float, float, float, float]:
    async with session(request, layers) as conn:
        known = await summaries(request, conn, layers)
    return tilesets.union([known[layer.id].bbox for layer in layers])


async def describe(
    request: Request, base: str, tms: TileMatrixSet, layers: list[Layer], title: str, f: str
) -> Response:
    """Tileset metadata or TileJSON; a dataset subset's links keep its ``collections=``."""
    selected = request.query_params.get("collections")
    query = urlencode({"collections": ",".join(layer.id for layer in layers)}) if selected else ""
    bbox = await bbox_of(request, layers)
    if f == "tilejson":
        return send(request, tilesets.tilejson(request, base, layers, bbox, title, query), JSON)
    document = tilesets.tileset(request, base, tms.id, layers, bbox, title, query)
    return send(request, document, JSON)


@endpoint("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request) -> Response:
    check_parameters(request, ("f",))
    return send(request, tilesets.matrix_sets(request), JSON)


@endpoint("/tileMatrixSets/{tms_id}", summary="One tile matrix set")
async def tile_matrix_set(
    request: Request, tms: Annotated[TileMatrixSet, Depends(matrix_set)]
) -> Response:
    check_parameters(request, ("f",))
    return send(request, tilesets.matrix_set(tms), JSON)


@endpoint("/collections/{collection_id}/tiles", summary="Tilesets of a collection")
async def collection_tilesets(
    request: Request, layer: Annotated[Layer, Depends(collection_layer)]
) -> Response:
    check_parameters(request, ("f",))
    return send(request, tilesets.tilesets(request, f"/collections/{layer.id}", layer.title), JSON)


@endpoint("/collections/{collection_id}/tiles/{tms_id}", summary="Tileset metadata")
async def collection_tileset(
    request: Request,
    layer: Annotated[Layer, Depends(collection_layer)],
    tms: Annotated[TileMatrixSet, Depends(matrix_set)],
) -> Response:
    check_parameters(request, ("f",))
    f = metadata_format(request, tms.id)
    return await describe(request, f"/collections/{layer.id}", tms, [layer], layer.title, f)


@endpoint("/collections/{collection_id}/tiles/{tms_id}/tilejson.json", summary="TileJSON")
async def collection_tilejson(
    request: Request,
    layer: Annotated[Layer, Depends(collection_layer)],
    tms: Annotated[TileMatrixSet, Depends(matrix_set)],
) -> Response:
    check_parameters(request, ())
    if tms.id != "WebMercatorQuad":
        raise ParameterError("TileJSON describes WebMercatorQuad tiles only")
    base = f"/collections/{layer.id}"
    return await describe(request, base, tms, [layer], layer.title, "tilejson")


@endpoint("/collections/{collection_id}/tiles/{tms_id}/{z}/{x}/{y}", summary="A vector tile")
async def collection_tile(
    request: Request,
    layer: Annotated[Layer, Depends(collection_layer)],
    tms: Annotated[TileMatrixSet, Depends(matrix_set)],
    tile: Annotated[Tile, Depends(tile_index)],
) -> Response:
    check_parameters(request, TILE_PARAMETERS)
    if request.query_params.get("f", "mvt") != "mvt":
        raise FormatError("f must be mvt for a tile")
    low, high = tilesets.zoom_range([layer], tms)
    if not low <= tile.z <= high:
        raise HTTPException(
            404, f"{layer.id} has tiles at {tms.id} levels {low}–{high}, not {tile.z}"
        )
    return await serve_tile(request, tms, tile, [layer])


DATASET_TITLE = "All layers"


@endpoint("/tiles", summary="Tilesets of the dataset (all layers)")
async def dataset_tilesets(request: Request) -> Response:
    check_parameters(request, ("f",))
    return send(request, tilesets.tilesets(request, "", DATASET_TITLE), JSON)


@endpoint("/tiles/{tms_id}", summary="Tileset metadata of the dataset")
async def dataset_tileset(
    request: Request,
    tms: Annotated[TileMatrixSet, Depends(matrix_set)],
    layers: Annotated[list[Layer], Depends(chosen_layers)],
) -> Response:
    check_parameters(request, ("f", "collections"))
    f = metadata_format(request, tms.id)
    return await describe(request, "", tms, layers, DATASET_TITLE, f)


@endpoint("/tiles/{tms_id}/tilejson.json", summary="TileJSON of the dataset")
async def dataset_tilejson(
    request: Request,
    tms: Annotated[TileMatrixSet, Depends(matrix_set)],
    layers: Annotated[list[Layer], Depends(chosen_layers)],
) -> Response:
    check_parameters(request, ("collections",))
    if tms.id != "WebMercatorQuad":
        raise ParameterError("TileJSON describes WebMercatorQuad tiles only")
    return await describe(request, "", tms, layers, DATASET_TITLE, "tilejson")


@endpoint("/tiles/{tms_id}/{z}/{x}/{y}", summary="A vector tile of several layers")
async def dataset_tile(
    request: Request,
    tms: Annotated[TileMatrixSet, Depends(matrix_set)],
    tile: Annotated[Tile, Depends(tile_index)],
    layers: Annotated[list[Layer], Depends(chosen_layers)],
) -> Response:
    check_parameters(request, ("f", "collections"))
    if request.query_params.get("f", "mvt") != "mvt":
        raise FormatError("f must be mvt for a tile")
    low, high = tilesets.zoom_range(layers, tms)
    if not low <= tile.z <= high:
        raise HTTPException(404, f"these layers have tiles at {tms.id} levels {low}–{high}")
    return await serve_tile(request, tms, tile, layers)
