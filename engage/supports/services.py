"""Support requests: made on the web, by text after a "yes", by a CBO for a family or
by the coordinator; then arranged, confirmed to the parent by text, and provided or not.
One rule, one place: every channel calls these functions."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.models import (
    Committee,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    OutboxKind,
    RequestedVia,
    SupportKind,
    SupportRequest,
    SupportStatus,
    utcnow,
)
from engage.supports import texts, vocab

OPEN = (SupportStatus.REQUESTED,)
MET = (SupportStatus.ARRANGED, SupportStatus.CONFIRMED, SupportStatus.DELIVERED)
LIVE = (SupportStatus.REQUESTED, SupportStatus.ARRANGED, SupportStatus.CONFIRMED)
# The needs asked about after a "yes" (MeetingReply.needs) and the support each becomes.
FROM_REPLY_NEEDS = {
    "childcare": SupportKind.CHILDCARE,
    "interpreter": SupportKind.INTERPRETER,
    "transport": SupportKind.TRANSPORT,
    "access": SupportKind.ACCESSIBILITY,
    "meals": SupportKind.MEALS,
}
SPOKEN_FOR_LOCALE = {"es": "spanish"}


class SupportError(ValueError):
    """A change that the request's state does not allow."""


def clean_details(kind: SupportKind, details: dict | None) -> dict:
    """Keep only the fields a kind uses, with sane types."""
    from engage.members.vocab import AGE_GROUPS, INTERPRETER_LANGUAGES  # noqa: PLC0415

    details = dict(details or {})
    notes = str(details.get("notes") or "").strip()[:1000]
    if kind == SupportKind.CHILDCARE:
        try:
            children = int(details.get("children") or 1)
        except (TypeError, ValueError):
            children = 1
        ages = [a for a in details.get("age_groups") or [] if a in AGE_GROUPS]
        return {"children": max(1, min(children, 12)), "age_groups": ages, "notes": notes}
    if kind == SupportKind.INTERPRETER:
        language = details.get("language")
        return {
            "language": language if language in INTERPRETER_LANGUAGES else "other",
            "other": str(details.get("other") or "").strip()[:60],
            "mode": details.get("mode") if details.get("mode") in vocab.INTERPRETER_MODES else "in_person",
        }
    if kind == SupportKind.TRANSPORT:
        mode = details.get("mode")
        return {"mode": mode if mode in vocab.TRANSPORT_MODES else "ride", "notes": notes}
    return {"notes": notes}


def request(
    meeting: Meeting,
    member: Member,
    kind: SupportKind,
    details: dict | None = None,
    *,
    via: RequestedVia,
    by=None,
    now: datetime | None = None,
) -> SupportRequest:
    """Ask for a support (or change what was asked). A cancelled request comes back to life."""
    kind = SupportKind(kind)
    now = now or utcnow()
    row = db.session.scalar(
        sa.select(SupportRequest).where(
            SupportRequest.meeting_id == meeting.id, SupportRequest.member_id == member.id, SupportRequest.kind == kind
        )
    )
    cleaned = clean_details(kind, details)
    if row is None:
        row = SupportRequest(
            meeting_id=meeting.id,
            member_id=member.id,
            kind=kind,
            details=cleaned,
            status=SupportStatus.REQUESTED,
            requested_via=via,
            requested_by_id=getattr(by, "id", None),
            requested_at=now,
        )
        db.session.add(row)
        return row
    if row.details != cleaned:
        row.details = cleaned
        if row.status in (SupportStatus.ARRANGED, SupportStatus.CONFIRMED):
            # What was booked no longer fits what is needed: arrange it again.
            row.status = SupportStatus.REQUESTED
    if row.status == SupportStatus.CANCELLED:
        row.status = SupportStatus.REQUESTED
        row.requested_at = now
        row.requested_via = via
    return row


def withdraw(row: SupportRequest) -> None:
    if row.status in LIVE:
        row.status = SupportStatus.CANCELLED


def requests_for(meeting: Meeting, member: Member) -> dict[SupportKind, SupportRequest]:
    rows = db.session.scalars(
        sa.select(SupportRequest).where(SupportRequest.meeting_id == meeting.id, SupportRequest.member_id == member.id)
    )
    return {r.kind: r for r in rows}


