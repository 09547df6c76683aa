"""/basemap/{layer}.geojson: the offline basemap drawn under the map's layers.

Why served by the platform: /map must show land, sea, borders, rivers and places with no
internet (geo/basemap.py keeps them in PostGIS, migration 0016). Each layer is one small
FeatureCollection (at most a few tens of kB: data/basemap is cut to the region), built by PostGIS,
with an ETag and the API's usual cache rules, so a browser asks for it once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import errors
from api.ogc.respond import GEOJSON, send
from geo.basemap import LAYERS, layer_statement

router = APIRouter(tags=["Maps"])


@router.get("/basemap/{layer}.geojson", include_in_schema=False)
async def basemap_layer(request: Request, layer: str) -> Response:
    if layer not in LAYERS:
        return errors.exception(404, f"no basemap layer {layer!r}: one of {', '.join(LAYERS)}")
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(*layer_statement(layer))).fetchone()
    return send(request, row[0].encode(), GEOJSON)
