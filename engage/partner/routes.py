"""The community organisation's area: only its own families."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from engage.extensions import db
from engage.models import Member, ReferralCode, SmsStatus
from engage.partner import bp
from engage.partner.codes import organisation_or_403
from engage.security import allow


@bp.get("/")
@allow("cbo")
def index():
    org = organisation_or_403()
    mine = sa.and_(Member.organisation_id == org.id, Member.deleted_at.is_(None))
    total, pending = db.session.execute(
        sa.select(
            sa.func.count(Member.id),
            sa.func.count(Member.id).filter(Member.sms_status == SmsStatus.PENDING),
        ).where(mine)
    ).one()
    active_codes = db.session.scalar(
        sa.select(sa.func.count(ReferralCode.id)).where(
            ReferralCode.organisation_id == org.id, ReferralCode.is_active.is_(True)
        )
    )
    return render_template(
        "partner/index.html", organisation=org, families=total, pending=pending, active_codes=active_codes
    )


# Codes and flyers, enrolment and the roster live in their own modules; importing them
# registers their views.
from engage.partner import codes, families  # noqa: E402,F401
