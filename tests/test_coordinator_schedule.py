"""The coordinator's meetings: one meeting, a regular schedule across a daylight-saving
change, changing and cancelling (people who said yes are texted in their language),
agendas and minutes side by side, and the "what needs me today" page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    AuditEvent,
    CommitteeMembership,
    DocumentKind,
    Meeting,
    MeetingDocument,
    MeetingFormat,
    MeetingReply,
    MeetingSeries,
    MeetingStatus,
    OutboxMessage,
    ReplyStatus,
    utcnow,
)
from tests.conftest import csrf_token, login, make_member, post_form
from tests.meeting_factories import make_meeting

PACIFIC = ZoneInfo("America/Los_Angeles")
LANGS = ["en", "es", "zh_Hant"]


def html_lang(lang: str) -> str:
    return f'<html lang="{lang.replace("_", "-")}">'


def in_days(n: int) -> date:
    return (datetime.now(PACIFIC) + timedelta(days=n)).date()


def meeting_form(**changes) -> dict:
    data = {
        "day": in_days(20).isoformat(),
        "at": "18:00",
        "duration_minutes": "90",
        "format": "in_person",
        "location_name": "Centro Comunitario",
        "address": "1200 Tulare St, Fresno",
        "capacity": "30",
        "childcare": "y",
        "interpretation": ["spanish", "cantonese"],
        "meals": "y",
        "stipend_amount": "50",
        "title_en": "Planning meeting",
        "title_es": "Reunión de planificación",
        "accessibility_notes_es": "Entrada sin escalones.",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def coming(meeting, *members, status=ReplyStatus.YES):
    for member in members:
        db.session.add(MeetingReply(meeting_id=meeting.id, member_id=member.id, status=status))
    meeting.seats_taken = len(members) if status == ReplyStatus.YES else meeting.seats_taken
    db.session.commit()


@pytest.fixture
def three(cast):
    """Three plan A parents who said yes, one per language (the cast's parent reads Spanish)."""
    en = make_member("+15105550201", "Erin English", plan=cast.plan_a)
    zh = make_member("+15105550202", "Wing Chan", plan=cast.plan_a, locale="zh_Hant")
    db.session.commit()
    return {"es": cast.parent, "en": en, "zh_Hant": zh}


# One meeting ------------------------------------------------------------------------------


def test_a_new_meeting_is_made_in_local_time(app, cast, client):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new"
    page = client.get(url).get_data(as_text=True)
    assert "Pacific Time" in page
    assert 'type="date"' in page and 'type="time"' in page
    response = post_form(client, url, meeting_form())
    assert response.status_code == 302
    meeting = db.session.scalar(sa.select(Meeting))
    local = meeting.starts_at.astimezone(PACIFIC)
    assert (local.date(), local.hour, local.minute) == (in_days(20), 18, 0)
    assert meeting.format == MeetingFormat.IN_PERSON
    assert meeting.interpretation == ["spanish", "cantonese"]
    assert meeting.childcare and meeting.meals and not meeting.transport
    assert meeting.stipend_amount == Decimal("50.00")
    assert meeting.title == {"en": "Planning meeting", "es": "Reunión de planificación"}
    assert meeting.accessibility_notes == {"es": "Entrada sin escalones."}
    assert meeting.capacity == 30
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.target_id == meeting.id)) == (
        "meeting.created"
    )
    committee_page = client.get(f"/coordinator/committees/{cast.committee_a.id}").get_data(as_text=True)
    assert "Meeting added" in committee_page
    assert f"/coordinator/meetings/{meeting.id}" in committee_page


