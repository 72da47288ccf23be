"""Answering an invitation by text: YES / NO in three languages, then one question
about needs, answered with digits."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.meetings import replies, texts
from engage.models import Conversation, Meeting, MeetingReply, ReplyChannel, ReplyStatus, SmsOptOut
from engage.sms import texts as sms_texts
from tests.conftest import make_member
from tests.meeting_factories import make_meeting


@pytest.fixture
def text(client):
    counter = iter(range(1, 10_000))

    def _text(phone: str, body: str) -> list[str]:
        response = client.post(
            "/sms/inbound", data={"MessageSid": f"SMmeet{next(counter):08d}", "From": phone, "Body": body}
        )
        assert response.status_code == 200
        xml = response.get_data(as_text=True)
        return [html.unescape(part) for part in re.findall(r"<Message[^>]*>(.*?)</Message>", xml, re.S)]

    return _text


def reply_of(member, meeting) -> MeetingReply:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(MeetingReply).where(MeetingReply.member_id == member.id, MeetingReply.meeting_id == meeting.id)
    )


def in_locale(locale, render, **params):
    with force_locale(locale):
        return render(**params)


@pytest.mark.parametrize(("locale", "yes", "no"), [("en", "YES", "no"), ("es", "Sí!", "NO"), ("zh_Hant", "是", "不")])
def test_yes_by_text_saves_a_place_and_asks_about_needs(cast, text, locale, yes, no):
    cast.parent.locale = locale
    meeting = make_meeting(cast.committee_a, location_name="Centro Comunitario")
    replies.invite(meeting, [cast.parent])
    db.session.commit()
    answer = text(cast.parent.phone, yes)
    when = in_locale(locale, lambda: texts.sms_when(meeting.starts_at))
    assert answer == [
        in_locale(locale, texts.reply_yes, plan="AFH", when=when, place="Centro Comunitario"),
        in_locale(locale, texts.needs_question),
    ]
    row = reply_of(cast.parent, meeting)
    assert row.status == ReplyStatus.YES and row.channel == ReplyChannel.SMS
    # "13": childcare and a ride.
    answer = text(cast.parent.phone, "13")
    row = reply_of(cast.parent, meeting)
    assert row.needs == ["childcare", "transport"] and row.needs_text == "13"
    with force_locale(locale):
        assert answer == [texts.needs_noted(needs=replies.needs_label(["childcare", "transport"]))]
    # The question is answered: "1" is a yes again, not childcare.
    assert text(cast.parent.phone, "1")[0] == in_locale(
        locale, texts.reply_yes, plan="AFH", when=when, place="Centro Comunitario"
    )
    assert db.session.get(Meeting, meeting.id).seats_taken == 1
    # NO gives the place back.
    assert text(cast.parent.phone, no) == [in_locale(locale, texts.reply_no, plan="AFH")]
    assert reply_of(cast.parent, meeting).status == ReplyStatus.NO
    assert db.session.get(Meeting, meeting.id).seats_taken == 0


def test_two_after_a_yes_means_an_interpreter_and_no_means_nothing(cast, text):
    meeting = make_meeting(cast.committee_a)
    replies.invite(meeting, [cast.parent])
    db.session.commit()
    text(cast.parent.phone, "si")
    text(cast.parent.phone, "2")
    assert reply_of(cast.parent, meeting).needs == ["interpreter"]
    assert reply_of(cast.parent, meeting).status == ReplyStatus.YES
    meeting = make_meeting(cast.committee_b)
    replies.invite(meeting, [cast.parent_b])
    db.session.commit()
    text(cast.parent_b.phone, "yes")
    assert text(cast.parent_b.phone, "no") == [in_locale("en", texts.needs_none)]
    row = reply_of(cast.parent_b, meeting)
    assert row.status == ReplyStatus.YES and row.needs == [] and row.needs_answered_at is not None


def test_a_muddled_needs_answer_is_asked_again_and_words_go_to_the_coordinator(cast, text):
    meeting = make_meeting(cast.committee_b)
    replies.invite(meeting, [cast.parent_b])
    db.session.commit()
    text(cast.parent_b.phone, "yes")
    assert text(cast.parent_b.phone, "16") == [in_locale("en", texts.needs_again)]
    words = "My son uses a wheelchair, is the room accessible?"
    answer = text(cast.parent_b.phone, words)
    assert answer != [in_locale("en", texts.needs_again)]
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == cast.parent_b.phone))
    assert conv.needs_reply is True and conv.awaiting is None
    assert reply_of(cast.parent_b, meeting).needs_answered_at is None


def test_the_needs_question_expires(app, cast, text):
    meeting = make_meeting(cast.committee_b)
    replies.invite(meeting, [cast.parent_b])
    db.session.commit()
    text(cast.parent_b.phone, "yes")
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == cast.parent_b.phone))
    conv.awaiting_until = conv.awaiting_until - timedelta(hours=app.config["NEEDS_ANSWER_HOURS"] + 1)
    db.session.commit()
    text(cast.parent_b.phone, "13")  # now just text for a coordinator
    assert reply_of(cast.parent_b, meeting).needs_answered_at is None


def test_yes_answers_the_latest_invitation_and_a_full_meeting_puts_you_on_the_list(cast, text):
    earlier = make_meeting(cast.committee_b, days=5)
    later = make_meeting(cast.committee_b, days=20, capacity=0)
    replies.invite(earlier, [cast.parent_b])
    db.session.commit()
    replies.invite(later, [cast.parent_b])
    db.session.commit()
    answer = text(cast.parent_b.phone, "Y")
    when = in_locale("en", lambda: texts.sms_when(later.starts_at))
    assert answer == [in_locale("en", texts.waitlisted, plan="Bayview", when=when)]
    assert reply_of(cast.parent_b, later).status == ReplyStatus.WAITLISTED
    assert reply_of(cast.parent_b, earlier).status == ReplyStatus.INVITED


def test_yes_without_an_open_invitation_is_kept_for_a_coordinator(cast, text):
    past = make_meeting(cast.committee_b, days=-2)
    replies.invite(past, [cast.parent_b])
    db.session.commit()
    assert text(cast.parent_b.phone, "yes") == [in_locale("en", sms_texts.received, plan="Bayview")]
    assert reply_of(cast.parent_b, past).status == ReplyStatus.INVITED
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == cast.parent_b.phone))
    assert conv.needs_reply is True


def test_a_stopped_number_saying_yes_opts_back_in_and_does_not_answer_the_invitation(cast, text):
    meeting = make_meeting(cast.committee_b)
    replies.invite(meeting, [cast.parent_b])
    db.session.add(SmsOptOut(phone=cast.parent_b.phone))
    db.session.commit()
    text(cast.parent_b.phone, "yes")
    assert db.session.get(SmsOptOut, cast.parent_b.phone) is None
    assert reply_of(cast.parent_b, meeting).status == ReplyStatus.INVITED


def test_an_offered_place_is_taken_by_text(cast, text):
    other = make_member("+15105550999", "Olga", plan=cast.plan_a)
    db.session.commit()
    meeting = make_meeting(cast.committee_a, capacity=1)
    replies.invite(meeting, [cast.parent, other])
    db.session.commit()
    text(cast.parent.phone, "si")
    text(cast.parent.phone, "0")
    text(other.phone, "yes")  # full: waiting list
    assert reply_of(other, meeting).status == ReplyStatus.WAITLISTED
    text(cast.parent.phone, "no")  # frees the place: offered to the next person by text
    assert reply_of(other, meeting).status == ReplyStatus.OFFERED
    answer = text(other.phone, "1")
    assert reply_of(other, meeting).status == ReplyStatus.YES
    assert answer[1] == in_locale("en", texts.needs_question)
