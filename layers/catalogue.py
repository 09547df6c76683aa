"""The layer catalogue: every published layer once, read by the OGC API, the tiles and the maps.

Why one place: a layer's title, description, fields and temporal extent must agree wherever it
appears, and adding a layer should be one entry here, not edits in five modules. The store's
shape (columns and their types) comes from ``geo.models``; this module adds what people read:
texts in three languages (``layers.i18n``), symbology and popups (``layers.styles``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property

from psycopg import AsyncConnection

from geo import network
from geo.models import Base
from geo.query import Source, source_for
from geo.tables import DERIVED, LAYERS
from layers import i18n, styles
from layers.i18n import LayerText
from layers.styles import Popup, Style


@dataclass(frozen=True)
class Layer:
    id: str
    text: LayerText
    """Title and description in every language (``layers.i18n``)."""
    keywords: tuple[str, ...] = ()
    temporal: tuple[str, str | None] | None = None
    """Columns giving each feature's time: (instant or start, end or None)."""
    hidden: tuple[str, ...] = ()
    """Columns not published (the geometry is always published as the geometry)."""
    attribution: str = ""
    style: Style = styles.PROVINCES
    popup: Popup = field(default_factory=Popup)
    cluster: bool = False
    """Points gathered into clusters at low zoom on maps (many points close together)."""
    visible: bool = True
    """Shown when a map opens (the others are listed in its layer control, switched off)."""
    minzoom: int = 0
    """Lowest WebMercatorQuad zoom level whose tiles carry this layer."""
    maxzoom: int = 14
    """Highest zoom with its own tiles: clients overzoom beyond it, so these tiles are complete
    (point layers are thinned below it, see geo.tiles)."""
    extra: dict = field(default_factory=dict)
    stale: Callable[[AsyncConnection], Awaitable[bool]] | None = None
    """For derived layers: whether the table lags behind its sources (one cheap query). Readers
    are told (the ``Links-Stale`` header) and read the last complete table; rebuilding is the
    CLI's and the API's background job's (``api/network_job.py``), never a reader's."""
    counter: str = ""
    """The change counter whose version the layer's responses carry, when it is not the
    layer's own: views of the deposits change when the deposits or their resources do."""

    @property
    def editable(self) -> bool:
        """Written through the API (OGC Part 4) and kept in history: the store's own tables.
        Derived layers (links) and composed ones (projects, a view) are read-only."""
        return self.id in LAYERS

    @property
    def title(self) -> str:
        return self.text.title.en

    @property
    def description(self) -> str:
        return self.text.description.en

    def title_in(self, lang: str) -> str:
        return self.text.title[lang]

    def description_in(self, lang: str) -> str:
        return self.text.description[lang]

    @property
    def model(self) -> type[Base]:
        return LAYERS[self.id] if self.id in LAYERS else DERIVED[self.id]

    @cached_property
    def source(self) -> Source:
        """How geo.query reads this layer: table, id, typed fields, temporal columns."""
        return source_for(
            self.model.__table__,
            hidden=self.hidden,
            temporal=self.temporal,
            layer=self.counter or self.id,
        )


SERVICE_DESCRIPTION = (
    "Open geospatial data of Pakistan's mineral value chain: deposits, concessions, facilities, "
    "special economic zones and logistics corridors, as OGC API."
)
BOUNDARIES = "geoBoundaries gbOpen PAK (2019), public domain; Runfola et al. (2020), PLoS ONE 15(4)"
FACTS = "public sources named on every feature (see data/samples/SOURCES.md)"

