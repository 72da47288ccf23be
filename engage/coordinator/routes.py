"""The coordinator's area: everything is scoped to the plans they coordinate."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import selectinload

from engage.coordinator import bp
from engage.coordinator.inbox import unanswered_count
from engage.coordinator.schedule import upcoming
from engage.extensions import db
from engage.meetings import documents, rosters
from engage.models import Member, Plan
from engage.security import allow, visible_plan_ids


@bp.get("/")
@allow("coordinator", "admin")
def index():
    allowed = visible_plan_ids()
    query = sa.select(Plan).options(selectinload(Plan.committees)).order_by(Plan.name)
    if allowed is not None:
        query = query.where(Plan.id.in_(allowed))
    plans = db.session.scalars(query).all()
    member_counts = dict(
        db.session.execute(
            sa.select(Member.plan_id, sa.func.count(Member.id))
            .where(Member.plan_id.in_([p.id for p in plans]), Member.deleted_at.is_(None))
            .group_by(Member.plan_id)
        ).all()
    )
    groups = [c for p in plans for c in p.committees]
    counts = rosters.counts([c.id for c in groups])
    return render_template(
        "coordinator/index.html",
        plans=plans,
        member_counts=member_counts,
        unanswered=unanswered_count(),
        upcoming=upcoming(allowed),
        document_warnings=documents.warnings(None if allowed is None else list(allowed)),
        roster_warnings=[(c, w) for c in groups for w in rosters.warnings(c, counts[c.id])],
        **waiting_counts(allowed),
    )


def waiting_counts(allowed) -> dict:
    """Supports not arranged for meetings within SUPPORT_FLAG_HOURS, stipends waiting for
    approval, and input not yet in a theme: one small query each."""
    from engage.models import Committee, Input, Meeting, Stipend, StipendStatus  # noqa: PLC0415
    from engage.supports import services as supports  # noqa: PLC0415

    stipends = (
        sa.select(sa.func.count(Stipend.id))
        .join(Meeting, Meeting.id == Stipend.meeting_id)
        .join(Committee, Committee.id == Meeting.committee_id)
        .where(Stipend.status == StipendStatus.ELIGIBLE)
    )
    loose = sa.select(sa.func.count(Input.id)).where(Input.theme_id.is_(None))
    if allowed is not None:
        stipends = stipends.where(Committee.plan_id.in_(allowed))
        loose = loose.where(Input.plan_id.in_(allowed))
    return {
        "unarranged": len(supports.flagged(allowed)),
        "stipends_waiting": db.session.scalar(stipends) or 0,
        "loose_input": db.session.scalar(loose) or 0,
    }


# The inbox, bulk messages and the members' roster live in their own modules; importing
# them registers their views.
from engage.coordinator import bulk, committees, inbox, meeting_page, members, schedule  # noqa: E402,F401
