"""Opting in and out of text messages: one place for the rule, called by the SMS
handler, the web sign-up, CBO-assisted enrolment and the delivery worker.

Every change writes a line in the consent ledger. An opt-out row in
``sms_opt_outs`` stops every delivery to that number until the person opts back in.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from engage.extensions import db
from engage.logs import log
from engage.models import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Member,
    OutboxMessage,
    OutboxStatus,
    SmsOptOut,
    SmsStatus,
    StaffUser,
)


def is_opted_out(phone: str) -> bool:
    return db.session.get(SmsOptOut, phone) is not None


def opted_out_among(phones: set[str]) -> set[str]:
    if not phones:
        return set()
    return set(db.session.scalars(sa.select(SmsOptOut.phone).where(SmsOptOut.phone.in_(phones))))


def opt_out(
    phone: str,
    *,
    channel: ConsentChannel,
    locale: str,
    words_shown: str,
    member: Member | None = None,
    keyword: str | None = None,
    assisted_by: StaffUser | None = None,
) -> bool:
    """Stop all texts to ``phone``. Returns False when it had already stopped."""
    try:
        with db.session.begin_nested():
            db.session.add(SmsOptOut(phone=phone))
            db.session.flush()
    except IntegrityError:
        return False
    if member is not None:
        member.sms_status = SmsStatus.STOPPED
    _ledger(phone, ConsentAction.OPT_OUT, channel, locale, words_shown, member, keyword, assisted_by)
    # Anything still waiting for this number will not go.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.phone == phone, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.SKIPPED, error_message="opted out")
    )
    log.info("sms opt-out", extra={"member_id": getattr(member, "id", None), "channel": str(channel)})
    return True


def opt_in(
    phone: str,
    *,
    channel: ConsentChannel,
    locale: str,
    words_shown: str,
    member: Member | None = None,
    keyword: str | None = None,
    assisted_by: StaffUser | None = None,
) -> None:
    """Allow texts to ``phone`` again (or for the first time)."""
    db.session.execute(sa.delete(SmsOptOut).where(SmsOptOut.phone == phone))
    if member is not None:
        member.sms_status = SmsStatus.ACTIVE
        if member.confirmed_at is None:
            from engage.models import utcnow

            member.confirmed_at = utcnow()
    _ledger(phone, ConsentAction.OPT_IN, channel, locale, words_shown, member, keyword, assisted_by)
    log.info("sms opt-in", extra={"member_id": getattr(member, "id", None), "channel": str(channel)})


def _ledger(phone, action, channel, locale, words_shown, member, keyword, assisted_by) -> None:
    db.session.add(
        ConsentEvent(
            phone=phone,
            member_id=getattr(member, "id", None),
            action=action,
            channel=channel,
            locale=locale,
            words_shown=words_shown,
            keyword=(keyword or "")[:40] or None,
            assisted_by_id=getattr(assisted_by, "id", None),
        )
    )
