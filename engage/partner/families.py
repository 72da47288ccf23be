"""A community organisation's families: enrolling one with them in the room (the family
confirms on their own phone with the code we text them), and the roster of its own
families, with filters and a CSV export."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engage.auth.services import audit
from engage.extensions import db
from engage.i18n import locales
from engage.members import services
from engage.members.consent_words import consent_text
from engage.members.vocab import county_label
from engage.models import ConsentChannel, Member, MemberSource, SmsStatus
from engage.partner import bp, roster
from engage.partner.codes import organisation_or_403
from engage.partner.forms import SOURCE_LABELS, CodeCheckForm, ConfirmForm, EnrolForm
from engage.security import allow
from engage.sms import consent
from engage.sms.inbound import plan_name


def family_consent_words(member: Member) -> str:
    """What the family agrees to, in their language: the same words as the web sign-up."""
    return consent_text(plan_name(member), member.locale)


def family_or_404(member_id: int) -> Member:
    """One of this organisation's families; any other is hidden."""
    member = db.session.get(Member, member_id)
    if (
        member is None
        or member.deleted_at is not None
        or member.organisation_id is None
        or member.organisation_id != current_user.organisation_id
    ):
        abort(404)
    return member


def refusal_message(reason: str | None) -> str:
    if reason == "stopped":
        return _(
            "This number has said STOP to our texts, so we cannot text it a code. "
            "Ask the family to text START from their phone to the number our texts came from, then try again."
        )
    return _("This number has been sent too many codes. Please wait 15 minutes and try again.")


# Enrolling a family ---------------------------------------------------------------------


@bp.route("/enroll", methods=["GET", "POST"])
@allow("cbo")
def enroll():
    org = organisation_or_403()
    plans = org.plans
    form = EnrolForm()
    form.set_choices(locales(), plans)
    if request.method == "GET" and not form.locale.data:
        form.locale.data = "en"
    if form.validate_on_submit():
        plan_ids = {p.id for p in plans}
        plan_id = form.plan_id.data if len(plans) > 1 else (plans[0].id if plans else None)
        existing = services.find_member(form.e164)
        if len(plans) > 1 and plan_id not in plan_ids:
            form.plan_id.errors.append(_("Please choose one of your health plans."))
        elif existing is not None and existing.organisation_id not in (None, org.id):
            form.phone.errors.append(
                _(
                    "This number is already signed up through another organisation, so nothing was changed. "
                    "The family can see and change their details on their own page."
                )
            )
        else:
            return _enroll(form, org, plan_id)
    return render_template("partner/enroll.html", form=form, several_plans=len(plans) > 1, organisation=org)


def _enroll(form: EnrolForm, org, plan_id: int | None):
    member, created = services.upsert_member(
        form.e164,
        source=MemberSource.CBO,
        organisation_id=org.id,
        assisted_by=current_user,
        display_name=form.display_name.data,
        locale=form.locale.data,
        county=form.county.data or None,
        zip_code=form.zip_code.data or None,
        plan_id=plan_id,
        child_age_groups=list(form.child_age_groups.data or []),
        participation=list(form.participation.data or []),
        needs=form.needs_dict(),
    )
    if member.sms_status == SmsStatus.ACTIVE and not consent.is_opted_out(member.phone):
        audit(current_user, "member.enroll", member, created=False, already_confirmed=True)
        db.session.commit()
        flash(
            _("%(name)s already gets our texts. We saved the details you entered.", name=member.display_name),
            "success",
        )
        return redirect(url_for("partner.enroll_done", member_id=member.id))
    sent = services.send_confirmation_code(member)
    if not sent.sent:
        db.session.rollback()
        form.phone.errors.append(refusal_message(sent.reason))
        return render_template("partner/enroll.html", form=form, several_plans=len(org.plans) > 1, organisation=org)
    audit(current_user, "member.enroll", member, created=created)
    db.session.commit()
    return redirect(url_for("partner.enroll_confirm", member_id=member.id))


def _render_confirm(member: Member, form: CodeCheckForm):
    return render_template(
        "partner/enroll_confirm.html",
        member=member,
        form=form,
        words=family_consent_words(member),
        resend=ConfirmForm(),
    )


@bp.route("/enroll/<int:member_id>/confirm", methods=["GET", "POST"])
@allow("cbo")
def enroll_confirm(member_id: int):
    member = family_or_404(member_id)
    if member.sms_status == SmsStatus.ACTIVE:
        return redirect(url_for("partner.enroll_done", member_id=member.id))
    form = CodeCheckForm()
    if form.validate_on_submit():
        confirmed = services.confirm_with_code(
            member.phone,
            form.code.data,
            channel=ConsentChannel.CBO,
            words_shown=family_consent_words(member),
            assisted_by=current_user,
        )
        if confirmed is None:
            db.session.commit()  # a wrong try counts against the code
            form.code.errors.append(
                _(
                    "That code does not match, or it is more than 10 minutes old. "
                    "Check the newest text from us, or send a new code."
                )
            )
            return _render_confirm(member, form)
        audit(current_user, "member.confirm_assisted", member)
        db.session.commit()
        return redirect(url_for("partner.enroll_done", member_id=member.id))
    return _render_confirm(member, form)


@bp.post("/enroll/<int:member_id>/resend")
@allow("cbo")
def enroll_resend(member_id: int):
    member = family_or_404(member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if member.sms_status == SmsStatus.ACTIVE:
        return redirect(url_for("partner.enroll_done", member_id=member.id))
    sent = services.send_confirmation_code(member)
    if sent.sent:
        db.session.commit()
        flash(_("We texted a new code. The earlier one no longer works."), "success")
    else:
        db.session.rollback()
        flash(refusal_message(sent.reason), "error")
    return redirect(url_for("partner.enroll_confirm", member_id=member.id))


@bp.get("/enroll/<int:member_id>/done")
@allow("cbo")
def enroll_done(member_id: int):
    member = family_or_404(member_id)
    if member.sms_status != SmsStatus.ACTIVE:
        return redirect(url_for("partner.enroll_confirm", member_id=member.id))
    return render_template("partner/enroll_done.html", member=member)


# The roster ----------------------------------------------------------------------------


def _roster():
    org = organisation_or_403()
    form, query, filters = roster.filtered(Member.organisation_id == org.id, locales(), request.args)
    return org, form, query, filters


@bp.get("/families")
@allow("cbo")
def families():
    org, form, query, filters = _roster()
    page = roster.paginate(db, query, request.args.get("page", 1, type=int))
    return render_template(
        "partner/families.html",
        organisation=org,
        form=form,
        page=page,
        filters=filters,
        status_labels=roster.STATUS_LABELS,
        source_labels=SOURCE_LABELS,
        needs_labels=roster.needs_labels,
        county_label=county_label,
    )


@bp.get("/families.csv")
@allow("cbo")
def families_csv():
    org, _form, query, filters = _roster()
    response, count = roster.csv_response(db, query, "families.csv", with_organisation=False)
    audit(current_user, "roster.export", org, scope="organisation", filters=filters, rows=count)
    db.session.commit()
    return response
