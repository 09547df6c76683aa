"""How each layer is drawn and what its popups show: colours per category, legend, popup fields.

Why data, not code: the folium map (``layers.maps``), the vector-tile styling in the browser and
any later consumer (a QGIS style export, a notebook) read the same colours and fields, and a test
checks that every vocabulary value has a colour. Colours come from ColorBrewer/Tableau-like
qualitative palettes chosen to stay distinct on the pale, tile-less background of the maps.
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


# 29 commodities: related metals share a hue family (base metals warm, precious gold/silver,
# energy dark, industrial minerals muted), so a cluster of colours still reads as a family.
COMMODITY_COLOURS = palette(
    vocab.COMMODITIES,
    (
        "#8c6d31",  # antimony
        "#9c9ede",  # barite
        "#ad494a",  # bauxite
        "#5254a3",  # chromite
        "#252525",  # coal
        "#d95f02",  # copper
        "#7b4173",  # fluorite
        "#e7298a",  # gemstones
        "#e6ab02",  # gold
        "#969696",  # granite
        "#636363",  # graphite
        "#bdbdbd",  # gypsum
        "#843c39",  # iron
        "#6b6ecf",  # lead
        "#b5cf6b",  # limestone
        "#17becf",  # lithium
        "#cedb9c",  # magnesite
        "#a55194",  # manganese
        "#e7cb94",  # marble
        "#393b79",  # molybdenum
        "#637939",  # nickel
        "#8ca252",  # phosphate
        "#1b9e77",  # rare_earths
        "#9ecae1",  # salt
        "#7f7f7f",  # silver
        "#bcbd22",  # sulphur
        "#3182bd",  # tungsten
        "#31a354",  # uranium
        "#756bb1",  # zinc
    ),
)
LICENCE_STATUS_COLOURS = palette(
    vocab.LICENCE_STATUS,
    ("#fdae61", "#1a9641", "#66bd63", "#d7191c", "#878787", "#bababa", "#7b3294", "#fee0b6"),
)
CORRIDOR_MODE_COLOURS = palette(vocab.CORRIDOR_MODE, ("#c51b7d", "#2c7bb6"))
FACILITY_KIND_COLOURS = palette(
    vocab.FACILITY_KIND,
    (
        "#08519c",
        "#4292c6",
        "#a50f15",
        "#de2d26",
        "#fb6a4a",
        "#fc9272",
        "#54278f",
        "#737373",
        "#969696",
        "#3f007d",
        "#fdae6b",
    ),
)
RESOURCE_CATEGORY_COLOURS = palette(
    vocab.RESOURCE_CATEGORY,
    ("#08306b", "#2171b5", "#6baed6", "#4292c6", "#00441b", "#41ab5d", "#238b45", "#8c6d31",
     "#bdbdbd"),
)  # fmt: skip
SEZ_STATUS_COLOURS = palette(vocab.SEZ_STATUS, ("#c994c7", "#df65b0", "#dd1c77", "#980043"))
LINK_KIND_COLOURS = palette(LINK_KIND, ("#ff7f00", "#dd1c77", "#08519c"))
PROJECT_STAGE_COLOURS = palette(
    vocab.PROJECT_STAGE, ("#4daf4a", "#984ea3", "#e41a1c", "#377eb8", "#a65628")
)

DEPOSITS = Style("point", "commodities", COMMODITY_COLOURS, radius=7, fill_opacity=0.85)
CONCESSIONS = Style("polygon", "status", LICENCE_STATUS_COLOURS, weight=1.5, fill_opacity=0.2)
FACILITIES = Style("point", "kind", FACILITY_KIND_COLOURS, radius=8, fill_opacity=0.9)
SEZS = Style(
    "point", "status", SEZ_STATUS_COLOURS, colour="#ae017e", radius=8, fill_opacity=0.7, weight=2
)
CORRIDORS = Style("line", "mode", CORRIDOR_MODE_COLOURS, weight=3, dashes={"rail": "8 5"})
LINKS = Style("line", "kind", LINK_KIND_COLOURS, weight=4, dashes={"access": "2 6"})
# Points and polygons (a project's sites): polygons drawn with the areas, points as large rings.
PROJECTS = Style("polygon", "stage", PROJECT_STAGE_COLOURS, weight=3, fill_opacity=0.2, radius=11)
PROVINCES = Style("polygon", colour="#7a8a84", weight=1.2, fill_opacity=0.08)
RESOURCES = Style("point", "category", RESOURCE_CATEGORY_COLOURS, radius=6, fill_opacity=0.8)
ERML = Style("point", colour="#6a51a3", radius=5, fill_opacity=0.7)
DISTRICTS = Style("polygon", colour="#a3b1ab", weight=0.6, fill_opacity=0.0)
