"""The outbox: every text engage sends is a row here first, written in the same
transaction as the change that caused it. Workers deliver due rows.

Exactly once, at most once
--------------------------
A worker *claims* rows by moving them from ``queued`` to ``sending`` in its own
committed transaction (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so workers
never wait on or take each other's rows; everywhere with a guarded
``UPDATE ... WHERE status = 'queued' RETURNING``, so a row is claimed by one worker
only). It then hands each row to the provider and records the result.

If a worker dies between the claim and recording the result, its rows stay in
``sending``. Once they are older than ``SMS_LEASE_SECONDS`` any worker marks them
``unknown``: the provider may or may not have taken them, so they are **never sent
again automatically** (a coordinator sees them and can resend). That gap, from the
claim to the commit of the result (one batch, a few seconds at most), is the
at-most-once window. A status callback that later arrives for such a row still moves
it to ``sent`` / ``delivered``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from blinker import Namespace
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite

from engage.extensions import db
from engage.logs import log
from engage.models import (
    ConsentChannel,
    Conversation,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    SmsSender,
    utcnow,
)
from engage.sms import consent
from engage.sms.segments import count_segments
from engage.sms.transport import UNSUBSCRIBED, TransportError, get_transport

signals = Namespace()
# Sent with (row_id, status) whenever a delivery result or status callback arrives.
status_changed = signals.signal("sms-status-changed")

QUIET_START_HOUR = 21  # CONTRACT: nothing but replies between 21:00 and 08:00
QUIET_END_HOUR = 8
PRIORITY = {
    OutboxKind.REPLY: 0,
    OutboxKind.CONSENT: 1,
    OutboxKind.DIRECT: 2,
    OutboxKind.NOTICE: 4,
    OutboxKind.REMINDER: 5,
    OutboxKind.BULK: 8,
}
# A coordinator's message answers "a text the person just sent" within this time.
JUST_SENT = timedelta(hours=1)
STATUS_RANK = {
    OutboxStatus.QUEUED: 0,
    OutboxStatus.SENDING: 1,
    OutboxStatus.UNKNOWN: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.UNDELIVERED: 3,
    OutboxStatus.FAILED: 3,
    OutboxStatus.SKIPPED: 3,
    OutboxStatus.DROPPED: 3,
}


# Quiet hours -----------------------------------------------------------------------


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])


def in_quiet_hours(moment: datetime) -> bool:
    hour = moment.astimezone(_zone()).hour
    return hour >= QUIET_START_HOUR or hour < QUIET_END_HOUR


def next_send_time(moment: datetime) -> datetime:
    """``moment`` itself outside quiet hours, else the next 08:00 local time."""
    if not in_quiet_hours(moment):
        return moment
    local = moment.astimezone(_zone())
    day = local.date() if local.hour < QUIET_END_HOUR else local.date() + timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, QUIET_END_HOUR, tzinfo=_zone())
    return morning.astimezone(moment.tzinfo)


# Enqueueing -------------------------------------------------------------------------


def holds_for_quiet_hours(kind: OutboxKind, conversation: Conversation | None, now: datetime) -> bool:
    if kind in (OutboxKind.REPLY, OutboxKind.CONSENT):
        return False
    if kind == OutboxKind.DIRECT and conversation is not None and conversation.last_inbound_at:
        return now - conversation.last_inbound_at > JUST_SENT
    return True


def row_values(
    phone: str,
    body: str,
    *,
    kind: OutboxKind,
    locale: str,
    now: datetime,
    quiet: bool,
    member_id: int | None = None,
    conversation_id: int | None = None,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
    created_by_id: int | None = None,
    bulk_id: int | None = None,
    segments: int | None = None,
) -> dict:
    """The column values of a new outbox row: the one place that says what a queued text is.
    ``segments`` may be given when the caller has counted them already."""
    due = due_at or now
    if quiet:
        due = next_send_time(due)
    values = {
        "phone": phone,
        "body": body,
        "kind": kind,
        "locale": locale,
        "member_id": member_id,
        "conversation_id": conversation_id,
        "bulk_id": bulk_id,
        "segments": count_segments(body).count if segments is None else segments,
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "sender": "default",
        "due_at": due,
        "expires_at": expires_at,
        "quiet_hours": quiet,
        "priority": PRIORITY[kind],
        "created_by_id": created_by_id,
        "created_at": now,
    }
    if expires_at is not None and due > expires_at:
        values["status"] = OutboxStatus.DROPPED
        values["error_message"] = "too late once quiet hours end"
    return values


def sent_in_twiml(now: datetime) -> dict:
    """What a reply carried in the webhook's TwiML answer records: handed to Twilio once."""
    return {"status": OutboxStatus.SENT, "via": "twiml", "sent_at": now, "attempts": 1}


