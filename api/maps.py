"""/map: the folium map of the layer catalogue (``layers.maps``), its data read from this API.

Why the page reads no layer whole: the caller's exact summary (api.summaries) reads every row
the caller sees: 0.5–1 s for a million deposits, 20 s for their three million links, each checked
against its deposit by row-level security, and the first /map of each worker, audience and data
version paid for all of them before the browser could ask for a tile. So the page counts each
layer no further than the embedding limit, which is all the plan needs and exact below it; a
bigger layer's total comes from the cache when a summary is there already, otherwise the legend
asks ``/map/totals`` for it once the first view is drawn (or when the layer is switched on).

Why the page holds no features: small layers are fetched by the browser from the OGC items
endpoint (cached with ETags like every response) and big ones come as vector tiles when the API
serves them, rasters as PNG tiles with their legend and zonal statistics asked when needed, so
the page itself stays a few kilobytes whatever the store holds.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.routing import NoMatchFound

from api.auth import session
from api.ogc.params import ParameterError
from api.ogc.respond import HTML, JSON, VARY, base_url, send
from api.summaries import counts_up_to, summaries
from geo.raster import read_rasters
from layers import i18n, map_rasters
from layers.catalogue import CATALOGUE, Layer, get
from layers.maps import LINKS, OSM, Assets, MapLayer, build_map, plan

router = APIRouter(tags=["Maps"])
TILES = "/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}"


def basemap_url(value: str | None) -> str | None:
    """``osm`` for OpenStreetMap, a tile URL template, or nothing (off: the default, offline)."""
    if not value or value.lower() in ("off", "none", "0", "false"):
        return None
    return OSM if value.lower() == "osm" else value


def tiles_template(request: Request) -> str | None:
    """The MVT URL template when this app serves OGC API Tiles per collection, else None."""
    try:
        request.app.url_path_for(
            "collection_tile", collection_id="c", tms_id="WebMercatorQuad", z="0", x="0", y="0"
        )
    except NoMatchFound:
        return None
    return base_url(request) + TILES


@router.get("/map", include_in_schema=False)
async def map_page(request: Request, lang: str | None = None) -> Response:
    language = i18n.language(lang or request.headers.get("accept-language"))
    base = base_url(request)
    tiles = tiles_template(request)
    limit = request.app.state.settings.map_embed_max
    planned: dict[str, MapLayer] = {}
    # links: rebuilt first if the sites or corridors changed
    async with session(request, CATALOGUE) as conn:
        known = await summaries(request, conn, list(CATALOGUE), compute=False)
        rest = [layer for layer in CATALOGUE if layer.id not in known]
        counted = await counts_up_to(request, conn, rest, limit + 1)
        for layer in CATALOGUE:
            if layer.id in known:
                planned[layer.id] = plan(layer, known[layer.id].count, base, tiles, limit)
            else:
                planned[layer.id] = plan(layer, counted[layer.id], base, tiles, limit, exact=False)
        rasters = map_rasters.served(await read_rasters(conn), base)
    links = planned.pop(LINKS, None)
    page = build_map(
        list(planned.values()),
        Assets(request.app.state.static, f"{base}/static"),
        lang=language,
        basemap=basemap_url(request.app.state.settings.basemap),
        links=links,
        items_base=f"{base}/collections",
        rasters=rasters,
        offline={"url": f"{base}/basemap/all.json"},
        totals=f"{base}/map/totals",
    )
    headers = {"Vary": VARY + ", Accept-Language", "Content-Language": language}
    return send(request, page.encode(), HTML, headers)


def asked_layers(value: str) -> list[Layer]:
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if get(name) is None]
    if unknown or not names:
        raise ParameterError(
            f"layers: {'unknown ' + ', '.join(map(repr, unknown)) if unknown else 'none named'}"
            f"; use a comma-separated list of {', '.join(layer.id for layer in CATALOGUE)}"
        )
    return [get(name) for name in names]


@router.get("/map/totals", include_in_schema=False)
async def map_totals(request: Request, layers: str = "") -> Response:
    """``{layer: rows}`` as the caller sees them, for the legend of layers /map left uncounted."""
    chosen = asked_layers(layers)
    async with session(request, chosen) as conn:
        known = await summaries(request, conn, chosen)
    return send(request, orjson.dumps({layer.id: known[layer.id].count for layer in chosen}), JSON)