@pytest.mark.parametrize(
    "lang, required, integer",
    [
        ("en", "Please fill this in.", "Not a valid integer value."),
        ("es", "Complete este campo.", "No es un número entero válido."),
        ("zh_Hant", "請填寫這一欄。", "不是有效的整數。"),
    ],
)
def test_the_meeting_form_in_each_language_keeps_what_was_typed(app, cast, client, lang, required, integer):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new?lang={lang}"
    page = client.get(url).get_data(as_text=True)
    assert html_lang(lang) in page
    response = post_form(client, url, meeting_form(day="", capacity="lots"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html_lang(lang) in html
    assert required in html and integer in html
    assert 'value="Centro Comunitario"' in html
    assert "Reunión de planificación" in html
    assert 'value="cantonese" checked' in html
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"day": in_days(-2).isoformat()}, "Please choose a day and time that have not passed yet."),
        ({"location_name": "", "address": ""}, "Please give the place name or the address."),
        ({"format": "online", "online_url": ""}, "Please give the link for joining online."),
        ({"format": "hybrid", "online_url": "not a link"}, "Please enter a web address starting with https://."),
        ({"duration_minutes": "5"}, "Please enter a number from 15 to 600."),
        ({"stipend_amount": "-3"}, "Please enter an amount from $0 to $1,000."),
        ({"format": "by pigeon"}, "Not a valid choice."),
        ({"at": "25:99"}, "Not a valid time value."),
    ],
)
def test_what_a_meeting_needs(app, cast, client, changes, message):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new"
    response = post_form(client, url, meeting_form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


def test_an_online_meeting_needs_no_place(app, cast, client):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new"
    data = meeting_form(format="online", location_name="", address="", online_url="https://meet.example.org/cac")
    assert post_form(client, url, data).status_code == 302
    assert db.session.scalar(sa.select(Meeting.online_url)) == "https://meet.example.org/cac"


# A regular schedule ---------------------------------------------------------------------------


def schedule_form(first_day: date, **changes) -> dict:
    data = meeting_form(day=None, at=None)
    data.update(week="2", weekday="1", every_months="3", at="18:00", start=first_day.isoformat(), count="4")
    data.update(changes)
    return data


def test_a_schedule_previews_then_makes_meetings_at_local_time_across_daylight_saving(app, cast, client):
    login(client, cast.coord_a)
    year = datetime.now(PACIFIC).year + 1
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule"
    response = post_form(client, url, {**schedule_form(date(year, 1, 1)), "action": "preview"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "4 meetings will be added" in html
    expected_days = [date(year, m, 1) for m in (1, 4, 7, 10)]
    # The second Tuesday of January, April, July and October.
    expected_days = [d + timedelta(days=(1 - d.weekday()) % 7 + 7) for d in expected_days]
    for day in expected_days:
        assert f"{day:%B} {day.day}, {year}" in html
        assert "6:00\u202fPM" in html or "6:00 PM" in html
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0  # a preview makes nothing

    response = post_form(client, url, {**schedule_form(date(year, 1, 1)), "action": "create"})
    assert response.status_code == 302
    meetings = db.session.scalars(sa.select(Meeting).order_by(Meeting.starts_at)).all()
    assert [m.starts_at.astimezone(PACIFIC).date() for m in meetings] == expected_days
    assert {(m.starts_at.astimezone(PACIFIC).hour, m.starts_at.astimezone(PACIFIC).minute) for m in meetings} == {
        (18, 0)
    }
    # 18:00 PST is 02:00 UTC the next day; 18:00 PDT is 01:00 UTC.
    assert [m.starts_at.astimezone(UTC).hour for m in meetings] == [2, 1, 1, 1]
    series = db.session.scalar(sa.select(MeetingSeries))
    assert series.rule.startswith("FREQ=MONTHLY;INTERVAL=3") and "BYDAY=+2TU" in series.rule
    assert {m.series_id for m in meetings} == {series.id}
    assert {m.location_name for m in meetings} == {"Centro Comunitario"}
    assert {tuple(m.interpretation) for m in meetings} == {("spanish", "cantonese")}
    assert (
        db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "meeting.series_created")).detail["meetings"]
        == 4
    )


def test_the_example_from_the_brief_2027(app, cast, client):
    """Starting 2027-01-12, the second Tuesday every 3 months at 18:00: 18:00 local each time."""
    if date.today() >= date(2027, 1, 12):
        pytest.skip("the example's first day has passed")
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule"
    post_form(client, url, {**schedule_form(date(2027, 1, 12)), "action": "create"})
    starts = [m.starts_at for m in db.session.scalars(sa.select(Meeting).order_by(Meeting.starts_at))]
    assert [s.astimezone(PACIFIC).replace(tzinfo=None) for s in starts] == [
        datetime(2027, 1, 12, 18),
        datetime(2027, 4, 13, 18),
        datetime(2027, 7, 13, 18),
        datetime(2027, 10, 12, 18),
    ]


def test_a_schedule_until_a_day(app, cast, client):
    login(client, cast.coord_a)
    year = datetime.now(PACIFIC).year + 1
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule"
    data = schedule_form(date(year, 1, 1), every_months="1", count="", until=date(year, 6, 30).isoformat())
    html = post_form(client, url, data).get_data(as_text=True)
    assert "6 meetings will be added" in html


@pytest.mark.parametrize(
    "lang, message",
    [("en", "Not a valid date value."), ("es", "No es una fecha válida."), ("zh_Hant", "不是有效的日期。")],
)
def test_the_schedule_form_in_each_language(app, cast, client, lang, message):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule?lang={lang}"
    html = client.get(url).get_data(as_text=True)
    assert html_lang(lang) in html
    response = post_form(client, url, {**schedule_form(date(2030, 1, 1), start="soon"), "action": "preview"})
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="Centro Comunitario"' in html


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"count": "", "until": ""}, "Please say how many meetings, or give a last day."),
        ({"start": "2020-01-01"}, "Please choose a day that has not passed yet."),
        ({"until": "2029-12-01", "count": ""}, "The last day cannot be before the first day."),
        ({"count": "99"}, "Please enter a number from 1 to 60."),
    ],
)
def test_what_a_schedule_needs(app, cast, client, changes, message):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule"
    response = post_form(client, url, {**schedule_form(date(2030, 1, 1)), **changes, "action": "create"})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