CATALOGUE: tuple[Layer, ...] = (
    Layer(
        "deposits",
        i18n.DEPOSITS,
        keywords=("mineral deposits", "mines", "copper", "gold", "coal", "rare earths"),
        temporal=("as_of", None),
        attribution=FACTS,
        style=styles.DEPOSITS,
        popup=Popup(
            "name",
            (
                "commodities",
                "deposit_type",
                "status",
                "operator",
                "province",
                "district",
                "coord_quality",
                "coord_radius_km",
                "as_of",
            ),
            localised_titles={"zh": "name_zh", "ur": "name_ur"},
        ),
        cluster=True,
    ),
    Layer(
        "concessions",
        i18n.CONCESSIONS,
        keywords=("concessions", "licences", "mining leases", "cadastre"),
        temporal=("granted_on", "expires_on"),
        attribution="illustrative blocks around public deposit locations",
        style=styles.CONCESSIONS,
        popup=Popup(
            "licence_no",
            (
                "licence_type",
                "holder",
                "commodities",
                "status",
                "granted_on",
                "expires_on",
                "area_km2",
                "illustrative",
            ),
            link=None,
        ),
        minzoom=4,
    ),
    Layer(
        "facilities",
        i18n.FACILITIES,
        keywords=("ports", "smelters", "refineries", "logistics"),
        attribution=FACTS,
        style=styles.FACILITIES,
        popup=Popup(
            "name",
            ("kind", "status", "capacity", "operator", "province", "as_of"),
            localised_titles={"zh": "name_zh", "ur": "name_ur"},
        ),
    ),
    Layer(
        "sezs",
        i18n.SEZS,
        keywords=("special economic zones", "SEZ", "CPEC", "industrial parks"),
        attribution=FACTS,
        style=styles.SEZS,
        popup=Popup(
            "name",
            ("status", "area_acres", "sectors", "province", "coord_quality"),
            localised_titles={"zh": "name_zh", "ur": "name_ur"},
        ),
    ),
    Layer(
        "corridors",
        i18n.CORRIDORS,
        keywords=("roads", "railways", "CPEC", "corridors"),
        attribution=FACTS,
        style=styles.CORRIDORS,
        popup=Popup(
            "name",
            (
                "ref",
                "mode",
                "road_class",
                "published_length_km",
                "length_source_url",
                "length_as_of",
                "status",
                "cpec",
                "names_source",
            ),
            localised_titles={"zh": "name_zh", "ur": "name_ur"},
        ),
        maxzoom=12,
    ),
    Layer(
        "links",
        i18n.LINKS,
        keywords=("logistics", "routes", "network", "ports", "SEZ", "pgRouting"),
        attribution="derived from the corridors, deposits, SEZs and ports layers",
        stale=network.stale,
        minzoom=5,  # three lines per deposit: a tangle below a province's scale
        style=styles.LINKS,
        popup=Popup(
            "from_name",
            (
                "kind",
                "to_name",
                "hours",
                "km",
                "road_km",
                "rail_km",
                "transfers",
                "access_detour",
                "access_kmh",
                "reason",
            ),
            source=None,
            link=None,
        ),
        visible=False,  # 3 routes per deposit hide the map; a click on a deposit shows its own
    ),
    Layer(
        "projects",
        i18n.PROJECTS,
        keywords=("value chain", "projects", "investment", "MoU", "partners", "CPEC"),
        attribution=FACTS,
        style=styles.PROJECTS,
        popup=Popup(
            "name",
            ("stage", "status", "partner_names", "partner_countries", "site_names", "commodities"),
        ),
        visible=False,  # its points sit on the deposits they are made of; the control shows it
    ),
    Layer(
        "resources",
        i18n.RESOURCES,
        keywords=("mineral resources", "ore reserves", "JORC", "NI 43-101", "copper", "gold"),
        temporal=("as_of", None),
        attribution=FACTS,
        style=styles.RESOURCES,
        popup=Popup(
            "deposit",
            (
                "commodity",
                "category",
                "tonnage_mt",
                "grade",
                "grade_unit",
                "reporting_code",
                "as_of",
            ),
        ),
        counter="deposits",
        visible=False,  # on the deposits' points; each deposit's popup lists its resources
        minzoom=4,
    ),
    Layer(
        "mineraloccurrences",
        i18n.MINERAL_OCCURRENCES,
        keywords=("EarthResourceML", "ERML-Lite", "MineralOccurrenceView", "INSPIRE"),
        temporal=("as_of", None),
        attribution=FACTS,
        style=styles.ERML,
        popup=Popup("name", ("mineralOccurrenceType", "commodity", "positionalAccuracy")),
        counter="deposits",
        visible=False,  # the deposits again, under standard names: for clients, not the map
        minzoom=4,
    ),
    Layer(
        "commodityresources",
        i18n.COMMODITY_RESOURCES,
        keywords=("EarthResourceML", "ERML-Lite", "CommodityResourceView", "INSPIRE"),
        temporal=("as_of", None),
        attribution=FACTS,
        style=styles.ERML,
        popup=Popup(
            "mineralOccurrenceName",
            ("commodity", "oreMeasure", "oreMeasureAssessmentCategory", "classificationMethodUsed"),
        ),
        counter="deposits",
        visible=False,
        minzoom=4,
    ),
    Layer(
        "provinces",
        i18n.PROVINCES,
        keywords=("administrative boundaries", "provinces"),
        attribution=BOUNDARIES,
        style=styles.PROVINCES,
        popup=Popup("name", ("iso_code",), localised_titles={"zh": "name_zh", "ur": "name_ur"}),
        maxzoom=10,
    ),
    Layer(
        "districts",
        i18n.DISTRICTS,
        keywords=("administrative boundaries", "districts"),
        attribution=BOUNDARIES,
        style=styles.DISTRICTS,
        popup=Popup("name", ("province",), link=None),
        visible=False,
        minzoom=4,
        maxzoom=12,
    ),
)

BY_ID: dict[str, Layer] = {layer.id: layer for layer in CATALOGUE}


def get(layer_id: str) -> Layer | None:
    return BY_ID.get(layer_id)