def enqueue(
    phone: str,
    body: str,
    *,
    kind: OutboxKind,
    locale: str,
    member: Member | None = None,
    conversation: Conversation | None = None,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
    created_by=None,
    bulk_id: int | None = None,
) -> OutboxMessage:
    """Add a text to the outbox in the caller's transaction (the caller commits)."""
    now = utcnow()
    row = OutboxMessage(
        **row_values(
            phone,
            body,
            kind=kind,
            locale=locale,
            now=now,
            quiet=holds_for_quiet_hours(kind, conversation, now),
            member_id=getattr(member, "id", None),
            conversation_id=getattr(conversation, "id", None),
            due_at=due_at,
            expires_at=expires_at,
            created_by_id=getattr(created_by, "id", None),
            bulk_id=bulk_id,
        )
    )
    db.session.add(row)
    if conversation is not None:
        conversation.last_message_at = now
    return row


def enqueue_many(rows: list[dict]) -> None:
    """Fast path for bulk messages: plain dicts of column values, one executemany
    INSERT on the table (no ORM bookkeeping per row)."""
    if rows:
        db.session.execute(sa.insert(OutboxMessage.__table__), rows)


def status_callback_url(row_id: int, base_url: str | None = None) -> str:
    """Where Twilio reports on this row: the row id travels in the address."""
    return f"{base_url or current_app.config['PUBLIC_BASE_URL']}/sms/status?o={row_id}"


# Delivering --------------------------------------------------------------------------


