"""Setting engage up: plans, committees, community organisations and staff accounts."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from engage.admin import bp
from engage.admin.forms import ConfirmForm, OrganisationForm, PlanForm, StaffForm, committee_form
from engage.auth.services import audit, normalise_email, send_password_link
from engage.extensions import db
from engage.i18n import locales
from engage.models import AuditEvent, Committee, Member, Organisation, Plan, Role, StaffUser, utcnow
from engage.security import allow


def _get(model, id_: int):
    obj = db.session.get(model, id_)
    if obj is None:
        abort(404)
    return obj


def _unique(model, column, value, exclude_id=None) -> bool:
    query = sa.select(model.id).where(column == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return db.session.scalar(query) is None


@bp.get("/")
@allow("admin")
def index():
    counts = {
        "plans": db.session.scalar(sa.select(sa.func.count(Plan.id))),
        "committees": db.session.scalar(sa.select(sa.func.count(Committee.id))),
        "organisations": db.session.scalar(sa.select(sa.func.count(Organisation.id))),
        "staff": db.session.scalar(sa.select(sa.func.count(StaffUser.id))),
        "members": db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.deleted_at.is_(None))),
    }
    recent = db.session.scalars(
        sa.select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id.desc()).limit(20)
    ).all()
    return render_template("admin/index.html", counts=counts, recent=recent)


# Plans -----------------------------------------------------------------------


@bp.get("/plans")
@allow("admin")
def plans():
    rows = db.session.scalars(sa.select(Plan).options(selectinload(Plan.committees)).order_by(Plan.name)).all()
    return render_template("admin/plans.html", plans=rows)


@bp.route("/plans/new", methods=["GET", "POST"], defaults={"plan_id": None})
@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@allow("admin")
def plan_edit(plan_id: int | None):
    plan = _get(Plan, plan_id) if plan_id else None
    form = PlanForm(obj=plan)
    if form.validate_on_submit():
        if not _unique(Plan, Plan.slug, form.slug.data, plan_id):
            form.slug.errors.append(_("Another plan already uses this name in its web address."))
        else:
            plan = plan or Plan()
            form.populate_obj(plan)
            for field in ("contact_phone", "contact_email", "website"):
                setattr(plan, field, getattr(plan, field) or None)
            db.session.add(plan)
            db.session.flush()
            audit(current_user, "plan.saved", plan)
            db.session.commit()
            flash(_("The plan is saved."), "success")
            return redirect(url_for("admin.plans"))
    return render_template("admin/plan_form.html", form=form, plan=plan)


# Committees --------------------------------------------------------------------


@bp.get("/committees")
@allow("admin")
def committees():
    rows = db.session.scalars(
        sa.select(Committee).options(selectinload(Committee.plan)).order_by(Committee.plan_id, Committee.id)
    ).all()
    return render_template("admin/committees.html", committees=rows)


@bp.route("/committees/new", methods=["GET", "POST"], defaults={"committee_id": None})
@bp.route("/committees/<int:committee_id>", methods=["GET", "POST"])
@allow("admin")
def committee_edit(committee_id: int | None):
    committee = _get(Committee, committee_id) if committee_id else None
    langs = locales()
    form_cls = committee_form(langs)
    data = {}
    if committee:
        data = {"plan_id": committee.plan_id, "slug": committee.slug, "is_public": committee.is_public}
        for loc in langs:
            data[f"name_{loc}"] = committee.name.get(loc, "")
            data[f"description_{loc}"] = committee.description.get(loc, "")
    form = form_cls(data=data)
    form.plan_id.choices = [SelectChoice(p.id, p.name) for p in db.session.scalars(sa.select(Plan).order_by(Plan.name))]
    if not form.plan_id.choices:
        flash(_("Add a plan first: every committee belongs to a plan."), "warning")
        return redirect(url_for("admin.plan_edit"))
    if form.validate_on_submit():
        if not _unique(Committee, Committee.slug, form.slug.data, committee_id):
            form.slug.errors.append(_("Another committee already uses this name in its web address."))
        else:
            committee = committee or Committee()
            committee.plan_id = form.plan_id.data
            committee.slug = form.slug.data
            committee.is_public = form.is_public.data
            committee.name = {loc: form[f"name_{loc}"].data for loc in langs if form[f"name_{loc}"].data}
            committee.description = {
                loc: form[f"description_{loc}"].data for loc in langs if form[f"description_{loc}"].data
            }
            db.session.add(committee)
            db.session.flush()
            audit(current_user, "committee.saved", committee)
            db.session.commit()
            flash(_("The committee is saved."), "success")
            return redirect(url_for("admin.committees"))
    return render_template("admin/committee_form.html", form=form, committee=committee, langs=langs)


# Organisations -------------------------------------------------------------------


@bp.get("/organisations")
@allow("admin")
def organisations():
    rows = db.session.scalars(
        sa.select(Organisation).options(selectinload(Organisation.plans)).order_by(Organisation.name)
    ).all()
    return render_template("admin/organisations.html", organisations=rows)


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"organisation_id": None})
@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@allow("admin")
def organisation_edit(organisation_id: int | None):
    org = _get(Organisation, organisation_id) if organisation_id else None
    form = OrganisationForm(obj=org, data={"plan_ids": [p.id for p in org.plans]} if org else None)
    all_plans = db.session.scalars(sa.select(Plan).order_by(Plan.name)).all()
    form.plan_ids.choices = [SelectChoice(p.id, p.name) for p in all_plans]
    if form.validate_on_submit():
        if not _unique(Organisation, Organisation.slug, form.slug.data, organisation_id):
            form.slug.errors.append(_("Another organisation already uses this name in its web address."))
        else:
            org = org or Organisation()
            org.name = form.name.data
            org.slug = form.slug.data
            org.contact_phone = form.contact_phone.data or None
            org.contact_email = form.contact_email.data or None
            org.plans = [p for p in all_plans if p.id in set(form.plan_ids.data or [])]
            db.session.add(org)
            db.session.flush()
            audit(current_user, "organisation.saved", org)
            db.session.commit()
            flash(_("The organisation is saved."), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=org)


# Staff accounts --------------------------------------------------------------------


@bp.get("/staff")
@allow("admin")
def staff():
    rows = db.session.scalars(
        sa.select(StaffUser)
        .options(selectinload(StaffUser.plans), selectinload(StaffUser.organisation))
        .order_by(StaffUser.is_enabled.desc(), StaffUser.name)
    ).all()
    return render_template("admin/staff.html", staff=rows, confirm=ConfirmForm())


@bp.route("/staff/new", methods=["GET", "POST"], defaults={"staff_id": None})
@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@allow("admin")
def staff_edit(staff_id: int | None):
    user = _get(StaffUser, staff_id) if staff_id else None
    data = None
    if user:
        data = {
            "name": user.name,
            "email": user.email,
            "role": str(user.role),
            "plan_ids": [p.id for p in user.plans],
            "organisation_id": user.organisation_id or 0,
            "locale": user.locale or "en",
        }
    form = StaffForm(data=data)
    all_plans = db.session.scalars(sa.select(Plan).order_by(Plan.name)).all()
    orgs = db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all()
    form.set_choices(all_plans, orgs, locales())
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        if not _unique(StaffUser, StaffUser.email, email, staff_id):
            form.email.errors.append(_("An account with this email already exists."))
        elif user is not None and user.id == current_user.id and form.role.data != "admin":
            form.role.errors.append(_("You cannot remove your own administrator role."))
        else:
            new = user is None
            user = user or StaffUser(invited_at=utcnow())
            user.name = form.name.data
            user.email = email
            user.role = Role(form.role.data)
            user.locale = form.locale.data
            chosen = set(form.plan_ids.data or [])
            user.plans = [p for p in all_plans if p.id in chosen] if user.role == Role.COORDINATOR else []
            user.organisation_id = form.organisation_id.data if user.role == Role.CBO else None
            db.session.add(user)
            db.session.flush()
            audit(current_user, "staff.invited" if new else "staff.saved", user, role=str(user.role))
            if new:
                send_password_link(user, "invite")
            db.session.commit()
            if new:
                hours = _invite_hours()
                flash(
                    ngettext(
                        "Invitation sent. The link in it works for %(num)d hour.",
                        "Invitation sent. The link in it works for %(num)d hours.",
                        hours,
                    ),
                    "success",
                )
            else:
                flash(_("The account is saved."), "success")
            return redirect(url_for("admin.staff"))
    return render_template("admin/staff_form.html", form=form, user=user)


def _invite_hours() -> int:
    from flask import current_app

    return current_app.config["INVITE_MAX_AGE_HOURS"]


@bp.post("/staff/<int:staff_id>/disable")
@allow("admin")
def staff_disable(staff_id: int):
    user = _get(StaffUser, staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash(_("You cannot turn off your own account."), "error")
        return redirect(url_for("admin.staff"))
    user.is_enabled = False
    user.session_version += 1  # signs them out everywhere
    audit(current_user, "staff.disabled", user)
    db.session.commit()
    flash(_("The account is turned off. That person can no longer sign in."), "success")
    return redirect(url_for("admin.staff"))


@bp.post("/staff/<int:staff_id>/enable")
@allow("admin")
def staff_enable(staff_id: int):
    user = _get(StaffUser, staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user.is_enabled = True
    audit(current_user, "staff.enabled", user)
    db.session.commit()
    flash(_("The account is turned on again."), "success")
    return redirect(url_for("admin.staff"))


@bp.post("/staff/<int:staff_id>/reset")
@allow("admin")
def staff_reset(staff_id: int):
    user = _get(StaffUser, staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not user.is_enabled:
        flash(_("Turn the account on before sending a new password link."), "error")
        return redirect(url_for("admin.staff"))
    purpose = "reset" if user.password_hash else "invite"
    send_password_link(user, purpose)
    audit(current_user, f"staff.{purpose}_sent", user)
    db.session.commit()
    flash(_("A link to set a password was emailed."), "success")
    return redirect(url_for("admin.staff"))
