"""Signing up by text: JOIN / UNIRME / 加入, name, place, YES."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Member,
    MemberSource,
    ReferralCode,
    SignupConversation,
    SmsOptOut,
    SmsStatus,
)

PHONE = "+15595559999"


@pytest.fixture
def text(client, cast):
    counter = iter(range(1, 10_000))

    def _text(body: str, phone: str = PHONE) -> str:
        response = client.post(
            "/sms/inbound", data={"MessageSid": f"SMjoin{next(counter):08d}", "From": phone, "Body": body}
        )
        assert response.status_code == 200
        xml = response.get_data(as_text=True)
        return xml.split(">", 2)[-1] if "<Message" in xml else ""

    return _text


def member(phone=PHONE) -> Member | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.phone == phone))


@pytest.mark.parametrize(
    "word,locale,place,yes",
    [("JOIN", "en", "Fresno", "YES"), ("unirme", "es", "condado de Fresno", "Sí"), ("加入", "zh_Hant", "93701", "是")],
)
def test_a_parent_signs_up_by_text_in_their_language(text, cast, word, locale, place, yes):
    assert "name" in text(word) or text  # asks for a name
    text("Guadalupe")
    text(place)
    welcome = text(yes)
    assert welcome
    m = member()
    assert m.display_name == "Guadalupe"
    assert m.locale == locale
    assert m.source == MemberSource.SMS
    assert m.sms_status == SmsStatus.ACTIVE
    assert (m.county, m.zip_code) in {("Fresno", None), (None, "93701")}
    event = db.session.scalar(sa.select(ConsentEvent).where(ConsentEvent.phone == PHONE))
    assert event.action == ConsentAction.OPT_IN
    assert event.channel == ConsentChannel.SMS
    assert event.keyword == yes
    assert event.locale == locale
    assert db.session.get(SignupConversation, PHONE) is None


def test_wrong_answers_are_asked_again_with_an_example(text, cast):
    text("JOIN")
    again = text("!!!")
    assert "Maria" in again
    text("Rosa")
    again = text("somewhere nice")
    assert "93701" in again
    text("Fresno County")
    again = text("maybe")
    assert "YES" in again
    state = db.session.get(SignupConversation, PHONE)
    assert state.step == "confirm"
    assert member() is None


def test_punctuation_around_a_name_is_dropped(text, cast):
    text("JOIN")
    text("  Rosa! ")
    text("93701")
    text("YES")
    assert member().display_name == "Rosa"


def test_someone_can_stop_part_way_and_carry_on_later(text, cast):
    text("JOIN")
    text("Rosa")
    state = db.session.get(SignupConversation, PHONE)
    state.updated_at -= timedelta(days=3)
    db.session.commit()
    assert "YES" in text("Fresno")
    text("YES")
    assert member().sms_status == SmsStatus.ACTIVE


def test_a_sign_up_left_for_a_week_starts_again(text, cast):
    text("JOIN")
    text("Rosa")
    state = db.session.get(SignupConversation, PHONE)
    state.updated_at -= timedelta(days=8)
    db.session.commit()
    reply = text("Fresno")
    assert "JOIN" in reply  # an unknown number is invited to text JOIN
    assert db.session.get(SignupConversation, PHONE) is None


def test_stop_works_at_every_step(text, cast):
    for steps in ([], ["Rosa"], ["Rosa", "Fresno"]):
        phone = f"+1559555{len(steps):04d}"
        text("JOIN", phone)
        for answer in steps:
            text(answer, phone)
        assert text("STOP", phone)
        assert db.session.get(SmsOptOut, phone) is not None
        assert db.session.get(SignupConversation, phone) is None
        assert text("YES", phone)  # YES after STOP opts back in, it does not sign up
        assert member(phone) is None


def test_no_at_the_end_signs_nobody_up(text, cast):
    text("JOIN")
    text("Rosa")
    text("Fresno")
    assert "JOIN" in text("NO")
    assert member() is None
    assert db.session.get(SignupConversation, PHONE) is None


def test_join_with_a_referral_code_credits_the_organisation(text, cast):
    db.session.add(ReferralCode(code="FAM123", organisation_id=cast.org_a.id, plan_id=cast.plan_a.id))
    db.session.commit()
    text("JOIN fam123")
    text("Rosa")
    text("Fresno")
    text("YES")
    m = member()
    assert m.organisation_id == cast.org_a.id
    assert m.plan_id == cast.plan_a.id
    assert m.referral_code_id is not None


def test_the_same_phone_never_makes_two_members(text, cast):
    pending = Member(phone=PHONE, display_name="Old", locale="en", source=MemberSource.WEB)
    db.session.add(pending)
    db.session.commit()
    text("UNIRME")
    text("Rosa")
    text("Fresno")
    text("SI")
    assert db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.phone == PHONE)) == 1
    m = member()
    assert (m.display_name, m.locale, m.sms_status) == ("Rosa", "es", SmsStatus.ACTIVE)


def test_an_active_member_texting_join_is_told_they_are_already_in(text, cast):
    reply = text("JOIN", cast.parent.phone)
    assert reply
    assert db.session.get(SignupConversation, cast.parent.phone) is None


def test_texting_join_again_part_way_starts_over(text, cast):
    text("JOIN")
    text("Rosa")
    text("JOIN")
    assert db.session.get(SignupConversation, PHONE).step == "name"
