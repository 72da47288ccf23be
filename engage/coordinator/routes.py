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
    )


# The inbox, bulk messages and the members' roster live in their own modules; importing
# them registers their views.
from engage.coordinator import bulk, committees, inbox, meeting_page, members, schedule  # noqa: E402,F401
