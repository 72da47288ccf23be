"""Pages anyone can see: the home page, committees, and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, jsonify, render_template
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.models import Committee, Plan
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


@bp.get("/committees/<slug>")
@public
def committee(slug: str):
    found = db.session.scalar(sa.select(Committee).where(Committee.slug == slug, Committee.is_public.is_(True)))
    if found is None:
        abort(404)
    return render_template("public/committee.html", committee=found)
