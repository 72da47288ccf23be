"""Signing up on the web: /join, step by step, then the code texted to the phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.extensions import db
from engage.members import codes
from engage.members.consent_words import consent_text
from engage.models import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Member,
    MemberSource,
    OutboxMessage,
    ReferralCode,
    SmsOptOut,
    SmsStatus,
    VerificationCode,
    utcnow,
)
from engage.sms import texts
from tests.conftest import csrf_token

PHONE = "(510) 555-0187"
E164 = "+15105550187"

ANSWERS = {
    1: {"display_name": "Rosa", "phone": PHONE, "locale": "en"},
    2: {"county": "Alameda", "zip_code": "", "plan_id": None},  # plan_id filled in from the cast
    3: {"child_age_groups": ["0-5", "6-12"]},
    4: {"participation": ["committee", "surveys"]},
    5: {"needs": ["childcare", "interpreter"], "interpreter_language": "cantonese", "accessibility": "Large print"},
    6: {
        "race_ethnicity": ["asian_chinese", "hispanic"],
        "disability_hearing": "no",
        "disability_mobility": "decline",
    },
    7: {},
}


def step_url(n: int) -> str:
    return f"/join?step={n}"


def post_step(client, n: int, data: dict | None = None, action: str = "next"):
    form = {k: v for k, v in (data or {}).items() if v is not None}
    form["csrf_token"] = csrf_token(client, step_url(n))
    form["action"] = action
    return client.post(step_url(n), data=form)


def page(response) -> str:
    return response.get_data(as_text=True)


def answers(cast, locale="en", **changes) -> dict[int, dict]:
    steps = {n: dict(values) for n, values in ANSWERS.items()}
    steps[1]["locale"] = locale
    steps[2]["plan_id"] = cast.plan_a.id
    for key, value in changes.items():
        for values in steps.values():
            if key in values:
                values[key] = value
    return steps


def fill_in(client, cast, locale="en", *, skip_about_you=False, until=7, **changes):
    """Walk through the steps; returns the answer to the last POST."""
    steps = answers(cast, locale, **changes)
    response = None
    for n in range(1, until + 1):
        if n == 6 and skip_about_you:
            response = post_step(client, 6, action="skip")
        else:
            response = post_step(client, n, steps[n])
        if n < 7:
            assert response.status_code == 302, (n, page(response))
            assert response.headers["Location"].endswith(step_url(n + 1))
    return response


def outbox_to(phone: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id))
    )


def texted_code(phone: str = E164) -> str:
    bodies = [m.body for m in outbox_to(phone)]
    found = re.findall(r"\b(\d{6})\b", bodies[-1])
    assert found, bodies
    return found[-1]


def enter_code(client, code: str):
    return client.post("/join/confirm", data={"csrf_token": csrf_token(client, "/join/confirm"), "code": code})


def member_for(phone: str = E164) -> Member:
    db.session.expire_all()
    return db.session.scalar(sa.select(Member).where(Member.phone == phone))


# The whole sign-up ---------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_a_parent_signs_up_on_the_web_in_their_language(client, cast, locale):
    first = client.get(f"/join?lang={locale}")
    assert first.status_code == 200
    assert "Step 1 of 7" in page(first) or locale != "en"
    response = fill_in(client, cast, locale)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/join/confirm")

    member = member_for()
    assert member.sms_status == SmsStatus.PENDING
    assert member.source == MemberSource.WEB
    assert member.locale == locale
    assert member.display_name == "Rosa"
    assert member.county == "Alameda"
    assert member.plan_id == cast.plan_a.id
    assert member.child_age_groups == ["0-5", "6-12"]
    assert member.participation == ["committee", "surveys"]
    assert member.needs == {
        "childcare": True,
        "interpreter": True,
        "interpreter_language": "cantonese",
        "transport": False,
        "accessibility": "Large print",
    }
    # A detailed group counts for its category too.
    assert member.race_ethnicity == ["asian", "asian_chinese", "hispanic"]
    assert member.disability == {"hearing": "no", "mobility": "decline"}

    # The code text, in the parent's language; nothing else is sent before it is confirmed.
    [code_text] = outbox_to(E164)
    code = texted_code()
    with force_locale(locale):
        assert code_text.body == texts.signup_code(plan=cast.plan_a.short_name, code=code)
    assert code_text.locale == locale

    confirm_page = client.get("/join/confirm")
    assert "(510) 555-0187" in page(confirm_page)
    response = enter_code(client, code)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/join/done")

    member = member_for()
    assert member.sms_status == SmsStatus.ACTIVE
    assert member.confirmed_at is not None
    [event] = db.session.scalars(sa.select(ConsentEvent).where(ConsentEvent.phone == E164))
    assert event.action == ConsentAction.OPT_IN
    assert event.channel == ConsentChannel.WEB
    assert event.locale == locale
    assert event.member_id == member.id
    assert event.words_shown == consent_text(cast.plan_a.short_name, locale)
    assert "4" in event.words_shown

    welcome = outbox_to(E164)[-1]
    with force_locale(locale):
        assert welcome.body == texts.welcome(plan=cast.plan_a.short_name)
    assert welcome.locale == locale
    if locale != "en":
        with force_locale("en"):
            assert welcome.body != texts.welcome(plan=cast.plan_a.short_name)

    done = client.get("/join/done")
    assert done.status_code == 200
    assert 'href="/committees"' in page(done)
    assert f'lang="{locale.replace("_", "-")}"' in page(done)


def test_the_consent_words_shown_are_the_words_kept(client, cast):
    fill_in(client, cast, "es", until=6)
    last = page(client.get(step_url(7)))
    for paragraph in consent_text(cast.plan_a.short_name, "es").split("\n\n"):
        assert paragraph.replace("’", "&#8217;") in last or paragraph in last.replace("&#39;", "'")
    assert "Step 7 of 7" in last or "7" in last


def test_the_page_speaks_the_language_chosen_on_the_first_step(client, cast):
    client.get("/join?lang=en")
    post_step(client, 1, answers(cast, "es")[1])
    assert '<html lang="es">' in page(client.get(step_url(2)))


def test_the_first_step_offers_each_language_in_its_own_words_and_picks_the_pages(client, cast):
    html = page(client.get("/join?lang=es"))
    assert 'lang="zh-Hant">中文' in html
    assert 'lang="es">español' in html
    assert re.search(r'value="es"\s+checked', html)


def test_with_one_plan_the_plan_is_not_asked_and_is_set(client, cast):
    db.session.delete(cast.plan_b)
    db.session.commit()
    post_step(client, 1, answers(cast)[1])
    html = page(client.get(step_url(2)))
    assert 'name="plan_id"' not in html
    fill_in(client, cast, plan_id=None)
    assert member_for().plan_id == cast.plan_a.id


def test_a_zip_code_alone_is_enough(client, cast):
    fill_in(client, cast, county="", zip_code="94601")
    member = member_for()
    assert member.zip_code == "94601"
    assert member.county is None


# Mistakes are explained next to the field and nothing typed is lost --------------------


@pytest.mark.parametrize("bad", ["555", "12345678901234", "+44 20 7946 0958", "1-800-555-1212", "phone", "+1555"])
def test_a_bad_phone_number_is_explained_and_the_rest_kept(client, cast, bad):
    response = post_step(client, 1, {"display_name": "Rosa", "phone": bad, "locale": "es"})
    assert response.status_code == 200
    html = page(response)
    assert 'id="phone-error"' in html
    assert "(510) 555-0123" in html  # the example
    assert 'value="Rosa"' in html
    assert re.search(r'value="es"\s+checked', html)
    # And still there when they come back to the page.
    assert 'value="Rosa"' in page(client.get(step_url(1)))
    assert client.get(step_url(2)).status_code == 302


def test_a_bad_phone_number_is_explained_in_spanish(client, cast):
    client.get("/join?lang=es")
    html = page(post_step(client, 1, {"display_name": "Rosa", "phone": "555", "locale": "es"}))
    assert 'id="phone-error"' in html
    assert '<html lang="es">' in html


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("510-555-0187", E164),
        ("+1 (510) 555 0187", E164),
        ("15105550187", E164),
        ("+44 7911 123456", "+447911123456"),  # a valid mobile abroad is fine
    ],
)
def test_good_phone_numbers_are_kept_in_e164(client, cast, typed, stored):
    fill_in(client, cast, phone=typed)
    assert member_for(stored) is not None


@pytest.mark.parametrize("bad", ["9460", "10001", "96163", "abcde", "946011", "９４６０１"])
def test_a_zip_outside_california_is_explained(client, cast, bad):
    fill_in(client, cast, until=1)
    response = post_step(client, 2, {"county": "Alameda", "zip_code": bad, "plan_id": cast.plan_a.id})
    assert response.status_code == 200
    html = page(response)
    assert 'id="zip_code-error"' in html
    assert "94601" in html
    assert re.search(r'value="Alameda"\s+selected|selected\s+value="Alameda"', html)


def test_county_or_zip_is_needed(client, cast):
    fill_in(client, cast, until=1)
    html = page(post_step(client, 2, {"county": "", "zip_code": "", "plan_id": cast.plan_a.id}))
    assert 'id="county-error"' in html


@pytest.mark.parametrize(
    ("step", "data", "field"),
    [
        (3, {}, "child_age_groups"),
        (4, {}, "participation"),
        (5, {"needs": ["interpreter"], "interpreter_language": ""}, "interpreter_language"),
        (5, {"accessibility": "x" * 501}, "accessibility"),
        (3, {"child_age_groups": ["99"]}, "child_age_groups"),
        (6, {"race_ethnicity": ["decline", "white"]}, "race_ethnicity"),
        (6, {"race_ethnicity": ["martian"]}, "race_ethnicity"),
        (6, {"disability_vision": "maybe"}, "disability_vision"),
    ],
)
def test_missing_or_wrong_choices_are_explained(client, cast, step, data, field):
    fill_in(client, cast, until=step - 1)
    response = post_step(client, step, data)
    assert response.status_code == 200
    assert f'id="{field}-error"' in page(response)


def test_missing_choices_are_explained_in_chinese(client, cast):
    fill_in(client, cast, "zh_Hant", until=2)
    html = page(post_step(client, 3, {}))
    assert '<html lang="zh-Hant">' in html
    assert 'id="child_age_groups-error"' in html


def test_back_keeps_what_was_typed_on_every_step(client, cast):
    fill_in(client, cast, until=4)
    # Half-filled step 5, then Back: still there when they return.
    response = post_step(client, 5, {"needs": ["transport"], "accessibility": "Ramp"}, action="back")
    assert response.headers["Location"].endswith(step_url(4))
    html = page(client.get(step_url(4)))
    assert re.search(r'value="committee"\s*checked', html)
    html = page(client.get(step_url(5)))
    assert re.search(r'value="transport"\s*checked', html)
    assert "Ramp" in html
    html = page(client.get(step_url(1)))
    assert 'value="Rosa"' in html and "(510) 555-0187" in html


def test_steps_cannot_be_jumped(client, cast):
    assert client.get(step_url(5)).headers["Location"].endswith(step_url(1))
    fill_in(client, cast, until=2)
    assert client.get(step_url(7)).headers["Location"].endswith(step_url(3))
    assert client.get("/join?step=99").status_code == 302


def test_every_step_says_how_far_along_it_is(client, cast):
    for n in range(1, 8):
        html = page(client.get(step_url(n)))
        assert f"Step {n} of 7" in html
        if n < 7:
            post_step(client, n, answers(cast)[n])


# About you is optional ----------------------------------------------------------------


def test_skipping_about_you_stores_nothing_about_race_or_disability(client, cast):
    fill_in(client, cast, skip_about_you=True)
    member = member_for()
    assert member.race_ethnicity is None
    assert member.disability is None


def test_about_you_left_empty_stores_nothing(client, cast):
    fill_in(client, cast, race_ethnicity=[], disability_hearing=None, disability_mobility=None)
    member = member_for()
    assert member.race_ethnicity is None
    assert member.disability is None


def test_about_you_says_why_and_offers_to_skip(client, cast):
    fill_in(client, cast, until=5)
    html = page(client.get(step_url(6)))
    assert 'value="skip"' in html
    assert "never shown with your name" in html
    assert html.count("<fieldset") >= 1 + 7 + 6
    assert 'value="decline"' in html


# One phone, one member; referral codes ---------------------------------------------


def test_signing_up_again_with_the_same_phone_updates_the_first_member(app, cast):
    first = app.test_client()
    fill_in(first, cast)
    enter_code(first, texted_code())
    second = app.test_client()
    fill_in(second, cast, "es", display_name="Rosa María", county="Fresno")
    assert db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.phone == E164)) == 1
    member = member_for()
    assert member.display_name == "Rosa María"
    assert member.county == "Fresno"
    assert member.locale == "es"
    assert member.sms_status == SmsStatus.ACTIVE


def test_a_referral_code_credits_the_organisation(client, cast):
    code = ReferralCode(code="FAM123", organisation_id=cast.org_a.id, plan_id=cast.plan_a.id)
    db.session.add(code)
    db.session.commit()
    client.get("/join?ref=fam123")
    fill_in(client, cast)
    member = member_for()
    assert member.organisation_id == cast.org_a.id
    assert member.referral_code_id == code.id


def test_an_unknown_or_inactive_referral_code_is_ignored_quietly(client, cast):
    db.session.add(ReferralCode(code="OLD1", organisation_id=cast.org_b.id, is_active=False))
    db.session.commit()
    assert client.get("/join?ref=NOPE").status_code == 200
    assert client.get("/join?ref=OLD1").status_code == 200
    fill_in(client, cast)
    member = member_for()
    assert member.organisation_id is None
    assert member.referral_code_id is None


# The code --------------------------------------------------------------------------


def test_a_wrong_code_fails_and_can_be_retried(client, cast):
    fill_in(client, cast)
    code = texted_code()
    wrong = "000000" if code != "000000" else "111111"
    response = enter_code(client, wrong)
    assert response.status_code == 200
    assert 'id="code-error"' in page(response)
    assert member_for().sms_status == SmsStatus.PENDING
    assert enter_code(client, code).headers["Location"].endswith("/join/done")


def test_a_code_that_is_not_six_numbers_is_explained(client, cast):
    fill_in(client, cast)
    html = page(enter_code(client, "12ab"))
    assert 'id="code-error"' in html


def test_an_expired_code_fails(client, cast):
    fill_in(client, cast)
    code = texted_code()
    db.session.execute(sa.update(VerificationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert 'id="code-error"' in page(enter_code(client, code))
    assert member_for().sms_status == SmsStatus.PENDING
    assert not db.session.scalars(sa.select(ConsentEvent)).all()


def test_too_many_wrong_codes_spend_it(client, cast):
    fill_in(client, cast)
    code = texted_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(codes.MAX_ATTEMPTS):
        enter_code(client, wrong)
    assert 'id="code-error"' in page(enter_code(client, code))
    assert member_for().sms_status == SmsStatus.PENDING


def test_a_new_code_can_be_sent_and_the_old_one_stops_working(client, cast):
    fill_in(client, cast)
    old = texted_code()
    response = client.post(
        "/join/confirm", data={"csrf_token": csrf_token(client, "/join/confirm"), "action": "resend"}
    )
    assert response.status_code == 200
    assert len(outbox_to(E164)) == 2
    new = texted_code()
    if new != old:
        assert 'id="code-error"' in page(enter_code(client, old))
    assert enter_code(client, new).headers["Location"].endswith("/join/done")


def test_the_code_page_without_a_sign_up_says_where_to_start(client, cast):
    response = client.get("/join/confirm")
    assert response.status_code == 200
    assert 'href="/join"' in page(response)
    assert 'name="code"' not in page(response)


def test_a_number_that_said_stop_is_told_to_text_start_first(client, cast):
    db.session.add(SmsOptOut(phone=E164))
    db.session.commit()
    response = fill_in(client, cast)
    assert response.status_code == 200
    assert "START" in page(response)
    assert outbox_to(E164) == []
    assert member_for().sms_status == SmsStatus.PENDING


def test_too_many_codes_says_to_wait(client, cast):
    for _ in range(3):
        codes.issue(E164, codes.CodePurpose.SIGNUP)
    db.session.commit()
    response = fill_in(client, cast)
    assert response.status_code == 200
    assert "wait" in page(response)


# CSRF, limits, fuzz -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/join", "/join?step=7", "/join/confirm"])
def test_a_post_without_a_token_changes_nothing(client, cast, url):
    fill_in(client, cast, until=6)
    response = client.post(url, data={"display_name": "X", "phone": PHONE, "locale": "en", "code": "123456"})
    assert response.status_code == 400
    assert member_for() is None
    assert outbox_to(E164) == []


def test_the_last_step_is_rate_limited(client, cast):
    fill_in(client, cast, until=6)
    statuses = [post_step(client, 7, {}).status_code for _ in range(11)]
    assert statuses[-1] == 429


FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
text = st.text(max_size=200)
values = st.one_of(text, st.lists(text, max_size=3))
FIELDS = {
    1: ["display_name", "phone", "locale"],
    2: ["county", "zip_code", "plan_id"],
    3: ["child_age_groups"],
    4: ["participation"],
    5: ["needs", "interpreter_language", "accessibility"],
    6: ["race_ethnicity", "disability_hearing", "disability_self_care"],
    7: [],
}


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": False}])
@pytest.mark.parametrize("step", sorted(FIELDS))
@FUZZ
@given(data=st.data())
def test_no_step_crashes_on_any_input(app, cast, step, data):
    client = app.test_client()
    fill_in(client, cast, until=step - 1)
    form = {name: data.draw(values) for name in FIELDS[step] if data.draw(st.booleans())}
    form["action"] = data.draw(st.sampled_from(["next", "back", "skip", "", "x"]))
    form["csrf_token"] = csrf_token(client, step_url(step))
    response = client.post(step_url(step), data=form)
    assert response.status_code in (200, 302), form


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": False}])
@FUZZ
@given(code=values, action=st.sampled_from(["confirm", "resend", ""]))
def test_the_code_page_does_not_crash_on_any_input(app, cast, code, action):
    client = app.test_client()
    fill_in(client, cast)
    response = client.post(
        "/join/confirm", data={"csrf_token": csrf_token(client, "/join/confirm"), "code": code, "action": action}
    )
    assert response.status_code in (200, 302)
