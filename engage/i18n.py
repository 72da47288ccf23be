"""Languages: which ones engage speaks, how a request's language is chosen, and
formatting of dates, times and money in the reader's language and time zone.

Adding a language is adding a catalog under ``translations/``: the list of locales
is read from that folder when the app starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, current_app, g, request, session
from flask_babel import get_locale as babel_get_locale
from flask_babel import get_timezone, gettext

DEFAULT_LOCALE = "en"


def discover_locales(translations_dir: str) -> list[str]:
    """``en`` first, then every locale with a catalog, in folder order."""
    found = sorted(p.parent.parent.name for p in Path(translations_dir).glob("*/LC_MESSAGES/messages.po"))
    return [DEFAULT_LOCALE] + [loc for loc in found if loc != DEFAULT_LOCALE]


def locales() -> list[str]:
    return current_app.config["ENGAGE_LOCALES"]


def normalise_locale(value: str | None) -> str | None:
    """Map a language tag ("es-MX", "zh-TW", "zh_Hant") to one engage speaks, or None."""
    if not value:
        return None
    tag = value.strip().replace("-", "_")
    known = locales()
    if tag in known:
        return tag
    lowered = tag.lower()
    for loc in known:
        if loc.lower() == lowered:
            return loc
    primary = lowered.split("_")[0]
    if primary == "zh":
        # engage writes Chinese in Traditional characters, as Medi-Cal does.
        return next((loc for loc in known if loc.startswith("zh")), None)
    return next((loc for loc in known if loc.split("_")[0].lower() == primary), None)


def select_locale() -> str:
    """``?lang=`` (remembered), then the signed-in person's preference, then Accept-Language."""
    asked = request.args.get("lang")
    if asked:
        loc = normalise_locale(asked)
        if loc:
            session["lang"] = loc
            return loc
    remembered = normalise_locale(session.get("lang"))
    if remembered:
        return remembered
    person = getattr(g, "person", None)
    if person is not None and getattr(person, "locale", None):
        loc = normalise_locale(person.locale)
        if loc:
            return loc
    for value, _quality in request.accept_languages:
        loc = normalise_locale(value)
        if loc:
            return loc
    return DEFAULT_LOCALE


def current_locale() -> str:
    return str(babel_get_locale() or DEFAULT_LOCALE)


def html_lang(locale: str | None = None) -> str:
    """BCP 47 tag for ``<html lang>``: ``zh_Hant`` becomes ``zh-Hant``."""
    return (locale or current_locale()).replace("_", "-")


def language_name(locale: str, in_locale: str | None = None) -> str:
    """A language's name in the reader's language ("Spanish" / "español" / "西班牙文"),
    or in ``in_locale``: the switcher names each language in itself."""
    try:
        reader = in_locale or current_locale()
    except RuntimeError:  # outside a request
        reader = DEFAULT_LOCALE
    return Locale.parse(locale).get_display_name(reader)


@dataclass(frozen=True)
class Localized:
    """Staff-written text in the reader's language, or a note that it is missing."""

    text: str | None
    locale: str

    @property
    def missing(self) -> bool:
        return not self.text


def localized(values: dict | None, locale: str | None = None) -> Localized:
    """Pick the reader's version of per-language content. Never falls back to English."""
    loc = locale or current_locale()
    text = (values or {}).get(loc)
    return Localized(text=text.strip() if isinstance(text, str) and text.strip() else None, locale=loc)


def any_version(values: dict | None, locale: str | None = None) -> str:
    """For staff screens and lists: the reader's version, else the first one written."""
    loc = locale or current_locale()
    values = values or {}
    if values.get(loc):
        return values[loc]
    for known in locales():
        if values.get(known):
            return values[known]
    return ""


def switch_language_url(locale: str) -> str:
    args = request.args.to_dict()
    args["lang"] = locale
    return f"{request.path}?{urlencode(args)}"


# Formatting: always through Babel, in the reader's language, as written in the
# United States where CLDR knows it (es_US writes "6:00 p.m." and "$75.00"), and in
# ENGAGE_TIMEZONE.


@lru_cache(maxsize=32)
def format_locale(locale: str) -> Locale:
    """The CLDR locale used to format dates and numbers for a UI language."""
    for candidate in (f"{locale}_US", locale):
        try:
            return Locale.parse(candidate)
        except (ValueError, UnknownLocaleError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


def _loc() -> Locale:
    return format_locale(current_locale())


def _local(value: datetime) -> datetime:
    return value.astimezone(get_timezone())


def fmt_datetime(value: datetime | None, style: str = "full_short") -> str:
    """Styles: ``full_short`` ("Tuesday, December 8, 2026 6:00 PM"), ``day_time``
    ("Tuesday, December 8, 6:00 PM" / "martes, 8 de diciembre, 6:00 p.m."), or a
    Babel style (``short``, ``medium``, ``long``)."""
    if value is None:
        return ""
    loc, local = _loc(), _local(value)
    time = babel_dates.format_time(local, "short", locale=loc)
    glue = str(loc.datetime_formats["medium"])  # CLDR's way to join a date and a time: "{1}, {0}"
    if style == "full_short":
        return glue.format(time, babel_dates.format_date(local, "full", locale=loc))
    if style == "day_time":
        return glue.format(time, babel_dates.format_date(local, day_pattern(), locale=loc))
    return babel_dates.format_datetime(local, style, locale=loc)


def day_pattern() -> str:
    # TRANSLATORS: a CLDR date pattern for a meeting day without the year, e.g.
    # "EEEE d 'de' MMMM" in Spanish or "M月d日 EEEE" in Chinese. Keep the letters.
    return gettext("EEEE, MMMM d")


def fmt_date(value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return babel_dates.format_date(value, style, locale=_loc())


def fmt_time(value: datetime | None, style: str = "short") -> str:
    return "" if value is None else babel_dates.format_time(_local(value), style, locale=_loc())


def fmt_money(amount: Decimal | int | float | None, currency: str = "USD") -> str:
    return "" if amount is None else babel_numbers.format_currency(Decimal(str(amount)), currency, locale=_loc())


def fmt_number(value) -> str:
    return babel_numbers.format_decimal(value, locale=_loc())


def init_app(app: Flask) -> None:
    app.config["ENGAGE_LOCALES"] = discover_locales(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["ENGAGE_TIMEZONE"])
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["ENGAGE_TIMEZONE"]
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        datetime=fmt_datetime,
        date=fmt_date,
        time=fmt_time,
        money=fmt_money,
        number=fmt_number,
        localized=localized,
        any_version=any_version,
    )
    app.jinja_env.globals.update(
        html_lang=html_lang,
        language_name=language_name,
        switch_language_url=switch_language_url,
        current_locale=current_locale,
        locales=locales,
    )
