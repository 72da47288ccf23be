"""Everyone who signed up with the coordinator's plans (an admin: every plan), newest
first, with filters and a CSV export. The roster code is shared with the CBO's
``/partner/families`` (engage.partner.roster)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from engage.auth.services import audit
from engage.coordinator import bp
from engage.extensions import db
from engage.i18n import locales
from engage.members.vocab import county_label
from engage.models import Member, Organisation
from engage.models.plans import organisation_plans
from engage.partner import roster
from engage.partner.forms import SOURCE_LABELS
from engage.security import allow, visible_plan_ids


def _roster():
    allowed = visible_plan_ids()
    orgs = sa.select(Organisation).order_by(Organisation.name)
    if allowed is None:
        scope = sa.true()
    else:
        scope = Member.plan_id.in_(allowed)
        orgs = orgs.where(
            Organisation.id.in_(
                sa.select(organisation_plans.c.organisation_id).where(organisation_plans.c.plan_id.in_(allowed))
            )
        )
    organisations = db.session.scalars(orgs).all()
    form, query, filters = roster.filtered(scope, locales(), request.args, organisations)
    return form, query, filters, allowed


@bp.get("/members")
@allow("coordinator", "admin")
def members():
    form, query, filters, allowed = _roster()
    page = roster.paginate(db, query, request.args.get("page", 1, type=int))
    return render_template(
        "coordinator/members.html",
        form=form,
        page=page,
        filters=filters,
        several_plans=allowed is None or len(allowed) > 1,
        status_labels=roster.STATUS_LABELS,
        source_labels=SOURCE_LABELS,
        needs_labels=roster.needs_labels,
        county_label=county_label,
    )


@bp.get("/members.csv")
@allow("coordinator", "admin")
def members_csv():
    form, query, filters, allowed = _roster()
    response, count = roster.csv_response(db, query, "members.csv", with_organisation=True)
    audit(
        current_user,
        "roster.export",
        scope="plans",
        plan_ids=None if allowed is None else sorted(allowed),
        filters=filters,
        rows=count,
    )
    db.session.commit()
    return response
