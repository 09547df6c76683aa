"""The words and values of the HTML pages in the reader's language: what templates call.

Why apart from ``api.ogc.html`` (which negotiates and renders): these helpers are bound to one
language per page (``helpers(lang)``) and turn catalogue ids, terms, places, figures and
attributions into text for readers (``layers.display``, ``layers.page_text``), escaping as
they go (``markupsafe``).
"""

from __future__ import annotations

import re

from markupsafe import Markup

from api.ogc import values
from layers import display
from layers.catalogue import get
from layers.i18n import FIELDS, LANGUAGES, RTL
from layers.map_texts import REASONS
from layers.map_texts import UI as MAP_UI
from layers.page_text import ATTRIBUTIONS, PAGE
from layers.terms import PLACES, TERMS


def feature_title(feature: dict, lang: str = "en") -> str:
    """A feature's name in ``lang`` where the data has one (``name_zh``, ``name_ur``)."""
    properties = feature.get("properties") or {}
    for key in (f"name_{lang}", "name", "licence_no", "title"):
        if properties.get(key):
            return str(properties[key])
    return f"{PAGE['number'][lang]} {feature.get('id')}"


def phrases(lang: str):
    """``t(key, **fields)``: a phrase of the pages in ``lang``."""

    def t(key: str, **fields: object) -> Markup:
        text = Markup.escape(PAGE[key][lang])  # the fields are escaped as they go in
        return text.format(**fields) if fields else text

    return t


def helpers(lang: str) -> dict:
    """What templates call to show data in the reader's language (``layers.display``)."""
    return {
        "lang": lang,
        "dir": "rtl" if lang in RTL else "ltr",
        "t": phrases(lang),
        "label": lambda field: display.label(field, lang),
        "show": lambda field, value: values.show(field, value, lang),
        "term": lambda value: display.term(value, lang),
        "km": lambda value: display.km(value, lang),
        "hours": lambda value: display.hours(value, lang),
        "en": lambda text: values.foreign(str(text), lang),
        "heading": lambda text: heading(str(text), lang),
        "attribution": lambda text: (
            Markup.escape(ATTRIBUTIONS[text][lang])
            if text in ATTRIBUTIONS
            else values.foreign(text, lang)
        ),
        "source_link": lambda source, link=None: values.source_link(source, link, lang),
        "layer_title": layer_title(lang),
        "layer_name": lambda layer_id: (
            layer.title_in(lang) if (layer := get(layer_id)) is not None else layer_id
        ),  # plain text, for the JSON a map's popups read
        "layer_description": layer_description(lang),
        "layer_list": lambda ids: Markup(display.LIST_SEPARATOR[lang]).join(
            layer_title(lang)(i) for i in ids or ()
        ),
        "keyword": lambda word: keyword(word, lang),
        "place_name": lambda name: place_name(name, lang),
        "reason": lambda text: reason(text, lang),
        "plain": values.plain,
        "strong": strong,
        "popups": lambda layer_id, features: popups(layer_id, features, lang),
        "link_end": lambda links, kind: link_end(links, kind, lang),
        "error_key": lambda status: f"error_{status}" if f"error_{status}" in PAGE else None,
        "languages": LANGUAGES,
    }


def strong(css_class: str, text: object, href: str | None = None) -> Markup:
    """A figure or a name set in a sentence: a link when ``href`` is given."""
    if href:
        return Markup('<a class="{}" href="{}">{}</a>').format(css_class, href, text)
    return Markup('<strong class="{}">{}</strong>').format(css_class, text)


def place_name(name: str | None, lang: str) -> Markup:
    """A site, corridor or province named in a route or a link, in ``lang`` where known."""
    if not name:
        return Markup("–")
    if name == "a transfer link":
        return Markup.escape(PAGE["a_transfer_link"][lang])
    if name in PLACES:
        return Markup.escape(PLACES[name][lang])
    return values.foreign(name, lang)


REASON_PATTERNS = [(key, re.compile(p.replace("(?<", "(?P<"))) for key, p in REASONS]


def reason(text: str, lang: str) -> Markup:
    """Why a deposit has no link of a kind, in ``lang``: the network build's sentence written
    again with its names (a site's, a corridor's) marked as the data's English."""
    for key, pattern in REASON_PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        fields = {
            name: Markup.escape(MAP_UI[f"reason_{value}"][lang])
            if name.startswith("target")
            else values.foreign(value, lang)
            for name, value in found.groupdict().items()
        }
        return Markup.escape(MAP_UI[key][lang]).format(**fields)
    return values.foreign(text, lang)


