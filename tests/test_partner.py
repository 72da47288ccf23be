"""The community organisation's area: referral codes, flyers, enrolling a family with
them in the room, and the organisation's own families."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    AuditEvent,
    ConsentChannel,
    ConsentEvent,
    Member,
    MemberSource,
    OutboxMessage,
    ReferralCode,
    SmsOptOut,
    SmsStatus,
)
from engage.partner.codes import ALPHABET, CODE_LENGTH, create_code
from tests.conftest import login, make_member, post_form

# Shorthands for tests/test_access.py: pages and buttons only a CBO's staff use.
CBO_PAGE = dict(anonymous=302, parent=403, cbo_a=200, coord_a=403, coord_b=403, admin=403)
CBO_POST = dict(anonymous=302, parent=403, cbo_a=302, coord_a=403, coord_b=403, admin=403)


def code_a(c) -> int:
    """A referral code of organisation A (made once per test)."""
    row = db.session.scalar(sa.select(ReferralCode).where(ReferralCode.organisation_id == c.org_a.id))
    if row is None:
        row = ReferralCode(code="ABC234", organisation_id=c.org_a.id, plan_id=c.plan_a.id, label="Fair")
        db.session.add(row)
        db.session.commit()
    return row.id


def pending_a(c) -> int:
    """An organisation A family who has not confirmed yet."""
    phone = "+15105550177"
    member = db.session.scalar(sa.select(Member).where(Member.phone == phone))
    if member is None:
        member = make_member(phone, "Pat Pending", plan=c.plan_a, organisation=c.org_a, status=SmsStatus.PENDING)
        db.session.commit()
    return member.id


def texted_code(phone: str) -> str:
    body = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id.desc())
    ).first()
    return re.search(r"\d{6}", body).group(0)


# Referral codes ---------------------------------------------------------------------------


def test_a_cbo_makes_a_code_with_a_label(app, cast, client):
    login(client, cast.cbo_a)
    assert post_form(client, "/partner/codes", {"label": "Health fair"}).status_code == 302
    response = client.get("/partner/codes")
    row = db.session.scalar(sa.select(ReferralCode))
    assert row.organisation_id == cast.org_a.id
    assert row.plan_id == cast.plan_a.id  # the organisation's only plan
    assert row.label == "Health fair"
    assert len(row.code) == CODE_LENGTH and set(row.code) <= set(ALPHABET)
    page = response.get_data(as_text=True)
    assert row.code in page and "Health fair" in page
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "referral_code.create"))
    assert audit.actor_id == cast.cbo_a.id and audit.target_id == row.id


def test_codes_are_unique_even_when_the_generator_repeats(app, cast, monkeypatch):
    from engage.partner import codes

    values = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(codes, "new_code", lambda: next(values))
    first = create_code(cast.org_a.id, None, "")
    second = create_code(cast.org_a.id, None, "")
    db.session.commit()
    assert (first.code, second.code) == ("AAAAAA", "BBBBBB")


def test_many_codes_never_collide(app, cast):
    made = {create_code(cast.org_a.id, None, "").code for _ in range(200)}
    db.session.commit()
    assert len(made) == 200


def test_a_plan_must_be_one_of_the_organisations_own(app, cast, client):
    cast.org_a.plans.append(cast.plan_b)
    db.session.commit()
    # plan_b is now the organisation's too: allowed. Take it away and try again.
    login(client, cast.cbo_a)
    cast.org_a.plans.remove(cast.plan_b)
    db.session.commit()
    response = post_form(client, "/partner/codes", {"label": "x", "plan_id": cast.plan_b.id})
    assert response.status_code == 302  # one plan: the choice is not offered, the code uses plan A
    assert db.session.scalar(sa.select(ReferralCode.plan_id)) == cast.plan_a.id


def test_with_several_plans_a_stranger_plan_is_refused(app, cast, client):
    from engage.models import Plan

    plan_c = Plan(slug="coast", name="Coast Health", short_name="Coast")
    db.session.add(plan_c)
    cast.org_a.plans.append(plan_c)
    db.session.commit()
    login(client, cast.cbo_a)
    page = client.get("/partner/codes").get_data(as_text=True)
    assert "Coast Health" in page and cast.plan_b.name not in page
    response = post_form(client, "/partner/codes", {"plan_id": cast.plan_b.id})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(ReferralCode.id))) == 0
    assert post_form(client, "/partner/codes", {"plan_id": plan_c.id}).status_code == 302
    assert db.session.scalar(sa.select(ReferralCode.plan_id)) == plan_c.id


def test_deactivate_and_reactivate_a_code(app, cast, client):
    code_id = code_a(cast)
    login(client, cast.cbo_a)
    assert post_form(client, f"/partner/codes/{code_id}/deactivate", token_from="/partner/codes").status_code == 302
    assert db.session.get(ReferralCode, code_id).is_active is False
    page = client.get("/partner/codes").get_data(as_text=True)
    assert "Turned off" in page
    assert post_form(client, f"/partner/codes/{code_id}/reactivate", token_from="/partner/codes").status_code == 302
    assert db.session.get(ReferralCode, code_id).is_active is True
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["referral_code.deactivate", "referral_code.activate"]


def test_another_organisations_code_is_hidden(app, cast, client):
    code_id = code_a(cast)
    login(client, cast.cbo_b)
    assert client.get(f"/partner/codes/{code_id}/flyer").status_code == 404
    assert post_form(client, f"/partner/codes/{code_id}/deactivate", token_from="/partner/codes").status_code == 404
    assert db.session.get(ReferralCode, code_id).is_active is True
    assert "ABC234" not in client.get("/partner/codes").get_data(as_text=True)


def test_the_codes_page_counts_the_families_each_code_brought(app, cast, client, count_queries):
    code_id = code_a(cast)
    for i in range(3):
        m = make_member(f"+1510555020{i}", f"F{i}", plan=cast.plan_a, organisation=cast.org_a)
        m.referral_code_id = code_id
    db.session.commit()
    login(client, cast.cbo_a)
    page = client.get("/partner/codes").get_data(as_text=True)
    row = re.search(r"ABC234.*?</tr>", page, re.S).group(0)
    assert re.search(r"<td>3</td>", row)


# Flyers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "keyword", "headline"),
    [("en", "JOIN", "Parents"), ("es", "UNIRME", '<html lang="es"'), ("zh_Hant", "加入", 'lang="zh-Hant"')],
)
def test_the_flyer_in_each_language(app, cast, client, lang, keyword, headline):
    cast.plan_a.contact_phone = "+15105550100"
    db.session.commit()
    code_id = code_a(cast)
    login(client, cast.cbo_a)
    response = client.get(f"/partner/codes/{code_id}/flyer?language={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<svg viewBox="' in page and 'class="qr-code"' in page
    assert f"/join?ref=ABC234&amp;lang={lang}" in page
    assert f"{keyword} ABC234" in page
    assert "(510) 555-0100" in page
    assert headline in page
    # Links to the flyer in every language.
    for other in ("en", "es", "zh_Hant"):
        assert f"/partner/codes/{code_id}/flyer?language={other}" in page
    # No inline style (the CSP forbids it).
    assert "style=" not in page


def test_the_qr_code_points_to_the_join_page_with_the_code(app, cast, client, monkeypatch):
    import segno

    seen = []
    real = segno.make

    def spy(content, **kwargs):
        seen.append(content)
        return real(content, **kwargs)

    monkeypatch.setattr(segno, "make", spy)
    code_id = code_a(cast)
    login(client, cast.cbo_a)
    client.get(f"/partner/codes/{code_id}/flyer?language=es")
    assert seen == [app.config["PUBLIC_BASE_URL"] + "/join?ref=ABC234&lang=es"]


def test_without_a_plan_number_the_flyer_still_says_how_to_text(app, cast, client):
    code_id = code_a(cast)
    login(client, cast.cbo_a)
    page = client.get(f"/partner/codes/{code_id}/flyer?language=en").get_data(as_text=True)
    assert "Or text JOIN ABC234 to sign up." in page


# Assisted enrolment ---------------------------------------------------------------------------

FAMILY = {
    "display_name": "Lupe",
    "phone": "(510) 555-0199",
    "locale": "es",
    "county": "Alameda",
    "zip_code": "",
    "child_age_groups": ["0-5", "6-12"],
    "needs": ["childcare", "interpreter"],
    "interpreter_language": "mixteco",
}


def test_assisted_enrolment_end_to_end(app, cast, client):
    login(client, cast.cbo_a)
    response = post_form(client, "/partner/enroll", FAMILY)
    assert response.status_code == 302
    member = db.session.scalar(sa.select(Member).where(Member.phone == "+15105550199"))
    assert response.headers["Location"].endswith(f"/partner/enroll/{member.id}/confirm")
    assert member.source == MemberSource.CBO
    assert member.organisation_id == cast.org_a.id
    assert member.assisted_by_id == cast.cbo_a.id
    assert member.plan_id == cast.plan_a.id
    assert member.sms_status == SmsStatus.PENDING
    assert member.child_age_groups == ["0-5", "6-12"]
    assert member.needs["childcare"] is True and member.needs["interpreter_language"] == "mixteco"
    # The code went to the family's phone, in Spanish.
    text = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.phone == member.phone))
    assert text.locale == "es"

    page = client.get(f"/partner/enroll/{member.id}/confirm").get_data(as_text=True)
    assert "Ask the family for the code we just texted them" in page
    assert 'lang="es"' in page

    wrong = post_form(client, f"/partner/enroll/{member.id}/confirm", {"code": "000000"})
    assert wrong.status_code == 200 and "does not match" in wrong.get_data(as_text=True)

    code = texted_code(member.phone)
    done = post_form(client, f"/partner/enroll/{member.id}/confirm", {"code": code})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/partner/enroll/{member.id}/done")
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.sms_status == SmsStatus.ACTIVE
    ledger = db.session.scalar(sa.select(ConsentEvent).where(ConsentEvent.member_id == member.id))
    assert ledger.channel == ConsentChannel.CBO
    assert ledger.assisted_by_id == cast.cbo_a.id
    assert ledger.locale == "es"
    assert "ALTO" in ledger.words_shown and "AFH" in ledger.words_shown  # the Spanish stop word
    assert client.get(done.headers["Location"]).status_code == 200
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"member.enroll", "member.confirm_assisted"} <= actions


def test_a_bad_number_is_explained(app, cast, client):
    login(client, cast.cbo_a)
    response = post_form(client, "/partner/enroll", {**FAMILY, "phone": "12345"})
    assert response.status_code == 200
    assert "US mobile number" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2  # only the cast


def test_county_or_zip_is_needed(app, cast, client):
    login(client, cast.cbo_a)
    response = post_form(client, "/partner/enroll", {**FAMILY, "county": "", "zip_code": ""})
    assert response.status_code == 200
    assert "county or enter a ZIP" in response.get_data(as_text=True)


def test_a_stopped_number_gets_a_clear_message_and_nothing_is_saved(app, cast, client):
    db.session.add(SmsOptOut(phone="+15105550199"))
    db.session.commit()
    login(client, cast.cbo_a)
    response = post_form(client, "/partner/enroll", FAMILY)
    assert response.status_code == 200
    assert "said STOP" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Member).where(Member.phone == "+15105550199")) is None


def test_too_many_codes_gets_a_clear_message(app, cast, client):
    login(client, cast.cbo_a)
    member_id = None
    for _ in range(3):
        assert post_form(client, "/partner/enroll", FAMILY).status_code == 302
    response = post_form(client, "/partner/enroll", FAMILY)
    assert response.status_code == 200
    assert "too many codes" in response.get_data(as_text=True)
    member_id = db.session.scalar(sa.select(Member.id).where(Member.phone == "+15105550199"))
    resend = post_form(client, f"/partner/enroll/{member_id}/resend", token_from="/partner/enroll")
    assert resend.status_code == 302
    assert "too many codes" in client.get(resend.headers["Location"]).get_data(as_text=True)


def test_a_worker_cannot_confirm_another_organisations_family(app, cast, client):
    member_id = pending_a(cast)
    login(client, cast.cbo_b)
    assert client.get(f"/partner/enroll/{member_id}/confirm").status_code == 404
    assert (
        post_form(
            client, f"/partner/enroll/{member_id}/confirm", {"code": "123456"}, token_from="/partner/enroll"
        ).status_code
        == 404
    )
    assert post_form(client, f"/partner/enroll/{member_id}/resend", token_from="/partner/enroll").status_code == 404
    assert client.get(f"/partner/enroll/{cast.parent.id}/done").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_another_organisations_family_is_not_changed_by_enrolling_its_number(app, cast, client):
    login(client, cast.cbo_b)
    response = post_form(client, "/partner/enroll", {**FAMILY, "phone": cast.parent.phone})
    assert response.status_code == 200
    assert "another organisation" in response.get_data(as_text=True)
    db.session.expire_all()
    parent = db.session.get(Member, cast.parent.id)
    assert parent.display_name == "Paloma Parent" and parent.organisation_id == cast.org_a.id


def test_enrolling_a_family_already_confirmed_updates_and_sends_no_code(app, cast, client):
    login(client, cast.cbo_a)
    response = post_form(client, "/partner/enroll", {**FAMILY, "phone": cast.parent.phone})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/{cast.parent.id}/done")
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


# The organisation's families ------------------------------------------------------------------


def test_a_cbo_sees_only_its_own_families(app, cast, client):
    login(client, cast.cbo_a)
    page = client.get("/partner/families").get_data(as_text=True)
    assert "Paloma Parent" in page and "Bernard Parent" not in page
    login(client, cast.cbo_b)
    page = client.get("/partner/families").get_data(as_text=True)
    assert "Bernard Parent" in page and "Paloma Parent" not in page


def test_the_partner_home_leads_with_enrolling(app, cast, client):
    login(client, cast.cbo_a)
    page = client.get("/partner/").get_data(as_text=True)
    assert page.index("/partner/enroll") < page.index("/partner/families")
    assert "/partner/codes" in page
    assert "1 family has signed up with you" in " ".join(page.split()).replace("<strong>1</strong> ", "1 ")


def test_printing_a_flyer_in_another_language_keeps_the_workers_own_language(app, cast, client):
    code_id = code_a(cast)
    login(client, cast.cbo_a)
    client.get("/partner/?lang=en")
    flyer = client.get(f"/partner/codes/{code_id}/flyer?language=zh_Hant").get_data(as_text=True)
    assert 'lang="zh-Hant"' in flyer
    assert '<html lang="en">' in client.get("/partner/").get_data(as_text=True)