def last_details(member: Member, *, before: Meeting | None = None) -> dict[SupportKind, dict]:
    """ "Same as last time": what this person asked for at their most recent earlier meeting."""
    query = (
        sa.select(SupportRequest)
        .join(Meeting, Meeting.id == SupportRequest.meeting_id)
        .where(SupportRequest.member_id == member.id, SupportRequest.status != SupportStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc(), SupportRequest.id.desc())
    )
    if before is not None:
        query = query.where(SupportRequest.meeting_id != before.id)
    found: dict[SupportKind, dict] = {}
    latest_meeting = None
    for row in db.session.scalars(query.limit(20)):
        if latest_meeting is None:
            latest_meeting = row.meeting_id
        if row.meeting_id != latest_meeting:
            break
        found[row.kind] = row.details
    return found


def default_details(member: Member, kind: SupportKind) -> dict:
    """A first guess for a request made by text: the children's ages and the language we know."""
    if kind == SupportKind.CHILDCARE:
        ages = [a for a in (member.child_age_groups or []) if a != "18-20"]
        return {"children": max(1, len(ages)), "age_groups": ages}
    if kind == SupportKind.INTERPRETER:
        needs = member.needs or {}
        language = needs.get("interpreter_language") or SPOKEN_FOR_LOCALE.get(member.locale)
        if member.locale == "zh_Hant" and not language:
            language = "cantonese"
        return {"language": language or "other", "mode": "in_person"}
    if kind == SupportKind.TRANSPORT:
        return {"mode": "ride"}
    return {}


def sync_from_reply(reply: MeetingReply, *, via: RequestedVia, by=None) -> list[SupportRequest]:
    """After the needs question: make a request for each need named (details from last
    time, or a first guess), and withdraw the ones no longer named."""
    member = reply.member
    meeting = reply.meeting
    previous = last_details(member, before=meeting)
    existing = requests_for(meeting, member)
    made = []
    for need, kind in FROM_REPLY_NEEDS.items():
        if need in (reply.needs or []):
            details = (
                existing[kind].details if kind in existing else previous.get(kind) or default_details(member, kind)
            )
            made.append(request(meeting, member, kind, details, via=via, by=by))
        elif kind in existing:
            withdraw(existing[kind])
    return made


# Fulfilment -------------------------------------------------------------------------


def arrange(row: SupportRequest, arrangement: str, *, by, now: datetime | None = None, notify: bool = True) -> bool:
    """Record what was booked, and text the parent that it is arranged (in their language).
    Returns whether a text was queued."""
    if row.status in (SupportStatus.CANCELLED, SupportStatus.DELIVERED, SupportStatus.NOT_DELIVERED):
        raise SupportError(row.status)
    now = now or utcnow()
    row.arrangement = arrangement.strip() or None
    row.arranged_at = row.arranged_at or now
    row.arranged_by_id = getattr(by, "id", None)
    row.status = SupportStatus.ARRANGED
    return notify and confirm_by_text(row, now=now)


def confirm_by_text(row: SupportRequest, *, now: datetime | None = None) -> bool:
    from engage.meetings import replies  # noqa: PLC0415
    from engage.meetings.texts import sms_when  # noqa: PLC0415

    member, meeting = row.member, row.meeting
    if not replies.can_text(member) or not replies.is_open(meeting, now):
        return False
    with force_locale(member.locale):
        what = vocab.support_label(row.kind, row.details)
        body = texts.support_arranged(
            plan=meeting.committee.plan.short_name, what=what, when=sms_when(meeting.starts_at)
        )
    from engage.sms.outbox import enqueue  # noqa: PLC0415

    message = enqueue(
        member.phone, body, kind=OutboxKind.NOTICE, locale=member.locale, member=member, expires_at=meeting.starts_at
    )
    db.session.flush()
    row.confirmation_id = message.id
    row.confirmed_at = now or utcnow()
    row.status = SupportStatus.CONFIRMED
    return True


def mark_confirmed(row: SupportRequest, *, by, now: datetime | None = None) -> None:
    """The coordinator told the parent another way (a call, in person)."""
    if row.status != SupportStatus.ARRANGED:
        raise SupportError(row.status)
    row.status = SupportStatus.CONFIRMED
    row.confirmed_at = now or utcnow()


