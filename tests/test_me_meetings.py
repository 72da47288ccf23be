"""/me leads with what is next: the parent's coming meetings, their answer and what they
asked for; their export holds their answers and attendance; deleting removes them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from engage.extensions import db
from engage.meetings import replies
from engage.models import (
    Attendance,
    CommitteeMembership,
    Meeting,
    MeetingReply,
    ReminderSent,
    ReplyChannel,
    ReplyStatus,
    utcnow,
)
from tests.conftest import login, post_form
from tests.meeting_factories import make_meeting


@pytest.fixture
def parent_client(client, cast):
    login(client, cast.parent)
    return client


def say(meeting, member, yes=True, needs=None):
    row = replies.reply_for(meeting, member)
    replies.answer(row, yes, channel=ReplyChannel.WEB, notify_member=False)
    if needs is not None:
        replies.record_needs(row, needs)
    db.session.commit()
    return row


def test_me_leads_with_the_next_meetings_and_answers(parent_client, cast):
    coming = make_meeting(cast.committee_a, days=5)
    say(coming, cast.parent, needs=["childcare", "transport"])
    not_coming = make_meeting(cast.committee_a, days=15)
    say(not_coming, cast.parent, yes=False)
    cancelled = make_meeting(cast.committee_a, days=25)
    say(cancelled, cast.parent)
    replies.cancel(cancelled)
    past = make_meeting(cast.committee_a, days=-5)
    other_plan = make_meeting(cast.committee_b, days=6)
    db.session.commit()

    html = parent_client.get("/me?lang=en").get_data(as_text=True)
    section = html[html.index('id="next-heading"') : html.index('id="groups-heading"')]
    assert section.index(f'href="/meetings/{coming.id}"') < section.index(f'href="/meetings/{not_coming.id}"')
    assert "You are coming. Your place is saved." in section
    assert "You asked for: Childcare, Ride" in section
    assert "You said you can" in section
    assert "This meeting is cancelled." in section
    assert f'href="/meetings/{past.id}"' not in section
    assert f'href="/meetings/{other_plan.id}"' not in section
    assert "No meetings are planned for you right now." not in section


def test_meetings_of_my_groups_show_before_I_am_asked(parent_client, cast):
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=cast.parent.id))
    m = make_meeting(cast.committee_a, days=8)
    html = parent_client.get("/me?lang=en").get_data(as_text=True)
    assert "You have not answered yet." in html
    assert f'href="/meetings/{m.id}#your-answer"' in html


def test_me_with_no_meetings_says_so(parent_client, cast):
    html = parent_client.get("/me?lang=en").get_data(as_text=True)
    assert "No meetings are planned for you right now." in html


@pytest.mark.parametrize("lang", ["en", "es", "zh_Hant"])
def test_me_meetings_in_each_language(parent_client, cast, lang):
    m = make_meeting(cast.committee_a, days=5)
    say(m, cast.parent, needs=["childcare"])
    html = parent_client.get(f"/me?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert f'href="/meetings/{m.id}"' in html
    assert str(escape(cast.committee_a.name[lang])) in html


def test_me_query_count_does_not_grow_with_meetings(parent_client, cast, count_queries):
    def queries() -> int:
        with count_queries() as q:
            assert parent_client.get("/me").status_code == 200
        return q.count

    say(make_meeting(cast.committee_a, days=3), cast.parent, needs=["childcare"])
    few = queries()
    for days in range(4, 10):
        say(make_meeting(cast.committee_a, days=days), cast.parent, needs=["transport"])
    assert queries() == few


def test_export_holds_meeting_answers_and_attendance(parent_client, cast):
    m = make_meeting(cast.committee_a, days=5)
    say(m, cast.parent, needs=["interpreter"])
    past = make_meeting(cast.committee_a, days=-10)
    db.session.add(Attendance(meeting_id=past.id, member_id=cast.parent.id, walk_in=True))
    db.session.commit()
    data = json.loads(parent_client.get("/me/export.json").get_data(as_text=True))
    (answer,) = data["meetings"]
    assert answer["meeting_id"] == m.id and answer["answer"] == "yes" and answer["needs"] == ["interpreter"]
    assert answer["answered_by"] == "web"
    (came,) = data["attendance"]
    assert came["meeting_id"] == past.id and came["walk_in"] is True
    csv_text = parent_client.get("/me/export.csv").get_data(as_text=True)
    assert "meetings,1.needs" in csv_text and "attendance,1.walk_in" in csv_text


def test_deleting_removes_answers_and_attendance_and_frees_the_place(parent_client, cast):
    m = make_meeting(cast.committee_a, days=5, capacity=1)
    mine = say(m, cast.parent, needs=["childcare"])
    db.session.add(ReminderSent(reply_id=mine.id, offset_hours=48))
    waiting = say(m, cast.parent_b)
    assert waiting.status == ReplyStatus.WAITLISTED
    past = make_meeting(cast.committee_a, days=-10)
    db.session.add(Attendance(meeting_id=past.id, member_id=cast.parent.id))
    db.session.commit()

    post_form(parent_client, "/me/delete", {"confirm": "y"}, token_from="/me/delete")

    db.session.expire_all()
    assert db.session.scalars(sa.select(MeetingReply).where(MeetingReply.member_id == cast.parent.id)).all() == []
    assert db.session.scalars(sa.select(Attendance).where(Attendance.member_id == cast.parent.id)).all() == []
    assert db.session.scalars(sa.select(ReminderSent)).all() == []
    assert db.session.get(Meeting, m.id).seats_taken == 0
    other = db.session.scalar(sa.select(MeetingReply).where(MeetingReply.member_id == cast.parent_b.id))
    assert other.status == ReplyStatus.OFFERED
    assert other.offered_at is not None and other.offered_at <= utcnow() + timedelta(seconds=1)
