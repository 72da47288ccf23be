"""The attendance rules (check in, undo, walk-ins) and the needs tally."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.meetings import attendance, tally
from engage.models import (
    Attendance,
    ConsentEvent,
    MeetingReply,
    Member,
    MemberSource,
    ReplyStatus,
    SmsStatus,
)
from tests.conftest import make_member
from tests.meeting_factories import make_meeting


def test_check_in_twice_keeps_one_row_and_undo_removes_it(cast):
    meeting = make_meeting(cast.committee_a, days=0.1)
    first = attendance.check_in(meeting, cast.parent, cast.coord_a)
    second = attendance.check_in(meeting, cast.parent, cast.coord_a)
    db.session.commit()
    assert first.created and not second.created
    assert first.attendance.checked_in_by_id == cast.coord_a.id
    assert first.attendance.walk_in is False
    assert attendance.count(meeting) == 1
    assert [a.member_id for a in attendance.attendees(meeting)] == [cast.parent.id]

    assert attendance.undo(meeting, cast.parent, cast.coord_a) is True
    assert attendance.undo(meeting, cast.parent, cast.coord_a) is False
    db.session.commit()
    assert attendance.count(meeting) == 0


def test_a_walk_in_is_a_staff_added_member_of_the_plan_not_opted_in_to_texts(cast):
    meeting = make_meeting(cast.committee_a, days=0.1)
    added = attendance.add_walk_in(meeting, " Rosa Walk-in ", "(559) 555-0142", "es", cast.coord_a)
    db.session.commit()
    member = db.session.get(Member, added.member.id)
    assert added.created and added.check_in.created
    assert member.display_name == "Rosa Walk-in"
    assert member.phone == "+15595550142"
    assert member.locale == "es"
    assert member.plan_id == cast.plan_a.id
    assert member.source == MemberSource.STAFF
    assert member.sms_status == SmsStatus.PENDING
    assert not member.can_receive_sms
    # No consent was given at the door: nothing in the ledger.
    assert db.session.scalar(sa.select(sa.func.count(ConsentEvent.id))) == 0
    (row,) = attendance.attendees(meeting)
    assert row.walk_in and row.member_id == member.id


def test_a_walk_in_without_a_phone(cast):
    meeting = make_meeting(cast.committee_a, days=0.1)
    added = attendance.add_walk_in(meeting, "Li Wei", None, "zh_Hant", cast.coord_a)
    other = attendance.add_walk_in(meeting, "Li Wei", "", "zh_Hant", cast.coord_a)
    db.session.commit()
    assert added.member.phone is None and other.member.phone is None
    # Without a number there is no way to tell two people apart: two members.
    assert added.member.id != other.member.id
    assert attendance.count(meeting) == 2


def test_a_walk_in_with_a_known_phone_is_that_member(cast):
    meeting = make_meeting(cast.committee_a, days=0.1)
    added = attendance.add_walk_in(meeting, "Someone Else", "510 555 0111", "en", cast.coord_a)
    db.session.commit()
    assert not added.created
    assert added.member.id == cast.parent.id
    member = db.session.get(Member, cast.parent.id)
    # What the member told us is kept.
    assert member.display_name == "Paloma Parent" and member.locale == "es"
    assert member.sms_status == SmsStatus.ACTIVE
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2
    again = attendance.add_walk_in(meeting, "Paloma", "+1 510-555-0111", "es", cast.coord_a)
    assert not again.check_in.created
    assert attendance.count(meeting) == 1


@pytest.mark.parametrize("phone", ["555", "not a number", "+44 20 7946 0958", "123-456-7890"])
def test_a_bad_phone_changes_nothing(cast, phone):
    meeting = make_meeting(cast.committee_a, days=0.1)
    with pytest.raises(attendance.InvalidPhone):
        attendance.add_walk_in(meeting, "Rosa", phone, "es", cast.coord_a)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0


def test_normalise_phone():
    assert attendance.normalise_phone("(510) 555-0123") == "+15105550123"
    assert attendance.normalise_phone("+1 510 555 0123") == "+15105550123"
    assert attendance.normalise_phone("  ") is None
    assert attendance.normalise_phone(None) is None


def test_counts_per_meeting_in_one_query(cast, count_queries):
    one = make_meeting(cast.committee_a, days=0.1)
    two = make_meeting(cast.committee_a, days=5)
    attendance.check_in(one, cast.parent)
    attendance.add_walk_in(one, "A", None, "en")
    attendance.add_walk_in(two, "B", None, "en")
    ids = one.id, two.id
    db.session.commit()
    with count_queries() as q:
        assert attendance.counts(list(ids)) == {ids[0]: 2, ids[1]: 1}
    assert q.count == 1
    assert attendance.counts([]) == {}


# The needs tally ---------------------------------------------------------------------


def _coming(cast, meeting, name, phone, *, locale="en", needs=(), ages=(), member_needs=None, status=None):
    member = make_member(phone, name, plan=cast.plan_a, locale=locale)
    member.child_age_groups = list(ages)
    member.needs = member_needs or {}
    db.session.flush()
    reply = MeetingReply(
        meeting_id=meeting.id, member_id=member.id, status=status or ReplyStatus.YES, needs=list(needs)
    )
    db.session.add(reply)
    db.session.commit()
    return reply


def _replies(meeting):
    return db.session.scalars(sa.select(MeetingReply).where(MeetingReply.meeting_id == meeting.id)).all()


def test_the_tally_counts_children_interpreters_and_rides_of_people_coming(app, cast):
    meeting = make_meeting(cast.committee_a)
    _coming(cast, meeting, "A", "+15595550001", locale="es", needs=["childcare", "interpreter"], ages=["0-5", "6-12"])
    _coming(cast, meeting, "B", "+15595550002", locale="zh_Hant", needs=["interpreter", "transport"])
    _coming(
        cast,
        meeting,
        "C",
        "+15595550003",
        locale="es",
        needs=["interpreter", "childcare"],
        member_needs={"interpreter": True, "interpreter_language": "mixteco"},
        ages=["0-5"],
    )
    _coming(cast, meeting, "D", "+15595550004", needs=["interpreter", "childcare"])
    # Not coming: not counted.
    _coming(cast, meeting, "E", "+15595550005", needs=["childcare"], status=ReplyStatus.WAITLISTED)
    _coming(cast, meeting, "F", "+15595550006", needs=["transport"], status=ReplyStatus.NO)

    with app.test_request_context("/"):
        t = tally.needs_tally(_replies(meeting))
        labels = {line.key: line.label for line in t.interpreters}
    assert t.childcare.requested == 3
    assert {line.key: line.requested for line in t.children} == {"0-5": 2, "6-12": 1, "unknown": 1}
    assert {line.key: line.requested for line in t.interpreters} == {
        "spanish": 1,
        "chinese_ask": 1,
        "mixteco": 1,
        "unknown": 1,
    }
    assert labels["chinese_ask"] == "Cantonese or Mandarin (ask)"
    assert labels["spanish"] == "Spanish"
    assert t.rides.requested == 1
    assert t.requested == 8
    assert len(t.not_arranged) == 8
    assert {p.status for p in t.people} == {tally.REQUESTED}


def test_the_tally_takes_arrangement_status(app, cast):
    meeting = make_meeting(cast.committee_a)
    a = _coming(cast, meeting, "A", "+15595550001", locale="es", needs=["childcare", "interpreter"], ages=["0-5"])
    b = _coming(cast, meeting, "B", "+15595550002", needs=["transport"])

    def status_of(reply, need):
        return tally.ARRANGED if reply.id == a.id and need == "childcare" else tally.REQUESTED

    with app.test_request_context("/"):
        t = tally.needs_tally(_replies(meeting), status_of)
    assert (t.childcare.requested, t.childcare.arranged, t.childcare.still_needed) == (1, 1, 0)
    assert [(p.reply.id, p.need) for p in t.not_arranged] == [(a.id, "interpreter"), (b.id, "transport")]
    assert tally.unarranged_counts([meeting.id]) == {meeting.id: 3}
    assert tally.unarranged_counts([meeting.id], status_of) == {meeting.id: 2}
    assert tally.unarranged_counts([]) == {}


# The folded name searches use ------------------------------------------------------------


def test_search_name_follows_display_name_however_it_is_set(cast):
    member = Member(display_name="  José  Pérez ", locale="es", source=MemberSource.WEB, plan=cast.plan_a)
    assert member.search_name == "jose perez"
    db.session.add(member)
    db.session.commit()
    member.display_name = "MARÍA ÁVILA-DÍAZ"
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(sa.select(Member).where(Member.search_name == "maria avila-diaz"))
    assert stored.id == member.id
    stored.display_name = None  # as when a parent deletes their account
    db.session.commit()
    assert db.session.scalar(sa.select(Member.search_name).where(Member.id == member.id)) is None
    assert cast.parent.search_name == "paloma parent"


def test_a_walk_in_and_a_known_member_without_a_name_get_a_search_name(cast):
    meeting = make_meeting(cast.committee_a, days=0.1)
    added = attendance.add_walk_in(meeting, "Ｒｏｓａ Díaz", None, "es", cast.coord_a)
    nameless = make_member("+15595550143", None, plan=cast.plan_a)
    db.session.commit()
    attendance.add_walk_in(meeting, "Íñigo", "(559) 555-0143", "es", cast.coord_a)
    db.session.commit()
    names = dict(db.session.execute(sa.select(Member.id, Member.search_name)).all())
    assert names[added.member.id] == "rosa diaz"
    assert names[nameless.id] == "inigo"
