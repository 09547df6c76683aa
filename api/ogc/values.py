"""Feature values as HTML for the pages: translated, formatted, and marked when not translated.

Why markup built here (``markupsafe``, every piece escaped) and not in the templates: a value may
be a term, a number, a date, a list, a URL or a list of records (a project's partners), and each
page must show all of them the same way in every language. What the data says in its own words
(names, notes, sources) cannot be translated; on a Chinese or Urdu page it is wrapped in
``<bdi lang="en">`` so screen readers pronounce it as English and right-to-left text around it
keeps its order.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from layers import display
from layers.page_text import PAGE

MARKUP = re.compile(r"``([^`]*)``|`([^`]*)`|\*\*([^*]*)\*\*|\*([^*]*)\*")
ILLUSTRATIVE = "illustrative:"


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def plain(text: str) -> str:
    """Text with its reStructuredText/Markdown marks (``code``, *em*) taken off: readers see
    the words, not the markup."""
    return MARKUP.sub(lambda m: next(g for g in m.groups() if g is not None), text or "")


def foreign(text: str, lang: str) -> Markup:
    """Text in English on a page in ``lang``."""
    if lang == "en":
        return escape(text)
    return Markup('<bdi lang="en">{}</bdi>').format(text)


def show(field: str, value: object, lang: str) -> Markup:
    if value is None or value == "" or value == []:
        return Markup('<span class="muted">–</span>')
    if is_url(value):
        return Markup(
            '<a href="{0}" rel="nofollow noopener" class="url"><bdi lang="en">{0}</bdi></a>'
        ).format(value)
    if isinstance(value, list) and isinstance(value[0], dict):
        return Markup('<ul class="records">{}</ul>').format(
            Markup("").join(Markup("<li>{}</li>").format(record(r, lang)) for r in value)
        )
    if isinstance(value, dict):
        return record(value, lang)
    text = display.text(field, value, lang)
    if display.translated(field, value, lang):
        return escape(text)
    return foreign(text, lang)


def record(values: dict, lang: str) -> Markup:
    """One detail record (a partner, an investment): labelled values, its source as a link."""
    parts = []
    source, source_url = values.get("source"), values.get("source_url")
    for key, value in values.items():
        if value is None or key in ("source", "source_url"):
            continue
        parts.append(
            Markup('<span class="pair"><span class="key">{}</span> {}</span>').format(
                display.label(key, lang), show(key, value, lang)
            )
        )
    if source:
        parts.append(source_link(source, source_url, lang))
    return Markup(" · ").join(parts)


def source_link(source: str | None, url: str | None, lang: str) -> Markup:
    """A source by its title, as a link when it has a web address (http/https only). The
    samples' illustrative blocks name the script that drew them: readers are told what that
    means instead."""
    if source and source.lower().startswith(ILLUSTRATIVE):
        return Markup('<span class="source-text illustrative">{}</span>').format(
            PAGE["illustrative_source"][lang]
        )
    title = foreign(source or url or "", lang)
    if is_url(url):
        return Markup('<a class="source-text" href="{}" rel="nofollow noopener">{}</a>').format(
            url, title
        )
    shown = Markup('<span class="source-text">{}</span>').format(title)
    if url:
        shown += Markup(" ") + foreign(url, lang)
    return shown