# Changing a meeting ---------------------------------------------------------------------------


def edit_data(meeting, **changes) -> dict:
    local = meeting.starts_at.astimezone(PACIFIC)
    return meeting_form(**{"day": local.date().isoformat(), "at": local.strftime("%H:%M"), **changes})


def test_moving_a_meeting_texts_people_who_said_yes_in_their_language(app, cast, client, three):
    meeting = make_meeting(cast.committee_a, days=12, capacity=20)
    coming(meeting, *three.values())
    no = make_member("+15105550203", "Nadia No", plan=cast.plan_a)
    db.session.commit()
    db.session.add(MeetingReply(meeting_id=meeting.id, member_id=no.id, status=ReplyStatus.NO))
    db.session.commit()
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert "we text the 3 people who said yes" in html
    new_day = (meeting.starts_at.astimezone(PACIFIC) + timedelta(days=2)).date()
    response = post_form(client, url, edit_data(meeting, day=new_day.isoformat(), at="17:30"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We texted 3 people who said yes or are waiting for a place." in page

    db.session.expire_all()
    moved = db.session.get(Meeting, meeting.id)
    local = moved.starts_at.astimezone(PACIFIC)
    assert (local.date(), local.hour, local.minute) == (new_day, 17, 30)
    assert moved.sequence == 1
    texts = {m.member_id: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert set(texts) == {m.id for m in three.values()}
    for lang, member in three.items():
        assert texts[member.id].locale == lang
        assert texts[member.id].phone == member.phone
    # The new time is written the way each reader's language writes it.
    assert "5:30 PM" in texts[three["en"].id].body
    assert "5:30 p.m." in texts[three["es"].id].body
    assert "下午5:30" in texts[three["zh_Hant"].id].body
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "meeting.changed"))
    assert event.detail["moved"] is True and event.detail["texted"] == 3


def test_changing_only_details_texts_nobody(app, cast, client, three):
    meeting = make_meeting(cast.committee_a, days=12)
    coming(meeting, *three.values())
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/edit"
    response = post_form(client, url, edit_data(meeting, location_name="Biblioteca", capacity=""))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).location_name == "Biblioteca"


def test_places_cannot_drop_below_people_who_have_one(app, cast, client, three):
    meeting = make_meeting(cast.committee_a, days=12, capacity=10)
    coming(meeting, *three.values())
    login(client, cast.coord_a)
    html = post_form(client, f"/coordinator/meetings/{meeting.id}/edit", edit_data(meeting, capacity="2")).get_data(
        as_text=True
    )
    assert "3 people already have a place." in html
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).capacity == 10


