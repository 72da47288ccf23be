"""A committee's roster: who holds a seat, the size limits and the "majority of
consumers" rule, and adding or changing a seat.

Counts for many committees come from one GROUP BY query, so a list of committees
makes the same number of queries however many committees and seats there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import joinedload

from engage.auth.services import audit
from engage.extensions import db
from engage.models import Committee, CommitteeMembership, Member, RosterRole, RosterStatus, utcnow

ROLE_LABELS = {
    RosterRole.CHAIR: _l("Chair"),
    RosterRole.CO_CHAIR: _l("Co-chair"),
    RosterRole.MEMBER: _l("Member"),
    RosterRole.ALTERNATE: _l("Alternate"),
}
STATUS_LABELS = {
    RosterStatus.ACTIVE: _l("Active"),
    RosterStatus.ON_LEAVE: _l("On leave"),
    RosterStatus.LEFT: _l("Left"),
}
# How a roster is ordered: chairs first, then members, then alternates.
ROLE_ORDER = {RosterRole.CHAIR: 0, RosterRole.CO_CHAIR: 1, RosterRole.MEMBER: 2, RosterRole.ALTERNATE: 3}
STATUS_ORDER = {RosterStatus.ACTIVE: 0, RosterStatus.ON_LEAVE: 1, RosterStatus.LEFT: 2}
SEARCH_LIMIT = 20


class RosterError(ValueError):
    """A change the roster rules do not allow; the message is translated."""


@dataclass
class Counts:
    active: int = 0
    consumers: int = 0  # active consumer seats
    on_leave: int = 0
    left: int = 0
    term_over: int = 0  # active seats whose term has ended


def counts(committee_ids: list[int], now: datetime | None = None) -> dict[int, Counts]:
    """Seat counts per committee, in one query."""
    now = now or utcnow()
    active = CommitteeMembership.status == RosterStatus.ACTIVE
    query = (
        sa.select(
            CommitteeMembership.committee_id,
            sa.func.sum(sa.case((active, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(active, CommitteeMembership.is_consumer.is_(True)), 1), else_=0)),
            sa.func.sum(sa.case((CommitteeMembership.status == RosterStatus.ON_LEAVE, 1), else_=0)),
            sa.func.sum(sa.case((CommitteeMembership.status == RosterStatus.LEFT, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(active, CommitteeMembership.term_end < now), 1), else_=0)),
        )
        .join(Member, Member.id == CommitteeMembership.member_id)
        .where(CommitteeMembership.committee_id.in_(committee_ids), Member.deleted_at.is_(None))
        .group_by(CommitteeMembership.committee_id)
    )
    found = {cid: Counts() for cid in committee_ids}
    if not committee_ids:
        return found
    for cid, *numbers in db.session.execute(query):
        found[cid] = Counts(*(int(n or 0) for n in numbers))
    return found


def warnings(committee: Committee, c: Counts) -> list[str]:
    """What is wrong with the roster, in plain words (translated)."""
    found = []
    if committee.max_members is not None and c.active > committee.max_members:
        found.append(
            ngettext(
                "%(max)d is the most seats allowed; this group has %(num)d active member.",
                "%(max)d is the most seats allowed; this group has %(num)d active members.",
                c.active,
                max=committee.max_members,
            )
        )
    if committee.min_members is not None and c.active < committee.min_members:
        found.append(
            ngettext(
                "This group should have at least %(min)d members; it has %(num)d active member.",
                "This group should have at least %(min)d members; it has %(num)d active members.",
                c.active,
                min=committee.min_members,
            )
        )
    if committee.consumer_majority and c.active and c.consumers * 2 <= c.active:
        found.append(
            _(
                "Consumers (parents or plan members) should be more than half of the active members. "
                "Now %(consumers)d of %(active)d are.",
                consumers=c.consumers,
                active=c.active,
            )
        )
    if c.term_over:
        found.append(
            ngettext(
                "%(num)d active member's term has ended. Renew it or mark them as left.",
                "%(num)d active members' terms have ended. Renew them or mark them as left.",
                c.term_over,
            )
        )
    return found


def seats(committee: Committee) -> list[CommitteeMembership]:
    """The roster, with each member loaded in the same query: active first, chairs first."""
    rows = db.session.scalars(
        sa.select(CommitteeMembership)
        .join(Member, Member.id == CommitteeMembership.member_id)
        .where(CommitteeMembership.committee_id == committee.id, Member.deleted_at.is_(None))
        .options(joinedload(CommitteeMembership.member))
    ).all()
    return sorted(
        rows,
        key=lambda s: (
            STATUS_ORDER.get(s.status, 9),
            ROLE_ORDER.get(s.role, 9),
            (s.member.display_name or "").casefold(),
            s.id,
        ),
    )


def search(committee: Committee, text: str) -> list[tuple[Member, bool]]:
    """Members of the committee's plan whose name or phone matches; each with whether
    they already hold a seat on this committee."""
    text = (text or "").strip()
    if not text:
        return []
    digits = "".join(ch for ch in text if ch.isdigit())
    match = Member.display_name.ilike(f"%{_escape(text)}%", escape="\\")
    if len(digits) >= 3:
        match = sa.or_(match, Member.phone.like(f"%{digits}%"))
    seated = (
        sa.select(CommitteeMembership.id)
        .where(CommitteeMembership.committee_id == committee.id, CommitteeMembership.member_id == Member.id)
        .exists()
    )
    rows = db.session.execute(
        sa.select(Member, seated)
        .where(Member.plan_id == committee.plan_id, Member.deleted_at.is_(None), match)
        .order_by(Member.display_name, Member.id)
        .limit(SEARCH_LIMIT)
    ).all()
    return [(m, bool(s)) for m, s in rows]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def candidate(committee: Committee, member_id: int | None) -> Member | None:
    """A member who may be given a seat: same plan, not deleted."""
    if not member_id:
        return None
    return db.session.scalar(
        sa.select(Member).where(
            Member.id == member_id, Member.plan_id == committee.plan_id, Member.deleted_at.is_(None)
        )
    )


def add_seat(
    committee: Committee,
    member: Member,
    *,
    role: RosterRole = RosterRole.MEMBER,
    is_consumer: bool = True,
    term_start: datetime | None = None,
    term_end: datetime | None = None,
    by=None,
) -> CommitteeMembership:
    if member.plan_id != committee.plan_id or member.deleted_at is not None:
        raise RosterError(_("Only people who signed up with this plan can join its groups."))
    existing = db.session.scalar(
        sa.select(CommitteeMembership).where(
            CommitteeMembership.committee_id == committee.id, CommitteeMembership.member_id == member.id
        )
    )
    if existing is not None:
        raise RosterError(_("This person already has a seat in this group. Change that seat instead."))
    _check_term(term_start, term_end)
    seat = CommitteeMembership(
        committee_id=committee.id,
        member_id=member.id,
        member=member,
        role=role,
        status=RosterStatus.ACTIVE,
        is_consumer=is_consumer,
        term_start=term_start,
        term_end=term_end,
    )
    db.session.add(seat)
    db.session.flush()
    audit(by, "roster.seat_added", seat, committee_id=committee.id, member_id=member.id, role=str(role))
    return seat


def update_seat(seat: CommitteeMembership, *, by=None, **changes) -> dict:
    """Change a seat (role, status, is_consumer, term_start, term_end); returns what
    changed, as {field: [old, new]}, which is also written to the audit log."""
    _check_term(changes.get("term_start", seat.term_start), changes.get("term_end", seat.term_end))
    changed = {}
    for name, value in changes.items():
        old = getattr(seat, name)
        if old != value:
            changed[name] = [_plain(old), _plain(value)]
            setattr(seat, name, value)
    if changed:
        audit(by, "roster.seat_changed", seat, committee_id=seat.committee_id, changes=changed)
    return changed


def _check_term(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise RosterError(_("The term cannot end before it starts."))


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value is not None and not isinstance(value, bool | int) else value
