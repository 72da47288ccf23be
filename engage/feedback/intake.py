"""Input from everywhere: the web form, replies to a texted question, what was said in
a meeting, and what a CBO passes on for a family. The original words and language are
kept; a translation can sit beside them (by a person, or by a machine when configured,
marked as such)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from engage.extensions import db
from engage.models import (
    Committee,
    Conversation,
    Input,
    InputChannel,
    Meeting,
    Member,
    OutboxKind,
    Question,
    SmsStatus,
    Topic,
    utcnow,
)
from engage.sms import consent

AWAITING_QUESTION = "question:"
MAX_BODY = 4000


class IntakeError(ValueError):
    pass


def _clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise IntakeError("empty")
    return body[:MAX_BODY]


def _new(
    *,
    plan_id: int,
    body: str,
    locale: str,
    channel: InputChannel,
    topic: Topic = Topic.OTHER,
    people: Iterable[Member] = (),
    anonymous: bool = False,
    committee_id: int | None = None,
    meeting: Meeting | None = None,
    question: Question | None = None,
    organisation_id: int | None = None,
    by=None,
    from_committee: bool = False,
    inbound_message_id: int | None = None,
    now: datetime | None = None,
) -> Input:
    row = Input(
        plan_id=plan_id,
        committee_id=committee_id,
        meeting_id=getattr(meeting, "id", None),
        question_id=getattr(question, "id", None),
        topic=Topic(topic),
        channel=channel,
        body=_clean(body),
        locale=locale,
        anonymous=anonymous,
        from_committee=from_committee,
        organisation_id=organisation_id,
        recorded_by_id=getattr(by, "id", None),
        inbound_message_id=inbound_message_id,
        received_at=now or utcnow(),
    )
    row.people = [] if anonymous else [p for p in people if p is not None]
    db.session.add(row)
    machine_translate(row)
    return row


def from_web(member: Member, body: str, topic: Topic, *, anonymous: bool, locale: str, committee_id=None) -> Input:
    """A parent's own words from the web form. Anonymous input keeps no link to them."""
    if member.plan_id is None:
        raise IntakeError("no plan")
    return _new(
        plan_id=member.plan_id,
        body=body,
        locale=locale,
        channel=InputChannel.WEB,
        topic=topic,
        people=[member],
        anonymous=anonymous,
        committee_id=committee_id,
    )


def from_cbo(member: Member, body: str, topic: Topic, *, by, locale: str, anonymous: bool = False) -> Input:
    """A CBO worker passes on what a family said (their own family only: the caller checks)."""
    return _new(
        plan_id=member.plan_id,
        body=body,
        locale=locale,
        channel=InputChannel.CBO,
        topic=topic,
        people=[member],
        anonymous=anonymous,
        organisation_id=member.organisation_id,
        by=by,
    )


def from_meeting(
    meeting: Meeting, body: str, topic: Topic, *, people: Iterable[Member], locale: str, by, from_committee=False
) -> Input:
    """Said in the room: credited to the people who said it, or to the committee."""
    people = list(people)
    return _new(
        plan_id=meeting.committee.plan_id,
        body=body,
        locale=locale,
        channel=InputChannel.MEETING,
        topic=topic,
        people=people,
        from_committee=from_committee or not people,
        committee_id=meeting.committee_id,
        meeting=meeting,
        by=by,
    )


# Questions by text -------------------------------------------------------------------