@pytest.mark.parametrize("lang, message", [("es", "Complete este campo."), ("zh_Hant", "請填寫這一欄。")])
def test_the_edit_form_in_each_language(app, cast, client, lang, message):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/edit?lang={lang}"
    html = client.get(url).get_data(as_text=True)
    assert html_lang(lang) in html
    assert 'value="Centro Comunitario"' in html
    html = post_form(client, url, edit_data(meeting, at="")).get_data(as_text=True)
    assert message in html


def test_a_meeting_cannot_move_into_the_past(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    data = edit_data(meeting, day=in_days(-1).isoformat())
    html = post_form(client, f"/coordinator/meetings/{meeting.id}/edit", data).get_data(as_text=True)
    assert "Please choose a day and time that have not passed yet." in html


# Cancelling -------------------------------------------------------------------------------------


def test_cancelling_texts_people_who_said_yes_or_wait_in_their_language(app, cast, client, three):
    meeting = make_meeting(cast.committee_a, days=12)
    coming(meeting, three["en"], three["es"])
    coming(meeting, three["zh_Hant"], status=ReplyStatus.WAITLISTED)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/cancel"
    html = client.get(url).get_data(as_text=True)
    assert "We will text the 3 people who said yes or are waiting for a place" in html
    response = post_form(client, url, {"reason_en": "The room flooded.", "reason_es": "El salón se inundó."})
    assert response.status_code == 302
    db.session.expire_all()
    cancelled = db.session.get(Meeting, meeting.id)
    assert cancelled.status == MeetingStatus.CANCELLED
    assert cancelled.cancel_reason == {"en": "The room flooded.", "es": "El salón se inundó."}
    texts = {m.member_id: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert {m.locale for m in texts.values()} == set(LANGS)
    for lang, member in three.items():
        assert texts[member.id].locale == lang
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We texted 3 people" in page
    assert "Cancelled" in page
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "meeting.cancelled")).detail == {
        "texted": 3
    }

    # Twice is once; and a cancelled meeting cannot be changed.
    again = post_form(client, url, {}, token_from=f"/coordinator/committees/{cast.committee_a.id}")
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 3
    edit = client.get(f"/coordinator/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert "This meeting was cancelled, so it cannot be changed." in edit


@pytest.mark.parametrize("lang", LANGS)
def test_the_cancel_form_in_each_language(app, cast, client, lang):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/cancel?lang={lang}"
    html = client.get(url).get_data(as_text=True)
    assert html_lang(lang) in html
    assert html.count('class="lang-block"') == 3
    html = post_form(client, url, {"reason_es": "x" * 501}).get_data(as_text=True)
    assert "error-summary" in html
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.SCHEDULED


# Plans are kept apart ----------------------------------------------------------------------------


def test_another_plans_coordinator_gets_404_and_changes_nothing(app, cast, client, three):
    meeting = make_meeting(cast.committee_a, days=12)
    coming(meeting, *three.values())
    login(client, cast.coord_b)
    gets = [
        f"/coordinator/committees/{cast.committee_a.id}/meetings/new",
        f"/coordinator/committees/{cast.committee_a.id}/schedule",
        f"/coordinator/meetings/{meeting.id}/edit",
        f"/coordinator/meetings/{meeting.id}/cancel",
        f"/coordinator/meetings/{meeting.id}/documents/agenda",
        f"/coordinator/meetings/{meeting.id}/documents/minutes",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    token_page = "/coordinator/committees"
    for url, data in [
        (gets[0], meeting_form()),
        (gets[1], {**schedule_form(date(2030, 1, 1)), "action": "create"}),
        (gets[2], edit_data(meeting, at="09:00")),
        (gets[3], {}),
        (gets[4], {"body_en": "Hacked", "action": "post"}),
    ]:
        assert post_form(client, url, data, token_from=token_page).status_code == 404, url
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 1
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.SCHEDULED
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(MeetingDocument.id))) == 0


