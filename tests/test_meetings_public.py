"""Public committee and meeting pages, posted agendas and minutes per language, and
calendar files."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from engage.extensions import db
from engage.meetings import documents, replies
from engage.models import DocumentKind, Meeting, MeetingFormat, MeetingReply, ReplyStatus, utcnow
from tests.conftest import login
from tests.meeting_factories import make_meeting, meeting_a

LOCALES = ["en", "es", "zh_Hant"]
HTML_LANG = {"en": "en", "es": "es", "zh_Hant": "zh-Hant"}

AGENDA = {
    "en": "Welcome\n\nDental check-ups for children",
    "es": "Bienvenida\n\nChequeos dentales para niños",
    "zh_Hant": "歡迎\n\n兒童牙科檢查",
}
MINUTES = {
    "en": "We talked about dental visits.",
    "es": "Hablamos de las visitas al dentista.",
}


def posted_agenda_a(c) -> int:
    """An upcoming meeting of committee A with its Spanish agenda posted."""
    meeting_id = meeting_a(c)
    meeting = db.session.get(Meeting, meeting_id)
    documents.save(meeting, DocumentKind.AGENDA, "es", AGENDA["es"], post=True)
    db.session.commit()
    return meeting_id


def page(client, url: str, lang: str = "en") -> str:
    response = client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The visible words of a page, roughly: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def meetings(app, cast):
    """An upcoming meeting with everything offered and an agenda in en/es only, a
    cancelled one, and a past one with minutes in en/es."""
    upcoming = make_meeting(
        cast.committee_a,
        days=10,
        stipend_amount=Decimal("50"),
        accessibility_notes={"en": "Step-free entrance on Tulare St.", "es": "Entrada sin escalones por Tulare St."},
    )
    for loc in ("en", "es"):
        documents.save(upcoming, DocumentKind.AGENDA, loc, AGENDA[loc], post=True)
    cancelled = make_meeting(cast.committee_a, days=20)
    replies.cancel(cancelled, reason={"en": "The room flooded.", "es": "El salón se inundó."})
    past = make_meeting(cast.committee_a, days=-30)
    for loc in ("en", "es"):
        documents.save(past, DocumentKind.MINUTES, loc, MINUTES[loc], post=True)
    db.session.commit()
    return {"upcoming": upcoming, "cancelled": cancelled, "past": past}


# The committee page ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LOCALES)
def test_committee_page_lists_meetings_in_the_readers_language(client, cast, meetings, lang):
    html = page(client, f"/committees/{cast.committee_a.slug}", lang)
    assert f'<html lang="{HTML_LANG[lang]}">' in html
    upcoming, cancelled, past = meetings["upcoming"], meetings["cancelled"], meetings["past"]
    for m in (upcoming, cancelled, past):
        assert f"/meetings/{m.id}" in html
    assert f"/committees/{cast.committee_a.slug}/calendar.ics" in html
    if lang == "en":
        words = text_of(html)
        assert "Tuesday" in words or "day," in words
        assert "Free childcare" in words
        assert "Interpreters: Spanish and Cantonese" in words
        assert "Help with transport" in words
        assert "Meal provided" in words
        assert "You will receive $50.00 for your time" in words
        assert "Cancelled" in words and "The room flooded." in words
        assert "Subscribe to the calendar" in words
    if lang == "es":
        assert "El salón se inundó." in html
        assert "The room flooded." not in html
        # The Spanish agenda is posted: no note that it is missing.
        assert "not yet available" not in html
    if lang == "zh_Hant":
        # Neither the cancellation reason nor the agenda nor the minutes exist in Chinese:
        # each says so, and links to the versions that exist, named in their own language.
        assert "The room flooded." not in html and "El salón se inundó." not in html
        assert html.count('class="missing"') >= 3
        assert f'href="/meetings/{upcoming.id}/agenda/es" lang="es" hreflang="es"' in html
        assert f'href="/meetings/{past.id}/minutes/en" lang="en" hreflang="en"' in html
        assert AGENDA["en"] not in html and MINUTES["en"] not in html


def test_committee_page_names_no_parent_and_counts_nobody(client, cast, meetings):
    reply = replies.reply_for(meetings["upcoming"], cast.parent)
    replies.answer(reply, True, channel=replies.ReplyChannel.WEB, notify_member=False)
    db.session.commit()
    for url in (f"/committees/{cast.committee_a.slug}", f"/meetings/{meetings['upcoming'].id}"):
        html = page(client, url)
        assert cast.parent.display_name not in html
        assert cast.parent.phone not in html
        assert "seats" not in html.lower()


def test_committee_page_queries_do_not_grow_with_meetings(client, cast, count_queries):
    def queries() -> int:
        with count_queries() as q:
            assert client.get(f"/committees/{cast.committee_a.slug}").status_code == 200
        return q.count

    for days in (5, -5):
        m = make_meeting(cast.committee_a, days=days)
        documents.save(m, DocumentKind.AGENDA, "en", "Agenda", post=True)
    db.session.commit()
    few = queries()
    for days in (6, 7, 8, 9, -6, -7, -8, -9):
        m = make_meeting(cast.committee_a, days=days, stipend_amount=Decimal("50"))
        documents.save(m, DocumentKind.MINUTES, "es", "Notas", post=True)
    db.session.commit()
    assert queries() == few


def test_unknown_or_private_committee_is_404(client, cast):
    assert client.get("/committees/nope").status_code == 404
    cast.committee_b.is_public = False
    meeting = make_meeting(cast.committee_b)
    assert client.get(f"/committees/{cast.committee_b.slug}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}.ics").status_code == 404


# The meeting page ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LOCALES)
def test_meeting_page_says_everything_about_the_meeting(client, cast, meetings, lang):
    m = meetings["upcoming"]
    html = page(client, f"/meetings/{m.id}", lang)
    assert f'<html lang="{HTML_LANG[lang]}">' in html
    assert f"/meetings/{m.id}.ics" in html
    assert "Centro Comunitario" in html and "1200 Tulare St, Fresno" in html
    assert 'id="agenda"' in html
    if lang == "en":
        words = text_of(html)
        assert "1 hour and 30 minutes" in words
        assert "Step-free entrance on Tulare St." in words
        assert "Earlier input still open" in words and "No open input yet" in words
        assert "Dental check-ups for children" in words
        assert "You will receive $50.00 for your time" in words
        assert "Sign in to answer" in words
        assert f"/me/login?next=/meetings/{m.id}" in html
        assert "Add to calendar" in words
    if lang == "es":
        assert "Chequeos dentales para niños" in html
        assert "Entrada sin escalones" in html
        assert "Dental check-ups" not in html and "Step-free" not in html
    if lang == "zh_Hant":
        assert "Dental check-ups" not in html and "Chequeos" not in html
        assert "Step-free" not in html
        assert f'href="/meetings/{m.id}/agenda/en" lang="en" hreflang="en"' in html
        assert f'href="/meetings/{m.id}/agenda/es" lang="es" hreflang="es"' in html


def test_meeting_page_times_carry_the_day_and_date(client, cast, meetings):
    from engage.i18n import fmt_datetime

    m = meetings["upcoming"]
    for lang in LOCALES:
        html = page(client, f"/meetings/{m.id}", lang)
        with client.application.test_request_context(f"/?lang={lang}"):
            from flask_babel import force_locale

            with force_locale(lang):
                expected = fmt_datetime(m.starts_at, "day_time")
        assert expected in html


def test_the_standing_item_is_listed_first(client, cast, meetings, monkeypatch):
    monkeypatch.setattr(documents, "standing_items", lambda committee: [{"title": {"en": "Dental clinic hours"}}])
    html = page(client, f"/meetings/{meetings['upcoming'].id}")
    assert html.index("Dental clinic hours") < html.index("Dental check-ups for children")
    monkeypatch.delattr(documents, "standing_items")
    assert "No open input yet" in text_of(page(client, f"/meetings/{meetings['upcoming'].id}"))


def test_cancelled_and_past_meetings_take_no_answers(client, cast, meetings):
    login(client, cast.parent)
    cancelled = page(client, f"/meetings/{meetings['cancelled'].id}")
    assert "This meeting is cancelled." in cancelled
    assert "/reply" not in cancelled
    past = page(client, f"/meetings/{meetings['past'].id}")
    assert "This meeting has ended." in past
    assert "/reply" not in past
    assert MINUTES["en"] in past


def test_minutes_show_after_the_meeting_in_the_readers_language(client, cast, meetings):
    past = meetings["past"]
    assert MINUTES["es"] in page(client, f"/meetings/{past.id}", "es")
    zh = page(client, f"/meetings/{past.id}", "zh_Hant")
    assert MINUTES["en"] not in zh and MINUTES["es"] not in zh
    assert f'href="/meetings/{past.id}/minutes/es" lang="es"' in zh


def test_one_language_version_of_a_document(client, cast, meetings):
    m = meetings["upcoming"]
    html = page(client, f"/meetings/{m.id}/agenda/es", "zh_Hant")
    assert '<html lang="zh-Hant">' in html
    assert '<div class="doc-body" lang="es">' in html
    assert "Chequeos dentales para niños" in html
    assert client.get(f"/meetings/{m.id}/agenda/zh_Hant").status_code == 404  # not written
    assert client.get(f"/meetings/{m.id}/agenda/fr").status_code == 404
    assert client.get(f"/meetings/{m.id}/notes/en").status_code == 404
    documents.save(m, DocumentKind.AGENDA, "zh_Hant", AGENDA["zh_Hant"], post=False)
    db.session.commit()
    assert client.get(f"/meetings/{m.id}/agenda/zh_Hant").status_code == 404  # written, not posted


def test_online_link_only_for_a_parent_who_said_yes(client, cast):
    url = "https://meet.example.org/abc-defg"
    m = make_meeting(cast.committee_a, format=MeetingFormat.HYBRID, online_url=url)
    assert url not in page(client, f"/meetings/{m.id}")
    assert url.encode() not in client.get(f"/meetings/{m.id}.ics").data
    login(client, cast.parent)
    assert url not in page(client, f"/meetings/{m.id}")
    reply = replies.reply_for(m, cast.parent)
    replies.answer(reply, False, channel=replies.ReplyChannel.WEB, notify_member=False)
    db.session.commit()
    assert url not in page(client, f"/meetings/{m.id}")
    replies.answer(db.session.get(MeetingReply, reply.id), True, channel=replies.ReplyChannel.WEB, notify_member=False)
    db.session.commit()
    assert url in page(client, f"/meetings/{m.id}")
    assert url.encode() in client.get(f"/meetings/{m.id}.ics").data.replace(b"\r\n ", b"")


# Calendar files --------------------------------------------------------------------------------


def _event(body: bytes):
    cal = Calendar.from_ical(body)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    zones = [c for c in cal.walk() if c.name == "VTIMEZONE"]
    return cal, events, zones


def test_meeting_calendar_file(client, cast, app):
    m = make_meeting(cast.committee_a, days=12)
    response = client.get(f"/meetings/{m.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal, events, zones = _event(response.data)
    assert [z["TZID"] for z in zones] == ["America/Los_Angeles"]
    (event,) = events
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert event.decoded("DTSTART") == m.starts_at
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Centro Comunitario" in str(event["LOCATION"])

    replies.reschedule(m, m.starts_at + timedelta(days=1))
    db.session.commit()
    _, (event,), _ = _event(client.get(f"/meetings/{m.id}.ics").data)
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == m.starts_at

    replies.cancel(m, reason={"en": "Sorry"})
    db.session.commit()
    _, (event,), _ = _event(client.get(f"/meetings/{m.id}.ics").data)
    assert int(event["SEQUENCE"]) == 2
    assert str(event["STATUS"]) == "CANCELLED"


def test_committee_feed_has_every_meeting(client, cast):
    url = "https://meet.example.org/secret"
    a = make_meeting(cast.committee_a, days=3, format=MeetingFormat.ONLINE, online_url=url)
    b = make_meeting(cast.committee_a, days=40)
    replies.cancel(b)
    reply = replies.reply_for(a, cast.parent)
    replies.answer(reply, True, channel=replies.ReplyChannel.WEB, notify_member=False)
    db.session.commit()
    login(client, cast.parent)  # even a parent who said yes: the feed is public
    response = client.get(f"/committees/{cast.committee_a.slug}/calendar.ics")
    assert response.status_code == 200
    assert url.encode() not in response.data
    cal, events, zones = _event(response.data)
    assert [z["TZID"] for z in zones] == ["America/Los_Angeles"]
    status = {str(e["UID"]).split("@")[0]: str(e["STATUS"]) for e in events}
    assert status == {f"meeting-{a.id}": "CONFIRMED", f"meeting-{b.id}": "CANCELLED"}
    assert all(e["DTSTART"].params["TZID"] == "America/Los_Angeles" for e in events)
    assert client.get("/committees/nope/calendar.ics").status_code == 404


def test_reply_status_is_kept_out_of_public_pages(client, cast, meetings):
    # A parent on the waiting list sees it; the public does not see who waits.
    m = make_meeting(cast.committee_a, capacity=1)
    for member in (cast.parent, cast.parent_b):
        replies.answer(replies.reply_for(m, member), True, channel=replies.ReplyChannel.WEB, notify_member=False)
    db.session.commit()
    statuses = set(db.session.scalars(sa.select(MeetingReply.status).where(MeetingReply.meeting_id == m.id)))
    assert statuses == {ReplyStatus.YES, ReplyStatus.WAITLISTED}
    html = page(client, f"/meetings/{m.id}")
    assert cast.parent_b.display_name not in html and cast.parent.display_name not in html
    assert utcnow() < m.starts_at
