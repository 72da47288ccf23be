"""A coordinator at the door, on a phone: opens the check-in page, finds a name, checks
the person in, adds someone who walked in, in English, Spanish and Chinese. Each step
is checked with axe, for 44 px targets and for sideways scrolling, and saved as a
screenshot (build/screenshots/check-in-*.png)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from engage.extensions import db
from engage.models import MeetingReply, ReplyStatus
from tests.conftest import make_member
from tests.meeting_factories import make_meeting

from .test_coordinator_messages import check, sign_in


def _people(cast):
    meeting = make_meeting(cast.committee_a, days=0.02, stipend_amount=Decimal("50"), capacity=20)
    names = [
        ("Rosa María Díaz Hernández", "es"),
        ("陳美玲", "zh_Hant"),
        ("James Okafor", "en"),
        ("Nguyễn Thị Lan", "en"),
    ]
    for i, (name, locale) in enumerate(names):
        member = make_member(f"+1559555{i:04d}", name, plan=cast.plan_a, locale=locale)
        db.session.flush()
        db.session.add(MeetingReply(meeting_id=meeting.id, member_id=member.id, status=ReplyStatus.YES))
    db.session.add(MeetingReply(meeting_id=meeting.id, member_id=cast.parent.id, status=ReplyStatus.INVITED))
    meeting.seats_taken = len(names)
    db.session.commit()
    return meeting


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_checking_people_in_at_the_door(live_server, phone_page, cast, locale):
    meeting = _people(cast)
    page = phone_page
    sign_in(page, live_server, cast.coord_a.email)
    url = f"{live_server}/coordinator/meetings/{meeting.id}/check-in"

    page.goto(f"{url}?lang={locale}")
    expect(page.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))
    expect(page.locator(".check-in-row")).to_have_count(5)
    expect(page.locator(".here-count")).to_contain_text("0")
    check(page, f"check-in-{locale}-list")

    page.fill("#q", "rosa diaz")
    page.locator("form.search-row button[type=submit]").click()
    expect(page.locator(".check-in-row")).to_have_count(1)
    row = page.locator(".check-in-row").first
    expect(row).to_contain_text("Rosa María Díaz Hernández")
    check(page, f"check-in-{locale}-search")

    row.locator("button.button").click()
    expect(page.locator(".flash-success")).to_contain_text("Rosa María Díaz Hernández")
    expect(page.locator(".check-in-row.is-here")).to_have_count(1)
    expect(page.locator(".here-count")).to_contain_text("1")
    check(page, f"check-in-{locale}-checked-in")

    # A walk-in with a number typed wrong: told what to fix, nothing lost.
    page.fill("#name", "Marta Walk-in")
    page.fill("#phone", "555-12")
    page.select_option("#language", "es")
    page.locator("form[action$='/walk-in#walk-in'] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Marta Walk-in")
    expect(page.locator("#phone")).to_have_value("555-12")
    check(page, f"check-in-{locale}-walk-in-error")

    page.fill("#phone", "(559) 555-0199")
    page.locator("form[action$='/walk-in#walk-in'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Marta Walk-in")
    page.goto(f"{url}?lang={locale}")
    expect(page.locator(".check-in-row.is-here")).to_have_count(2)
    check(page, f"check-in-{locale}-walk-in-added")

    # The meeting page counts the stipends from who came.
    page.goto(f"{live_server}/coordinator/meetings/{meeting.id}?lang={locale}")
    expect(page.locator("main")).to_contain_text("$100.00")
    check(page, f"check-in-{locale}-meeting-page")


def test_the_meetings_list_meeting_page_and_invitations_on_a_phone(live_server, phone_page, cast):
    from engage.models import CommitteeMembership

    meeting = _people(cast)
    # Needs asked for, so the tally and "not arranged yet" show.
    for reply in db.session.scalars(sa.select(MeetingReply).where(MeetingReply.status == ReplyStatus.YES)):
        reply.needs = ["childcare", "interpreter", "transport"]
    make_meeting(cast.committee_a, days=-14)
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=cast.parent.id))
    db.session.commit()
    page = phone_page
    sign_in(page, live_server, cast.coord_a.email)

    page.goto(f"{live_server}/coordinator/meetings")
    expect(page.locator(".meeting-card")).to_have_count(2)
    expect(page.locator(".needs-flag")).to_have_count(1)
    check(page, "meetings-list")

    page.locator(".meeting-card h3 a").first.click()
    expect(page).to_have_url(f"{live_server}/coordinator/meetings/{meeting.id}")
    expect(page.locator(".tally .card")).to_have_count(3)
    check(page, "meeting-page")

    page.locator(f"#p{cast.parent.id} button[value=yes]").click()
    expect(page.locator(".flash-success")).to_contain_text("Paloma Parent")
    check(page, "meeting-page-answer-recorded")

    page.goto(f"{live_server}/coordinator/meetings/{meeting.id}/invite")
    page.locator("button[value=preview]").click()
    expect(page.locator(".preview")).to_contain_text("Already invited: 1.")
    check(page, "meeting-invite-preview")
