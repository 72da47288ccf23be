"""A coordinator on a phone sets up a regular schedule for a committee, checks the dates
it previews, and posts the first meeting's agenda in English, Spanish and Chinese. Each
page is checked with axe, for tap targets and for sideways scrolling, and saved as a
screenshot at 360 px."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import expect

from engage.extensions import db
from engage.models import CommitteeMembership, Meeting, MeetingDocument
from tests.conftest import make_member

from .test_coordinator_messages import check, sign_in


def test_a_coordinator_schedules_meetings_and_posts_an_agenda_in_three_languages(live_server, phone_page, cast):
    cast.committee_a.max_members = 2
    cast.committee_a.consumer_majority = True
    for i, (name, locale) in enumerate([("Rosa Díaz", "es"), ("陳美玲", "zh_Hant"), ("Sam Lee", "en")]):
        member = make_member(f"+1510555030{i}", name, plan=cast.plan_a, locale=locale)
        db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member=member, is_consumer=i < 1))
    db.session.commit()
    base = live_server
    page = phone_page
    sign_in(page, base, cast.coord_a.email)

    page.goto(f"{base}/coordinator/committees")
    expect(page.locator(".flash-warning").first).to_be_visible()
    check(page, "coordinator-committees")

    page.locator("main .card h2 a").first.click()
    expect(page.locator("h1")).to_have_text("Children's Committee")
    expect(page.locator("table.seats tbody tr")).to_have_count(3)
    check(page, "coordinator-committee-roster")

    page.get_by_role("link", name="Add a regular schedule").click()
    year = datetime.now(ZoneInfo("America/Los_Angeles")).year + 1
    page.select_option("#week", "2")
    page.select_option("#weekday", "1")
    page.select_option("#every_months", "3")
    page.fill("#at", "18:00")
    page.fill("#start", f"{year}-01-01")
    page.fill("#count", "4")
    page.fill("#location_name", "Centro Comunitario")
    page.fill("#address", "1200 Tulare St, Fresno")
    page.check("#childcare")
    page.get_by_label("Spanish", exact=True).check()
    page.get_by_label("Cantonese", exact=True).check()
    page.fill("#stipend_amount", "50")
    page.locator("button[value=preview]").click()
    expect(page.locator("ol.dates li")).to_have_count(4)
    check(page, "coordinator-schedule-preview")
    page.locator("button[value=create]").click()
    expect(page.locator(".flash-success")).to_contain_text("4 meetings added")
    check(page, "coordinator-committee-with-meetings")

    first = db.session.scalar(sa.select(Meeting).order_by(Meeting.starts_at).limit(1))
    assert first.starts_at.astimezone(ZoneInfo("America/Los_Angeles")).hour == 18
    assert first.starts_at.astimezone(ZoneInfo("America/Los_Angeles")).date().month == 1
    assert first.starts_at.date() > date(year, 1, 7)

    page.locator("main .card").first.get_by_role("link", name="Agenda").click()
    expect(page.locator("#standing-heading")).to_be_visible()
    page.fill("#body_en", "1. Welcome\n2. Earlier input still open\n3. Childcare at meetings")
    page.fill("#body_es", "1. Bienvenida\n2. Temas anteriores abiertos\n3. Cuidado de niños en las reuniones")
    page.locator("button[value=post]").click()
    expect(page.locator(".flash-warning")).to_be_visible()  # Chinese still missing
    check(page, "coordinator-agenda-missing-chinese")
    page.fill("#body_zh_Hant", "1. 歡迎\n2. 之前仍未完成的意見\n3. 會議期間的托兒服務")
    page.locator("button[value=post]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".doc-state .tag", has_text="Posted")).to_have_count(3)
    check(page, "coordinator-agenda-posted")

    db.session.expire_all()
    posted = db.session.scalars(sa.select(MeetingDocument).where(MeetingDocument.meeting_id == first.id)).all()
    assert {d.locale for d in posted if d.posted_at} == {"en", "es", "zh_Hant"}

    page.goto(f"{base}/coordinator/?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check(page, "coordinator-today-es")
    page.goto(f"{base}/coordinator/meetings/{first.id}/documents/agenda?lang=zh_Hant")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    check(page, "coordinator-agenda-zh-hant")
