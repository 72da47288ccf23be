"""Signing up by text: JOIN / UNIRME / 加入 (optionally followed by a CBO's referral
code) starts a short conversation in that word's language — name, county or ZIP,
then YES. A wrong answer is asked again with an example; someone can stop texting
and carry on later; STOP ends it at any step."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.i18n import locales
from engage.members import services
from engage.members.vocab import COUNTY_NAMES, county_label
from engage.models import (
    ConsentChannel,
    MemberSource,
    Plan,
    ReferralCode,
    SignupConversation,
    SmsStatus,
    utcnow,
)
from engage.sms import inbound, keywords, texts

# A sign-up left this long starts again from the beginning.
STALE = timedelta(days=7)
NAME, PLACE, CONFIRM = "name", "place", "confirm"
CA_ZIP = re.compile(r"\b(9[0-6]\d{3})\b")
COUNTY_WORDS = re.compile(r"\b(county|condado de|condado|co\.?)\b|縣", re.IGNORECASE)


def _plan(state: SignupConversation) -> Plan | None:
    code = db.session.get(ReferralCode, state.referral_code_id) if state.referral_code_id else None
    if code is not None and code.plan is not None:
        return code.plan
    if code is not None and code.organisation.plans:
        return code.organisation.plans[0]
    return db.session.scalar(sa.select(Plan).order_by(Plan.id).limit(1))


def _plan_name(state: SignupConversation) -> str:
    plan = _plan(state)
    return plan.short_name if plan else "engage"


def _county_names() -> dict[str, str]:
    """Folded county name in every language -> the county's stored name."""
    found = {}
    for loc in locales():
        with force_locale(loc):
            for name in COUNTY_NAMES:
                found[keywords.fold(county_label(name))] = name
    for name in COUNTY_NAMES:
        found[keywords.fold(name)] = name
    return found


def parse_place(text: str) -> dict | None:
    """{"zip_code": "93701"} or {"county": "Fresno"}, or None when neither is clear."""
    match = CA_ZIP.search(text or "")
    if match and 90001 <= int(match.group(1)) <= 96162:
        return {"zip_code": match.group(1)}
    cleaned = keywords.fold(COUNTY_WORDS.sub(" ", keywords.fold(text or "")))
    county = _county_names().get(cleaned)
    return {"county": county} if county else None


def valid_name(text: str) -> str | None:
    """The name as they wrote it, without punctuation around it; None if it is not a name."""
    name = " ".join((text or "").split())
    while name and unicodedata.category(name[-1])[0] in "PS":
        name = name[:-1].rstrip()
    while name and unicodedata.category(name[0])[0] in "PS":
        name = name[1:].lstrip()
    name = name[:60]
    if not name or not any(ch.isalpha() for ch in name) or keywords.match(name).intent is not None:
        return None
    return name


def start(*, member, conversation, match, body, reply, result) -> bool:
    """JOIN [CODE]: begin (or begin again)."""
    phone = conversation.phone
    if member is not None and member.sms_status == SmsStatus.ACTIVE:
        reply(texts.already_member, plan=inbound.plan_name(member))
        return True
    locale = match.locale or (member.locale if member else "en")
    code = None
    if match.rest:
        code = db.session.scalar(
            sa.select(ReferralCode).where(
                sa.func.upper(ReferralCode.code) == match.rest.strip().upper(), ReferralCode.is_active.is_(True)
            )
        )
    state = db.session.get(SignupConversation, phone)
    if state is None:
        state = SignupConversation(phone=phone, step=NAME, locale=locale, data={})
        db.session.add(state)
    state.step, state.locale, state.data, state.retries = NAME, locale, {}, 0
    state.referral_code_id = code.id if code else state.referral_code_id
    state.updated_at = utcnow()
    reply(texts.ask_name, in_locale=locale, plan=_plan_name(state))
    return True


def carry_on(*, member, conversation, match, body, reply, result) -> bool:
    """Every text from someone part-way through signing up comes here first."""
    if match.intent == keywords.JOIN:
        return False  # start() begins again
    state = db.session.get(SignupConversation, conversation.phone)
    if state is None:
        return False
    if utcnow() - state.updated_at > STALE:
        db.session.delete(state)
        return False
    state.updated_at = utcnow()
    say = lambda render, **params: reply(render, in_locale=state.locale, **params)  # noqa: E731

    if state.step == NAME:
        name = valid_name(body)
        if name is None:
            state.retries += 1
            say(texts.ask_name_again)
        else:
            state.data = {**state.data, "name": name}
            state.step, state.retries = PLACE, 0
            say(texts.ask_place, name=name)
        return True

    if state.step == PLACE:
        place = parse_place(body)
        if place is None:
            state.retries += 1
            say(texts.ask_place_again)
        else:
            state.data = {**state.data, **place}
            state.step, state.retries = CONFIRM, 0
            say(texts.ask_confirm, plan=_plan_name(state))
        return True

    # CONFIRM
    if match.intent == keywords.YES:
        _finish(state, conversation, body)
        say(texts.welcome, plan=_plan_name(state))
        return True
    if match.intent == keywords.NO:
        db.session.delete(state)
        say(texts.signup_cancelled, plan=_plan_name(state))
        return True
    state.retries += 1
    say(texts.ask_confirm_again)
    return True


def _finish(state: SignupConversation, conversation, body: str) -> None:
    plan = _plan(state)
    code = db.session.get(ReferralCode, state.referral_code_id) if state.referral_code_id else None
    member, _created = services.upsert_member(
        state.phone,
        source=MemberSource.SMS,
        organisation_id=code.organisation_id if code else None,
        referral_code_id=code.id if code else None,
        display_name=state.data.get("name"),
        locale=state.locale,
        county=state.data.get("county"),
        zip_code=state.data.get("zip_code"),
        plan_id=plan.id if plan else None,
    )
    with force_locale(state.locale):
        words = texts.ask_confirm(plan=_plan_name(state))
    services.activate(member, channel=ConsentChannel.SMS, words_shown=words, keyword=body, send_welcome=False)
    conversation.member_id = member.id
    db.session.delete(state)


def abandon(phone: str) -> None:
    db.session.execute(sa.delete(SignupConversation).where(SignupConversation.phone == phone))


def init() -> None:
    inbound.INTENT_HANDLERS[keywords.JOIN] = start
    if carry_on not in inbound.CONVERSATION_HOOKS:
        inbound.CONVERSATION_HOOKS.append(carry_on)
    if abandon not in inbound.STOP_HOOKS:
        inbound.STOP_HOOKS.append(abandon)
