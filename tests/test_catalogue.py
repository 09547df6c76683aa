"""The layer catalogue: every layer and everything it shows exists in English, Chinese and Urdu,
every vocabulary value has a colour where a layer is coloured by it, and popups name real columns.

Why these checks walk the store's models: a vocabulary value or a column added to ``geo`` must
not reach a map without its translation and colour; the lists here come from ``geo.vocab`` and
``geo.models``, never from this file.
"""

from __future__ import annotations

import pytest

from geo import vocab
from layers import i18n, styles, terms
from layers.catalogue import BY_ID, CATALOGUE

VOCABULARIES = {
    name: values
    for name, values in vars(vocab).items()
    if name.isupper() and isinstance(values, tuple)
}


def complete(text: i18n.Text) -> bool:
    return all(text[lang].strip() for lang in i18n.LANGUAGES)


@pytest.mark.parametrize("layer", CATALOGUE, ids=lambda layer: layer.id)
def test_every_layer_has_titles_and_descriptions_in_every_language(layer):
    assert complete(layer.text.title) and complete(layer.text.description)
    titles = [layer.text.title[lang] for lang in i18n.LANGUAGES]
    assert len(set(titles)) == len(titles), "an untranslated title"


@pytest.mark.parametrize("layer", CATALOGUE, ids=lambda layer: layer.id)
def test_every_shown_field_is_a_column_with_a_label_in_every_language(layer):
    shown = (layer.popup.title, *layer.popup.fields, layer.popup.source, layer.popup.link)
    for name in [n for n in shown if n]:
        assert name in layer.source.properties, f"{layer.id} has no column {name}"
        assert name in i18n.FIELDS and complete(i18n.FIELDS[name]), f"no labels for {name}"
    for lang, column in layer.popup.localised_titles.items():
        assert lang in i18n.LANGUAGES and column in layer.source.properties


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_every_vocabulary_value_is_translated(name):
    for value in VOCABULARIES[name]:
        assert value in terms.TERMS and complete(terms.TERMS[value]), (name, value)


@pytest.mark.parametrize("layer", CATALOGUE, ids=lambda layer: layer.id)
def test_every_value_a_layer_is_coloured_by_has_a_colour(layer):
    style = layer.style
    if style.by is None:
        assert not style.colours
        return
    column = layer.model.__table__.columns[style.by]
    values = column.info.get("vocab")
    assert values, f"{layer.id} is coloured by {style.by}, which has no vocabulary"
    assert set(style.colours) == set(values)
    assert len(set(style.colours.values())) == len(values), "two values share a colour"
    assert all(v in terms.TERMS for v in style.colours), "a legend entry with no translation"


def test_the_map_styles_colour_whole_vocabularies():
    assert BY_ID["deposits"].style.by == "commodities"
    assert set(styles.DEPOSITS.colours) == set(vocab.COMMODITIES)
    assert set(styles.CONCESSIONS.colours) == set(vocab.LICENCE_STATUS)
    assert set(styles.CORRIDORS.colours) == set(vocab.CORRIDOR_MODE)
    assert set(styles.FACILITIES.colours) == set(vocab.FACILITY_KIND)
    assert set(styles.LINKS.colours) == set(terms.LINK_KIND)
    assert all(kind in terms.TERMS for kind in terms.LINK_KIND)
    assert complete(i18n.LINKS.title) and complete(i18n.LINKS.description)
    for name in ("from_name", "to_name", "kind", "km", "hours"):
        assert complete(i18n.FIELDS[name])


def test_every_interface_text_is_translated():
    assert all(complete(text) for text in i18n.UI.values())
    assert set(i18n.RTL) <= set(i18n.LANGUAGES)


def test_a_colour_is_picked_by_the_first_commodity():
    assert styles.DEPOSITS.colour_of(["gold", "copper"]) == styles.COMMODITY_COLOURS["gold"]
    assert styles.DEPOSITS.colour_of([]) == styles.DEPOSITS.colour
    assert styles.SEZS.colour_of(None) == styles.SEZS.colour


@pytest.mark.parametrize(
    ("asked", "expected"),
    [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("ur-PK", "ur"), ("fr-FR, en;q=0.5", "en"),
     ("de", "en"), (None, "en"), ("UR", "ur")],
)  # fmt: skip
def test_language_is_chosen_from_a_parameter_or_accept_language(asked, expected):
    assert i18n.language(asked) == expected
