"""The raster endpoints (``api/rasters.py``) in the OpenAPI document: paths per registered raster.

Why per raster rather than one templated ``/collections/{raster}/…``: the document already
lists each vector collection's own paths, and with the raster's name and band names written
in, a client (or schemathesis) calls rasters that exist, with bands they have, instead of
guessing names that answer 404. The document is written from the catalogue rows on each request,
so a raster added with ``emining raster add`` appears at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.ogc.oas import operation, query, ref
from api.ogc.respond import GEOJSON, JSON
from api.rasters import PNG, TIFF
from geo.raster import RasterInfo
from geo.raster_read import MAX_POINTS, SITES
from geo.zonal import ZONES


def band(info: RasterInfo) -> dict:
    numbers = [str(i) for i in range(1, info.bands + 1)]
    return query(
        "band",
        {"type": "string", "enum": [*numbers, *(n for n in info.band_names if n not in numbers)]},
        f"Band by number or name (default 1, {info.band_names[0]}).",
        allowEmptyValue=True,  # band= is the default band
    )


PARAMETERS = {
    "raster-bbox": query(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        "minLon,minLat,maxLon,maxLat (CRS84) of the subset; whole cells, in the raster's CRS.",
        required=True,
        style="form",
        explode=False,
    ),
    "points": query(
        "points",
        {"type": "string"},
        f"lon,lat;lon,lat… (CRS84), at most {MAX_POINTS} points. Not with collection.",
    ),
    "sites": query(
        "collection",
        {"type": "string", "enum": list(SITES)},
        "Every site of this point layer, with its name and value. Not with points.",
    ),
    "zones": query(
        "collection",
        {"type": "string", "enum": list(ZONES), "default": "concessions"},
        "Polygon layer whose features get statistics.",
    ),
    "all_touched": query(
        "all_touched",
        {"type": "boolean", "default": False},
        "Count every cell a polygon touches, not only those whose centre is inside.",
    ),
    "ids": query(
        "ids",
        {"type": "string", "pattern": "^[0-9]{1,18}(,[0-9]{1,18})*$"},
        "Only these features (comma-separated ids).",
        allowEmptyValue=True,
    ),
}


def openapi_paths(infos: Sequence[RasterInfo]) -> tuple[dict, dict]:
    """``/rasters`` and each raster's paths, and the parameters they share."""
    paths = {"/rasters": operation("The raster catalogue", [ref("f")], JSON, html=True)}
    tile = [ref("tileMatrix"), ref("tileCol"), ref("tileRow")]
    for info in infos:
        base = f"/collections/{info.name}"
        name = info.name
        paths[base] = operation(info.title, [ref("f")], JSON, html=True)
        paths[f"{base}/legend"] = operation(f"Legend of {name}'s map tiles", [band(info)], JSON)
        paths[f"{base}/map/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileCol}}/{{tileRow}}.png"] = (
            operation(f"A PNG map tile of {name}", [*tile, band(info)], PNG)
        )
        paths[f"{base}/coverage"] = operation(
            f"A GeoTIFF subset of {name}", [ref("raster-bbox")], TIFF
        )
        paths[f"{base}/sample"] = operation(
            f"Values of {name} at points or at sites",
            [ref("points"), ref("sites"), band(info)],
            GEOJSON,
            description="Give either points or collection (400 with both or neither).",
        )
        paths[f"{base}/zonal"] = operation(
            f"Zonal statistics of {name} per polygon",
            [ref("zones"), ref("all_touched"), ref("ids"), band(info)],
            JSON,
            description="count of valid cells, min, max, mean, std (population) per feature.",
        )
    return paths, PARAMETERS
