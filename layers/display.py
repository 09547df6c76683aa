"""Values as readers see them, in their language: labels, vocabulary terms, numbers and dates.

Why here and not in the templates: a page, a popup or a site page must all say "1,234.6" for a
km figure, "Yes" for ``True`` and "Mining lease" for ``mining_lease``, in English, Chinese and
Urdu alike, and never a column name, ``5.86e-08`` or ``102.06256846134674``. Babel's CLDR data
(not hand-written patterns) gives each language its dates and separators.
"""

from __future__ import annotations

import datetime as dt
import math

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from layers.catalogue import CATALOGUE
from layers.i18n import DEFAULT, FIELDS, LANGUAGES, UI
from layers.terms import PLACES, TERMS, UNITS

LOCALES = {"en": "en", "zh": "zh_Hans_CN", "ur": "ur_PK"}
"""Babel's locale for each language of ``i18n.LANGUAGES``."""
LIST_SEPARATOR = {"en": ", ", "zh": "、", "ur": "، "}
ONE_DECIMAL = frozenset({"km", "length_km", "published_length_km", "area_km2", "hours"})
"""Distances, areas and durations: one decimal is all a reader can use."""
WHOLE = frozenset({"area_acres"})
IDENTIFIERS = frozenset({"id", "from_id", "to_id", "owner_org", "site_id"})
"""Whole numbers that name a record: never grouped with separators."""
PLACE_FIELDS = frozenset({"province"})
RECORD_VOCAB = frozenset({"role", "kind", "layer", "from_layer", "to_layer"})
"""Keys of the projects' detail records (and links' layer names) whose values are terms."""


def _vocabulary_fields() -> frozenset[str]:
    """Columns whose values are a controlled vocabulary (``geo.vocab``, via the models)."""
    names = {
        column.name
        for layer in CATALOGUE
        for column in layer.model.__table__.columns
        if column.info.get("vocab")
    }
    return frozenset(names | RECORD_VOCAB)


VOCABULARY = _vocabulary_fields()
DATE_FIELDS = frozenset(
    name
    for layer in CATALOGUE
    for name, field in layer.source.fields.items()
    if field.type in ("date", "datetime", "timestamp")
) | {"committed_on", "signed_on"}


def lang_or_default(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def label(field: str, lang: str) -> str:
    """A column's label; a column no one labelled yet is at least written as words."""
    text = FIELDS.get(field)
    return text[lang] if text else field.replace("_", " ").capitalize()


def term(value: str, lang: str) -> str:
    text = TERMS.get(value)
    return text[lang] if text else value


UNIT_FIELDS = frozenset({"grade_unit", "contained_unit"})


def unit(value: str, lang: str) -> str:
    text = UNITS.get(value)
    return text[lang] if text else value


def place(value: str, lang: str) -> str:
    text = PLACES.get(value)
    return text[lang] if text else value


def number(value: float, lang: str, decimals: int = 2) -> str:
    """Grouped, with at most ``decimals`` decimals (none shown when they are zero); a fraction
    below one keeps four, so that small densities do not all read 0."""
    if decimals and abs(value) < 1:
        decimals = 4
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, pattern, locale=LOCALES[lang_or_default(lang)])


def tenths(value: float, lang: str) -> str:
    """One decimal always (km, hours); a figure that rounds to nothing is "< 0.1", not 0.0."""
    locale = LOCALES[lang_or_default(lang)]
    if 0 < abs(value) < 0.05:
        return "< " + format_decimal(0.1, "0.0", locale=locale)
    return format_decimal(value, "#,##0.0", locale=locale)


def km(value: float | None, lang: str) -> str:
    return "–" if value is None else f"{tenths(value, lang)} {UI['km'][lang]}"


def hours(value: float | None, lang: str) -> str:
    return "–" if value is None else f"{tenths(value, lang)} {UI['hours'][lang]}"


def date(value: str | dt.date, lang: str) -> str:
    """An ISO date or date-time as the language writes dates (a date-time: date and time on the
    24-hour clock in UTC: CLDR's Urdu would otherwise write "7:00:00 PM", in English)."""
    locale = LOCALES[lang_or_default(lang)]
    try:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return format_date(value, "long", locale=locale)
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if isinstance(value, str) and len(value) == 10:
        return format_date(moment.date(), "long", locale=locale)
    when = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    time = format_time(when, "HH:mm", tzinfo=dt.UTC, locale=locale) + " " + UI["utc"][lang]
    day = format_date(when.astimezone(dt.UTC).date(), "long", locale=locale)
    glue = str(Locale.parse(locale).datetime_formats["medium"])  # "{1}, {0}", "{1} {0}"
    return glue.replace("{1}", day).replace("{0}", time)


def text(field: str, value: object, lang: str) -> str:
    """One scalar value of ``field`` as a reader sees it (lists: each item, then joined)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return TERMS["true" if value else "false"][lang]
    if isinstance(value, list):
        return LIST_SEPARATOR[lang_or_default(lang)].join(text(field, v, lang) for v in value)
    if isinstance(value, int) and field in IDENTIFIERS:
        return str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "–"
        if field in ONE_DECIMAL:
            return tenths(value, lang)
        return number(value, lang, 0 if field in WHOLE else 2)
    if isinstance(value, str):
        if field in VOCABULARY:
            return term(value, lang)
        if field in PLACE_FIELDS:
            return place(value, lang)
        if field in UNIT_FIELDS:
            return unit(value, lang)
        if field in DATE_FIELDS:
            return date(value, lang)
    return str(value)


def translated(field: str, value: object, lang: str) -> bool:
    """Whether ``text`` gives this value in the reader's language (else it is the data's own
    words, in English: pages mark it ``lang="en"``)."""
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, list):
        return all(translated(field, v, lang) for v in value)
    if not isinstance(value, str):
        return False
    if field in VOCABULARY:
        return value in TERMS
    if field in PLACE_FIELDS:
        return value in PLACES
    if field in UNIT_FIELDS:
        return value in UNITS
    return field in DATE_FIELDS or not any(c.isascii() and c.isalpha() for c in value)
