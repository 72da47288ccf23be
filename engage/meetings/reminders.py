"""Reminders before a meeting, at MEETING_REMINDER_HOURS (default 7 days, 1 day and
2 hours), to everyone who said yes, in their language, through the outbox (so quiet
hours hold them and an expired one is dropped). Run by the worker."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.meetings import replies, texts
from engage.models import Committee, Meeting, MeetingReply, MeetingStatus, OutboxKind, ReminderSent, ReplyStatus
from engage.sms import consent
from engage.sms.outbox import enqueue
from engage.sms.segments import count_segments


def reminder_hours() -> list[int]:
    raw = str(current_app.config.get("MEETING_REMINDER_HOURS") or "")
    hours = sorted({int(part) for part in raw.replace(" ", "").split(",") if part.isdigit() and int(part) > 0})
    return hours[::-1]


def default_supports_line(reply: MeetingReply) -> str:
    """What has been arranged for this person, in the current language (the supports
    work replaces this with what is actually arranged)."""
    if not reply.needs:
        return ""
    return _("You asked for: %(needs)s.", needs=replies.needs_label(reply.needs))


# Replaced by engage.supports when support requests are tracked.
SUPPORTS_LINE: list[Callable[[MeetingReply], str]] = [default_supports_line]


def _insert_ignore(values: dict):
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(ReminderSent).values(**values).on_conflict_do_nothing().returning(ReminderSent.id)


def render(reply: MeetingReply) -> str:
    meeting = reply.meeting
    with force_locale(reply.member.locale):
        params = {
            "plan": replies.plan_short_name(meeting),
            "when": texts.sms_when(meeting.starts_at),
            "place": replies.place_text(meeting),
        }
        body = texts.reminder(supports=SUPPORTS_LINE[-1](reply), **params)
        if count_segments(body).count > 2:
            body = texts.reminder(supports="", **params)
    return re.sub(" {2,}", " ", body)


def send_due(now: datetime) -> int:
    """Queue the reminders that are due; each (reply, offset) once, even with several
    workers. Someone who said yes after a reminder time is not reminded for it."""
    offsets = reminder_hours()
    if not offsets:
        return 0
    rows = db.session.scalars(
        sa.select(MeetingReply)
        .join(Meeting, Meeting.id == MeetingReply.meeting_id)
        .where(
            MeetingReply.status == ReplyStatus.YES,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + timedelta(hours=offsets[0]),
        )
        .options(
            selectinload(MeetingReply.member),
            selectinload(MeetingReply.meeting).selectinload(Meeting.committee).selectinload(Committee.plan),
        )
    ).all()
    if not rows:
        return 0
    done = set(
        db.session.execute(
            sa.select(ReminderSent.reply_id, ReminderSent.offset_hours).where(
                ReminderSent.reply_id.in_([r.id for r in rows])
            )
        ).all()
    )
    stopped = consent.opted_out_among({r.member.phone for r in rows if r.member.phone})
    queued = 0
    for reply in rows:
        starts = reply.meeting.starts_at
        due = [h for h in offsets if now >= starts - timedelta(hours=h)]
        todo = [h for h in due if (reply.id, h) not in done]
        if not todo:
            continue
        nearest = min(due)
        send = (
            nearest in todo
            and replies.can_text(reply.member, stopped)
            and (reply.responded_at is None or reply.responded_at < starts - timedelta(hours=nearest))
        )
        for hours in sorted(todo):
            claimed = db.session.execute(
                _insert_ignore({"reply_id": reply.id, "offset_hours": hours, "created_at": now})
            )
            row_id = claimed.scalar()
            if hours == nearest and send and row_id is not None:
                message = enqueue(
                    reply.member.phone,
                    render(reply),
                    kind=OutboxKind.REMINDER,
                    locale=reply.member.locale,
                    member=reply.member,
                    expires_at=starts,
                )
                db.session.flush()
                db.session.execute(
                    sa.update(ReminderSent).where(ReminderSent.id == row_id).values(outbox_id=message.id)
                )
                queued += 1
    db.session.commit()
    return queued