def recover_stale(now: datetime) -> int:
    """Rows a dead worker left in ``sending`` become ``unknown``: never resent blindly."""
    lease = timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_at < now - lease)
        .values(
            status=OutboxStatus.UNKNOWN,
            error_message="the worker stopped while sending; it may not have gone out",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        log.warning("outbox rows interrupted mid-send", extra={"rows": result.rowcount})
    return result.rowcount


def claim(worker_id: str, limit: int, now: datetime) -> list:
    """Move up to ``limit`` due rows to ``sending`` for this worker, and commit."""
    candidates = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.priority, OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        db.session.commit()
        return []
    o = OutboxMessage
    rows = db.session.execute(
        sa.update(o)
        .where(o.id.in_(candidates), o.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.SENDING, locked_by=worker_id, locked_at=now, attempts=o.attempts + 1)
        .returning(o.id, o.phone, o.body, o.kind, o.quiet_hours, o.expires_at, o.attempts, o.sender, o.member_id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(rows, key=lambda r: r.id)


def reserve_slots(sender: str, count: int, rate: float, now: datetime) -> datetime:
    """Book ``count`` send slots for ``sender``, shared by every worker, and commit.
    Returns the first.

    A compare-and-set: read the sender's next free time, then move it on only if it
    still holds what was read (``UPDATE ... WHERE next_slot_at = <read>``); otherwise
    read again. The guarded UPDATE is atomic on both databases (PostgreSQL re-checks the
    WHERE after waiting for another worker's row lock; SQLite lets one writer in at a
    time), so two workers never book the same slots. On PostgreSQL the read also locks
    the row (``FOR UPDATE``), so workers wait their turn instead of retrying; SQLite
    ignores ``FOR UPDATE``, and there the guard does the work.
    """
    senders = SmsSender.__table__
    length = timedelta(seconds=count / rate)
    for _attempt in range(100):
        current = db.session.execute(
            sa.select(senders.c.next_slot_at).where(senders.c.sender == sender).with_for_update()
        ).scalar()
        if current is None:
            db.session.execute(_insert_ignoring_conflicts(senders).values(sender=sender, next_slot_at=now))
            db.session.commit()
            continue
        start = max(current, now)
        booked = db.session.execute(
            sa.update(senders)
            .where(senders.c.sender == sender, senders.c.next_slot_at == current)
            .values(next_slot_at=start + length)
        )
        if booked.rowcount == 1:
            db.session.commit()
            return start
        db.session.rollback()  # another worker booked first: read its booking
    raise RuntimeError("could not reserve send slots")


def _insert_ignoring_conflicts(table: sa.Table):
    """``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def deliver_due(
    app: Flask,
    worker_id: str,
    *,
    limit: int = 100,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Claim and deliver one batch of due rows. Returns how many rows were handled."""
    cfg = app.config
    rate = float(cfg["SMS_RATE_PER_SECOND"])
    # Never claim more than about two seconds' worth: the rest stays for other workers.
    batch = max(1, min(limit, int(rate * 2)))
    started = now()
    rows = claim(worker_id, batch, started)
    if not rows:
        return 0

    transport = get_transport(app)
    stopped = consent.opted_out_among({r.phone for r in rows})
    updates: list[dict] = []
    opt_outs: list = []
    to_send = []
    for r in rows:
        if r.phone in stopped:
            updates.append(_final(r.id, OutboxStatus.SKIPPED, message="opted out"))
        elif r.expires_at is not None and started > r.expires_at:
            # Late for another reason (retries, a worker that was down): no use now either.
            updates.append(_final(r.id, OutboxStatus.DROPPED, message="too late: it expired before it could go"))
        elif r.quiet_hours and in_quiet_hours(started):
            later = next_send_time(started)
            if r.expires_at is not None and later > r.expires_at:
                updates.append(_final(r.id, OutboxStatus.DROPPED, message="too late once quiet hours end"))
            else:
                updates.append(_requeue(r.id, later, r.attempts - 1))
        else:
            to_send.append(r)

    if to_send:
        first_slot = reserve_slots(to_send[0].sender, len(to_send), rate, started)
        interval = 1.0 / rate
        for i, r in enumerate(to_send):
            wait = (first_slot - now()).total_seconds() + i * interval
            if wait > 0:
                sleep(wait)
            try:
                sent = transport.send(to=r.phone, body=r.body, row_id=r.id, status_callback=status_callback_url(r.id))
            except TransportError as exc:
                updates.append(_failure(r, exc, now(), cfg))
                if exc.code == UNSUBSCRIBED:
                    opt_outs.append(r)
            else:
                updates.append(
                    {
                        "id": r.id,
                        "status": OutboxStatus.SENT,
                        "provider_sid": sent.sid,
                        "via": sent.via,
                        "sent_at": now(),
                        "error_code": None,
                        "error_message": None,
                    }
                )

    _record_results(updates)
    for r in opt_outs:
        _carrier_opt_out(r.phone, r.member_id)
    db.session.commit()
    for u in updates:
        status_changed.send(app, row_id=u["id"], status=u["status"])
    return len(rows)


def _record_results(updates: list[dict]) -> None:
    """Write the batch's results, but only over rows still in this worker's hands.

    A status callback may arrive before the batch commits (Twilio reports "sent" or even
    "delivered" within a second): the callback has locked and moved the row already,
    and the worker's older news must not move it back. ``unknown`` is still ours: the
    worker knows better than ``recover_stale`` what became of its own rows.
    """
    table = OutboxMessage.__table__
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for u in updates:
        groups[tuple(sorted(k for k in u if k != "id"))].append(u)
    for keys, batch in groups.items():
        stmt = (
            table.update()
            .where(
                table.c.id == sa.bindparam("row_id"),
                sa.or_(table.c.status == OutboxStatus.SENDING, table.c.status == OutboxStatus.UNKNOWN),
            )
            .values({k: sa.bindparam(k, type_=table.c[k].type) for k in keys})
        )
        db.session.execute(stmt, [{"row_id": u["id"], **{k: u[k] for k in keys}} for u in batch])


def _final(row_id: int, status: OutboxStatus, *, message: str, code: str | None = None) -> dict:
    return {"id": row_id, "status": status, "error_message": message, "error_code": code}


def _requeue(row_id: int, due: datetime, attempts: int) -> dict:
    return {"id": row_id, "status": OutboxStatus.QUEUED, "due_at": due, "attempts": attempts, "locked_by": None}


def _failure(r, exc: TransportError, at: datetime, cfg) -> dict:
    code = str(exc.code) if exc.code else None
    if exc.permanent or r.attempts >= cfg["SMS_MAX_ATTEMPTS"]:
        return _final(r.id, OutboxStatus.FAILED, message=str(exc)[:300], code=code)
    delay = min(cfg["SMS_RETRY_BASE_SECONDS"] * 2 ** (r.attempts - 1), 3600)
    row = _requeue(r.id, at + timedelta(seconds=delay), r.attempts)
    row.update(error_code=code, error_message=str(exc)[:300])
    return row


def _carrier_opt_out(phone: str, member_id: int | None) -> None:
    """Twilio's error 21610: the person texted STOP to the carrier or to Twilio itself."""
    member = db.session.get(Member, member_id) if member_id else None
    consent.opt_out(
        phone,
        channel=ConsentChannel.CARRIER,
        locale=getattr(member, "locale", "en"),
        words_shown="Twilio error 21610: the number is unsubscribed at the carrier.",
        member=member,
    )


# Status callbacks ---------------------------------------------------------------------

TWILIO_STATUS = {
    "accepted": OutboxStatus.SENT,
    "queued": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
}


def record_status(row_id: int | None, sid: str | None, twilio_status: str, error_code: str | None) -> bool:
    """Apply a status callback. Statuses only move forward. Returns False if unknown."""
    status = TWILIO_STATUS.get((twilio_status or "").lower())
    row = None
    if row_id is not None:
        row = db.session.get(OutboxMessage, row_id, with_for_update=True)
        if row is not None and sid and row.provider_sid and row.provider_sid != sid:
            row = None
    if row is None and sid:
        row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.provider_sid == sid).with_for_update())
    if row is None or status is None:
        return False
    forward = STATUS_RANK[status] > STATUS_RANK[row.status] or row.status == OutboxStatus.UNKNOWN
    if forward:
        row.status = status
        row.provider_sid = row.provider_sid or sid
        now = utcnow()
        if status == OutboxStatus.SENT:
            row.sent_at = row.sent_at or now
        if status == OutboxStatus.DELIVERED:
            row.delivered_at = now
        if error_code:
            row.error_code = str(error_code)[:20]
    if error_code and str(error_code) == str(UNSUBSCRIBED):
        # The carrier says the number is unsubscribed: honoured even when the row itself
        # had already reached a final status through an earlier callback.
        _carrier_opt_out(row.phone, row.member_id)
    db.session.commit()
    if forward:
        status_changed.send(current_app._get_current_object(), row_id=row.id, status=status)
    return True


def cost_estimate(segments: int) -> Decimal:
    return Decimal(str(current_app.config["SMS_PRICE_PER_SEGMENT"])) * segments
