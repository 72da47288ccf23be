"""A parent's own page on a phone, in English, Spanish and Chinese: sign in with the
texted code, look at /me, the settings, the demographics and the deletion page.
Each page is checked with axe and saved under build/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_me import last_code

from .conftest import check_axe, html_lang, screenshot
from .test_home_journey import horizontal_overflow, small_tap_targets

LOCALES = ["en", "es", "zh_Hant"]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_parent_signs_in_and_looks_around(app, cast, live_server, phone_page, locale):
    from engage.extensions import db
    from engage.models import CommitteeMembership

    cast.parent.locale = locale
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=cast.parent.id))
    db.session.commit()
    page = phone_page

    page.goto(f"{live_server}/me?lang={locale}")
    assert page.url.startswith(f"{live_server}/me/login?next=")
    check_axe(page, f"me-login-{locale}")
    screenshot(page, f"me-login-{locale}")
    page.locator("#phone").fill("(510) 555-0111")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/me/login/code")
    check_axe(page, f"me-code-{locale}")
    screenshot(page, f"me-code-{locale}")
    page.locator("#code").fill(last_code(cast.parent.phone))
    page.locator("main button[type=submit]").click()

    expect(page.locator("html")).to_have_attribute("lang", html_lang(locale))
    assert page.url.startswith(f"{live_server}/me")
    expect(page.locator("h1")).to_contain_text("Paloma Parent")
    for path, name in [("/me", "me"), ("/me/settings", "me-settings"), ("/me/about", "me-about"),
                       ("/me/phone", "me-phone"), ("/me/delete", "me-delete")]:  # fmt: skip
        page.goto(f"{live_server}{path}")
        check_axe(page, f"{name}-{locale}")
        assert small_tap_targets(page) == [], path
        assert horizontal_overflow(page) is None, path
        screenshot(page, f"{name}-{locale}")
