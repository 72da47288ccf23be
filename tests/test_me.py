"""A parent's own page: sign-in by a texted code, what it shows, settings, a new
number, export and deletion."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.members import codes
from engage.models import (
    AuditEvent,
    CodePurpose,
    CommitteeMembership,
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Conversation,
    InboundMessage,
    Member,
    OutboxKind,
    OutboxMessage,
    SmsOptOut,
    VerificationCode,
    utcnow,
)
from engage.sms import consent, texts
from tests.conftest import login, post_form

CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
NEW_PHONE = "+15105550199"


def outbox_to(phone: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id))
    )


def last_code(phone: str) -> str:
    return CODE_RE.search(outbox_to(phone)[-1].body).group(1)


def ask_code(client, phone: str):
    return post_form(client, "/me/login", {"phone": phone})


def enter_code(client, code: str):
    return post_form(client, "/me/login/code", {"code": code})


def sign_in(client, member: Member):
    ask_code(client, member.phone)
    return enter_code(client, last_code(member.phone))


def fresh(member: Member) -> Member:
    db.session.expire_all()
    return db.session.get(Member, member.id)


# Signing in ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_a_parent_signs_in_with_a_code_texted_in_their_language(app, cast, client, locale):
    cast.parent.locale = locale
    db.session.commit()
    response = ask_code(client, "(510) 555-0111")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/login/code")

    [text] = outbox_to(cast.parent.phone)
    assert text.kind == OutboxKind.CONSENT
    assert text.locale == locale
    code = CODE_RE.search(text.body).group(1)
    with app.test_request_context(), force_locale(locale):
        assert text.body == texts.login_code(plan="AFH", code=code)

    response = enter_code(client, code)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me")
    page = client.get("/me")
    assert page.status_code == 200
    assert "Paloma Parent" in page.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert sess["lang"] == locale


def test_an_unknown_number_gets_the_same_answer_and_no_text(app, cast, client):
    known = app.test_client()
    known_answer = ask_code(known, cast.parent.phone)
    unknown_answer = ask_code(client, "+15105550177")
    assert unknown_answer.status_code == known_answer.status_code == 302
    assert unknown_answer.headers["Location"] == known_answer.headers["Location"]
    assert outbox_to("+15105550177") == []
    known_page = known.get("/me/login/code").get_data(as_text=True)
    unknown_page = client.get("/me/login/code").get_data(as_text=True)
    token = re.compile(r'value="[^"]{40,}"')
    assert token.sub("", known_page).replace("0111", "XXXX") == token.sub("", unknown_page).replace("0177", "XXXX")
    # Any code is refused, the same way.
    assert "not right" in enter_code(client, "123456").get_data(as_text=True)


def test_a_bad_number_is_explained(app, cast, client):
    page = ask_code(client, "12").get_data(as_text=True)
    assert "area code" in page


def test_a_number_that_said_stop_gets_no_code(app, cast, client):
    consent.opt_out(cast.parent.phone, channel=ConsentChannel.SMS, locale="es", words_shown="STOP", member=cast.parent)
    db.session.commit()
    response = ask_code(client, cast.parent.phone)
    assert response.status_code == 302
    assert outbox_to(cast.parent.phone) == []


def test_a_deleted_member_gets_no_code(app, cast, client):
    cast.parent.deleted_at = utcnow()
    db.session.commit()
    ask_code(client, cast.parent.phone)
    assert outbox_to(cast.parent.phone) == []


def test_a_wrong_code_is_refused(app, cast, client):
    ask_code(client, cast.parent.phone)
    good = last_code(cast.parent.phone)
    wrong = "000000" if good != "000000" else "111111"
    response = enter_code(client, wrong)
    assert response.status_code == 200
    assert "not right" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302
    # The right one still works.
    assert enter_code(client, good).status_code == 302
    assert client.get("/me").status_code == 200


def test_an_expired_code_is_refused(app, cast, client):
    ask_code(client, cast.parent.phone)
    code = last_code(cast.parent.phone)
    row = db.session.scalar(sa.select(VerificationCode).where(VerificationCode.purpose == CodePurpose.LOGIN))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "not right" in enter_code(client, code).get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_too_many_wrong_tries_spend_the_code(app, cast, client):
    ask_code(client, cast.parent.phone)
    code = last_code(cast.parent.phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(codes.MAX_ATTEMPTS):
        enter_code(client, wrong)
    assert "not right" in enter_code(client, code).get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_the_sign_in_pages_are_limited_per_address(app, cast, client):
    answers = [ask_code(client, "+15105550177").status_code for _ in range(6)]
    assert answers[:5] == [302] * 5
    assert answers[5] == 429
    other = app.test_client()
    ask_code_blocked = [enter_code(other, "000000").status_code for _ in range(11)]
    assert ask_code_blocked[-1] == 429


def test_a_parent_page_sends_anonymous_people_to_the_parent_sign_in(app, cast, client):
    response = client.get("/me/settings")
    assert response.status_code == 302
    assert "/me/login" in response.headers["Location"]
    # After signing in, they land where they were going.
    client.get(response.headers["Location"])
    ask_code(client, cast.parent.phone)
    response = enter_code(client, last_code(cast.parent.phone))
    assert response.headers["Location"].endswith("/me/settings")


def test_a_parent_signs_out_with_the_shared_sign_out(app, cast, client):
    login(client, cast.parent)
    page = client.get("/me").get_data(as_text=True)
    assert "/logout" in page
    assert post_form(client, "/logout", token_from="/me").status_code == 302
    assert client.get("/me").status_code == 302


# The page ------------------------------------------------------------------------------


def _conversation(member, body_in, body_out):
    conv = Conversation(phone=member.phone, member_id=member.id)
    db.session.add(conv)
    db.session.flush()
    db.session.add(InboundMessage(message_sid=f"SM{member.id}", conversation_id=conv.id, body=body_in))
    db.session.add(
        OutboxMessage(
            phone=member.phone,
            member_id=member.id,
            conversation_id=conv.id,
            kind=OutboxKind.REPLY,
            body=body_out,
            locale=member.locale,
        )
    )
    return conv


def test_my_page_shows_my_committees_and_texts_and_nobody_elses(app, cast, client):
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=cast.parent.id))
    db.session.add(CommitteeMembership(committee_id=cast.committee_b.id, member_id=cast.parent_b.id))
    _conversation(cast.parent, "¿A qué hora es la reunión?", "AFH: A las 6.")
    _conversation(cast.parent_b, "Bernard asks a question", "Bayview: an answer for Bernard")
    db.session.commit()
    login(client, cast.parent)
    page = client.get("/me?lang=es").get_data(as_text=True)
    assert "Comité de Niños" in page
    assert "¿A qué hora es la reunión?" in page
    assert "AFH: A las 6." in page
    assert cast.parent_b.display_name not in page
    assert "Bernard" not in page
    assert "Bayview" not in page


def test_my_page_has_friendly_empty_states(app, cast, client):
    login(client, cast.parent)
    response = client.get("/me?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You are not on a parent advisory group yet." in page
    assert "No meetings are planned for you right now." in page


def test_settings_change_language_and_needs(app, cast, client):
    login(client, cast.parent)
    form = client.get("/me/settings").get_data(as_text=True)
    assert "Alameda" in form
    data = {
        "locale": "en",
        "display_name": "Paloma",
        "county": "Alameda",
        "zip_code": "94601",
        "child_age_groups": ["0-5", "6-12"],
        "participation": ["feedback"],
        "needs": ["childcare", "interpreter"],
        "interpreter_language": "",
    }
    # An interpreter with no language: asked which.
    page = post_form(client, "/me/settings", data).get_data(as_text=True)
    assert "interpreter" in page.lower()
    assert fresh(cast.parent).needs == {}

    data["interpreter_language"] = "mixteco"
    response = post_form(client, "/me/settings", data)
    assert response.status_code == 302
    member = fresh(cast.parent)
    assert member.locale == "en"
    assert member.display_name == "Paloma"
    assert member.child_age_groups == ["0-5", "6-12"]
    assert member.needs == {
        "childcare": True,
        "interpreter": True,
        "transport": False,
        "interpreter_language": "mixteco",
    }
    with client.session_transaction() as sess:
        assert sess["lang"] == "en"
    page = client.get("/me").get_data(as_text=True)
    assert "Your changes are saved." in page
    assert "Childcare during meetings" in page
    assert "An interpreter who speaks Mixteco" in page


def test_demographics_are_optional_and_can_be_removed(app, cast, client):
    login(client, cast.parent)
    assert client.get("/me/about").status_code == 200
    response = post_form(
        client,
        "/me/about",
        {
            "race_ethnicity": ["hispanic", "hispanic_mexican"],
            "disability_hearing": "no",
            "disability_vision": "decline",
        },
    )
    assert response.status_code == 302
    member = fresh(cast.parent)
    assert member.race_ethnicity == ["hispanic", "hispanic_mexican"]
    assert member.disability == {"hearing": "no", "vision": "decline"}
    # "Prefer not to say" is on its own.
    page = post_form(client, "/me/about", {"race_ethnicity": ["decline", "white"]}).get_data(as_text=True)
    assert "error" in page
    assert post_form(client, "/me/about", {"action": "remove"}).status_code == 302
    member = fresh(cast.parent)
    assert member.race_ethnicity is None
    assert member.disability is None


# A new number -------------------------------------------------------------------------


def test_a_new_number_is_confirmed_by_a_code_texted_to_it(app, cast, client):
    login(client, cast.parent)
    other_device = app.test_client()
    login(other_device, cast.parent)
    response = post_form(client, "/me/phone", {"phone": "510 555 0199"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/phone/confirm")
    [text] = outbox_to(NEW_PHONE)
    assert text.locale == "es"
    code = CODE_RE.search(text.body).group(1)
    # Nothing changes until the code comes back.
    assert fresh(cast.parent).phone == "+15105550111"

    response = post_form(client, "/me/phone/confirm", {"code": code})
    assert response.status_code == 302
    member = fresh(cast.parent)
    assert member.phone == NEW_PHONE
    assert member.session_version == 2
    line = db.session.scalar(sa.select(ConsentEvent).where(ConsentEvent.phone == NEW_PHONE))
    assert line.action == ConsentAction.OPT_IN
    assert line.channel == ConsentChannel.WEB
    assert line.member_id == member.id
    assert line.words_shown
    # Still signed in here; signed out everywhere else.
    assert client.get("/me").status_code == 200
    assert other_device.get("/me").status_code == 302


def test_a_number_that_belongs_to_someone_else_is_refused(app, cast, client):
    login(client, cast.parent)
    post_form(client, "/me/phone", {"phone": cast.parent_b.phone})
    code = last_code(cast.parent_b.phone)
    page = post_form(client, "/me/phone/confirm", {"code": code}).get_data(as_text=True)
    assert "already belongs to another member" in page or "otro" in page
    assert fresh(cast.parent).phone == "+15105550111"
    assert fresh(cast.parent_b).phone == "+14155550122"


def test_a_wrong_code_does_not_change_the_number(app, cast, client):
    login(client, cast.parent)
    post_form(client, "/me/phone", {"phone": NEW_PHONE})
    code = last_code(NEW_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    assert post_form(client, "/me/phone/confirm", {"code": wrong}).status_code == 200
    assert fresh(cast.parent).phone == "+15105550111"


# Export ----------------------------------------------------------------------------------


def _history(cast):
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=cast.parent.id))
    db.session.add(CommitteeMembership(committee_id=cast.committee_b.id, member_id=cast.parent_b.id))
    consent.opt_in(cast.parent.phone, channel=ConsentChannel.WEB, locale="es", words_shown="Acepto", member=cast.parent)
    consent.opt_in(
        cast.parent_b.phone, channel=ConsentChannel.WEB, locale="en", words_shown="I agree", member=cast.parent_b
    )
    _conversation(cast.parent, "Hola, tengo una idea", "AFH: Gracias")
    _conversation(cast.parent_b, "Bernard's idea", "Bayview: thanks Bernard")
    db.session.commit()


def test_export_json_holds_my_data_and_only_mine(app, cast, client):
    _history(cast)
    login(client, cast.parent)
    response = client.get("/me/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["display_name"] == "Paloma Parent"
    assert data["profile"]["phone"] == "+15105550111"
    assert [c["committee"]["es"] for c in data["committees"]] == ["Comité de Niños"]
    assert [line["words_shown"] for line in data["consent"]] == ["Acepto"]
    bodies = {m["body"] for m in data["messages"]}
    assert bodies == {"Hola, tengo una idea", "AFH: Gracias"}
    assert [a["action"] for a in data["audit"]] == ["member.export"]
    raw = response.get_data(as_text=True)
    assert "Bernard" not in raw
    assert cast.parent_b.phone not in raw
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.export"))
    assert event.actor_id is None
    assert (event.target_type, event.target_id) == ("member", cast.parent.id)


def test_export_csv_is_one_row_per_item_for_excel(app, cast, client):
    _history(cast)
    login(client, cast.parent)
    response = client.get("/me/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["section", "field", "value"]
    assert ["profile", "display_name", "Paloma Parent"] in rows
    assert ["profile", "phone", "+15105550111"] in rows
    assert any(r[0] == "messages" and r[2] == "Hola, tengo una idea" for r in rows)
    assert any(r[0] == "consent" and r[2] == "Acepto" for r in rows)
    assert "Bernard" not in raw.decode("utf-8-sig")


# Deletion ---------------------------------------------------------------------------------


def test_deleting_my_account_removes_personal_data_and_keeps_the_ledger(app, cast, client):
    _history(cast)
    cast.parent.race_ethnicity = ["hispanic"]
    cast.parent.needs = {"childcare": True}
    db.session.commit()
    member_id, phone = cast.parent.id, cast.parent.phone
    login(client, cast.parent)
    page = client.get("/me/delete?lang=en").get_data(as_text=True)
    assert "What we remove" in page and "What we keep" in page

    # Without ticking the box, nothing happens.
    assert post_form(client, "/me/delete", {}).status_code == 200
    assert fresh(cast.parent).phone == phone

    response = post_form(client, "/me/delete", {"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, member_id)
    assert member.deleted_at is not None
    assert (member.display_name, member.phone, member.zip_code) == (None, None, None)
    assert member.race_ethnicity is None and member.disability is None
    assert member.needs == {} and member.participation == []
    # What aggregate counts need is kept.
    assert (member.locale, member.county, member.child_age_groups) == ("es", "Alameda", ["0-5"])
    assert member.plan_id == cast.plan_a.id

    assert db.session.get(SmsOptOut, phone) is not None
    ledger = db.session.scalars(
        sa.select(ConsentEvent).where(ConsentEvent.phone == phone).order_by(ConsentEvent.id)
    ).all()
    assert [e.action for e in ledger] == [ConsentAction.OPT_IN, ConsentAction.OPT_OUT]
    assert ledger[-1].channel == ConsentChannel.WEB
    assert db.session.scalar(sa.select(sa.func.count(InboundMessage.id))) == 1  # parent_b's only
    mine = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.member_id == member_id)).all()
    assert mine and all(m.body == "" and m.phone == "deleted" for m in mine)
    assert db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone)) is None
    assert (
        db.session.scalars(sa.select(CommitteeMembership).where(CommitteeMembership.member_id == member_id)).all() == []
    )
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.deleted")).target_id == member_id
    # Nobody else was touched.
    assert fresh(cast.parent_b).display_name == "Bernard Parent"

    # Signed out, and cannot sign in again.
    assert client.get("/me").status_code == 302
    ask_code(client, phone)
    assert [m for m in outbox_to(phone)] == []


def test_a_deleted_parent_is_signed_out_on_every_device(app, cast, client):
    other = app.test_client()
    login(client, cast.parent)
    login(other, cast.parent)
    assert other.get("/me").status_code == 200
    post_form(client, "/me/delete", {"confirm": "y"})
    response = other.get("/me")
    assert response.status_code == 302
    assert "/me/login" in response.headers["Location"]
