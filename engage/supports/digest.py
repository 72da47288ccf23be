"""The daily digest: each morning (SUPPORT_DIGEST_HOUR, local time) every coordinator of
a plan with supports still not arranged for a meeting in the next SUPPORT_FLAG_HOURS gets
one email, in their language. Once per plan per day, however many workers run."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from sqlalchemy.dialects import postgresql, sqlite

from engage.extensions import db
from engage.mail import send_email
from engage.models import DigestSent, Role, StaffUser, utcnow
from engage.supports import services, vocab


def _claim(plan_id: int, day: str, flagged: int) -> bool:
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        module.insert(DigestSent)
        .values(plan_id=plan_id, day=day, flagged=flagged, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(DigestSent.id)
    )
    return db.session.execute(stmt).scalar() is not None


def send_due(now: datetime | None = None) -> int:
    """Send today's digests if it is time. Returns how many emails went out."""
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(current_app.config["ENGAGE_TIMEZONE"]))
    if local.hour < current_app.config["SUPPORT_DIGEST_HOUR"]:
        return 0
    by_plan = defaultdict(list)
    for row in services.flagged(None, now):
        by_plan[row.meeting.committee.plan_id].append(row)
    sent = 0
    day = local.date().isoformat()
    for plan_id, rows in by_plan.items():
        if not _claim(plan_id, day, len(rows)):
            continue
        coordinators = db.session.scalars(
            sa.select(StaffUser).where(
                StaffUser.role == Role.COORDINATOR,
                StaffUser.is_enabled.is_(True),
                StaffUser.plans.any(id=plan_id),
            )
        ).all()
        for person in coordinators:
            with force_locale(person.locale or "en"):
                subject = ngettext("%(num)d support not yet arranged", "%(num)d supports not yet arranged", len(rows))
                body = render_template(
                    "email/support_digest.txt",
                    person=person,
                    rows=rows,
                    support_label=vocab.support_label,
                    link=current_app.config["PUBLIC_BASE_URL"] + "/coordinator/supports",
                )
            send_email(person.email, subject, body)
            sent += 1
    db.session.commit()
    return sent
