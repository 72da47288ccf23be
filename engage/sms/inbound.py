"""What happens when a text arrives. The rules live here; the webhook only parses
and answers TwiML. STOP is handled before anything else."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, lru_cache

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import contains_eager

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
    SmsOptOut,
    utcnow,
)
from engage.models.base import UTCDateTime
from engage.sms import consent, keywords, texts
from engage.sms.outbox import enqueue, sent_in_twiml

# Acknowledge free text at most this often, so a burst of texts gets one "we got it".
ACK_EVERY = timedelta(hours=1)
# The outbox row's language for the invitation sent to a number we do not know (written in
# every language at once).
UNKNOWN_NUMBER_LOCALE = "en"
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


# What Twilio sends in From for a North American number, already E.164 (the
# phonenumbers answer for it, without the cost of parsing: tests compare the two).
_NANP_E164 = re.compile(r"\+1[0-9]{10}")  # ASCII digits only (\d takes any script's)


@lru_cache(maxsize=4096)
def normalise_phone(raw: str | None) -> str | None:
    if raw and _NANP_E164.fullmatch(raw):
        return raw
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


@cache
def _statements(dialect: str) -> dict:
    """The webhook's statements, built once per database kind (building one costs more
    than running it): ``INSERT ... ON CONFLICT`` is PostgreSQL's and SQLite's own."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    phone, now = sa.bindparam("phone", type_=sa.String), sa.bindparam("now", type_=UTCDateTime())

    # The number's conversation, created if need be, with this text's time on it, handed
    # back as the ORM object. The member is whoever holds the number now (kept when
    # nobody does). On PostgreSQL this locks the row until the commit, so texts from one
    # number are handled one after the other and each sees what the one before changed.
    conversations = Conversation.__table__
    member_id = sa.select(Member.id).where(Member.phone == phone, Member.deleted_at.is_(None)).scalar_subquery()
    upsert = insert(conversations).values(
        phone=phone, member_id=member_id, needs_reply=False, last_inbound_at=now, last_message_at=now, created_at=now
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[conversations.c.phone],
        set_={
            "last_inbound_at": upsert.excluded.last_inbound_at,
            "last_message_at": upsert.excluded.last_message_at,
            "member_id": sa.func.coalesce(upsert.excluded.member_id, conversations.c.member_id),
        },
    ).returning(*conversations.c)
    touch = sa.select(Conversation).from_statement(upsert)

    # The text itself; nothing comes back when its MessageSid is stored already (on
    # PostgreSQL a concurrent insert of the same one waits for the first to commit).
    table = InboundMessage.__table__
    store = (
        insert(table)
        .values(
            message_sid=sa.bindparam("sid"),
            conversation_id=sa.bindparam("conversation_id"),
            body=sa.bindparam("body"),
            intent=sa.bindparam("intent"),
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=[table.c.message_sid])
        .returning(table.c.id)
    )

    # The member holding the number, with their plan, and whether the number said STOP.
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    lookup = (
        sa.select(sa.exists().where(SmsOptOut.phone == phone).label("stopped"), Member)
        .select_from(one)
        .outerjoin(Member, sa.and_(Member.phone == phone, Member.deleted_at.is_(None)))
        .outerjoin(Member.plan)
        .options(contains_eager(Member.plan))
    )
    return {"touch": touch, "store": store, "lookup": lookup}


def handle(message_sid: str, phone: str, body: str) -> Result:
    """Store the text and work out the answer. Raises ``Duplicate`` for a retried MessageSid.
    The caller commits (and rolls back after ``Duplicate``)."""
    found = keywords.match(body)
    now = utcnow()
    sql = _statements(db.session.get_bind().dialect.name)
    conv = db.session.scalars(
        sql["touch"], {"phone": phone, "now": now}, execution_options={"populate_existing": True}
    ).one()
    params = {"sid": message_sid, "conversation_id": conv.id, "body": body, "intent": found.intent, "now": now}
    if db.session.execute(sql["store"], params).first() is None:
        raise Duplicate(message_sid)
    row = db.session.execute(sql["lookup"], {"phone": phone}).one()
    member, stopped = row.Member, bool(row.stopped)
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
            result.replies.append(
                enqueue(phone, text, kind=OutboxKind.REPLY, locale=UNKNOWN_NUMBER_LOCALE, conversation=conv)
            )
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
    log.debug("sms kept for a coordinator", extra={"conversation_id": conv.id})
    return result


def mark_replies_sent(replies: list[OutboxMessage]) -> None:
    """Replies travel inside the TwiML answer: record them as handed to Twilio."""
    now = utcnow()
    for row in replies:
        if row.status == OutboxStatus.QUEUED:
            for name, value in sent_in_twiml(now).items():
                setattr(row, name, value)
    if replies:
        current_app.logger.debug("replied", extra={"replies": len(replies)})
