"""Invitations and answers: the rules for who has a place at a meeting.

One place, one rule: the web page, the coordinator's screens and the SMS handler all
call ``answer``. Places are counted in ``meetings.seats_taken`` and changed only by
guarded UPDATEs (``... WHERE seats_taken < capacity``), so however many people say yes
at once, no more than ``capacity`` get a place: on PostgreSQL the UPDATE takes the
meeting row's lock and re-checks the condition after waiting; on SQLite writes are
serialised. A reply moves from one status to the next by compare-and-set on its own
row, so the same person answering twice at once (web and text) holds one place.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from engage.extensions import db
from engage.meetings import texts
from engage.models import (
    Conversation,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    OutboxKind,
    ReplyChannel,
    ReplyStatus,
    SmsStatus,
    utcnow,
)
from engage.sms import consent
from engage.sms.outbox import enqueue

# What a parent may need in order to come, as asked after a "yes" (digits by text).
NEEDS = {
    "childcare": _l("Childcare"),
    "interpreter": _l("Interpreter"),
    "transport": _l("Ride"),
    "access": _l("Access help"),
    "meals": _l("Food or diet"),
}
NEEDS_DIGITS = {"1": "childcare", "2": "interpreter", "3": "transport", "4": "access", "5": "meals"}


class Outcome(enum.StrEnum):
    YES = "yes"  # has a place
    WAITLISTED = "waitlisted"  # the meeting is full
    NO = "no"
    UNCHANGED = "unchanged"  # already so
    CLOSED = "closed"  # the meeting was cancelled or has started


@dataclass
class InviteResult:
    invited: list[MeetingReply] = field(default_factory=list)
    already: int = 0
    not_texted: int = 0  # no phone, not confirmed, or stopped: invited on the web only
    other_plan: int = 0  # members of another plan are never invited


def plan_short_name(meeting: Meeting) -> str:
    return meeting.committee.plan.short_name


def place_text(meeting: Meeting) -> str:
    """Where, for a text to someone who has a place: the room, or the online link."""
    if meeting.format.value == "online":
        return meeting.online_url or str(_l("online"))
    return meeting.location_name or meeting.address or str(_l("the usual place"))


def is_open(meeting: Meeting, now: datetime | None = None) -> bool:
    """Replies are taken until the meeting starts, unless it was cancelled."""
    return meeting.status == MeetingStatus.SCHEDULED and (now or utcnow()) < meeting.starts_at


def can_text(member: Member, stopped: set[str] | None = None) -> bool:
    if not member.phone or member.deleted_at is not None or member.sms_status != SmsStatus.ACTIVE:
        return False
    if stopped is not None:
        return member.phone not in stopped
    return not consent.is_opted_out(member.phone)


def notify(
    member: Member, render, *, kind: OutboxKind = OutboxKind.NOTICE, expires_at=None, conversation=None, **params
):
    """Queue a text to ``member`` in their language (the caller has checked they can be texted)."""
    with force_locale(member.locale):
        params = {k: (v(member) if callable(v) else v) for k, v in params.items()}
        body = render(**params)
    return enqueue(
        member.phone,
        body,
        kind=kind,
        locale=member.locale,
        member=member,
        conversation=conversation,
        expires_at=expires_at,
    )


def when(meeting: Meeting):
    """A per-recipient value: the meeting time formatted in the recipient's language."""
    return lambda _member: texts.sms_when(meeting.starts_at)


# Invitations --------------------------------------------------------------------------