def record_outcome(row: SupportRequest, delivered: bool, *, reason: str | None = None, now=None) -> None:
    if row.status == SupportStatus.CANCELLED:
        raise SupportError(row.status)
    if not delivered and not (reason or "").strip():
        raise SupportError("reason")
    row.status = SupportStatus.DELIVERED if delivered else SupportStatus.NOT_DELIVERED
    row.outcome_at = now or utcnow()
    row.outcome_reason = (reason or "").strip() or None


# What needs the coordinator ----------------------------------------------------------


def flagged(plan_ids, now: datetime | None = None) -> list[SupportRequest]:
    """Requests still not arranged for meetings starting within SUPPORT_FLAG_HOURS."""
    now = now or utcnow()
    horizon = now + timedelta(hours=current_app.config["SUPPORT_FLAG_HOURS"])
    query = (
        sa.select(SupportRequest)
        .join(Meeting, Meeting.id == SupportRequest.meeting_id)
        .join(Committee, Committee.id == Meeting.committee_id)
        .where(
            SupportRequest.status == SupportStatus.REQUESTED,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= horizon,
        )
        .options(
            selectinload(SupportRequest.member),
            selectinload(SupportRequest.meeting).selectinload(Meeting.committee),
        )
        .order_by(Meeting.starts_at, SupportRequest.id)
    )
    if plan_ids is not None:
        query = query.where(Committee.plan_id.in_(plan_ids))
    return list(db.session.scalars(query))


# Fairness figures ---------------------------------------------------------------------


@dataclass
class Share:
    met: int = 0
    total: int = 0

    @property
    def percent(self) -> float | None:
        return None if not self.total else round(100 * self.met / self.total, 1)


@dataclass
class Fairness:
    by_kind: dict = field(default_factory=dict)
    by_language: dict = field(default_factory=dict)
    overall: Share = field(default_factory=Share)
    median_hours_to_arrange: float | None = None
    arranged_count: int = 0


def fairness(
    plan_ids, now: datetime | None = None, since: datetime | None = None, until: datetime | None = None
) -> Fairness:
    """For meetings that have happened (and, if given, started at or after ``since`` and
    before ``until``): the share of requests met before the meeting, by type and by the
    parent's language; the median time from request to arranged."""
    now = now or utcnow()
    query = (
        sa.select(
            SupportRequest.kind,
            Member.locale,
            SupportRequest.requested_at,
            SupportRequest.arranged_at,
            Meeting.starts_at,
        )
        .join(Meeting, Meeting.id == SupportRequest.meeting_id)
        .join(Committee, Committee.id == Meeting.committee_id)
        .join(Member, Member.id == SupportRequest.member_id)
        .where(
            Meeting.starts_at <= now,
            Meeting.status == MeetingStatus.SCHEDULED,
            SupportRequest.status != SupportStatus.CANCELLED,
        )
    )
    if plan_ids is not None:
        query = query.where(Committee.plan_id.in_(plan_ids))
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    if until is not None:
        query = query.where(Meeting.starts_at < until)
    result = Fairness()
    by_kind: dict = defaultdict(Share)
    by_language: dict = defaultdict(Share)
    hours = []
    for kind, locale, requested_at, arranged_at, starts_at in db.session.execute(query):
        met = arranged_at is not None and arranged_at <= starts_at
        for share in (by_kind[kind], by_language[locale], result.overall):
            share.total += 1
            share.met += int(met)
        if arranged_at is not None:
            hours.append(max((arranged_at - requested_at).total_seconds() / 3600, 0))
    result.by_kind = {k: by_kind[k] for k in SupportKind if k in by_kind}
    result.by_language = dict(sorted(by_language.items()))
    result.median_hours_to_arrange = round(statistics.median(hours), 1) if hours else None
    result.arranged_count = len(hours)
    return result


def reminder_line(reply: MeetingReply) -> str:
    """For the reminder text: "Childcare: arranged. Interpreter (Cantonese): requested, ..." """
    from flask_babel import gettext as _  # noqa: PLC0415

    rows = [
        r
        for r in requests_for(reply.meeting, reply.member).values()
        if r.status not in (SupportStatus.CANCELLED, SupportStatus.NOT_DELIVERED)
    ]
    parts = []
    for row in sorted(rows, key=lambda r: list(SupportKind).index(r.kind)):
        state = _("arranged") if row.status in MET else _("requested")
        parts.append(_("%(what)s: %(state)s.", what=vocab.support_label(row.kind, row.details), state=state))
    return " ".join(parts)