def ask(
    question: Question,
    members: Iterable[Member],
    *,
    days_open: int = 14,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Text the question to each person in their language; their next free-text reply
    while it is open becomes input tied to it. Returns (texted, skipped)."""
    from engage.feedback import texts  # noqa: PLC0415
    from engage.sms.inbound import plan_name  # noqa: PLC0415
    from engage.sms.outbox import enqueue  # noqa: PLC0415

    now = now or utcnow()
    question.sent_at = now
    question.closes_at = now + timedelta(days=days_open)
    members = [m for m in members if m.plan_id == question.plan_id and m.deleted_at is None]
    stopped = consent.opted_out_among({m.phone for m in members if m.phone})
    phones = [m.phone for m in members if m.phone]
    conversations = {
        c.phone: c for c in db.session.scalars(sa.select(Conversation).where(Conversation.phone.in_(phones)))
    }
    texted = skipped = 0
    for member in members:
        words = (question.text or {}).get(member.locale)
        if not member.phone or member.sms_status != SmsStatus.ACTIVE or member.phone in stopped or not words:
            skipped += 1
            continue
        conv = conversations.get(member.phone)
        if conv is None:
            conv = Conversation(phone=member.phone, member_id=member.id)
            db.session.add(conv)
            conversations[member.phone] = conv
        conv.awaiting = f"{AWAITING_QUESTION}{question.id}"
        conv.awaiting_until = question.closes_at
        with force_locale(member.locale):
            body = texts.question(plan=plan_name(member), question=words)
        enqueue(
            member.phone,
            body,
            kind=OutboxKind.NOTICE,
            locale=member.locale,
            member=member,
            conversation=conv,
            expires_at=question.closes_at,
        )
        texted += 1
    question.recipient_count = texted
    return texted, skipped


def question_hook(*, member, conversation, match, body, reply, result) -> bool:
    """A reply to an open question: free text (not a YES/NO/STOP word) becomes input."""
    from engage.feedback import texts  # noqa: PLC0415
    from engage.models import InboundMessage  # noqa: PLC0415
    from engage.sms.inbound import plan_name  # noqa: PLC0415

    awaiting = conversation.awaiting or ""
    if member is None or not awaiting.startswith(AWAITING_QUESTION) or match.intent is not None:
        return False
    now = utcnow()
    if conversation.awaiting_until is None or conversation.awaiting_until < now:
        conversation.awaiting = None
        return False
    question = db.session.get(Question, int(awaiting[len(AWAITING_QUESTION) :]))
    conversation.awaiting = None
    if question is None or not body.strip():
        return False
    message_id = db.session.scalar(
        sa.select(InboundMessage.id)
        .where(InboundMessage.conversation_id == conversation.id)
        .order_by(InboundMessage.id.desc())
        .limit(1)
    )
    _new(
        plan_id=question.plan_id,
        body=body,
        locale=member.locale,
        channel=InputChannel.SMS,
        topic=question.topic,
        people=[member],
        committee_id=question.committee_id,
        question=question,
        inbound_message_id=message_id,
        now=now,
    )
    reply(texts.answer_received, plan=plan_name(member))
    return True


# Translation -------------------------------------------------------------------------

# A machine-translation hook: a callable (text, source_locale, target_locale) -> str | None,
# named by the MACHINE_TRANSLATION setting ("module:function"); off by default.
_translator: list[Callable | None] = []


def _load_translator() -> Callable | None:
    name = current_app.config.get("MACHINE_TRANSLATION")
    if not name:
        return None
    module_name, _, attr = name.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def machine_translate(row: Input) -> None:
    """When a translator is configured and the input is not in the plan's working
    language, add a machine translation beside it, marked as such."""
    target = current_app.config.get("MACHINE_TRANSLATION_TARGET", "en")
    if row.locale == target or row.translation:
        return
    translator = _load_translator()
    if translator is None:
        return
    try:
        text = translator(row.body, row.locale, target)
    except Exception:  # a failing service must not lose the input
        current_app.logger.warning("machine translation failed", exc_info=True)
        return
    if text:
        row.translation = text
        row.translation_locale = target
        row.machine_translated = True


def add_translation(row: Input, text: str, locale: str) -> None:
    """A person's translation replaces a machine one."""
    row.translation = text.strip() or None
    row.translation_locale = locale if row.translation else None
    row.machine_translated = False


def committee_for(plan_id: int, committee_id: int | None) -> Committee | None:
    if committee_id is None:
        return None
    committee = db.session.get(Committee, committee_id)
    return committee if committee is not None and committee.plan_id == plan_id else None
