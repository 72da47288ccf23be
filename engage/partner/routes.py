"""The community organisation's area: only its own families."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template
from flask_login import current_user

from engage.extensions import db
from engage.models import Member
from engage.partner import bp
from engage.security import allow


@bp.get("/")
@allow("cbo")
def index():
    org = current_user.organisation
    if org is None:
        abort(403)
    families = db.session.scalar(
        sa.select(sa.func.count(Member.id)).where(Member.organisation_id == org.id, Member.deleted_at.is_(None))
    )
    return render_template("partner/index.html", organisation=org, families=families)
