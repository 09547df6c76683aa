"""How each layer is drawn and what its popups show: colours per category, legend, popup fields.

Why data, not code: the folium map (``layers.maps``), the vector-tile styling in the browser and
any later consumer (a QGIS style export, a notebook) read the same colours and fields, and a test
checks that every vocabulary value has a colour. Colours come from
colour-blind safe palettes (see below) chosen to stay distinct on the offline basemap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from geo import vocab
from layers.terms import LINK_KIND

Geometry = Literal["point", "line", "polygon"]


@dataclass(frozen=True)
class Style:
    """A layer's symbology: one colour per value of ``by`` (the first element for arrays)."""

    geometry: Geometry
    by: str | None = None
    colours: dict[str, str] = field(default_factory=dict)
    colour: str = "#5f6b73"
    """For features whose value has no colour of its own (and for layers with no ``by``)."""
    weight: float = 2.0
    fill_opacity: float = 0.25
    radius: float = 6.0
    dashes: dict[str, str] = field(default_factory=dict)
    """SVG dash arrays per value (rail drawn dashed, for readers who cannot tell the colours)."""
    shape: Literal["circle", "square", "diamond"] = "circle"
    """How points are drawn, so that kinds differ by shape as well as colour."""

    def colour_of(self, value: object) -> str:
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        return self.colours.get(str(value), self.colour)

    def legend(self) -> list[tuple[str, str]]:
        """(value, colour) in the vocabulary's order, or one entry for a single-colour layer."""
        if not self.colours:
            return [("", self.colour)]
        return list(self.colours.items())

    def as_dict(self) -> dict:
        return {
            "geometry": self.geometry,
            "by": self.by,
            "colours": self.colours,
            "colour": self.colour,
            "weight": self.weight,
            "fillOpacity": self.fill_opacity,
            "radius": self.radius,
            "dashes": self.dashes,
            "shape": self.shape,
        }


