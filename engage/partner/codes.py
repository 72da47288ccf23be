"""Referral codes an organisation hands out, and a printable flyer for each one.

A code credits the organisation when a family signs up with ``/join?ref=CODE`` or
texts "JOIN CODE". Codes are short, easy to read aloud and to type: six characters
without the letters and digits people confuse (0/O, 1/I/L).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import phonenumbers
import segno
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from engage.auth.services import audit
from engage.extensions import db
from engage.i18n import locales, normalise_locale
from engage.models import Member, ReferralCode
from engage.partner import bp
from engage.partner.forms import CodeForm, ConfirmForm
from engage.security import allow

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
# The word that starts a sign-up by text, in each language (CONTRACT; engage.sms.keywords).
JOIN_WORDS = {"en": "JOIN", "es": "UNIRME", "zh_Hant": "加入"}


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def create_code(organisation_id: int, plan_id: int | None, label: str) -> ReferralCode:
    """A fresh, unique code. The caller commits."""
    for _attempt in range(20):
        value = new_code()
        if db.session.scalar(sa.select(ReferralCode.id).where(ReferralCode.code == value)) is not None:
            continue
        row = ReferralCode(code=value, organisation_id=organisation_id, plan_id=plan_id, label=label or "")
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # someone else took it at the same moment
            continue
        return row
    raise RuntimeError("could not find a free referral code")


def organisation_or_403():
    org = current_user.organisation
    if org is None:
        abort(403)
    return org


def code_or_404(code_id: int) -> ReferralCode:
    row = db.session.get(ReferralCode, code_id)
    if row is None or row.organisation_id != current_user.organisation_id:
        abort(404)
    return row


def code_plan(row: ReferralCode, org):
    """The plan a code signs families up with: its own, or the organisation's only plan."""
    if row.plan is not None:
        return row.plan
    return org.plans[0] if len(org.plans) == 1 else None


@bp.route("/codes", methods=["GET", "POST"])
@allow("cbo")
def codes():
    org = organisation_or_403()
    form = CodeForm()
    form.set_plans(org.plans)
    if form.validate_on_submit():
        if len(org.plans) > 1 and form.plan_id.data not in {p.id for p in org.plans}:
            form.plan_id.errors.append(_("Please choose one of your health plans."))
        else:
            plan_id = form.plan_id.data if len(org.plans) > 1 else (org.plans[0].id if org.plans else None)
            row = create_code(org.id, plan_id, form.label.data)
            audit(current_user, "referral_code.create", row, code=row.code, plan_id=plan_id)
            db.session.commit()
            flash(_("Your new code is %(code)s.", code=row.code), "success")
            return redirect(url_for("partner.codes"))
    rows = db.session.scalars(
        sa.select(ReferralCode)
        .where(ReferralCode.organisation_id == org.id)
        .order_by(ReferralCode.is_active.desc(), ReferralCode.created_at.desc(), ReferralCode.id.desc())
    ).all()
    brought = dict(
        db.session.execute(
            sa.select(Member.referral_code_id, sa.func.count(Member.id))
            .where(Member.referral_code_id.in_([r.id for r in rows]), Member.deleted_at.is_(None))
            .group_by(Member.referral_code_id)
        ).all()
    )
    plans = {p.id: p for p in org.plans}
    return render_template(
        "partner/codes.html",
        organisation=org,
        form=form,
        rows=rows,
        brought=brought,
        plans=plans,
        several_plans=len(org.plans) > 1,
        confirm=ConfirmForm(),
    )


def _set_active(code_id: int, active: bool):
    row = code_or_404(code_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if row.is_active != active:
        row.is_active = active
        audit(current_user, "referral_code.activate" if active else "referral_code.deactivate", row, code=row.code)
        db.session.commit()
    if active:
        flash(_("The code %(code)s works again.", code=row.code), "success")
    else:
        flash(_("The code %(code)s is turned off.", code=row.code), "success")
    return redirect(url_for("partner.codes"))


@bp.post("/codes/<int:code_id>/deactivate")
@allow("cbo")
def code_deactivate(code_id: int):
    return _set_active(code_id, False)


@bp.post("/codes/<int:code_id>/reactivate")
@allow("cbo")
def code_reactivate(code_id: int):
    return _set_active(code_id, True)


# The flyer ------------------------------------------------------------------------------


def join_url(code: str, lang: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/join?" + urlencode({"ref": code, "lang": lang})


def display_phone(number: str | None) -> str | None:
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


@bp.get("/codes/<int:code_id>/flyer")
@allow("cbo")
def code_flyer(code_id: int):
    org = organisation_or_403()
    row = code_or_404(code_id)
    # Not ?lang=, which would also switch the worker's own screens to this language.
    lang = normalise_locale(request.args.get("language")) or "en"
    plan = code_plan(row, org)
    url = join_url(row.code, lang)
    with force_locale(lang):
        qr = segno.make(url, error="m").svg_inline(
            scale=4, omitsize=True, svgclass="qr-code", title=_("QR code: scan it with your phone's camera to join.")
        )
        return render_template(
            "partner/flyer.html",
            organisation=org,
            row=row,
            plan=plan,
            lang=lang,
            languages=locales(),
            url=url,
            printed_url=url.split("://", 1)[-1],
            qr=Markup(qr),  # noqa: S704 - segno's own SVG, built from our URL
            keyword=JOIN_WORDS.get(lang, JOIN_WORDS["en"]),
            phone=display_phone(plan.contact_phone if plan else None),
        )
