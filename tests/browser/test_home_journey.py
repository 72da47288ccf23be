"""A parent's first visit, on a phone, in English, Spanish and Chinese.

Home page, language switcher, skip link, the parent advisory groups and the staff
sign-in page: each one checked with axe and saved as a screenshot under
build/screenshots/ for a person to look at.
"""

from __future__ import annotations

from functools import cache

import pytest
from babel.support import Translations
from playwright.sync_api import expect

from .conftest import ROOT, check_axe, html_lang, screenshot

LOCALES = ["en", "es", "zh_Hant"]
# The home page's h1, as written in engage/templates/public/home.html.
HOME_H1_MSGID = "Help shape your family’s health plan"
# Tap targets (UX.md): at least 44 CSS px high.
MIN_TAP = 44


@cache
def catalog_translates(locale: str, msgid: str) -> bool:
    """Whether the compiled catalog (translations/<locale>/LC_MESSAGES/messages.mo) translates msgid."""
    catalog = Translations.load(str(ROOT / "translations"), [locale])
    if not isinstance(catalog, Translations):  # no compiled catalog: a NullTranslations
        return False
    translated = catalog.gettext(msgid)
    return bool(translated) and translated != msgid


def assert_page_language(page, locale: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", html_lang(locale))


def assert_one_visible_h1(page):
    h1 = page.locator("h1")
    expect(h1).to_have_count(1)
    expect(h1).to_be_visible()
    return h1


def small_tap_targets(page) -> list[str]:
    """Links and buttons in the header, buttons, card titles and form fields in main under MIN_TAP high.

    Links inside running text are left out (WCAG 2.5.8 exempts inline targets).
    """
    return page.evaluate(
        """(min) => {
          const sel = [
            'header a', 'header button', 'main .button', 'main button', 'main .card h3 a',
            'main input:not([type=hidden]):not([type=checkbox]):not([type=radio])', 'main select', 'main textarea',
          ].join(',');
          return [...document.querySelectorAll(sel)]
            .filter((el) => el.offsetParent !== null && !el.classList.contains('skip-link'))
            .map((el) => [el, el.getBoundingClientRect()])
            .filter(([, r]) => r.height < min)
            .map(([el, r]) => `${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim()}" `
                              + `${Math.round(r.width)}x${Math.round(r.height)}`);
        }""",
        MIN_TAP,
    )


def horizontal_overflow(page) -> dict | None:
    """None when the page fits its viewport's width, else the widths and the widest elements."""
    return page.evaluate(
        """() => {
          const root = document.documentElement;
          if (root.scrollWidth <= root.clientWidth) return null;
          const wide = [...document.body.querySelectorAll('*')]
            .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
            .slice(0, 5)
            .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
          return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide};
        }"""
    )


# Home page -------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_home_journey(live_server, phone_page, locale):
    page = phone_page
    page.goto(f"{live_server}/?lang={locale}")
    assert_page_language(page, locale)
    assert_one_visible_h1(page)
    # Whether the h1 is really in the page's language is checked by
    # test_home_h1_is_not_english below, once the catalog translates it.

    check_axe(page, f"home-{locale}")
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, f"home-{locale}")

    # The skip link is the first thing Tab reaches, shows itself, and moves focus to main.
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_attribute("href", "#main")
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    # The language switcher moves between every language, staying on the same page,
    # and marks the current one.
    for other in [loc for loc in LOCALES if loc != locale] + [locale]:
        page.locator(f'.lang-switch a[hreflang="{html_lang(other)}"]').click()
        assert_page_language(page, other)
        assert page.url.startswith(f"{live_server}/?")
        assert_one_visible_h1(page)
        current = page.locator(".lang-switch a[aria-current]")
        expect(current).to_have_count(1)
        expect(current).to_have_attribute("hreflang", html_lang(other))
        expect(current).to_have_attribute("lang", html_lang(other))

    # The choice is remembered without ?lang=.
    page.goto(f"{live_server}/")
    assert_page_language(page, locale)


@pytest.mark.parametrize(
    "locale",
    [
        pytest.param(
            loc,
            marks=pytest.mark.skipif(
                not catalog_translates(loc, HOME_H1_MSGID),
                reason=f"translations/{loc} does not translate the home page's h1 yet",
            ),
        )
        for loc in LOCALES
        if loc != "en"
    ],
)
def test_home_h1_is_not_english(live_server, phone_page, locale):
    page = phone_page
    page.goto(f"{live_server}/?lang=en")
    english = assert_one_visible_h1(page).inner_text().strip()
    page.goto(f"{live_server}/?lang={locale}")
    assert_page_language(page, locale)
    translated = assert_one_visible_h1(page).inner_text().strip()
    assert translated
    assert translated != english


# Other public pages ---------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_committees_page(live_server, phone_page, cast, locale):
    page = phone_page
    page.goto(f"{live_server}/committees?lang={locale}")
    assert_page_language(page, locale)
    assert_one_visible_h1(page)
    expect(page.locator(".card")).to_have_count(2)
    expect(page.get_by_role("link", name=cast.committee_a.name[locale])).to_be_visible()
    check_axe(page, f"committees-{locale}")
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, f"committees-{locale}")


@pytest.mark.parametrize("locale", LOCALES)
def test_login_page(live_server, phone_page, locale):
    page = phone_page
    page.goto(f"{live_server}/login?lang={locale}")
    assert_page_language(page, locale)
    assert_one_visible_h1(page)
    expect(page.locator("input#email")).to_have_attribute("type", "email")
    expect(page.locator("input#password")).to_have_attribute("type", "password")
    check_axe(page, f"login-{locale}")
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, f"login-{locale}")

    # Sent empty: a summary of what to fix, and each field says what is wrong with it.
    page.locator("main form button[type=submit]").click()
    assert_page_language(page, locale)
    expect(page.locator(".error-summary")).to_be_visible()
    for name in ("email", "password"):
        field = page.locator(f"input#{name}")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", f"{name}-error")
        expect(page.locator(f"#{name}-error")).to_be_visible()
    check_axe(page, f"login-errors-{locale}")
    assert horizontal_overflow(page) is None
    screenshot(page, f"login-errors-{locale}")


# 200% zoom ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_no_horizontal_scrolling_at_320px(live_server, new_page, cast, locale):
    """A 320 CSS px viewport stands in for a 640 px window at 200% zoom (WCAG 1.4.10)."""
    page = new_page(locale=locale, viewport={"width": 320, "height": 640}, device_scale_factor=1)
    for path in ("/", "/committees", "/login"):
        page.goto(f"{live_server}{path}?lang={locale}")
        assert_page_language(page, locale)
        assert horizontal_overflow(page) is None, path
    page.goto(f"{live_server}/?lang={locale}")
    screenshot(page, f"home-{locale}-320")
