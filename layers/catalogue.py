"""The layer catalogue: every published layer once, read by the OGC API, the tiles and the maps.

Why one place: a layer's title, description, fields and temporal extent must agree wherever it
appears, and adding a layer should be one entry here, not edits in five modules. The store's
shape (columns and their types) comes from ``geo.models``; this module adds what people read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property

from psycopg import AsyncConnection

from geo import network
from geo.models import DERIVED, LAYERS, Base
from geo.query import Source, source_for


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    description: str
    keywords: tuple[str, ...] = ()
    temporal: tuple[str, str | None] | None = None
    """Columns giving each feature's time: (instant or start, end or None)."""
    hidden: tuple[str, ...] = ()
    """Columns not published (the geometry is always published as the geometry)."""
    attribution: str = ""
    minzoom: int = 0
    """Lowest WebMercatorQuad zoom level whose tiles carry this layer."""
    maxzoom: int = 14
    """Highest zoom with its own tiles: clients overzoom beyond it, so these tiles are complete
    (point layers are thinned below it, see geo.tiles)."""
    extra: dict = field(default_factory=dict)
    refresh: Callable[[AsyncConnection], Awaitable[None]] | None = None
    """For derived layers: brings the table up to date before it is read (cheap when it is)."""

    @property
    def model(self) -> type[Base]:
        return LAYERS[self.id] if self.id in LAYERS else DERIVED[self.id]

    @cached_property
    def source(self) -> Source:
        """How geo.query reads this layer: table, id, typed fields, temporal columns."""
        return source_for(self.model.__table__, hidden=self.hidden, temporal=self.temporal)


SERVICE_DESCRIPTION = (
    "Open geospatial data of Pakistan's mineral value chain: deposits, concessions, facilities, "
    "special economic zones and logistics corridors, as OGC API."
)
BOUNDARIES = "geoBoundaries gbOpen PAK (2019), public domain; Runfola et al. (2020), PLoS ONE 15(4)"
FACTS = "public sources named on every feature (see data/samples/SOURCES.md)"

CATALOGUE: tuple[Layer, ...] = (
    Layer(
        "deposits",
        "Mineral deposits",
        "Mineral deposits and mining projects of Pakistan: commodities, deposit type, status, "
        "resources where published, operator. Each feature names its public source; "
        "coord_quality says whether its location is sourced or an approximate estimate.",
        keywords=("mineral deposits", "mines", "copper", "gold", "coal", "rare earths"),
        temporal=("as_of", None),
        attribution=FACTS,
    ),
    Layer(
        "concessions",
        "Concession blocks (illustrative)",
        "Mineral titles (reconnaissance and exploration licences, mining leases) with holder, "
        "status and dates; area_km2 is computed on the ellipsoid. The sample blocks are "
        "ILLUSTRATIVE: no real licence polygons are public, so they are drawn around real "
        "deposits and marked illustrative = true.",
        keywords=("concessions", "licences", "mining leases", "cadastre"),
        temporal=("granted_on", "expires_on"),
        attribution="illustrative blocks around public deposit locations",
        minzoom=4,
    ),
    Layer(
        "facilities",
        "Ports and processing facilities",
        "Ports, dry ports, smelters, refineries, concentrators and power plants of the mineral "
        "value chain.",
        keywords=("ports", "smelters", "refineries", "logistics"),
        attribution=FACTS,
    ),
    Layer(
        "sezs",
        "Special economic zones",
        "CPEC special economic zones with approximate locations and areas (acres).",
        keywords=("special economic zones", "SEZ", "CPEC", "industrial parks"),
        attribution=FACTS,
    ),
    Layer(
        "corridors",
        "Logistics corridors",
        "Highways, motorways and railways (N-25, M-8, N-35 Karakoram Highway, ML-1, ...). "
        "Sample lines run through town-centre waypoints, so length_km is shorter than the real "
        "route; published_length_km gives the published figure where known.",
        keywords=("roads", "railways", "CPEC", "corridors"),
        attribution=FACTS,
        maxzoom=12,
    ),
    Layer(
        "links",
        "Deposit links: access, nearest SEZ, nearest port",
        "For every deposit, three links: where it joins the nearest corridor (access, a straight "
        "line), and its nearest special economic zone and port by network distance, with the "
        "route (access leg, road/rail network, access leg at the far end). km on the ellipsoid; "
        "hours at assumed average speeds (road 45 km/h, rail 30 km/h, off-network 20 km/h, 6 h "
        "per road-rail transshipment). Rebuilt from corridors and sites whenever they change. "
        "A link that cannot exist has no geometry and a reason. Corridors are drawn through town "
        "centres, so network km are shorter than real roads (N-25 by about 8%).",
        keywords=("logistics", "routes", "network", "ports", "SEZ", "pgRouting"),
        attribution="derived from the corridors, deposits, SEZs and ports layers",
        refresh=network.ensure_current,
        minzoom=5,  # three lines per deposit: a tangle below a province's scale
    ),
    Layer(
        "provinces",
        "Provinces and territories",
        "Pakistan's provinces and territories (ADM1). Boundaries are indicative, not official.",
        keywords=("administrative boundaries", "provinces"),
        attribution=BOUNDARIES,
        maxzoom=10,
    ),
    Layer(
        "districts",
        "Districts",
        "Pakistan's districts (ADM2), with the province each lies in. Boundaries are "
        "indicative, not official.",
        keywords=("administrative boundaries", "districts"),
        attribution=BOUNDARIES,
        minzoom=4,
        maxzoom=12,
    ),
)

BY_ID: dict[str, Layer] = {layer.id: layer for layer in CATALOGUE}


def get(layer_id: str) -> Layer | None:
    return BY_ID.get(layer_id)
