"""A parent signs up on the web on a phone, in English, Spanish and Chinese.

Every step is checked with axe and saved as build/screenshots/join-<step>-<locale>.png;
the code is read from the outbox, as the parent would read it from the text.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from engage.extensions import db
from engage.models import ConsentEvent, Member, OutboxMessage, SmsStatus

from .conftest import check_axe, html_lang, screenshot
from .test_home_journey import assert_one_visible_h1, horizontal_overflow, small_tap_targets

LOCALES = ["en", "es", "zh_Hant"]
PHONES = {"en": "+15105550181", "es": "+15105550182", "zh_Hant": "+15105550183"}


def check(page, name: str, locale: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", html_lang(locale))
    assert_one_visible_h1(page)
    check_axe(page, f"join-{name}-{locale}")
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, f"join-{name}-{locale}")


def cont(page) -> None:
    page.locator('main button[value="next"]').click()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_parent_signs_up_on_a_phone(live_server, phone_page, cast, locale):
    page = phone_page
    phone = PHONES[locale]
    page.goto(f"{live_server}/?lang={locale}")
    page.locator('main a[href="/join"]').click()
    expect(page.locator(".step-count")).to_contain_text("1")

    # 1. Name, number, language (this page's language is chosen already).
    expect(page.locator(f'input[name="locale"][value="{locale}"]')).to_be_checked()
    check(page, "1-basics", locale)
    page.locator("#display_name").fill("Rosa")
    page.locator("#phone").fill("555")
    cont(page)
    expect(page.locator("#phone-error")).to_be_visible()
    expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#display_name")).to_have_value("Rosa")
    check(page, "1-basics-error", locale)
    page.locator("#phone").fill(phone[2:])
    cont(page)

    # 2. Where they live, and which plan (the cast has two).
    check(page, "2-place", locale)
    page.locator("#county").select_option("Alameda")
    page.locator('input[name="plan_id"]').first.check()
    cont(page)

    # 3 and 4. Children and how they want to take part: nothing chosen is explained.
    check(page, "3-children", locale)
    cont(page)
    expect(page.locator("#child_age_groups-error")).to_be_visible()
    page.locator('input[name="child_age_groups"][value="0-5"]').check()
    cont(page)
    check(page, "4-participation", locale)
    page.locator('input[name="participation"][value="feedback"]').check()
    cont(page)

    # 5. Needs: an interpreter needs a language.
    check(page, "5-needs", locale)
    page.locator('input[name="needs"][value="interpreter"]').check()
    cont(page)
    expect(page.locator("#interpreter_language-error")).to_be_visible()
    page.locator("#interpreter_language").select_option("cantonese")
    cont(page)

    # 6. About you: optional. Back keeps the answers; then skip.
    check(page, "6-about-you", locale)
    page.locator('main button[value="back"]').click()
    expect(page.locator('input[name="needs"][value="interpreter"]')).to_be_checked()
    cont(page)
    page.locator('main button[value="skip"]').click()

    # 7. The consent words, then the code.
    check(page, "7-consent", locale)
    expect(page.locator(".consent")).to_contain_text("4")
    page.locator('main button[value="next"]').click()

    check(page, "code", locale)
    db.session.expire_all()
    body = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.phone == phone)).one()
    code = re.search(r"\b(\d{6})\b", body).group(1)
    expect(page.locator("#code")).to_have_attribute("autocomplete", "one-time-code")
    expect(page.locator("#code")).to_have_attribute("inputmode", "numeric")
    page.locator("#code").fill("000000" if code != "000000" else "111111")
    page.locator('main button[value="confirm"]').click()
    expect(page.locator("#code-error")).to_be_visible()
    check(page, "code-error", locale)
    page.locator("#code").fill(code)
    page.locator('main button[value="confirm"]').click()

    check(page, "done", locale)
    expect(page.locator('main a[href="/committees"]')).to_be_visible()
    db.session.expire_all()
    member = db.session.scalars(sa.select(Member).where(Member.phone == phone)).one()
    assert member.sms_status == SmsStatus.ACTIVE
    assert member.locale == locale
    assert member.race_ethnicity is None
    event = db.session.scalars(sa.select(ConsentEvent).where(ConsentEvent.phone == phone)).one()
    assert event.locale == locale


def test_the_about_you_step_on_a_phone(live_server, phone_page, cast):
    """The longest step, filled in, as a screenshot to look at."""
    page = phone_page
    page.goto(f"{live_server}/join?lang=en")
    page.locator("#display_name").fill("Rosa")
    page.locator("#phone").fill("5105550184")
    cont(page)
    page.locator("#zip_code").fill("94601")
    page.locator('input[name="plan_id"]').first.check()
    cont(page)
    page.locator('input[name="child_age_groups"]').first.check()
    cont(page)
    page.locator('input[name="participation"]').first.check()
    cont(page)
    cont(page)
    # The detailed groups are folded away until asked for.
    expect(page.locator("#race-asian_chinese")).to_be_hidden()
    page.locator("#race-asian").locator("xpath=../..").locator("summary").click()
    page.locator("#race-asian_chinese").check()
    page.locator("#race-decline").check()
    page.locator('input[name="disability_hearing"][value="no"]').check()
    cont(page)
    expect(page.locator("#race_ethnicity-error")).to_be_visible()
    expect(page.locator("#race-asian_chinese")).to_be_visible()  # open again: a detailed group was chosen
    expect(page.locator("#race-asian_chinese")).to_be_checked()
    expect(page.locator('input[name="disability_hearing"][value="no"]')).to_be_checked()
    check(page, "6-about-you-error", "en")
