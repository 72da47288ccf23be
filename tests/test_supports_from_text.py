"""A yes by text, then "13": the needs become support requests, with what we know of the
family (children's ages, the language they speak) or what they asked for last time."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.meetings import replies
from engage.models import (
    MeetingReply,
    RequestedVia,
    SupportKind,
    SupportRequest,
    SupportStatus,
)
from engage.supports import services
from tests.meeting_factories import make_meeting


@pytest.fixture
def text(client):
    counter = iter(range(1, 10_000))

    def _text(phone: str, body: str) -> list[str]:
        response = client.post(
            "/sms/inbound", data={"MessageSid": f"SMsup{next(counter):08d}", "From": phone, "Body": body}
        )
        assert response.status_code == 200
        return [html.unescape(m) for m in re.findall(r"<Message[^>]*>(.*?)</Message>", response.get_data(as_text=True))]

    return _text


def requests_of(member, meeting) -> dict:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(SupportRequest).where(SupportRequest.member_id == member.id, SupportRequest.meeting_id == meeting.id)
    )
    return {r.kind: r for r in rows}


@pytest.mark.parametrize(("locale", "language"), [("es", "spanish"), ("zh_Hant", "cantonese"), ("en", "other")])
def test_needs_by_text_become_requests_with_a_first_guess(cast, text, locale, language):
    cast.parent.locale = locale
    cast.parent.child_age_groups = ["0-5", "6-12"]
    meeting = make_meeting(cast.committee_a)
    replies.invite(meeting, [cast.parent])
    db.session.commit()
    text(cast.parent.phone, "1")
    text(cast.parent.phone, "123")
    found = requests_of(cast.parent, meeting)
    assert set(found) == {SupportKind.CHILDCARE, SupportKind.INTERPRETER, SupportKind.TRANSPORT}
    assert all(r.requested_via == RequestedVia.SMS and r.status == SupportStatus.REQUESTED for r in found.values())
    assert found[SupportKind.CHILDCARE].details["children"] == 2
    assert found[SupportKind.CHILDCARE].details["age_groups"] == ["0-5", "6-12"]
    assert found[SupportKind.INTERPRETER].details["language"] == language


def test_the_language_given_at_sign_up_wins_and_last_time_wins_over_both(cast, text):
    cast.parent.needs = {"interpreter_language": "mixteco"}
    first = make_meeting(cast.committee_a, days=5)
    replies.invite(first, [cast.parent])
    db.session.commit()
    text(cast.parent.phone, "si")
    text(cast.parent.phone, "2")
    row = requests_of(cast.parent, first)[SupportKind.INTERPRETER]
    assert row.details["language"] == "mixteco"
    # The coordinator learns it is remote Triqui in fact.
    services.request(
        first, cast.parent, SupportKind.INTERPRETER, {"language": "triqui", "mode": "remote"}, via=RequestedVia.STAFF
    )
    db.session.commit()
    second = make_meeting(cast.committee_a, days=40)
    replies.invite(second, [cast.parent])
    db.session.commit()
    # The newest open invitation is answered: the second meeting.
    text(cast.parent.phone, "si")
    text(cast.parent.phone, "2")
    assert requests_of(cast.parent, second)[SupportKind.INTERPRETER].details == {
        "language": "triqui",
        "other": "",
        "mode": "remote",
    }


def test_changing_the_answer_withdraws_what_is_no_longer_needed(cast):
    meeting = make_meeting(cast.committee_a)
    reply = replies.reply_for(meeting, cast.parent)
    replies.answer(reply, True, channel="web", notify_member=False)
    replies.record_needs(reply, ["childcare", "transport"], via="web")
    db.session.commit()
    replies.record_needs(db.session.get(MeetingReply, reply.id), ["transport"], via="web")
    db.session.commit()
    found = requests_of(cast.parent, meeting)
    assert found[SupportKind.CHILDCARE].status == SupportStatus.CANCELLED
    assert found[SupportKind.TRANSPORT].status == SupportStatus.REQUESTED
    # Asking again brings it back.
    replies.record_needs(db.session.get(MeetingReply, reply.id), ["childcare", "transport"], via="web")
    db.session.commit()
    assert requests_of(cast.parent, meeting)[SupportKind.CHILDCARE].status == SupportStatus.REQUESTED


def test_a_change_of_details_after_arranging_needs_arranging_again(cast):
    meeting = make_meeting(cast.committee_a)
    row = services.request(
        meeting, cast.parent, SupportKind.CHILDCARE, {"children": 1, "age_groups": ["0-5"]}, via=RequestedVia.WEB
    )
    db.session.commit()
    services.arrange(row, "Kiddie Care, 1 sitter", by=cast.coord_a)
    db.session.commit()
    assert row.status == SupportStatus.CONFIRMED and row.confirmation_id is not None
    services.request(
        meeting, cast.parent, SupportKind.CHILDCARE, {"children": 3, "age_groups": ["0-5"]}, via=RequestedVia.WEB
    )
    assert row.status == SupportStatus.REQUESTED


def test_flags_only_unarranged_requests_for_meetings_within_72_hours(app, cast):
    soon = make_meeting(cast.committee_a, days=2)
    later = make_meeting(cast.committee_a, days=5)
    a = services.request(soon, cast.parent, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB)
    services.request(later, cast.parent, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB)
    b = services.request(soon, cast.parent, SupportKind.TRANSPORT, {}, via=RequestedVia.WEB)
    db.session.commit()
    services.arrange(b, "Bus pass", by=cast.coord_a, notify=False)
    db.session.commit()
    assert [r.id for r in services.flagged({cast.plan_a.id})] == [a.id]
    assert services.flagged({cast.plan_b.id}) == []
    assert [r.id for r in services.flagged(None, soon.starts_at - timedelta(days=4))] == []


def test_reminder_says_what_is_arranged(cast):
    meeting = make_meeting(cast.committee_a)
    reply = replies.reply_for(meeting, cast.parent)
    replies.record_needs(reply, ["childcare", "interpreter"], via="web")
    db.session.commit()
    row = requests_of(cast.parent, meeting)[SupportKind.CHILDCARE]
    services.arrange(row, "Kiddie Care", by=cast.coord_a, notify=False)
    db.session.commit()
    with force_locale("en"):
        line = services.reminder_line(db.session.get(MeetingReply, reply.id))
    assert line == "Childcare: arranged. Interpreter (Spanish): requested."


def test_the_meeting_tally_counts_what_is_arranged(app, cast):
    from engage.meetings import tally

    meeting = make_meeting(cast.committee_a)
    reply = replies.reply_for(meeting, cast.parent)
    replies.answer(reply, True, channel="web", notify_member=False)
    replies.record_needs(reply, ["childcare", "transport"], via="web")
    db.session.commit()
    services.arrange(requests_of(cast.parent, meeting)[SupportKind.CHILDCARE], "Kiddie Care", by=cast.coord_a)
    db.session.commit()
    reply = db.session.get(MeetingReply, reply.id)
    with app.test_request_context():
        counted = tally.needs_tally([reply])
    assert (counted.childcare.requested, counted.childcare.arranged) == (1, 1)
    assert (counted.rides.requested, counted.rides.arranged) == (1, 0)
    assert tally.unarranged_counts([meeting.id]) == {meeting.id: 1}


def test_access_and_food_by_text_become_requests_for_the_coordinator_to_ask_about(cast, text):
    meeting = make_meeting(cast.committee_a)
    replies.invite(meeting, [cast.parent])
    db.session.commit()
    text(cast.parent.phone, "si")
    text(cast.parent.phone, "45")
    found = requests_of(cast.parent, meeting)
    assert set(found) == {SupportKind.ACCESSIBILITY, SupportKind.MEALS}
    assert all(r.requested_via == RequestedVia.SMS for r in found.values())
