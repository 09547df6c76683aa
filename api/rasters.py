"""Rasters over HTTP: collection metadata, PNG map tiles and legend, GeoTIFF subsets, values at
points or at the sites of a point layer, and zonal statistics per polygon of a vector layer.

Why these shapes: a geologist asks "what is the value here" (``sample?points=``), "what is it at
each of my deposits" (``sample?collection=deposits``: the same GeoJSON they already read, with the
value as a property) and "what does each concession block hold" (``zonal?collection=concessions``).
The catalogue row comes from PostGIS; pixel work runs in a thread on the COG. Every bad input is an
OGC exception (400/404), never a 500: this module raises ``HTTPException`` for what it refuses, and
``api.errors`` answers it and the store's ``RasterError``s (and an unreadable file, without its
path on the server).
"""

from __future__ import annotations

import math
import re

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import pool_for, session
from api.ogc.html import answer
from api.ogc.params import IGNORED
from api.ogc.respond import GEOJSON, HTML, JSON, link, send, url, wants_html
from geo import raster_read
from geo.raster import RasterInfo, read_rasters
from geo.zonal import ZONES, zonal_rows, zones_statement

router = APIRouter(tags=["Rasters"])
endpoint = router.api_route
PNG, TIFF = "image/png", "image/tiff; application=geotiff"
MAX_SITES = 10_000
# ASCII digits only (str.isdigit also takes "²", which int() refuses), and few enough of them.
WHOLE = re.compile(r"[0-9]{1,9}")
IDS = re.compile(r"[0-9]{1,18}(,[0-9]{1,18})*")


async def raster_or_404(request: Request, name: str) -> RasterInfo:
    async with pool_for(request).connection() as conn:
        found = await read_rasters(conn, name)
    if not found:
        raise HTTPException(404, f"no raster {name!r}; see /rasters")
    return found[0]


def only(request: Request, *allowed: str) -> None:
    unknown = set(request.query_params) - set(allowed) - {"f", *IGNORED}
    if unknown:
        raise HTTPException(
            400, f"unknown parameter(s) {', '.join(sorted(unknown))}; use {', '.join(allowed)}"
        )


def describe(request: Request, info: RasterInfo) -> dict:
    """The raster as an OGC API collection (Coverages-style: extent, CRS, bands, links)."""
    base = f"/collections/{info.name}"
    tiles = f"{base}/map/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png"
    return {
        "id": info.name,
        "title": info.title,
        "titles": {"en": info.title, "zh": info.title_zh, "ur": info.title_ur},
        "description": info.description,
        "itemType": "coverage",
        "extent": {"spatial": {"bbox": [list(info.bbox)], "crs": "OGC:CRS84"}},
        "storageCrs": info.crs,
        "resolution": info.resolution,
        "size": [info.width, info.height],
        "bands": [
            {"index": i + 1, "name": n, "dtype": info.dtype, "units": info.units}
            for i, n in enumerate(info.band_names)
        ],
        "nodata": info.nodata,
        "source": info.source,
        "derived": info.derived,
        "derivedFrom": info.derived_from,
        "links": [
            link(url(request, base), "self", JSON, info.title),
            link(url(request, base, f="html"), "alternate", HTML, info.title),
            link(url(request, f"{base}/coverage"), "http://www.opengis.net/def/rel/ogc/1.0/coverage",
                 TIFF, "Coverage subset (add bbox=minLon,minLat,maxLon,maxLat)"),
            {**link(url(request, tiles).replace("%7B", "{").replace("%7D", "}"), "item", PNG,
                    "Map tiles (PNG, WebMercatorQuad)"), "templated": True},
            link(url(request, f"{base}/legend"), "describedBy", JSON, "Legend of the map tiles"),
            link(url(request, f"{base}/sample"), "related", GEOJSON,
                 "Values at points (points=lon,lat;lon,lat) or at sites (collection=deposits)"),
            link(url(request, f"{base}/zonal", collection="concessions"), "related", JSON,
                 "Zonal statistics per concession block"),
        ],
    }  # fmt: skip


async def catalogue(request: Request) -> list[RasterInfo]:
    """Every registered raster's catalogue row."""
    async with pool_for(request).connection() as conn:
        return await read_rasters(conn)


async def collection_documents(request: Request) -> list[dict]:
    """Every raster as a collection document (for ``/collections``)."""
    return [describe(request, i) for i in await catalogue(request)]


async def collection_response(request: Request, name: str) -> Response | None:
    """``/collections/{raster}`` as JSON or as its page; None when there is no such raster.

    The page also draws the legend (the /legend document), so it is added for HTML only.
    """
    async with pool_for(request).connection() as conn:
        found = await read_rasters(conn, name)
    if not found:
        return None
    info = found[0]
    document = describe(request, info)
    if wants_html(request):
        document["legend"] = raster_read.legend(info)
    return answer(request, document, "raster")


@endpoint("/rasters", methods=["GET", "HEAD"], summary="The raster catalogue")
async def rasters(request: Request) -> Response:
    only(request)
    documents = await collection_documents(request)
    return answer(request, {"rasters": documents, "links": [
        link(url(request, "/rasters"), "self", JSON, "The raster catalogue"),
        link(url(request, "/rasters", f="html"), "alternate", HTML, "As HTML"),
        link(url(request, "/map"), "related", HTML, "The map (each raster is an overlay)"),
    ]}, "rasters")  # fmt: skip


@endpoint("/collections/{name}/legend", methods=["GET", "HEAD"], summary="Legend of a raster")
async def legend(request: Request, name: str) -> Response:
    only(request, "band")
    info = await raster_or_404(request, name)
    band = info.band_index(request.query_params.get("band"))
    return send(request, raster_read.legend(info, band))


