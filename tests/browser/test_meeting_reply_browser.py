"""A parent on a phone, in English, Spanish and Chinese: opens a meeting, signs in with
the texted code, says yes, asks for childcare and an interpreter, and reads what
happens next. Each page is checked with axe and saved under build/screenshots/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from engage.extensions import db
from engage.meetings import documents
from engage.models import DocumentKind, MeetingReply, ReplyStatus
from tests.meeting_factories import make_meeting
from tests.test_me import last_code

from .conftest import check_axe, html_lang, screenshot
from .test_home_journey import horizontal_overflow, small_tap_targets

LOCALES = ["en", "es", "zh_Hant"]
LANGUAGE_FOR = {"en": "spanish", "es": "spanish", "zh_Hant": "cantonese"}


def looks_right(page, name: str) -> None:
    check_axe(page, name)
    assert small_tap_targets(page) == [], name
    assert horizontal_overflow(page) is None, name
    screenshot(page, name)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_parent_says_yes_and_asks_for_help_to_come(app, cast, live_server, phone_page, locale):
    cast.parent.locale = locale
    meeting = make_meeting(
        cast.committee_a,
        days=9,
        stipend_amount=Decimal("50"),
        accessibility_notes={"en": "Step-free entrance.", "es": "Entrada sin escalones."},
    )
    documents.save(meeting, DocumentKind.AGENDA, "en", "1. Welcome\n2. Dental check-ups", post=True)
    documents.save(meeting, DocumentKind.AGENDA, "es", "1. Bienvenida\n2. Chequeos dentales", post=True)
    db.session.commit()
    page = phone_page

    # Signed out: the page says how to answer.
    page.goto(f"{live_server}/meetings/{meeting.id}?lang={locale}")
    expect(page.locator("html")).to_have_attribute("lang", html_lang(locale))
    looks_right(page, f"meeting-signed-out-{locale}")
    page.locator(f'main a[href^="/me/login?next=/meetings/{meeting.id}"]').click()

    # Sign in with the texted code, and come back to the meeting.
    page.locator("#phone").fill("(510) 555-0111")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/me/login/code")
    page.locator("#code").fill(last_code(cast.parent.phone))
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/meetings/{meeting.id}")
    expect(page.locator("html")).to_have_attribute("lang", html_lang(locale))
    looks_right(page, f"meeting-signed-in-{locale}")

    # "I'll come", then what is needed.
    page.locator('main button[name=answer][value="yes"]').click()
    expect(page).to_have_url(f"{live_server}/meetings/{meeting.id}/needs")
    looks_right(page, f"meeting-needs-{locale}")
    page.locator('main input[value="childcare"]').check()
    page.locator('main input[value="interpreter"]').check()
    page.locator("#interpreter_language").select_option(LANGUAGE_FOR[locale])
    page.locator("main form.stack button[type=submit]").click()

    # What happens next.
    expect(page).to_have_url(f"{live_server}/meetings/{meeting.id}/next")
    expect(page.locator("main .next-box li")).to_have_count(4)  # reminder, childcare, interpreter, stipend
    looks_right(page, f"meeting-next-{locale}")

    db.session.expire_all()
    reply = db.session.query(MeetingReply).filter_by(meeting_id=meeting.id, member_id=cast.parent.id).one()
    assert reply.status == ReplyStatus.YES
    assert reply.needs == ["childcare", "interpreter"]

    # Back on the meeting page: the answer and the requests are shown.
    page.goto(f"{live_server}/meetings/{meeting.id}")
    expect(page.locator("main .answer-box")).to_be_visible()
    looks_right(page, f"meeting-answered-{locale}")

    # /me leads with it; the public committee page lists it, with no names.
    page.goto(f"{live_server}/me")
    expect(page.locator(f'main .me-meetings a[href="/meetings/{meeting.id}"]')).to_be_visible()
    looks_right(page, f"meeting-me-{locale}")
    page.goto(f"{live_server}/committees/{cast.committee_a.slug}")
    expect(page.locator(f'main a[href="/meetings/{meeting.id}"]')).to_be_visible()
    assert "Paloma" not in page.content()
    looks_right(page, f"meeting-committee-{locale}")
