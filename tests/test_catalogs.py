"""Every catalog is complete: no string left untranslated or fuzzy, none missing
from the catalogs, every placeholder kept, and no bare text in templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ["es", "zh_Hant"]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}


def catalog(locale: str):
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def source_ids() -> set:
    method_map = [
        ("engage/**.py", "python"),
        ("engage/templates/**.html", "jinja2"),
        ("engage/templates/**.txt", "jinja2"),
    ]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        keywords={**KEYWORDS},
        options_map={"engage/templates/**": {"extensions": "jinja2.ext.do"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_entry_is_translated_and_none_is_fuzzy(locale):
    untranslated, fuzzy = [], []
    for message in catalog(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [], f"{locale}: untranslated entries"
    assert fuzzy == [], f"{locale}: fuzzy entries"


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_every_string_in_the_code_is_in_the_catalog(locale):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    missing = source_ids() - ids
    assert missing == set(), f"run `make translations` and translate: {sorted(missing)[:10]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_are_kept(locale):
    problems = [(m.id, errors) for m, errors in catalog(locale).check() if errors]
    assert problems == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_are_not_english_copies(locale):
    copies = [
        m.id
        for m in catalog(locale)
        if m.id
        and isinstance(m.id, str)
        and m.string == m.id
        and re.search(r"[A-Za-z]{4,}", re.sub(r"%\(\w+\)[sd]", "", m.id))
        and m.id not in ALLOWED_SAME
        and m.context not in SAME_ALLOWED_CONTEXTS
    ]
    assert copies == []


# Words that stay the same in every language: names and codes.
# Place names are often the same in Spanish.
SAME_ALLOWED_CONTEXTS = {"California county", "spoken language"}
ALLOWED_SAME = {"engage", "Medi-Cal", "Plan"}


# Bare text in templates -----------------------------------------------------------

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
VISIBLE_ATTRS = re.compile(r'\b(?:alt|title|placeholder|aria-label)="([^"]*)"')
ENTITY = re.compile(r"&[a-z]+;|&#\d+;")


def bare_text(source: str) -> list[str]:
    """Words a reader would see that do not come from gettext or data."""
    html = JINJA.sub("\x00", source)
    found = [a for a in VISIBLE_ATTRS.findall(html) if re.search(r"[^\W\d_]", a)]
    text = ENTITY.sub(" ", TAG.sub(" ", html))
    found += [w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if w not in TEMPLATE_WORDS]
    return found


# The product's name may appear outside _().
TEMPLATE_WORDS = {"engage"}


@pytest.mark.parametrize(
    "template",
    sorted(str(p.relative_to(ROOT / "engage" / "templates")) for p in (ROOT / "engage" / "templates").rglob("*.html")),
)
def test_templates_have_no_text_outside_gettext(template):
    source = (ROOT / "engage" / "templates" / template).read_text(encoding="utf-8")
    assert bare_text(source) == []


def test_the_bare_text_check_catches_untranslated_words():
    assert bare_text("<p>Hello there</p>") == ["Hello", "there"]
    assert bare_text('<img alt="A parent">') == ["A parent"]
    assert bare_text("<p>{{ _('Hello') }}</p>") == []
