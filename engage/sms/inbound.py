"""What happens when a text arrives. The rules live here; the webhook only parses
and answers TwiML. STOP is handled before anything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from engage.extensions import db
from engage.i18n import locales
from engage.logs import log
from engage.models import (
    ConsentChannel,
    Conversation,
    InboundMessage,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Plan,
    utcnow,
)
from engage.sms import consent, keywords, texts
from engage.sms.outbox import enqueue

# Acknowledge free text at most this often, so a burst of texts gets one "we got it".
ACK_EVERY = timedelta(hours=1)
# Other parts of engage answer YES / NO / JOIN; they register here. A handler gets
# (member, conversation, match, body, reply, result) and returns True when it answered.
INTENT_HANDLERS: dict = {}
# Conversations in progress (a sign-up by text) see every text before the intents do.
CONVERSATION_HOOKS: list = []
# Called with the phone number when someone says STOP.
STOP_HOOKS: list = []


class Duplicate(Exception):
    """This MessageSid was handled already."""


@dataclass
class Result:
    replies: list[OutboxMessage] = field(default_factory=list)
    intent: str | None = None


def normalise_phone(raw: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(raw or "", "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def plan_for(member: Member | None) -> Plan | None:
    with db.session.no_autoflush:  # nothing pending changes which plan this is
        if member is not None and member.plan is not None:
            return member.plan
        return db.session.scalar(sa.select(Plan).order_by(Plan.id).limit(1))


def plan_name(member: Member | None) -> str:
    plan = plan_for(member)
    return plan.short_name if plan else "engage"


def _conversation(phone: str, member: Member | None) -> Conversation:
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
    if conv is None:
        try:
            with db.session.begin_nested():
                conv = Conversation(phone=phone, member_id=getattr(member, "id", None))
                db.session.add(conv)
                db.session.flush()
        except IntegrityError:
            conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
    if member is not None and conv.member_id != member.id:
        conv.member_id = member.id
    return conv


def handle(message_sid: str, phone: str, body: str) -> Result:
    """Store the text and work out the answer. Raises ``Duplicate`` for a retried MessageSid.
    The caller commits."""
    member = db.session.scalar(sa.select(Member).where(Member.phone == phone, Member.deleted_at.is_(None)))
    conv = _conversation(phone, member)
    found = keywords.match(body)
    try:
        with db.session.begin_nested():
            db.session.add(
                InboundMessage(message_sid=message_sid, conversation_id=conv.id, body=body, intent=found.intent)
            )
            db.session.flush()
    except IntegrityError:
        raise Duplicate(message_sid) from None
    # Look up before changing the conversation, so its row is written once, at the end.
    stopped = consent.is_opted_out(phone)
    now = utcnow()
    conv.last_inbound_at = now
    conv.last_message_at = now
    result = Result(intent=found.intent)
    locale = member.locale if member else (found.locale or "en")

    def reply(render, *, in_locale: str | None = None, **params) -> None:
        loc = in_locale or locale
        with force_locale(loc):
            body_text = render(**params)
        result.replies.append(
            enqueue(phone, body_text, kind=OutboxKind.REPLY, locale=loc, member=member, conversation=conv)
        )

    if found.intent == keywords.STOP:
        if found.locale and member is None:
            locale = found.locale
        with force_locale(locale):
            words = texts.stop_confirmation(plan=plan_name(member))
        for hook in STOP_HOOKS:
            hook(phone)
        if consent.opt_out(
            phone, channel=ConsentChannel.SMS, locale=locale, words_shown=words, member=member, keyword=body
        ):
            reply(texts.stop_confirmation, plan=plan_name(member))
        return result

    if found.intent == keywords.START or (found.intent == keywords.YES and stopped):
        with force_locale(locale):
            words = texts.start_confirmation(plan=plan_name(member))
        consent.opt_in(phone, channel=ConsentChannel.SMS, locale=locale, words_shown=words, member=member, keyword=body)
        reply(texts.start_confirmation, plan=plan_name(member))
        return result

    if found.intent == keywords.HELP:
        if member is None and found.locale:
            locale = found.locale
        plan = plan_for(member)
        reply(texts.help_text, plan=plan_name(member), contact=plan.contact_phone if plan else None)
        return result

    if stopped:
        # Kept for the record; nothing is sent to a number that said STOP.
        return result

    for hook in CONVERSATION_HOOKS:
        if hook(member=member, conversation=conv, match=found, body=body, reply=reply, result=result):
            return result

    handler = INTENT_HANDLERS.get(found.intent)
    if handler is not None:
        answered = handler(member=member, conversation=conv, match=found, body=body, reply=reply, result=result)
        if answered:
            return result

    if member is None:
        # At most once an hour, like the acknowledgement below: an auto-responder on the
        # other end must not turn the invitation into an endless exchange.
        if conv.last_ack_at is None or now - conv.last_ack_at > ACK_EVERY:
            conv.last_ack_at = now
            text = texts.unknown_number(locales())
            result.replies.append(enqueue(phone, text, kind=OutboxKind.REPLY, locale="en", conversation=conv))
        return result

    if found.intent == keywords.LANGUAGE and found.locale in locales():
        member.locale = found.locale
        locale = found.locale
        reply(texts.language_changed, plan=plan_name(member))
        return result

    # Free text (or an answer nothing was waiting for): keep it for a coordinator.
    conv.needs_reply = True
    conv.handled_at = None
    if conv.last_ack_at is None or now - conv.last_ack_at > ACK_EVERY:
        conv.last_ack_at = now
        reply(texts.received, plan=plan_name(member))
    log.info("sms kept for a coordinator", extra={"conversation_id": conv.id})
    return result


def mark_replies_sent(replies: list[OutboxMessage]) -> None:
    """Replies travel inside the TwiML answer: record them as handed to Twilio."""
    now = utcnow()
    for row in replies:
        if row.status == OutboxStatus.QUEUED:
            row.status = OutboxStatus.SENT
            row.via = "twiml"
            row.sent_at = now
            row.attempts = 1
    if replies:
        current_app.logger.debug("replied", extra={"replies": len(replies)})
