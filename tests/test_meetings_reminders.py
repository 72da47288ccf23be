"""Reminders at 7 days, 1 day and 2 hours to everyone who said yes, once each, in
their language, saying what they asked for; a regular schedule; calendar files."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from icalendar import Calendar

from engage.extensions import db
from engage.meetings import calendar, reminders, replies, schedule, texts
from engage.models import (
    MeetingReply,
    OutboxKind,
    OutboxMessage,
    ReminderSent,
    ReplyChannel,
    ReplyStatus,
    SmsOptOut,
    SupportKind,
    utcnow,
)
from engage.sms import worker
from engage.supports import vocab
from tests.conftest import make_member
from tests.meeting_factories import make_meeting


def coming(meeting, member, *, answered=None, needs=()):
    reply = MeetingReply(
        meeting_id=meeting.id,
        member_id=member.id,
        status=ReplyStatus.YES,
        channel=ReplyChannel.WEB,
        responded_at=answered or utcnow() - timedelta(days=20),
        needs=list(needs),
    )
    db.session.add(reply)
    meeting.seats_taken += 1
    db.session.commit()
    return reply


def reminders_to(member) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.phone == member.phone, OutboxMessage.kind == OutboxKind.REMINDER)
        .order_by(OutboxMessage.id)
    ).all()


def test_the_worker_runs_the_meeting_jobs(app):
    assert reminders.send_due in worker.JOBS
    assert replies.expire_offers_job in worker.JOBS


def test_worker_once_queues_and_delivers_a_due_reminder(app, cast, monkeypatch):
    from engage.sms import outbox
    from engage.sms.transport import get_transport

    monkeypatch.setattr(outbox, "in_quiet_hours", lambda moment: False)
    meeting = make_meeting(cast.committee_a, days=3)
    coming(meeting, cast.parent)
    due = utcnow() - timedelta(seconds=1)
    monkeypatch.setattr(outbox, "next_send_time", lambda moment: due)
    worker.run(app, once=True)
    sent = [m for m in get_transport(app).sent if m["to"] == cast.parent.phone]
    assert len(sent) == 1 and "AFH" in sent[0]["body"]


def test_reminder_hours_setting(app):
    assert reminders.reminder_hours() == [168, 24, 2]
    app.config["MEETING_REMINDER_HOURS"] = "2, 48,x,0"
    assert reminders.reminder_hours() == [48, 2]


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_each_reminder_goes_once_in_the_persons_language(cast, locale):
    cast.parent.locale = locale
    meeting = make_meeting(cast.committee_a, days=30, location_name="Centro Comunitario")
    reply = coming(meeting, cast.parent)
    replies.record_needs(reply, ["childcare"], text="1")
    db.session.commit()
    starts = meeting.starts_at
    assert reminders.send_due(starts - timedelta(days=8)) == 0
    assert reminders.send_due(starts - timedelta(days=6)) == 1
    assert reminders.send_due(starts - timedelta(days=6)) == 0  # once
    assert reminders.send_due(starts - timedelta(hours=23)) == 1
    assert reminders.send_due(starts - timedelta(hours=1)) == 1
    assert reminders.send_due(starts - timedelta(minutes=10)) == 0
    rows = reminders_to(cast.parent)
    assert len(rows) == 3
    for row in rows:
        assert row.locale == locale and row.expires_at == starts
    with force_locale(locale):
        expected = texts.reminder(
            plan="AFH",
            when=texts.sms_when(starts),
            place="Centro Comunitario",
            supports=reminders.SUPPORTS_LINE[-1](reply),
        )
        assert str(vocab.KINDS[SupportKind.CHILDCARE]) in expected
    assert rows[0].body == expected
    assert {r.offset_hours for r in db.session.scalars(sa.select(ReminderSent))} == {168, 24, 2}


def test_someone_who_said_yes_late_gets_only_the_reminders_still_ahead(cast):
    meeting = make_meeting(cast.committee_a, days=30)
    starts = meeting.starts_at
    coming(meeting, cast.parent, answered=starts - timedelta(hours=30))
    # The 7-day reminder time passed before the yes: nothing now, the 1-day one later.
    assert reminders.send_due(starts - timedelta(hours=28)) == 0
    assert reminders.send_due(starts - timedelta(hours=20)) == 1
    # Said yes an hour before: not reminded at all (they just got the confirmation).
    other = make_member("+15105550999", "Olga", plan=cast.plan_a)
    db.session.commit()
    coming(meeting, other, answered=starts - timedelta(minutes=60))
    assert reminders.send_due(starts - timedelta(minutes=50)) == 1  # the 2-hour one for the parent
    assert reminders_to(other) == []


def test_no_reminders_to_stopped_numbers_no_answers_or_cancelled_meetings(cast):
    meeting = make_meeting(cast.committee_a, days=3)
    coming(meeting, cast.parent)
    db.session.add(SmsOptOut(phone=cast.parent.phone))
    other = make_member("+15105550999", "Olga", plan=cast.plan_a)
    db.session.commit()
    db.session.add(MeetingReply(meeting_id=meeting.id, member_id=other.id, status=ReplyStatus.NO))
    db.session.commit()
    assert reminders.send_due(utcnow()) == 0
    cancelled = make_meeting(cast.committee_a, days=2)
    coming(cancelled, other)
    replies.cancel(cancelled)
    db.session.commit()
    assert reminders.send_due(utcnow()) == 0


def test_a_rescheduled_meeting_reminds_again_from_the_new_time(cast):
    meeting = make_meeting(cast.committee_a, days=3)
    coming(meeting, cast.parent)
    assert reminders.send_due(utcnow()) == 1
    replies.reschedule(meeting, meeting.starts_at + timedelta(days=2))
    db.session.commit()
    assert reminders.send_due(utcnow()) == 1


@pytest.fixture
def postgresql(app):
    if app.extensions["sqlalchemy"].engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent workers); set TEST_DATABASE_URL")
    return app


def test_two_workers_never_send_the_same_reminder_twice(postgresql, cast):
    app = postgresql
    meeting = make_meeting(cast.committee_a, days=3, capacity=None)
    people = [make_member(f"+1559555{i:04d}", f"P{i}", plan=cast.plan_a) for i in range(60)]
    db.session.commit()
    for p in people:
        coming(meeting, p)
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                start.wait(timeout=20)
                try:
                    reminders.send_due(utcnow())
                except Exception:
                    db.session.rollback()
                    reminders.send_due(utcnow())
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    db.session.expire_all()
    count = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.kind == OutboxKind.REMINDER))
    assert count == 60


# A regular schedule ---------------------------------------------------------------------


def test_second_tuesday_every_third_month_at_six_keeps_local_time_across_daylight_saving(app):
    rule = schedule.Rule(start=date(2027, 1, 1), at=time(18, 0), every_months=3, weekday=1, week=2, count=4)
    dates = rule.dates()
    zone = schedule.zone()
    local = [d.astimezone(zone) for d in dates]
    assert [(d.month, d.day, d.hour, d.minute) for d in local] == [
        (1, 12, 18, 0),
        (4, 13, 18, 0),
        (7, 13, 18, 0),
        (10, 12, 18, 0),
    ]
    assert [d.astimezone(UTC).hour for d in dates] == [2, 1, 1, 1]  # PST then PDT
    assert rule.rule_text() == "FREQ=MONTHLY;INTERVAL=3;COUNT=4;BYDAY=+2TU"


def test_last_thursday_until_a_date(app):
    rule = schedule.Rule(
        start=date(2027, 1, 1), at=time(10, 30), weekday=3, week=-1, count=None, until=date(2027, 4, 30)
    )
    local = [d.astimezone(schedule.zone()) for d in rule.dates()]
    assert [(d.month, d.day) for d in local] == [(1, 28), (2, 25), (3, 25), (4, 29)]


def test_a_series_makes_meetings_with_the_same_details(app, cast):
    rule = schedule.Rule(start=date(2027, 1, 1), at=time(18, 0), every_months=3, count=4)
    series, meetings = schedule.create_series(
        cast.committee_a, rule, {"duration_minutes": 120, "childcare": True, "capacity": 30}, by=cast.coord_a
    )
    db.session.commit()
    assert len(meetings) == 4
    assert all(m.series_id == series.id and m.duration_minutes == 120 and m.capacity == 30 for m in meetings)
    assert series.settings["every_months"] == 3


# Calendar files -------------------------------------------------------------------------


def test_calendar_has_the_time_zone_sequence_and_cancelled_status(app, cast):
    with app.test_request_context():
        meeting = make_meeting(
            cast.committee_a, starts_at=datetime(2027, 3, 9, 2, 0, tzinfo=UTC), online_url="https://meet.example/x"
        )
        cal = Calendar.from_ical(calendar.for_meeting(meeting))
        (event,) = cal.walk("VEVENT")
        (tz,) = cal.walk("VTIMEZONE")
        assert tz["TZID"] == "America/Los_Angeles"
        assert event["DTSTART"].dt.hour == 18 and str(event["DTSTART"].dt.tzinfo) == "America/Los_Angeles"
        assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
        assert "meet.example" not in event["DESCRIPTION"]  # in person: no link
        replies.reschedule(meeting, meeting.starts_at + timedelta(days=1))
        replies.cancel(meeting)
        (event,) = Calendar.from_ical(calendar.for_meeting(meeting)).walk("VEVENT")
        assert event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"