def invite(meeting: Meeting, members: Iterable[Member], *, by=None, now: datetime | None = None) -> InviteResult:
    """Invite people who are not yet invited; text those who can be texted, in their language."""
    now = now or utcnow()
    result = InviteResult()
    plan_id = meeting.committee.plan_id
    members = [m for m in members if m.deleted_at is None]
    result.other_plan = sum(1 for m in members if m.plan_id != plan_id)
    members = [m for m in members if m.plan_id == plan_id]
    existing = set(
        db.session.scalars(
            sa.select(MeetingReply.member_id).where(
                MeetingReply.meeting_id == meeting.id, MeetingReply.member_id.in_([m.id for m in members])
            )
        )
    )
    stopped = consent.opted_out_among({m.phone for m in members if m.phone})
    plan = plan_short_name(meeting)
    for member in members:
        if member.id in existing:
            result.already += 1
            continue
        existing.add(member.id)
        reply = MeetingReply(
            meeting_id=meeting.id,
            member_id=member.id,
            status=ReplyStatus.INVITED,
            invited_at=now,
            recorded_by_id=getattr(by, "id", None),
        )
        db.session.add(reply)
        result.invited.append(reply)
        if can_text(member, stopped):
            notify(member, texts.invitation, plan=plan, when=when(meeting), expires_at=meeting.starts_at)
        else:
            result.not_texted += 1
    return result


def reply_for(meeting: Meeting, member: Member, *, by=None, now: datetime | None = None) -> MeetingReply:
    """This person's reply row, made on the spot for someone who was not invited (a
    public meeting is open to every member)."""
    reply = db.session.scalar(
        sa.select(MeetingReply).where(MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == member.id)
    )
    if reply is None:
        reply = MeetingReply(
            meeting_id=meeting.id,
            member_id=member.id,
            status=ReplyStatus.INVITED,
            invited_at=now or utcnow(),
            recorded_by_id=getattr(by, "id", None),
        )
        try:
            with db.session.begin_nested():
                db.session.add(reply)
                db.session.flush()
        except sa.exc.IntegrityError:
            reply = db.session.scalar(
                sa.select(MeetingReply).where(
                    MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == member.id
                )
            )
    return reply


def latest_open_reply(member: Member, now: datetime | None = None) -> MeetingReply | None:
    """The invitation a YES or NO by text answers: the most recent one to a meeting
    that has not started and was not cancelled (a place offered counts first)."""
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(MeetingReply)
        .join(Meeting, Meeting.id == MeetingReply.meeting_id)
        .where(
            MeetingReply.member_id == member.id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
        )
        .order_by(
            sa.case((MeetingReply.status == ReplyStatus.OFFERED, 0), else_=1),
            sa.func.coalesce(MeetingReply.offered_at, MeetingReply.invited_at, MeetingReply.created_at).desc(),
            MeetingReply.id.desc(),
        )
        .limit(1)
    ).all()
    return rows[0] if rows else None


# Answers ------------------------------------------------------------------------------