def keyword(word: str, lang: str) -> Markup:
    """A collection's keyword: a vocabulary term in ``lang`` where it is one."""
    key = word.replace(" ", "_")
    if key in TERMS:
        return Markup.escape(TERMS[key][lang])
    return values.foreign(word, lang)


COLUMN = re.compile(r"\b([a-z]+(?:_[a-z0-9]+)+|illustrative)\b( = true\b)?")


def readable(text: str, lang: str) -> str:
    """A catalogue description with its column names (``area_km2``, ``illustrative = true``)
    written as the labels readers see in tables (“Area (km²)”, “Illustrative”)."""

    def label(match: re.Match) -> str:
        name = match.group(1)
        if name not in FIELDS:
            return match.group(0)
        return "“" + FIELDS[name][lang] + "”"

    return COLUMN.sub(label, text)


REPOSITORY_NOTE = re.compile(r"\s*[(（][^()（）]*?[\w/.-]+\.(?:md|py|csv|geojson)\b[^()（）]*[)）]")
"""A parenthesis pointing developers to a file of the repository ("(see data/samples/SOURCES.md)"):
the API's description keeps it, a reader's page does not show it."""


def layer_description(lang: str):
    def description(layer_id: str, fallback: str | None = "") -> Markup:
        layer = get(layer_id)
        if layer is not None:
            text = REPOSITORY_NOTE.sub("", readable(layer.description_in(lang), lang))
            return heading(text, lang)  # names of standards and codes marked as English
        return values.foreign(values.plain(fallback or ""), lang)

    return description


POPUP_FIELDS = 8


def popups(layer_id: str, features: list[dict], lang: str) -> dict[str, dict]:
    """Each feature's popup on a page's map, in ``lang``: its title and labelled values (the
    catalogue's popup fields), read by api/static/map.js with textContent only."""
    layer = get(layer_id)
    fields = list(layer.popup.fields) if layer is not None else []
    answer = {}
    for feature in features:
        properties = feature.get("properties") or {}
        names = fields or [k for k in properties if k not in ("name", "source", "source_url")]
        answer[str(feature.get("id"))] = {
            "title": feature_title(feature, lang),
            "rows": [
                [display.label(k, lang), display.text(k, properties[k], lang)]
                for k in names[:POPUP_FIELDS]
                if properties.get(k) not in (None, "", [])
            ],
        }
    return answer


def layer_title(lang: str):
    def title(layer_id: str, fallback: str = "") -> Markup:
        layer = get(layer_id)
        if layer is not None:
            return heading(layer.title_in(lang), lang)  # "矿产地视图（EarthResourceML-Lite）"
        return values.foreign(fallback or layer_id, lang)

    return title


def link_end(links: list[dict], kind: str, lang: str) -> dict:
    """The far end of a deposit's ``kind`` link (its SEZ or port) as a point, and its popup."""
    features, texts = [], {}
    for feature in links:
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if properties.get("kind") != kind or not geometry:
            continue
        end = {"type": "Point", "coordinates": geometry["coordinates"][-1]}
        features.append({"type": "Feature", "id": kind, "geometry": end, "properties": {}})
        texts[kind] = {
            "title": properties.get("to_name") or "",
            "rows": [
                [display.label(key, lang), display.text(key, properties.get(key), lang)]
                for key in ("kind", "km", "hours")
            ],
        }
    return {"features": features, "popups": texts}


LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9'’().,&/ -]*[A-Za-z0-9)]|[A-Za-z]")


def heading(text: str, lang: str) -> Markup:
    """A page's title: names in the data's own (Latin) words are marked as English, also inside
    a title in the page's language ("路线：Ongar coalfield → …")."""
    if lang == "en":
        return Markup.escape(text)
    parts, position = [], 0
    for run in LATIN_RUN.finditer(text):
        end = run.end()
        while text[end - 1] == ")" and text.count("(", run.start(), end) < text.count(
            ")", run.start(), end
        ):
            end -= 1  # "(oreMeasure, …, classificationMethodUsed)": the bracket is the page's
        word = text[run.start() : end]
        parts += [Markup.escape(text[position : run.start()]), values.foreign(word, lang)]
        position = end
    return Markup("").join([*parts, Markup.escape(text[position:])])
