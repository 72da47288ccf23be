"""Choosing the language, and formatting dates, times and money in it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from engage.extensions import db
from engage.i18n import fmt_datetime, fmt_money, html_lang, language_name, localized, normalise_locale
from tests.conftest import login

# (how the language is asked for, expected <html lang>, a word from the page)
HOME_WORDS = {"en": "How it works", "es": "Cómo funciona", "zh-Hant": "如何運作"}


def html_lang_of(response) -> str:
    text = response.get_data(as_text=True)
    return text.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("lang,expected", [("en", "en"), ("es", "es"), ("zh_Hant", "zh-Hant"), ("zh-Hant", "zh-Hant")])
def test_lang_in_the_address_switches_and_is_remembered(client, lang, expected):
    response = client.get(f"/?lang={lang}")
    assert html_lang_of(response) == expected
    assert HOME_WORDS[expected] in response.get_data(as_text=True)
    assert html_lang_of(client.get("/committees")) == expected


@pytest.mark.parametrize(
    "header,expected",
    [
        ("es-MX,es;q=0.9,en;q=0.5", "es"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-CN,zh;q=0.9", "zh-Hant"),
        ("fr-FR,fr;q=0.9", "en"),
        ("fr-FR,es;q=0.5", "es"),
        ("", "en"),
        ("*", "en"),
    ],
)
def test_accept_language_is_used_when_nothing_else_says(client, header, expected):
    assert html_lang_of(client.get("/", headers={"Accept-Language": header})) == expected


@pytest.mark.parametrize("junk", ["xx", "", "../../etc", "qq_Hans_XX_" * 20, "<script>", "%00"])
def test_an_unknown_lang_falls_back_quietly(client, junk):
    response = client.get("/", query_string={"lang": junk})
    assert response.status_code == 200
    assert html_lang_of(response) == "en"


def test_a_signed_in_persons_preference_beats_the_browser(client, cast):
    cast.coord_a.locale = "zh_Hant"
    db.session.commit()
    login(client, cast.coord_a)
    response = client.get("/coordinator/", headers={"Accept-Language": "es"})
    assert html_lang_of(response) == "zh-Hant"
    # ...but ?lang= still wins, and is remembered.
    assert html_lang_of(client.get("/coordinator/?lang=es")) == "es"
    assert html_lang_of(client.get("/coordinator/")) == "es"


def test_the_switcher_names_each_language_in_itself(client):
    page = client.get("/?lang=es").get_data(as_text=True)
    for name, tag in (("English", "en"), ("español", "es"), ("中文 (繁體)", "zh-Hant")):
        assert f'lang="{tag}" hreflang="{tag}"' in page
        assert name in page


def test_the_switcher_keeps_the_rest_of_the_address(client, cast):
    page = client.get(f"/committees/{cast.committee_a.slug}?lang=en").get_data(as_text=True)
    assert f"/committees/{cast.committee_a.slug}?lang=es" in page


def test_locale_names():
    assert language_name("es", "es") == "español"
    assert language_name("zh_Hant", "zh_Hant") == "中文 (繁體)"
    assert language_name("es", "en") == "Spanish"
    assert html_lang("zh_Hant") == "zh-Hant"


def test_normalise_locale(app):
    with app.test_request_context():
        assert normalise_locale("ES") == "es"
        assert normalise_locale("zh-tw") == "zh_Hant"
        assert normalise_locale("de") is None
        assert normalise_locale(None) is None


@pytest.mark.parametrize(
    "locale,expected",
    [
        ("en", "Tuesday, December 8, 6:00\u202fPM"),
        ("es", "martes, 8 de diciembre, 6:00\u202fp.m."),
        ("zh_Hant", "12月8日 星期二 下午6:00"),
    ],
)
def test_meeting_times_are_shown_in_the_readers_language_and_the_plans_time_zone(app, locale, expected):
    # 02:00 UTC on Wednesday is 6 pm on Tuesday in California (PST, UTC-8).
    moment = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
    with app.test_request_context(), force_locale(locale):
        assert fmt_datetime(moment, "day_time") == expected
        assert "2026" in fmt_datetime(moment)


@pytest.mark.parametrize("locale,expected", [("en", "$75.00"), ("es", "$75.00"), ("zh_Hant", "US$75.00")])
def test_money_is_formatted_by_babel(app, locale, expected):
    with app.test_request_context(), force_locale(locale):
        assert fmt_money(Decimal("75")) == expected


def test_staff_written_text_is_never_replaced_by_english(app):
    with app.test_request_context(), force_locale("es"):
        assert localized({"en": "Agenda"}).missing
        assert localized({"en": "Agenda", "es": "Orden del día"}).text == "Orden del día"
        assert localized({"es": "   "}).missing


def test_the_locale_list_comes_from_the_catalog_folders(app):
    assert app.config["ENGAGE_LOCALES"] == ["en", "es", "zh_Hant"]