def _take_seat(meeting_id: int) -> bool:
    taken = db.session.execute(
        sa.update(Meeting)
        .where(
            Meeting.id == meeting_id,
            sa.or_(Meeting.capacity.is_(None), Meeting.seats_taken < Meeting.capacity),
        )
        .values(seats_taken=Meeting.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def _free_seat(meeting_id: int) -> None:
    db.session.execute(
        sa.update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.seats_taken > 0)
        .values(seats_taken=Meeting.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def _move(reply: MeetingReply, old: ReplyStatus, new: ReplyStatus, values: dict) -> bool:
    moved = db.session.execute(
        sa.update(MeetingReply)
        .where(MeetingReply.id == reply.id, MeetingReply.status == old)
        .values(status=new, **values)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount == 1


def answer(
    reply: MeetingReply,
    yes: bool,
    *,
    channel: ReplyChannel,
    by=None,
    now: datetime | None = None,
    notify_member: bool = True,
    conversation: Conversation | None = None,
) -> Outcome:
    """Record a yes or no. A yes takes a place if one is left, or joins the waiting list;
    a no from someone who had a place offers it to the next person on the list."""
    now = now or utcnow()
    db.session.flush()
    meeting = db.session.get(Meeting, reply.meeting_id)
    db.session.refresh(reply)
    if not is_open(meeting, now):
        return Outcome.CLOSED
    old = reply.status
    stamp = {"responded_at": now, "channel": channel, "recorded_by_id": getattr(by, "id", None)}

    if yes:
        if old == ReplyStatus.YES or (old == ReplyStatus.WAITLISTED and meeting.is_full):
            return Outcome.UNCHANGED
        seated = _take_seat(meeting.id)
        new = ReplyStatus.YES if seated else ReplyStatus.WAITLISTED
        values = dict(stamp)
        if new == ReplyStatus.WAITLISTED and reply.waitlisted_at is None:
            values["waitlisted_at"] = now
        if not _move(reply, old, new, values):
            # Someone (the same person on another channel) changed it first.
            if seated:
                _free_seat(meeting.id)
            db.session.refresh(reply)
            return Outcome.UNCHANGED
        outcome = Outcome.YES if seated else Outcome.WAITLISTED
    else:
        if old == ReplyStatus.NO:
            return Outcome.UNCHANGED
        if old == ReplyStatus.YES:
            _free_seat(meeting.id)
        if not _move(reply, old, ReplyStatus.NO, stamp):
            if old == ReplyStatus.YES:
                _take_seat(meeting.id)  # give back what we freed: the other change wins
            db.session.refresh(reply)
            return Outcome.UNCHANGED
        outcome = Outcome.NO

    db.session.refresh(reply)
    db.session.refresh(meeting)
    if notify_member:
        _tell(reply, meeting, outcome, old, conversation)
    if outcome == Outcome.NO and old == ReplyStatus.YES:
        offer_next(meeting, now=now)
    return outcome


def _tell(reply: MeetingReply, meeting: Meeting, outcome: Outcome, old: ReplyStatus, conversation) -> None:
    member = reply.member
    if not can_text(member):
        return
    plan = plan_short_name(meeting)
    kind = OutboxKind.REPLY if conversation is not None else OutboxKind.NOTICE
    common = {"kind": kind, "conversation": conversation}
    if outcome == Outcome.YES:
        notify(member, texts.reply_yes, plan=plan, when=when(meeting), place=lambda m: place_text(meeting), **common)
    elif outcome == Outcome.WAITLISTED:
        if old == ReplyStatus.OFFERED:
            notify(member, texts.place_gone, plan=plan, **common)
        else:
            notify(member, texts.waitlisted, plan=plan, when=when(meeting), **common)
    elif outcome == Outcome.NO:
        notify(member, texts.reply_no, plan=plan, **common)


def offer_next(meeting: Meeting, *, now: datetime | None = None) -> MeetingReply | None:
    """A place is free: offer it by text to the first person on the waiting list who has
    not been offered one yet. Whoever answers yes first while it is free takes it."""
    now = now or utcnow()
    if not is_open(meeting, now) or meeting.is_full:
        return None
    candidates = db.session.scalars(
        sa.select(MeetingReply)
        .where(MeetingReply.meeting_id == meeting.id, MeetingReply.status == ReplyStatus.WAITLISTED)
        .order_by(MeetingReply.waitlisted_at, MeetingReply.id)
        .limit(5)
    ).all()
    for reply in candidates:
        if _move(reply, ReplyStatus.WAITLISTED, ReplyStatus.OFFERED, {"offered_at": now}):
            db.session.refresh(reply)
            if can_text(reply.member):
                notify(
                    reply.member,
                    texts.place_offered,
                    plan=plan_short_name(meeting),
                    when=when(meeting),
                    expires_at=meeting.starts_at,
                )
            return reply
    return None


def expire_offers(now: datetime | None = None) -> int:
    """Offers nobody answered within WAITLIST_OFFER_HOURS: the place (if still free) is
    offered to the next person. The earlier person keeps the offer until it is taken."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["WAITLIST_OFFER_HOURS"])
    meetings = db.session.scalars(
        sa.select(Meeting).where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            sa.or_(Meeting.capacity.is_(None), Meeting.seats_taken < Meeting.capacity),
            sa.exists().where(
                MeetingReply.meeting_id == Meeting.id,
                MeetingReply.status == ReplyStatus.OFFERED,
                MeetingReply.offered_at < cutoff,
            ),
            ~sa.exists().where(
                MeetingReply.meeting_id == Meeting.id,
                MeetingReply.status == ReplyStatus.OFFERED,
                MeetingReply.offered_at >= cutoff,
            ),
        )
    ).all()
    offered = 0
    for meeting in meetings:
        if offer_next(meeting, now=now) is not None:
            offered += 1
    return offered


def expire_offers_job(now: datetime) -> int:
    """For the worker: move stale offers on, and commit."""
    offered = expire_offers(now)
    db.session.commit()
    return offered


# Needs --------------------------------------------------------------------------------


def parse_needs(body: str) -> list[str] | None:
    """ "13" -> childcare and transport; "45" -> access and food; "0" -> nothing;
    anything else -> None."""
    digits = [c for c in body if not c.isspace() and c not in ",.;+&-"]
    if not digits or any(c not in "012345" for c in digits):
        return None
    if digits == ["0"]:
        return []
    if "0" in digits:
        return None
    return [NEEDS_DIGITS[d] for d in sorted(set(digits))]


def record_needs(
    reply: MeetingReply,
    needs: list[str],
    *,
    text: str | None = None,
    now: datetime | None = None,
    via: str = "sms",
    by=None,
) -> None:
    """What the person needs in order to come; each need becomes a support request
    (engage.supports) that the coordinator arranges."""
    from engage.models import RequestedVia  # noqa: PLC0415
    from engage.supports import services as supports  # noqa: PLC0415

    reply.needs = [n for n in NEEDS if n in needs]
    reply.needs_text = text
    reply.needs_answered_at = now or utcnow()
    db.session.flush()
    supports.sync_from_reply(reply, via=RequestedVia(via), by=by)


def needs_label(needs: list[str]) -> str:
    return ", ".join(str(NEEDS[n]) for n in NEEDS if n in needs)


# Changes to a meeting -----------------------------------------------------------------


def _coming(meeting: Meeting) -> list[MeetingReply]:
    return db.session.scalars(
        sa.select(MeetingReply)
        .where(
            MeetingReply.meeting_id == meeting.id,
            MeetingReply.status.in_([ReplyStatus.YES, ReplyStatus.WAITLISTED, ReplyStatus.OFFERED]),
        )
        .options(sa.orm.selectinload(MeetingReply.member))
    ).all()


def reschedule(meeting: Meeting, starts_at: datetime, *, by=None) -> int:
    """Move a meeting; tell everyone who said yes (or waits for a place), in their
    language; reminders start again from the new time. Returns how many were texted."""
    from engage.models import ReminderSent  # noqa: PLC0415

    old = meeting.starts_at
    if starts_at == old:
        return 0
    meeting.starts_at = starts_at
    meeting.sequence += 1
    reply_ids = sa.select(MeetingReply.id).where(MeetingReply.meeting_id == meeting.id).scalar_subquery()
    db.session.execute(sa.delete(ReminderSent).where(ReminderSent.reply_id.in_(reply_ids)))
    plan = plan_short_name(meeting)
    rows = _coming(meeting)
    stopped = consent.opted_out_among({r.member.phone for r in rows if r.member.phone})
    sent = 0
    for reply in rows:
        if can_text(reply.member, stopped):
            with force_locale(reply.member.locale):
                old_text = texts.sms_when(old)
            notify(reply.member, texts.rescheduled, plan=plan, old=old_text, new=when(meeting), expires_at=starts_at)
            sent += 1
    return sent


def cancel(meeting: Meeting, *, reason: dict | None = None, by=None, now: datetime | None = None) -> int:
    """Cancel a meeting and tell everyone who said yes or is waiting, in their language."""
    if meeting.status == MeetingStatus.CANCELLED:
        return 0
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = now or utcnow()
    meeting.cancel_reason = {k: v for k, v in (reason or {}).items() if v}
    meeting.sequence += 1
    plan = plan_short_name(meeting)
    rows = _coming(meeting)
    stopped = consent.opted_out_among({r.member.phone for r in rows if r.member.phone})
    sent = 0
    for reply in rows:
        if can_text(reply.member, stopped):
            notify(reply.member, texts.cancelled, plan=plan, when=when(meeting), expires_at=meeting.starts_at)
            sent += 1
    return sent
