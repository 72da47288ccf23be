"""The rules for places at a meeting: yes takes a place while one is left, then the
waiting list; a no frees the place and offers it to the next person by text."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.meetings import replies, texts
from engage.meetings.replies import Outcome
from engage.models import (
    Meeting,
    MeetingReply,
    OutboxKind,
    OutboxMessage,
    ReplyChannel,
    ReplyStatus,
    SmsOptOut,
    SmsStatus,
    utcnow,
)
from tests.conftest import make_member
from tests.meeting_factories import make_meeting

WEB = ReplyChannel.WEB


def people(cast, n: int, *, locale="en", start=0):
    members = [
        make_member(f"+1559555{start + i:04d}", f"Parent {start + i}", plan=cast.plan_a, locale=locale)
        for i in range(n)
    ]
    db.session.commit()
    return members


def texts_to(member) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.phone == member.phone).order_by(OutboxMessage.id)
    ).all()


def status_of(reply) -> ReplyStatus:
    db.session.expire_all()
    return db.session.get(MeetingReply, reply.id).status


def test_inviting_texts_each_person_in_their_language_and_skips_stopped_numbers(cast):
    meeting = make_meeting(cast.committee_a)
    en, es, zh, stopped, pending = (
        people(cast, 1, locale="en")[0],
        people(cast, 1, locale="es", start=1)[0],
        people(cast, 1, locale="zh_Hant", start=2)[0],
        people(cast, 1, start=3)[0],
        people(cast, 1, start=4)[0],
    )
    pending.sms_status = SmsStatus.PENDING
    db.session.add(SmsOptOut(phone=stopped.phone))
    db.session.commit()
    result = replies.invite(meeting, [en, es, zh, stopped, pending, cast.parent_b])
    db.session.commit()
    assert len(result.invited) == 5
    assert result.other_plan == 1  # parent_b belongs to plan B
    assert result.not_texted == 2  # the stopped number and the unconfirmed one
    for member in (en, es, zh):
        (row,) = texts_to(member)
        assert row.locale == member.locale
        assert row.kind == OutboxKind.NOTICE
        assert row.expires_at == meeting.starts_at
        with force_locale(member.locale):
            assert row.body == texts.invitation(plan="AFH", when=texts.sms_when(meeting.starts_at))
    assert texts_to(stopped) == [] and texts_to(pending) == []
    again = replies.invite(meeting, [en, es])
    assert again.already == 2 and again.invited == []


def test_yes_takes_a_place_until_the_meeting_is_full_then_the_waiting_list(cast):
    meeting = make_meeting(cast.committee_a, capacity=2)
    a, b, c = people(cast, 3)
    rows = [replies.reply_for(meeting, m) for m in (a, b, c)]
    assert [replies.answer(r, True, channel=WEB) for r in rows] == [Outcome.YES, Outcome.YES, Outcome.WAITLISTED]
    db.session.commit()
    assert db.session.get(Meeting, meeting.id).seats_taken == 2
    assert status_of(rows[2]) == ReplyStatus.WAITLISTED
    # Saying yes again changes nothing and takes no second place.
    assert replies.answer(rows[0], True, channel=WEB) == Outcome.UNCHANGED
    assert db.session.get(Meeting, meeting.id).seats_taken == 2


def test_a_no_frees_the_place_and_offers_it_to_the_first_person_waiting(cast):
    meeting = make_meeting(cast.committee_a, capacity=1)
    a, b, c = people(cast, 3)
    ra, rb, rc = (replies.reply_for(meeting, m) for m in (a, b, c))
    replies.answer(ra, True, channel=WEB)
    replies.answer(rb, True, channel=WEB)
    replies.answer(rc, True, channel=WEB)
    db.session.commit()
    assert replies.answer(ra, False, channel=WEB) == Outcome.NO
    db.session.commit()
    assert status_of(rb) == ReplyStatus.OFFERED and status_of(rc) == ReplyStatus.WAITLISTED
    offer = texts_to(b)[-1]
    with force_locale("en"):
        assert offer.body == texts.place_offered(plan="AFH", when=texts.sms_when(meeting.starts_at))
    # Whoever answers first while the place is free takes it.
    assert replies.answer(rb, True, channel=WEB) == Outcome.YES
    db.session.commit()
    assert db.session.get(Meeting, meeting.id).seats_taken == 1
    assert replies.answer(rc, True, channel=WEB) == Outcome.UNCHANGED  # still full, still waiting


def test_someone_offered_a_place_that_was_taken_stays_on_the_list(cast):
    meeting = make_meeting(cast.committee_a, capacity=1)
    a, b, c = people(cast, 3)
    ra, rb, rc = (replies.reply_for(meeting, m) for m in (a, b, c))
    for r in (ra, rb, rc):
        replies.answer(r, True, channel=WEB)
    replies.answer(ra, False, channel=WEB)  # b is offered the place
    db.session.commit()
    # c (still waiting, not offered) says yes again on the web and takes it first.
    assert replies.answer(rc, True, channel=WEB) == Outcome.YES
    assert replies.answer(rb, True, channel=WEB) == Outcome.WAITLISTED
    db.session.commit()
    assert status_of(rb) == ReplyStatus.WAITLISTED
    with force_locale("en"):
        assert texts_to(b)[-1].body == texts.place_gone(plan="AFH")


def test_stale_offers_move_on_to_the_next_person(app, cast):
    meeting = make_meeting(cast.committee_a, capacity=1)
    a, b, c = people(cast, 3)
    ra, rb, rc = (replies.reply_for(meeting, m) for m in (a, b, c))
    for r in (ra, rb, rc):
        replies.answer(r, True, channel=WEB)
    replies.answer(ra, False, channel=WEB)
    db.session.commit()
    assert replies.expire_offers(utcnow()) == 0  # b's offer is fresh
    later = utcnow() + timedelta(hours=app.config["WAITLIST_OFFER_HOURS"] + 1)
    assert replies.expire_offers_job(later) == 1
    assert status_of(rc) == ReplyStatus.OFFERED
    assert status_of(rb) == ReplyStatus.OFFERED  # b may still take it if it is free


def test_no_answers_after_a_meeting_starts_or_is_cancelled(cast):
    past = make_meeting(cast.committee_a, days=-1)
    reply = replies.reply_for(past, cast.parent)
    assert replies.answer(reply, True, channel=WEB) == Outcome.CLOSED
    meeting = make_meeting(cast.committee_a)
    reply = replies.reply_for(meeting, cast.parent)
    replies.cancel(meeting)
    assert replies.answer(reply, True, channel=WEB) == Outcome.CLOSED


def test_a_person_answering_no_then_yes_keeps_the_count_right(cast):
    meeting = make_meeting(cast.committee_a, capacity=5)
    (a,) = people(cast, 1)
    r = replies.reply_for(meeting, a)
    for yes in (True, False, True, True, False, False, True):
        replies.answer(r, yes, channel=WEB)
    db.session.commit()
    assert db.session.get(Meeting, meeting.id).seats_taken == 1
    assert status_of(r) == ReplyStatus.YES


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_reschedule_and_cancel_text_everyone_coming_in_their_language(cast, locale):
    meeting = make_meeting(cast.committee_a, capacity=1)
    coming, waiting, declined = people(cast, 3, locale=locale)
    rows = [replies.reply_for(meeting, m) for m in (coming, waiting, declined)]
    replies.answer(rows[0], True, channel=WEB, notify_member=False)
    replies.answer(rows[1], True, channel=WEB, notify_member=False)
    replies.answer(rows[2], False, channel=WEB, notify_member=False)
    db.session.commit()
    old = meeting.starts_at
    new = old + timedelta(days=7)
    assert replies.reschedule(meeting, new) == 2
    db.session.commit()
    assert meeting.sequence == 1
    for member in (coming, waiting):
        row = texts_to(member)[-1]
        assert row.locale == locale
        with force_locale(locale):
            assert row.body == texts.rescheduled(plan="AFH", old=texts.sms_when(old), new=texts.sms_when(new))
    assert texts_to(declined) == []
    assert replies.cancel(meeting, reason={"en": "Storm", "es": ""}) == 2
    db.session.commit()
    assert meeting.sequence == 2 and meeting.cancel_reason == {"en": "Storm"}
    with force_locale(locale):
        assert texts_to(coming)[-1].body == texts.cancelled(plan="AFH", when=texts.sms_when(new))
    assert replies.cancel(meeting) == 0  # once


def test_parse_needs():
    assert replies.parse_needs("13") == ["childcare", "transport"]
    assert replies.parse_needs(" 3, 1 ") == ["childcare", "transport"]
    assert replies.parse_needs("0") == []
    assert replies.parse_needs("2") == ["interpreter"]
    assert replies.parse_needs("") is None
    assert replies.parse_needs("04") is None
    assert replies.parse_needs("45") == ["access", "meals"]
    assert replies.parse_needs("6") is None
    assert replies.parse_needs("10") is None
    assert replies.parse_needs("childcare") is None


@pytest.fixture
def postgresql(app):
    if app.extensions["sqlalchemy"].engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (row locks and concurrent writers); set TEST_DATABASE_URL")
    return app


def test_two_hundred_replies_at_once_for_the_last_ten_places_seat_ten(postgresql, cast):
    app = postgresql
    meeting = make_meeting(cast.committee_a, capacity=60)
    # 50 places are already taken.
    meeting.seats_taken = 50
    members = people(cast, 200)
    rows = [MeetingReply(meeting_id=meeting.id, member_id=m.id, status=ReplyStatus.INVITED) for m in members]
    db.session.add_all(rows)
    db.session.commit()
    ids = [r.id for r in rows]
    start = threading.Barrier(20)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(chunk: list[int]) -> None:
        try:
            with app.app_context():
                start.wait(timeout=20)
                for reply_id in chunk:
                    reply = db.session.get(MeetingReply, reply_id)
                    outcome = replies.answer(reply, True, channel=ReplyChannel.SMS, notify_member=False)
                    db.session.commit()
                    with lock:
                        outcomes.append(outcome)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[i::20],)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    assert len(outcomes) == 200
    assert outcomes.count(Outcome.YES) == 10
    assert outcomes.count(Outcome.WAITLISTED) == 190
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).seats_taken == 60
    yes = db.session.scalar(
        sa.select(sa.func.count()).where(MeetingReply.meeting_id == meeting.id, MeetingReply.status == ReplyStatus.YES)
    )
    assert yes == 10


def test_the_same_person_answering_twice_at_once_holds_one_place(postgresql, cast):
    app = postgresql
    meeting = make_meeting(cast.committee_a, capacity=5)
    (a,) = people(cast, 1)
    reply_id = replies.reply_for(meeting, a).id
    db.session.commit()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                start.wait(timeout=20)
                replies.answer(db.session.get(MeetingReply, reply_id), True, channel=WEB, notify_member=False)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).seats_taken == 1