@dataclass(frozen=True)
class Popup:
    """What a feature's popup shows: a title, fields with labels, and where the data comes from."""

    title: str = "name"
    fields: tuple[str, ...] = ()
    localised_titles: dict[str, str] = field(default_factory=dict)
    """Columns holding the title in other languages, e.g. {"zh": "name_zh"}."""
    source: str | None = "source"
    link: str | None = "source_url"

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the popup reads (what a map asks the API for)."""
        names = [self.title, *self.localised_titles.values(), *self.fields]
        names += [n for n in (self.source, self.link) if n]
        return tuple(dict.fromkeys(names))

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "fields": list(self.fields),
            "localisedTitles": self.localised_titles,
            "source": self.source,
            "link": self.link,
        }


def palette(values: tuple[str, ...], colours: tuple[str, ...]) -> dict[str, str]:
    if len(colours) < len(values):
        raise ValueError(f"{len(values)} values but {len(colours)} colours")
    return dict(zip(values, colours, strict=False))


# Colours are Okabe-Ito (Okabe & Ito 2008) and Paul Tol's "muted"/"vibrant" schemes, chosen
# for readers with colour-vision deficiency, and every layer kind differs in shape or dash as
# well as colour: deposits are circles, SEZs squares, facilities diamonds, concessions areas,
# roads solid, rail dashed, each link kind its own dash. The most reported commodities take the
# eight Okabe-Ito colours (copper vermillion, gold orange); the rest are tints that the legend
# only lists when present. No kind's colour is reused by another kind (tests/test_map_style.py),
# and cluster bubbles are white with a dark ring (emining-map.css), not any of these.
COMMODITY_COLOURS = palette(
    vocab.COMMODITIES,
    (
        "#7d6b91",  # antimony
        "#c2b8e0",  # barite
        "#a0522d",  # bauxite
        "#56b4e9",  # chromite (Okabe-Ito sky blue)
        "#000000",  # coal (Okabe-Ito black)
        "#d55e00",  # copper (Okabe-Ito vermillion)
        "#9467bd",  # fluorite
        "#cc79a7",  # gemstones (Okabe-Ito reddish purple)
        "#e69f00",  # gold (Okabe-Ito orange)
        "#a6a6a6",  # granite
        "#4d4d4d",  # graphite
        "#e0e0e0",  # gypsum
        "#8c2d04",  # iron
        "#6a5acd",  # lead
        "#d8d3b0",  # limestone
        "#00a3a3",  # lithium
        "#b3de69",  # magnesite
        "#8e3b8e",  # manganese
        "#f2e6d9",  # marble
        "#1f4e79",  # molybdenum
        "#6b8e23",  # nickel
        "#9acd32",  # phosphate
        "#009e73",  # rare_earths (Okabe-Ito bluish green)
        "#fafafa",  # salt
        "#c0c0c0",  # silver
        "#f0e442",  # sulphur (Okabe-Ito yellow)
        "#2f4f4f",  # tungsten
        "#7fbf3f",  # uranium
        "#7570b3",  # zinc
    ),
)
# Tol muted; the two lapsed states share grey and differ by dash.
LICENCE_STATUS_COLOURS = palette(
    vocab.LICENCE_STATUS,
    ("#ddcc77", "#117733", "#44aa99", "#cc6677", "#888888", "#aaaaaa", "#882255", "#aa4499"),
)
LICENCE_STATUS_DASHES = {"expired": "6 4", "relinquished": "2 4", "withdrawn": "8 3 2 3"}
CORRIDOR_MODE_COLOURS = palette(vocab.CORRIDOR_MODE, ("#7f4f24", "#1a1a1a"))
FACILITY_KIND_COLOURS = palette(
    vocab.FACILITY_KIND,
    ("#0077bb", "#33bbee", "#cc3311", "#ee3377", "#ee7733", "#009988", "#bbbb00", "#555555",
     "#999999", "#6a3d9a", "#225555"),
)  # fmt: skip
RESOURCE_CATEGORY_COLOURS = palette(
    vocab.RESOURCE_CATEGORY,
    ("#08306b", "#2171b5", "#6baed6", "#4292c6", "#00441b", "#41ab5d", "#238b45", "#8c6d31",
     "#bdbdbd"),
)  # fmt: skip
SEZ_STATUS_COLOURS = palette(vocab.SEZ_STATUS, ("#9f94d6", "#6f61be", "#4b3aa8", "#332288"))
LINK_KIND_COLOURS = palette(LINK_KIND, ("#999933", "#8e7cc3", "#66ccee"))
PROJECT_STAGE_COLOURS = palette(
    vocab.PROJECT_STAGE, ("#4daf4a", "#984ea3", "#e41a1c", "#377eb8", "#a65628")
)

DEPOSITS = Style("point", "commodities", COMMODITY_COLOURS, radius=7, fill_opacity=0.9)
CONCESSIONS = Style(
    "polygon",
    "status",
    LICENCE_STATUS_COLOURS,
    weight=2,
    fill_opacity=0.25,
    dashes=LICENCE_STATUS_DASHES,
)
FACILITIES = Style(
    "point", "kind", FACILITY_KIND_COLOURS, radius=8, fill_opacity=0.95, shape="diamond"
)
SEZS = Style(
    "point",
    "status",
    SEZ_STATUS_COLOURS,
    colour="#332288",
    radius=8,
    fill_opacity=0.9,
    weight=2,
    shape="square",
)
CORRIDORS = Style("line", "mode", CORRIDOR_MODE_COLOURS, weight=3, dashes={"rail": "8 5"})
LINKS = Style(
    "line",
    "kind",
    LINK_KIND_COLOURS,
    weight=4,
    dashes={"access": "2 6", "sez": "10 4 2 4", "port": "14 6"},
)
# Points and polygons (a project's sites): polygons drawn with the areas, points as large rings.
PROJECTS = Style("polygon", "stage", PROJECT_STAGE_COLOURS, weight=3, fill_opacity=0.2, radius=11)
PROVINCES = Style("polygon", colour="#6b7a74", weight=1.2, fill_opacity=0.0)
RESOURCES = Style("point", "category", RESOURCE_CATEGORY_COLOURS, radius=6, fill_opacity=0.8)
ERML = Style("point", colour="#6a51a3", radius=5, fill_opacity=0.7)
DISTRICTS = Style("polygon", colour="#a3b1ab", weight=0.6, fill_opacity=0.0)
