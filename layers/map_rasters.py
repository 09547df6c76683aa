"""The raster layers of the folium map: PNG tiles from the API, or one inlined picture offline.

Why two forms: /map asks the tile endpoint for what is in view, at any zoom and whatever the
raster's size, and fetches a raster's legend when it is switched on and a concession's zonal
statistics when its popup opens (``/zonal?ids=``: live values, and the page stays small). A
standalone file has no server, so each raster is one paletted PNG of its footprint in Web Mercator
(``geo.raster_read.overlay``: 1,024 pixels on its longer side, about one image pixel per screen
pixel at the zoom the map opens; ~70 kB for the 1 km accessibility surface), and its legend and
every concession's statistics are computed while the file is written, by the same code the API
runs (``geo.zonal.zonal_rows``).

Every raster is an overlay, off at first, under the vector layers (pane ``em-rasters``); its
title is the catalogue's in the map's language. ``api/static/emining-rasters.js`` draws legends
and statistics from the configuration written here.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import psycopg
from folium.raster_layers import ImageOverlay

from geo import raster_read
from geo.raster import RasterInfo
from geo.zonal import zonal_rows, zones_statement
from layers import map_texts

PANE = "em-rasters"
OPACITY = 0.75
ZONAL_LAYERS = ("concessions",)
"""Layers whose popups show each raster's statistics over the feature."""


@dataclass(frozen=True)
class MapRaster:
    """One raster on the map: served (``tiles`` and URLs) or inlined (``image`` and data)."""

    info: RasterInfo
    tiles: str | None = None
    """PNG tile URL template ({z}/{x}/{y}) of the API."""
    legend_url: str | None = None
    zonal_url: str | None = None
    """The raster's /zonal endpoint; the map adds collection= and ids= for one feature."""
    image: str | None = None
    """The whole raster as a data: URL (standalone)."""
    legend: dict | None = None
    zonal: dict[str, dict[int, dict]] | None = None
    """Statistics per layer of ZONAL_LAYERS, per feature id (standalone)."""

    def titles(self) -> dict[str, str]:
        info = self.info
        return {
            "en": info.title,
            "zh": info.title_zh or info.title,
            "ur": info.title_ur or info.title,
        }

    def bounds(self) -> list[list[float]]:
        west, south, east, north = self.info.bbox
        return [[south, west], [north, east]]


def served(infos: Sequence[RasterInfo], base: str) -> list[MapRaster]:
    """Rasters drawn from the API at ``base`` (the /collections/{raster}/… endpoints)."""
    rasters = []
    for info in infos:
        root = f"{base}/collections/{info.name}"
        rasters.append(
            MapRaster(
                info,
                tiles=f"{root}/map/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png",
                legend_url=f"{root}/legend",
                zonal_url=f"{root}/zonal",
            )
        )
    return rasters


def embedded(conn: psycopg.Connection, infos: Sequence[RasterInfo]) -> list[MapRaster]:
    """Rasters inlined for a file with no server: picture, legend and zonal statistics."""
    rasters = []
    for info in infos:
        picture = raster_read.overlay(info)
        zonal = {}
        for layer in ZONAL_LAYERS:
            rows = conn.execute(*zones_statement(info, layer)).fetchall()
            zonal[layer] = {z.pop("id"): z for z in zonal_rows(info, rows)}
        rasters.append(
            MapRaster(
                info,
                image="data:image/png;base64," + base64.b64encode(picture.png).decode(),
                legend=raster_read.legend(info),
                zonal=zonal,
            )
        )
    return rasters


def attribution(info: RasterInfo) -> str:
    """What the map credits while the raster is shown (folium requires some text)."""
    title = html.escape(info.title)
    if info.derived:  # its inputs are table names: developer text, not a credit
        return f"{title}: computed by this platform from its own layers"
    if info.source.startswith(("http://", "https://")):
        return f'<a href="{html.escape(info.source)}">{title}</a>'
    return title


def add_to(m: folium.Map, rasters: Sequence[MapRaster], lang: str) -> list[tuple[str, str]]:
    """Each raster as an overlay of ``m`` (off at first); returns (raster id, JS variable)."""
    names = []
    for item in rasters:
        options = {
            "name": item.titles()[lang],
            "overlay": True,
            "control": True,
            "show": False,
            "pane": PANE,
            "opacity": OPACITY,
            "className": f"em-raster em-raster-{item.info.name}",
        }
        if item.tiles:
            layer = folium.TileLayer(
                item.tiles, attr=attribution(item.info), bounds=item.bounds(), **options
            )
        else:
            layer = ImageOverlay(
                item.image, item.bounds(), attribution=attribution(item.info), **options
            )
        layer.add_to(m)
        names.append((item.info.name, layer.get_name()))
    return names


def config(item: MapRaster) -> dict:
    """What emining-rasters.js reads of one raster."""
    info = item.info
    zonal: dict = {"layers": list(ZONAL_LAYERS)}
    if item.zonal is not None:
        zonal["data"] = {
            layer: {str(k): v for k, v in rows.items()} for layer, rows in item.zonal.items()
        }
    else:
        zonal["url"] = item.zonal_url
    return {
        "id": info.name,
        "raster": True,
        "title": item.titles(),
        "units": info.units,
        "band": info.band_names[0] if info.bands > 1 else None,
        "source": {"kind": "tiles" if item.tiles else "image"},
        "legend": item.legend,
        "legendUrl": item.legend_url,
        "about": about.as_dict() if (about := map_texts.RASTERS.get(info.name)) else None,
        "zonal": zonal,
    }
