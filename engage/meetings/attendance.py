"""Who came to a meeting: checking people in at the door, undoing a mistake, and adding
someone who walks in without having been invited. Attendance drives stipends.

A walk-in becomes a member of the meeting's plan added by staff. They are not signed up
for texts: nobody asked for their consent at the door, so ``sms_status`` stays
``pending`` until they confirm from their own phone. One phone is one member: a walk-in
whose number is already known is that member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from engage.extensions import db
from engage.models import Attendance, Meeting, Member, MemberSource, SmsStatus, utcnow


class InvalidPhone(ValueError):
    """The number typed for a walk-in is not a US phone number."""


def normalise_phone(raw: str | None) -> str | None:
    """A US number typed any usual way, as E.164; None when nothing was typed.
    Raises ``InvalidPhone`` for something that is not a real number."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(raw) from exc
    if parsed.country_code != 1 or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _row(meeting: Meeting, member: Member) -> Attendance | None:
    return db.session.scalar(
        sa.select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.member_id == member.id)
    )


@dataclass(frozen=True)
class CheckIn:
    attendance: Attendance
    created: bool  # False: they were already checked in


def check_in(
    meeting: Meeting, member: Member, by=None, walk_in: bool = False, *, now: datetime | None = None
) -> CheckIn:
    """Mark ``member`` as here. Checking in twice (two volunteers at the door) keeps one row."""
    existing = _row(meeting, member)
    if existing is not None:
        return CheckIn(existing, False)
    row = Attendance(
        meeting_id=meeting.id,
        member_id=member.id,
        walk_in=walk_in,
        checked_in_at=now or utcnow(),
        checked_in_by_id=getattr(by, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except sa.exc.IntegrityError:
        return CheckIn(_row(meeting, member), False)
    return CheckIn(row, True)


def undo(meeting: Meeting, member: Member, by=None) -> bool:
    """Take back a check-in made by mistake. Returns False when there was none."""
    deleted = db.session.execute(
        sa.delete(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.member_id == member.id)
        .execution_options(synchronize_session="fetch")
    )
    return deleted.rowcount > 0


@dataclass(frozen=True)
class WalkIn:
    member: Member
    created: bool  # False: a member with this phone already existed
    check_in: CheckIn


def add_walk_in(meeting: Meeting, name: str, phone: str | None, locale: str, by=None) -> WalkIn:
    """Add someone who came without an invitation, and check them in.

    ``phone`` may be typed any usual way (it is normalised) or left out. Raises
    ``InvalidPhone`` before changing anything when it is not a real number.
    """
    name = (name or "").strip()
    if not name:
        raise ValueError("a walk-in needs a name")
    e164 = normalise_phone(phone)
    plan_id = meeting.committee.plan_id
    member = _by_phone(e164)
    created = False
    if member is None:
        member = Member(
            display_name=name[:80],
            phone=e164,
            locale=locale,
            source=MemberSource.STAFF,
            sms_status=SmsStatus.PENDING,  # no consent to texts was given at the door
            plan_id=plan_id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(member)
                db.session.flush()
            created = True
        except sa.exc.IntegrityError:  # the same number added at the same moment
            member = _by_phone(e164)
            if member is None:
                raise
    if not created:
        # Someone we know: fill in what is missing, never overwrite what they told us.
        if not member.display_name:
            member.display_name = name[:80]
        if member.plan_id is None:
            member.plan_id = plan_id
    return WalkIn(member, created, check_in(meeting, member, by, walk_in=True))


def _by_phone(e164: str | None) -> Member | None:
    if e164 is None:
        return None
    return db.session.scalar(sa.select(Member).where(Member.phone == e164, Member.deleted_at.is_(None)))


def attendees(meeting: Meeting) -> list[Attendance]:
    """Everyone checked in, in the order they arrived, with their member loaded."""
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .options(joinedload(Attendance.member))
            .where(Attendance.meeting_id == meeting.id)
            .order_by(Attendance.checked_in_at, Attendance.id)
        )
    )


def count(meeting: Meeting) -> int:
    return db.session.scalar(sa.select(sa.func.count(Attendance.id)).where(Attendance.meeting_id == meeting.id)) or 0


def counts(meeting_ids: list[int]) -> dict[int, int]:
    """How many came, per meeting, in one query."""
    if not meeting_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Attendance.meeting_id, sa.func.count(Attendance.id))
            .where(Attendance.meeting_id.in_(meeting_ids))
            .group_by(Attendance.meeting_id)
        ).all()
    )
