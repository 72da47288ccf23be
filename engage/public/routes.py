"""Pages anyone can see: the home page, committees, and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, jsonify, render_template
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.models import Committee, Meeting, MeetingStatus, Plan, utcnow
from engage.public import bp
from engage.security import public


@bp.get("/")
@public
def home():
    return render_template("public/home.html")


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.get("/committees")
@public
def committees():
    plans = db.session.scalars(sa.select(Plan).options(selectinload(Plan.committees)).order_by(Plan.name)).all()
    return render_template("public/committees.html", plans=plans)


PAST_MEETINGS = 12  # the latest past meetings listed on a committee's page


@bp.get("/committees/<slug>")
@public
def committee(slug: str):
    """A committee's public page: upcoming meetings with the help offered, posted agendas
    and minutes in the reader's language. Nothing about any parent, no counts of people."""
    from engage.meetings.routes import format_label, posted_documents, supports  # noqa: PLC0415

    found = db.session.scalar(
        sa.select(Committee)
        .where(Committee.slug == slug, Committee.is_public.is_(True))
        .options(selectinload(Committee.plan))
    )
    if found is None:
        abort(404)
    now = utcnow()
    base = sa.select(Meeting).where(Meeting.committee_id == found.id).options(selectinload(Meeting.documents))
    upcoming = db.session.scalars(base.where(Meeting.starts_at >= now).order_by(Meeting.starts_at)).all()
    past = db.session.scalars(
        base.where(Meeting.starts_at < now, Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Meeting.starts_at.desc())
        .limit(PAST_MEETINGS)
    ).all()
    details = {
        m.id: {"supports": supports(m), "format": format_label(m), "docs": posted_documents(m)}
        for m in [*upcoming, *past]
    }
    return render_template("public/committee.html", committee=found, upcoming=upcoming, past=past, details=details)
