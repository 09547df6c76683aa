"""/basemap/{layer}.geojson: the offline basemap drawn under the map's layers.

Why served by the platform: /map must show land, sea, borders, rivers and places with no
internet (geo/basemap.py keeps them in PostGIS, migration 0016). Each layer is one small
FeatureCollection (at most a few tens of kB: data/basemap is cut to the region), built by PostGIS,
with an ETag and the API's usual cache rules; /basemap/all.json has them all in one response.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import errors
from api.ogc.respond import GEOJSON, JSON, send
from geo.basemap import LAYERS, all_statement, layer_statement

router = APIRouter(tags=["Maps"])


@router.get("/basemap/all.json", include_in_schema=False)
async def basemap_all(request: Request) -> Response:
    """Every layer in one response, {layer: FeatureCollection}: what /map asks for (one request
    rather than six competing with the data's on the server)."""
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(all_statement())).fetchone()
    return send(request, row[0].encode(), JSON)


@router.get("/basemap/{layer}.geojson", include_in_schema=False)
async def basemap_layer(request: Request, layer: str) -> Response:
    if layer not in LAYERS:
        return errors.exception(404, f"no basemap layer {layer!r}: one of {', '.join(LAYERS)}")
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(*layer_statement(layer))).fetchone()
    return send(request, row[0].encode(), GEOJSON)
