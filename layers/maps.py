"""The interactive map of the catalogue, built with folium: /map serves it, `emining map` writes it.

Why folium and a script of our own: folium lays out the Leaflet map, its layer groups, marker
clusters and layer control from Python; what must happen in the browser (fetching the OGC items,
drawing vector tiles, switching language, showing a deposit's links) is
``api/static/emining-map.js``, driven by one JSON configuration that this module writes from the
catalogue. Nothing is fetched from the internet: folium's CDN URLs are replaced by the copies
vendored under ``api/static/``, and a standalone file carries them inline with its layers' data.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import orjson
import psycopg
from branca.element import Element, MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

from geo import basemap, network
from geo.query import ItemsQuery, items_statement
from geo.raster import list_rasters
from geo.settings import MAP_EMBED_MAX
from geo.validate import EXTENT
from layers import i18n, map_fonts, map_rasters, map_texts, terms
from layers.catalogue import CATALOGUE, Layer
from layers.map_rasters import MapRaster

EMBED_MAX = MAP_EMBED_MAX
"""Rows above which a layer is drawn from vector tiles instead of embedded GeoJSON."""
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
ICON = "favicon.svg"
BOUNDS = [[EXTENT[1], EXTENT[0]], [EXTENT[3], EXTENT[2]]]
LINKS = "links"
CSS = ("fonts/fonts.css", "leaflet/leaflet.css", "markercluster/MarkerCluster.css",
       "markercluster/MarkerCluster.Default.css", "emining-map.css")  # fmt: skip
FEATURED = ("copper", "gold")
"""Commodities drawn on their own, never inside a cluster, so that the first view shows them."""
JS = ("leaflet/leaflet.js", "markercluster/leaflet.markercluster.js",
      "vectorgrid/Leaflet.VectorGrid.bundled.min.js", "emining-map.js",
      "emining-i18n.js", "emining-rasters.js", "emining-basemap.js")  # fmt: skip
BASEMAP_ATTRIBUTION = (
    '<a href="https://www.naturalearthdata.com/">Natural Earth</a> (public domain), '
    '<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)'
)


@dataclass(frozen=True)
class MapLayer:
    """One catalogue layer and where the browser gets its features (exactly one of three)."""

    layer: Layer
    total: int | None
    """Its rows as the caller sees them; None when only known to be over the limit (the page
    asks ``/map/totals`` when the layer is shown)."""
    url: str | None = None
    """The OGC items endpoint, asked for at most EMBED_MAX features."""
    data: bytes | None = None
    """Features inlined: a JSON array of GeoJSON features built by PostGIS."""
    tiles: str | None = None
    """A Mapbox Vector Tile URL template ({z}/{x}/{y}) whose layer is named after the layer."""
    shown: int | None = None
    """How many features the data holds when it is not all of them."""


@dataclass(frozen=True)
class Assets:
    """The vendored JS/CSS: linked from ``url`` (served) or inlined (standalone) when it is None."""

    folder: Path
    url: str | None = None
    font_cache: Path | None = None
    """Where a standalone page's font subsets are kept and reused (``map_fonts.subset_font``)."""

    def tags(self, vector_tiles: bool, text: str = "") -> str:
        """``text``: what the page shows, whose characters choose the inlined font chunks."""
        scripts = [js for js in JS if vector_tiles or "vectorgrid" not in js]
        if self.url is not None:
            links = [f'<link rel="icon" href="{self.url}/{ICON}" type="image/svg+xml">']
            links += [f'<link rel="stylesheet" href="{self.url}/{css}">' for css in CSS]
            return "\n".join(links + [f'<script src="{self.url}/{js}"></script>' for js in scripts])
        icon = base64.b64encode((self.folder / ICON).read_bytes()).decode()
        styles = [f'<link rel="icon" href="data:image/svg+xml;base64,{icon}">']
        styles += [f"<style>{map_fonts.inline_css(self.folder, text, self.font_cache)}</style>"]
        styles += [f"<style>{self._css(css)}</style>" for css in CSS if css != map_fonts.CSS]
        return "\n".join(styles + [f"<script>{self._read(js)}</script>" for js in scripts])

    def _read(self, name: str) -> str:
        text = (self.folder / name).read_text(encoding="utf-8")
        if "</script" in text.lower() or "</style" in text.lower():
            raise ValueError(f"{name} cannot be inlined: it contains a closing tag")
        return text

    def _css(self, name: str) -> str:
        """A stylesheet with its images as data: URLs, so a file opened from disk asks for none."""
        base = (self.folder / name).parent

        def inline(match: re.Match) -> str:
            image = base / match.group(1)
            encoded = base64.b64encode(image.read_bytes()).decode()
            return f"url(data:image/png;base64,{encoded})"

        return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, self._read(name))