@endpoint(
    "/collections/{name}/map/tiles/WebMercatorQuad/{z}/{x}/{y}.png",
    methods=["GET", "HEAD"],
    summary="A PNG map tile of a raster",
)
async def map_tile(request: Request, name: str, z: str, x: str, y: str) -> Response:
    only(request, "band")
    if not all(WHOLE.fullmatch(v) for v in (z, x, y)):
        raise HTTPException(400, f"tile {z}/{x}/{y}: level, column and row must be whole numbers")
    info = await raster_or_404(request, name)
    band = info.band_index(request.query_params.get("band"))
    body = await run_in_threadpool(raster_read.tile, info, int(z), int(x), int(y), band)
    return send(request, body, PNG)


def numbers(name: str, text: str | None, count: int | None = None) -> list[float]:
    if not text:
        raise HTTPException(400, f"{name} is required")
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise HTTPException(400, f"{name} must be comma-separated numbers, not {text!r}") from None
    if count is not None and len(values) != count:
        raise HTTPException(400, f"{name} must be {count} numbers, not {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise HTTPException(400, f"{name} numbers must be finite")
    return values


@endpoint("/collections/{name}/coverage", methods=["GET", "HEAD"], summary="A GeoTIFF subset")
async def coverage(request: Request, name: str) -> Response:
    only(request, "bbox")
    bbox = numbers("bbox (minLon,minLat,maxLon,maxLat in CRS84)",
                   request.query_params.get("bbox"), 4)  # fmt: skip
    info = await raster_or_404(request, name)
    body = await run_in_threadpool(raster_read.subset, info, bbox)
    headers = {"Content-Disposition": f'attachment; filename="{name}.tif"'}
    return send(request, body, TIFF, headers)


def parse_points(text: str) -> list[tuple[float, float]]:
    points = []
    for part in text.strip(";").split(";"):
        lon, lat = numbers("points (lon,lat;lon,lat)", part, 2)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise HTTPException(400, f"point {part!r} is not lon,lat in degrees")
        points.append((lon, lat))
    if len(points) > raster_read.MAX_POINTS:
        raise HTTPException(
            400, f"at most {raster_read.MAX_POINTS} points per request, not {len(points)}"
        )
    return points


@endpoint("/collections/{name}/sample", methods=["GET", "HEAD"], summary="Values at points")
async def sample(request: Request, name: str) -> Response:
    only(request, "points", "collection", "band")
    params = request.query_params
    if ("points" in params) == ("collection" in params):
        raise HTTPException(400, "give either points=lon,lat;lon,lat or collection=deposits")
    info = await raster_or_404(request, name)
    band = info.band_index(params.get("band"))
    if "points" in params:
        points = parse_points(params["points"])
        ids: list = list(range(1, len(points) + 1))
        labels: list = [None] * len(points)
    else:
        layer = params["collection"]
        if layer not in raster_read.SITES:
            raise HTTPException(
                400, f"collection must be one of {', '.join(raster_read.SITES)}, not {layer!r}"
            )
        async with session(request) as conn:
            cursor = await conn.execute(raster_read.sites_statement(layer, MAX_SITES + 1))
            rows = await cursor.fetchall()
        if len(rows) > MAX_SITES:
            raise HTTPException(400, f"{layer} has more than {MAX_SITES} sites: sample points")
        ids, labels = [r[0] for r in rows], [r[1] for r in rows]
        points = [(r[2], r[3]) for r in rows]
    values = []
    for start in range(0, len(points), raster_read.MAX_POINTS):
        chunk = points[start : start + raster_read.MAX_POINTS]
        values += await run_in_threadpool(raster_read.sample, info, chunk, band)
    key = info.name if band == 1 else f"{info.name}_{info.band_names[band - 1]}"
    features = [
        {
            "type": "Feature",
            "id": i,
            "geometry": {"type": "Point", "coordinates": list(p)},
            "properties": {**({"name": n} if n is not None else {}), key: v},
        }
        for i, n, p, v in zip(ids, labels, points, values, strict=True)
    ]
    document = {"type": "FeatureCollection", "raster": info.name, "units": info.units,
                "band": info.band_names[band - 1], "features": features}  # fmt: skip
    return send(request, document, GEOJSON)


@endpoint("/collections/{name}/zonal", methods=["GET", "HEAD"], summary="Zonal statistics")
async def zonal(request: Request, name: str) -> Response:
    only(request, "collection", "all_touched", "band", "ids")
    params = request.query_params
    layer = params.get("collection", "concessions")
    if layer not in ZONES:
        raise HTTPException(400, f"collection must be one of {', '.join(ZONES)}, not {layer!r}")
    touched = params.get("all_touched", "false")
    if touched not in ("true", "false"):
        raise HTTPException(400, f"all_touched must be true or false, not {touched!r}")
    ids = None
    if params.get("ids"):
        if not IDS.fullmatch(params["ids"]):
            raise HTTPException(400, "ids must be comma-separated feature ids")
        ids = [int(p) for p in params["ids"].split(",")]
    info = await raster_or_404(request, name)
    band = info.band_index(params.get("band"))
    async with session(request) as conn:
        cursor = await conn.execute(*zones_statement(info, layer, ids))
        rows = await cursor.fetchall()
    zones = await run_in_threadpool(zonal_rows, info, rows, band, touched == "true")
    document = {
        "raster": info.name,
        "band": info.band_names[band - 1],
        "units": info.units,
        "collection": layer,
        "all_touched": touched == "true",
        "zones": zones,
    }
    return send(request, document)