# Asking on the web (the parent, a CBO for a family, the coordinator) ------------------


def may_ask(meeting: Meeting, member: Member, now: datetime | None = None) -> bool:
    """Supports can be asked for a meeting of the person's own plan that is still to come
    and not cancelled."""
    return (
        member.deleted_at is None
        and member.plan_id is not None
        and member.plan_id == meeting.committee.plan_id
        and meeting.status == MeetingStatus.SCHEDULED
        and (now or utcnow()) < meeting.starts_at
    )


def set_requests(
    meeting: Meeting,
    member: Member,
    wanted: dict[SupportKind, dict | None],
    *,
    via: RequestedVia,
    by=None,
    now: datetime | None = None,
) -> list[SupportRequest]:
    """Save one form: a request for each kind with details, a withdrawal for each kind
    given as ``None`` that was asked for before. Returns the live requests."""
    existing = requests_for(meeting, member)
    for kind in SupportKind:
        details = wanted.get(kind)
        if details is not None:
            existing[kind] = request(meeting, member, kind, details, via=via, by=by, now=now)
        elif kind in existing:
            withdraw(existing[kind])
    return sorted((r for r in existing.values() if r.status in LIVE), key=lambda r: list(SupportKind).index(r.kind))


def upcoming_for_member(member: Member, now: datetime | None = None) -> list[tuple[Meeting, list[SupportRequest]]]:
    """The person's requests for meetings still to come (not cancelled, not withdrawn),
    by meeting, soonest first: ``[(meeting, [request, ...]), ...]``. Two queries."""
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(SupportRequest)
        .join(Meeting, Meeting.id == SupportRequest.meeting_id)
        .where(
            SupportRequest.member_id == member.id,
            SupportRequest.status.in_(LIVE),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
        )
        .options(selectinload(SupportRequest.meeting).selectinload(Meeting.committee))
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    grouped: dict[int, tuple[Meeting, list[SupportRequest]]] = {}
    for row in rows:
        grouped.setdefault(row.meeting_id, (row.meeting, []))[1].append(row)
    order = list(SupportKind)
    return [(m, sorted(rs, key=lambda r: order.index(r.kind))) for m, rs in grouped.values()]


def plain_details(kind: SupportKind, details: dict | None) -> list[str]:
    """What was asked for, in plain words a parent may see (never the coordinator's notes
    on what was booked): "2 children", "By phone or video", "A bus or train pass"."""
    from flask_babel import ngettext  # noqa: PLC0415

    from engage.members.vocab import AGE_GROUPS  # noqa: PLC0415

    details = details or {}
    lines: list[str] = []
    if kind == SupportKind.CHILDCARE:
        children = int(details.get("children") or 1)
        lines.append(ngettext("%(num)d child", "%(num)d children", children))
        lines += [str(AGE_GROUPS[a]) for a in details.get("age_groups") or [] if a in AGE_GROUPS]
    modes = {SupportKind.INTERPRETER: vocab.INTERPRETER_MODES, SupportKind.TRANSPORT: vocab.TRANSPORT_MODES}
    if kind in modes and details.get("mode") in modes[kind]:
        lines.append(str(modes[kind][details["mode"]]))
    if details.get("notes"):
        lines.append(str(details["notes"]))
    return lines


def status_lookup(meeting_ids):
    """For the meeting tally: (reply, need) -> "arranged" or "requested", from the support
    requests of these meetings (one query)."""
    kinds = {v: k for k, v in FROM_REPLY_NEEDS.items()}
    found = {}
    if meeting_ids:
        for meeting_id, member_id, kind, status in db.session.execute(
            sa.select(
                SupportRequest.meeting_id, SupportRequest.member_id, SupportRequest.kind, SupportRequest.status
            ).where(SupportRequest.meeting_id.in_(list(meeting_ids)))
        ):
            if kind in kinds:
                found[(meeting_id, member_id, kinds[kind])] = status

    def status_of(reply: MeetingReply, need: str) -> str:
        status = found.get((reply.meeting_id, reply.member_id, need))
        return "arranged" if status in MET else "requested"

    return status_of