def test_an_unknown_document_kind_is_404(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    assert client.get(f"/coordinator/meetings/{meeting.id}/documents/memo").status_code == 404
    assert client.get("/coordinator/meetings/999999/edit").status_code == 404


# Agendas and minutes ---------------------------------------------------------------------------


def test_the_agenda_editor_shows_each_language_and_the_standing_item(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    html = client.get(f"/coordinator/meetings/{meeting.id}/documents/agenda").get_data(as_text=True)
    for name in ("body_en", "body_es", "body_zh_Hant"):
        assert f'name="{name}"' in html
    assert 'lang="zh-Hant"' in html
    assert "Earlier input still open, with its latest update" in html
    assert "No open input yet." in html
    minutes = client.get(f"/coordinator/meetings/{meeting.id}/documents/minutes").get_data(as_text=True)
    assert "No open input yet." not in minutes


def test_draft_post_and_take_down(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/documents/agenda"
    bodies = {"body_en": "1. Welcome", "body_es": "1. Bienvenida", "body_zh_Hant": ""}
    response = post_form(client, url, {**bodies, "action": "draft"})
    assert response.status_code == 302
    docs = db.session.scalars(sa.select(MeetingDocument)).all()
    assert {d.locale for d in docs} == {"en", "es"}
    assert all(d.posted_at is None for d in docs)
    assert "Draft saved. It is not public yet." in client.get(url).get_data(as_text=True)

    response = post_form(client, url, {**bodies, "action": "post"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Posted. Still missing: Chinese" in html
    db.session.expire_all()
    posted = {d.locale: d for d in db.session.scalars(sa.select(MeetingDocument))}
    assert posted["en"].posted_at is not None and posted["en"].posted_by_id == cast.coord_a.id
    assert "Posted " in html and posted["en"].kind == DocumentKind.AGENDA

    response = post_form(client, url, {**bodies, "body_zh_Hant": "1. 歡迎", "action": "post"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Posted in every language." in html

    response = post_form(client, url, {**bodies, "body_zh_Hant": "1. 歡迎", "action": "unpost:es"})
    db.session.expire_all()
    states = {d.locale: d.posted_at is not None for d in db.session.scalars(sa.select(MeetingDocument))}
    assert states == {"en": True, "es": False, "zh_Hant": True}
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_id == meeting.id)).all()
    assert actions.count("meeting.agenda_saved") == 4


@pytest.mark.parametrize("lang", LANGS)
def test_the_document_editor_in_each_language(app, cast, client, lang):
    meeting = make_meeting(cast.committee_a, days=12)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/documents/minutes?lang={lang}"
    html = client.get(url).get_data(as_text=True)
    assert html_lang(lang) in html
    html = post_form(client, url, {"body_es": "x" * 20001, "body_en": "Kept", "action": "post"}).get_data(as_text=True)
    assert "error-summary" in html
    assert "Kept" in html
    assert db.session.scalar(sa.select(sa.func.count(MeetingDocument.id))) == 0


def test_a_warning_when_the_meeting_is_near_and_the_agenda_is_not_posted(app, cast, client):
    soon = make_meeting(cast.committee_a, days=1)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{soon.id}/documents/agenda"
    html = client.get(url).get_data(as_text=True)
    assert "The meeting is less than 72 hours away and the agenda is not posted." in html
    post_form(client, url, {"body_en": "1. Welcome", "body_es": "1. Bienvenida", "action": "post"})
    html = client.get(url).get_data(as_text=True)
    assert "Not posted yet in: Chinese" in html
    later = make_meeting(cast.committee_a, days=12)
    html = client.get(f"/coordinator/meetings/{later.id}/documents/agenda").get_data(as_text=True)
    assert "hours away" not in html and "Not posted yet in" not in html


# What needs me today -------------------------------------------------------------------------------


def test_today_lists_this_weeks_meetings_and_what_is_missing(app, cast, client, three, count_queries):
    soon = make_meeting(cast.committee_a, days=2)
    make_meeting(cast.committee_b, days=2)  # another plan's
    coming(soon, *three.values())
    reply = db.session.scalar(sa.select(MeetingReply).where(MeetingReply.member_id == three["es"].id))
    reply.needs = ["childcare"]
    cast.committee_a.max_members = 2
    from engage.models import CommitteeMembership

    for member in three.values():
        db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=member.id))
    db.session.commit()
    login(client, cast.coord_a)
    with count_queries() as few:
        html = client.get("/coordinator/").get_data(as_text=True)
    assert "Meetings in the next 7 days" in html
    assert "3 people said yes." in html
    assert "1 asked for help to come" in html
    assert "Agenda not posted: Children&#39;s Committee" in html
    assert "2 is the most seats allowed; this group has 3 active members." in html
    assert "Bayview" not in html
    assert f"/coordinator/meetings/{soon.id}" in html

    for days in (1.5, 2.5, 2.8):
        make_meeting(cast.committee_a, days=days)
    with count_queries() as many:
        html = client.get("/coordinator/").get_data(as_text=True)
    assert html.count("Agenda not posted") == 4
    assert many.count == few.count


def test_today_says_when_nothing_is_due(app, cast, client):
    make_meeting(cast.committee_a, days=30, starts_at=utcnow() + timedelta(days=30))
    login(client, cast.coord_a)
    html = client.get("/coordinator/").get_data(as_text=True)
    assert "No meetings in the next 7 days." in html
    assert "Every agenda and set of minutes due is posted in every language." in html


# Odd input never breaks a page -------------------------------------------------------------------

ODD = ["", " ", "0", "-1", "abc", "9999-12-31", "23:59", "1e309", "<script>", "x" * 3000, "２０２７-01-01", "\u0000"]


@pytest.mark.parametrize("value", ODD)
def test_odd_input_is_answered_with_the_form_not_an_error(app, cast, client, value):
    meeting = make_meeting(cast.committee_a, days=12)
    seat = CommitteeMembership(committee_id=cast.committee_a.id, member_id=cast.parent.id)
    db.session.add(seat)
    db.session.commit()
    login(client, cast.coord_a)
    committee = cast.committee_a.id
    forms = {
        f"/coordinator/committees/{committee}": ["min_members", "max_members", "consumer_majority"],
        f"/coordinator/committees/{committee}/roster/add": ["q", "member_id", "role", "term_start", "term_end"],
        f"/coordinator/committees/{committee}/roster/{seat.id}": ["role", "status", "term_start", "term_end"],
        f"/coordinator/committees/{committee}/meetings/new": list(meeting_form()),
        f"/coordinator/committees/{committee}/schedule": [
            *schedule_form(date(2030, 1, 1)),
            "action",
        ],
        f"/coordinator/meetings/{meeting.id}/edit": list(meeting_form()),
        f"/coordinator/meetings/{meeting.id}/cancel": ["reason_en", "reason_es"],
        f"/coordinator/meetings/{meeting.id}/documents/agenda": ["body_en", "action"],
    }
    for url, names in forms.items():
        for name in names:
            base = meeting_form() if "meetings/new" in url or "/edit" in url else {}
            if url.endswith("/schedule"):
                base = {**schedule_form(date(2030, 1, 1)), "action": "create"}
            response = post_form(client, url, {**base, name: value}, token_from="/coordinator/committees")
            assert response.status_code in (200, 302), (url, name, response.status_code)
    # Even with every field odd at once.
    for url, names in forms.items():
        response = post_form(client, url, dict.fromkeys(names, value), token_from="/coordinator/committees")
        assert response.status_code in (200, 302), (url, response.status_code)


# Another meeting the same day: a warning, never a refusal ------------------------------------------


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PACIFIC).astimezone(UTC)


def readable(html: str) -> str:
    import html as html_module

    return html_module.unescape(html).replace("\u202f", " ")


@pytest.fixture
def finance(cast):
    """A second committee of plan A."""
    from engage.models import Committee

    committee = Committee(plan=cast.plan_a, slug="alameda-finance", name={"en": "Finance Committee"}, description={})
    db.session.add(committee)
    db.session.commit()
    return committee


def test_a_meeting_on_a_day_the_plan_already_meets_is_added_with_a_warning(app, cast, client, finance):
    day = in_days(20)
    make_meeting(cast.committee_a, starts_at=local(day, 10))
    make_meeting(finance, starts_at=local(day, 13, 30))
    # Not named: cancelled, another plan's, and 23:30 the evening before (the same day in UTC).
    make_meeting(finance, starts_at=local(day, 9), status=MeetingStatus.CANCELLED)
    make_meeting(cast.committee_b, starts_at=local(day, 11))
    make_meeting(finance, starts_at=local(day - timedelta(days=1), 23, 30))
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new"
    response = post_form(client, url, meeting_form(day=day.isoformat(), at="18:00"))
    assert response.status_code == 302
    html = readable(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Meeting added" in html
    assert (
        "This meeting is on the same day as 2 other meetings of the plan: "
        "Children's Committee at 10:00 AM; Finance Committee at 1:30 PM." in html
    )
    assert "flash-warning" in html
    assert "9:00 AM" not in html and "11:00 AM" not in html and "11:30 PM" not in html
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 6

    # Another day: no warning.
    response = post_form(client, url, meeting_form(day=(day + timedelta(days=2)).isoformat()))
    html = readable(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Meeting added" in html and "same day" not in html


def test_moving_a_meeting_onto_a_day_the_plan_meets_warns_after_saving(app, cast, client, finance):
    day = in_days(20)
    make_meeting(finance, starts_at=local(day, 10))
    meeting = make_meeting(cast.committee_a, starts_at=local(day + timedelta(days=3), 18))
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/edit"
    # Changing details only says nothing about other meetings.
    response = post_form(client, url, edit_data(meeting, location_name="Biblioteca"))
    assert "same day" not in readable(client.get(response.headers["Location"]).get_data(as_text=True))

    response = post_form(client, url, edit_data(meeting, day=day.isoformat(), at="17:00"))
    assert response.status_code == 302
    html = readable(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "The meeting has moved to" in html
    assert "This meeting is on the same day as another meeting of the plan: Finance Committee at 10:00 AM." in html
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).starts_at == local(day, 17)

    # Moving it again within that day: the meeting itself is not "another meeting".
    response = post_form(client, url, edit_data(db.session.get(Meeting, meeting.id), at="19:00"))
    html = readable(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Finance Committee at 10:00 AM" in html and "Children's Committee at" not in html


def second_tuesdays(year: int, months) -> list[date]:
    firsts = [date(year, m, 1) for m in months]
    return [d + timedelta(days=(1 - d.weekday()) % 7 + 7) for d in firsts]


def test_a_schedule_preview_lists_the_dates_the_plan_already_meets_on(app, cast, client, finance, count_queries):
    year = datetime.now(PACIFIC).year + 1
    jan, apr, jul, oct_ = second_tuesdays(year, (1, 4, 7, 10))
    make_meeting(finance, starts_at=local(jan, 10))
    make_meeting(finance, starts_at=local(jul, 9, 15))
    make_meeting(cast.committee_a, starts_at=local(jul, 12))
    make_meeting(cast.committee_b, starts_at=local(apr, 18))  # another plan's
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule"
    data = {**schedule_form(date(year, 1, 1)), "action": "preview"}
    data["csrf_token"] = csrf_token(client, url)
    with count_queries() as few:
        response = client.post(url, data=data)
    html = readable(response.get_data(as_text=True))
    assert "4 meetings will be added" in html
    assert "2 of these days already have another meeting of the plan. You can still add them all." in html
    assert "Same day as: Finance Committee at 10:00 AM" in html
    assert "Same day as: Finance Committee at 9:15 AM; Children's Committee at 12:00 PM" in html
    assert html.count("Same day as:") == 2
    assert "Bayview" not in html
    # The button to add them is still there: it is a warning.
    assert 'value="create"' in html

    # Twelve monthly meetings and more meetings to compare with: the same number of queries.
    for month in (2, 3, 5, 6, 8):
        make_meeting(finance, starts_at=local(second_tuesdays(year, [month])[0], 8))
    monthly = {**data, "every_months": "1", "count": "12"}
    with count_queries() as many:
        response = client.post(url, data=monthly)
    html = readable(response.get_data(as_text=True))
    assert "12 meetings will be added" in html
    assert "7 of these days already have another meeting of the plan." in html
    assert many.count == few.count

    # Adding them goes ahead.
    response = client.post(url, data={**data, "action": "create"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id)).where(Meeting.series_id.is_not(None))) == 4


def test_same_day_asks_one_query_for_any_number_of_days(app, cast, finance, count_queries):
    from engage.meetings import schedule as service

    days = [in_days(n) for n in (20, 21, 40, 90, 200)]
    for n, day in enumerate(days):
        make_meeting(finance, starts_at=local(day, 9 + n))
    wanted = [local(day, 18) for day in days] + [local(in_days(22), 18)]
    plan_id = cast.plan_a.id
    with count_queries() as queries:
        found = service.same_day(plan_id, wanted)
    assert queries.count == 1
    assert sorted(found) == days
    assert [m.starts_at for m in found[days[2]]] == [local(days[2], 11)]
    assert service.same_day(cast.plan_b.id, wanted) == {}
    assert service.same_day(cast.plan_a.id, []) == {}


# A preparation-time stipend for one meeting --------------------------------------------------------


def test_a_meeting_can_set_its_own_preparation_time_stipend(app, cast, client):
    from engage.supports import stipends

    cast.committee_a.stipend_prep_amount = Decimal("15")
    db.session.commit()
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new"
    html = readable(client.get(url).get_data(as_text=True))
    assert 'name="stipend_prep_amount"' in html
    assert "Leave empty to use the committee's amount: $15.00." in html
    assert post_form(client, url, meeting_form(stipend_prep_amount="25.50")).status_code == 302
    assert post_form(client, url, meeting_form(day=in_days(30).isoformat(), stipend_prep_amount="")).status_code == 302
    own, blank = db.session.scalars(sa.select(Meeting).order_by(Meeting.starts_at)).all()
    assert own.stipend_prep_amount == Decimal("25.50")
    assert blank.stipend_prep_amount is None
    assert stipends.policy(own).prep_amount == Decimal("25.50")
    assert stipends.policy(blank).prep_amount == Decimal("15.00")


def test_the_hint_says_when_the_committee_has_no_preparation_amount(app, cast, client):
    login(client, cast.coord_a)
    html = readable(client.get(f"/coordinator/committees/{cast.committee_a.id}/meetings/new").get_data(as_text=True))
    assert "Leave empty to use the committee's amount. The committee has none set." in html


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "Please enter an amount from $0 to $1,000."),
        ("1000.01", "Please enter an amount from $0 to $1,000."),
        ("12.345", "Please enter an amount in dollars and cents, like 12.50."),
        ("NaN", "Please enter an amount from $0 to $1,000."),
        ("sNaN", "Please enter an amount from $0 to $1,000."),
        ("Infinity", "Please enter an amount from $0 to $1,000."),
        ("lots", "Not a valid decimal value."),
    ],
)
@pytest.mark.parametrize("name", ["stipend_prep_amount", "stipend_amount"])
def test_what_a_stipend_amount_needs(app, cast, client, name, value, message):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/meetings/new"
    response = post_form(client, url, meeting_form(**{name: value}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert f'aria-describedby="{name}-hint {name}-error"' in html
    assert 'value="Centro Comunitario"' in html
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


def test_changing_the_preparation_stipend_is_audited_and_blank_goes_back_to_the_policy(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=12, stipend_amount=Decimal("50"))
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/edit"
    assert 'name="stipend_prep_amount" step="any" type="number" value=""' in client.get(url).get_data(as_text=True)
    assert post_form(client, url, edit_data(meeting, stipend_prep_amount="20")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).stipend_prep_amount == Decimal("20.00")
    html = client.get(url).get_data(as_text=True)
    assert 'value="20.00"' in html
    assert post_form(client, url, edit_data(meeting, stipend_prep_amount="20.00")).status_code == 302
    assert post_form(client, url, edit_data(meeting, stipend_prep_amount="")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).stipend_prep_amount is None
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "meeting.changed").order_by(AuditEvent.id)
    ).all()
    # The first save also brought the form's other details; the same amount again is no change.
    assert len(events) == 2
    assert "stipend_prep_amount" in events[0].detail["fields"]
    assert events[1].detail["fields"] == ["stipend_prep_amount"]


def test_a_schedule_gives_each_meeting_the_preparation_stipend(app, cast, client):
    login(client, cast.coord_a)
    year = datetime.now(PACIFIC).year + 1
    url = f"/coordinator/committees/{cast.committee_a.id}/schedule"
    data = {**schedule_form(date(year, 1, 1), stipend_prep_amount="10"), "action": "create"}
    assert post_form(client, url, data).status_code == 302
    assert set(db.session.scalars(sa.select(Meeting.stipend_prep_amount))) == {Decimal("10.00")}