class _Start(MacroElement):
    """The last script of the page: hands folium's Leaflet objects to emining-map.js."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "EMiningMap.init({map: {{ this.map }}, control: {{ this.control }}, "
        "groups: { {% for id, name in this.groups %}{{ id|tojson }}: {{ name }}, {% endfor %} }}, "
        "JSON.parse(document.getElementById('emining-config').textContent));"
        "{% endmacro %}"
    )

    def __init__(self, map_name: str, control: str, groups: list[tuple[str, str]]):
        super().__init__()
        self.map, self.control, self.groups = map_name, control, groups


def _texts(table: dict[str, i18n.Text]) -> dict[str, dict[str, str]]:
    return {key: text.as_dict() for key, text in table.items()}


def _layer_config(item: MapLayer, items_base: str | None) -> dict:
    layer = item.layer
    if item.tiles:
        source = {"kind": "tiles", "url": item.tiles, "layer": layer.id,
                  "minzoom": layer.minzoom, "maxzoom": layer.maxzoom}  # fmt: skip
    elif item.url:
        source = {"kind": "url", "url": item.url}
    else:
        source = {"kind": "inline", "data": orjson.Fragment(item.data or b"[]")}
    return {
        "id": layer.id,
        "title": layer.text.title.as_dict(),
        "description": layer.text.description.as_dict(),
        "attribution": layer.attribution,
        "style": layer.style.as_dict(),
        "popup": layer.popup.as_dict(),
        "cluster": layer.cluster and not item.tiles,
        "featured": list(FEATURED) if layer.style.by == "commodities" else [],
        "source": source,
        "total": item.total,
        "shown": item.shown,
        "details": f"{items_base}/{layer.id}/items" if items_base else None,
        # A deposit's page for investors (api/sites.py), beside the root of /collections.
        "site": f"{items_base.removesuffix('/collections')}/sites"
        if items_base and layer.id == "deposits"
        else None,
    }


def build_map(
    layers: Sequence[MapLayer],
    assets: Assets,
    *,
    lang: str = i18n.DEFAULT,
    basemap: str | None = None,
    links: MapLayer | None = None,
    items_base: str | None = None,
    rasters: Sequence[MapRaster] = (),
    offline: dict | None = None,
    totals: str | None = None,
) -> str:
    """The map as one HTML document.

    ``links``: the links collection; its ``url`` is asked ``from_layer=deposits&from_id=…`` when
    a deposit is clicked, or its inlined data is searched (standalone). ``items_base``: the
    /collections URL, for "details" links to each feature's page (None in a standalone file).
    ``rasters``: overlays under the vector layers, off at first (``layers.map_rasters``).
    ``offline``: the platform's own basemap, ``{"url": ".../basemap/all.json"}`` or
    ``{"data": {layer: FeatureCollection bytes}}`` (``geo.basemap``); drawn under everything.
    ``totals``: the URL answering the exact totals of layers planned without one (``/map/totals``).
    """
    lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    shown = [*layers, *([links] if links else [])]
    figure = folium.Figure(title=i18n.UI["map_title"][lang])
    # maxZoom: with no tile layer Leaflet has none, and marker clustering needs one.
    m = folium.Map(
        location=[30.4, 69.3], zoom_start=5, tiles=None, maxZoom=18, minZoom=3, zoomSnap=0.25
    )
    m.default_js, m.default_css = [], []  # replaced by the vendored copies below
    m.add_to(figure)
    vector_tiles = any(item.tiles for item in shown)
    if basemap:
        folium.TileLayer(
            basemap,
            attr=OSM_ATTRIBUTION if basemap == OSM else "basemap",
            name=i18n.UI["basemap"][lang],
            overlay=False,
            control=True,
        ).add_to(m)
    groups: list[tuple[str, str]] = []
    for item in shown:
        name = item.layer.title_in(lang)
        if item.layer.cluster and not item.tiles:
            group = MarkerCluster(name=name, show=item.layer.visible, options=CLUSTER)
            group.default_js, group.default_css = [], []
        else:
            group = folium.FeatureGroup(name=name, show=item.layer.visible)
        group.add_to(m)
        groups.append((item.layer.id, group.get_name()))
    groups += map_rasters.add_to(m, rasters, lang)
    # Collapsed to its button (opened by a tap or hover) so that it covers no marker on a phone.
    control = folium.LayerControl(collapsed=True, position="topright")
    control.add_to(m)
    config = {
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "rtl": sorted(i18n.RTL),
        "ui": {**_texts(i18n.UI), **_texts(map_texts.UI)},
        "places": _texts(map_texts.PROVINCES),
        "units": _texts(map_texts.UNITS),
        "reasons": map_texts.REASONS,
        "fields": _texts(i18n.FIELDS),
        "terms": _texts(terms.TERMS),
        "bounds": BOUNDS,
        "layers": [_layer_config(item, items_base) for item in layers],
        "links": _layer_config(links, items_base) if links else None,
        "rasters": [map_rasters.config(r) for r in rasters],
        "basemap": _offline(offline),
        "totals": totals,
    }
    payload = orjson.dumps(config).replace(b"<", b"\\u003c").decode()
    figure.header.add_child(Element(assets.tags(vector_tiles, payload)), name="emining_assets")
    figure.html.add_child(
        Element(f'<script type="application/json" id="emining-config">{payload}</script>'),
        name="emining_config",
    )
    _Start(m.get_name(), control.get_name(), groups).add_to(m)
    return figure.render()


def _offline(offline: dict | None) -> dict | None:
    if offline is None:
        return None
    found = {"attribution": BASEMAP_ATTRIBUTION, "url": offline.get("url")}
    if "data" in offline:
        found["data"] = {k: orjson.Fragment(v) for k, v in offline["data"].items()}
    return found


CLUSTER = {"disableClusteringAtZoom": 9, "maxClusterRadius": 45, "showCoverageOnHover": False}


def plan(
    layer: Layer,
    count: int,
    base: str,
    tiles: str | None,
    limit: int = EMBED_MAX,
    exact: bool = True,
) -> MapLayer:
    """Where the served map gets a layer: its items (small layers) or vector tiles (big ones).

    ``tiles``: the MVT URL template with ``{collection}``, or None when the API serves no tiles
    (a big layer then shows its first ``limit`` features, and the legend says so). ``count``:
    the caller's rows, or, when not ``exact``, counted only up to ``limit + 1`` (enough to plan;
    the total is then None).
    """
    total = count if exact or count <= limit else None
    if count > limit and tiles:
        return MapLayer(layer, total, tiles=tiles.replace("{collection}", layer.id))
    columns = ",".join(_columns(layer))
    url = f"{base}/collections/{layer.id}/items?limit={limit}&properties={columns}"
    return MapLayer(layer, total, url=url, shown=min(count, limit) if count > limit else None)


def _columns(layer: Layer) -> tuple[str, ...]:
    """The columns a map reads: the popup's, the style's, the links' endpoints, and the records
    nested in a feature (a deposit's resources, which its popup lists)."""
    names = [*layer.popup.columns, *([layer.style.by] if layer.style.by else [])]
    names += ["name_zh", "name_ur"]  # titles in the map's language, where the store has them
    if layer.id == LINKS:
        names += ["from_layer", "from_id", "kind", "km", "hours", "to_name", "road_km", "rail_km",
                  "transfers", "access_detour", "access_kmh"]  # fmt: skip
    names += [name for name, _ in layer.source.nested]
    return tuple(n for n in dict.fromkeys(names) if n in layer.source.published)


def read_layer(conn: psycopg.Connection, layer: Layer, limit: int = EMBED_MAX) -> MapLayer:
    """A layer's features for a standalone map: at most ``limit`` of them, built by PostGIS."""
    query = ItemsQuery(properties=_columns(layer), limit=limit)
    statement, params = items_statement(layer.source, query)
    total, returned, features = conn.execute(statement, params).fetchone()
    return MapLayer(
        layer, total, data=features.encode(), shown=returned if returned < total else None
    )


async def refresh_derived(url: str) -> None:
    """Bring derived layers (links) up to date before a standalone map is written (the CLI's
    ``emining map``, not a request: the API's readers never rebuild)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        if await network.stale(conn):
            await network.rebuild(conn, wait=True)


def standalone(
    conn: psycopg.Connection,
    assets_folder: Path,
    lang: str = i18n.DEFAULT,
    font_cache: Path | None = None,
    **options,
) -> str:
    """The whole map in one file that works opened from disk: assets and data inlined.

    Derived layers are read as they are: call ``refresh_derived`` first. Rasters come as one
    picture each, with their legend and the concessions' statistics (``map_rasters.embedded``).
    ``font_cache``: a folder keeping the font subsets between builds (the CLI's is the home's).
    """
    layers = [read_layer(conn, layer) for layer in CATALOGUE if layer.id != LINKS]
    links = next((read_layer(conn, lay) for lay in CATALOGUE if lay.id == LINKS), None)
    rasters = map_rasters.embedded(conn, list_rasters(conn))
    offline = {"data": basemap.read_all(conn)}
    return build_map(
        layers,
        Assets(assets_folder, font_cache=font_cache),
        lang=lang,
        links=links,
        rasters=rasters,
        offline=offline,
        **options,
    )
