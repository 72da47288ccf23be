"""Web sign-up: /join.

A short form in seven steps, one question group per screen. What a person types
is kept in the (signed) session cookie between steps, so going back or failing a
check never loses it. The last step shows the consent words in the person's
language and texts a code; /join/confirm checks it (double opt-in) and records
the consent with the exact words shown.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from engage.extensions import db, limiter
from engage.i18n import current_locale, html_lang
from engage.join import bp
from engage.join.forms import (
    AboutYouBasicsForm,
    ChildrenForm,
    CodeForm,
    ConsentForm,
    IdentityForm,
    NeedsForm,
    ParticipationForm,
    PlaceForm,
    ResendForm,
    parse_mobile,
    pretty_phone,
)
from engage.logs import log
from engage.members import services
from engage.members.consent_words import consent_paragraphs, consent_text
from engage.members.vocab import DISABILITY_QUESTIONS, RACE_DECLINE, RACE_ETHNICITY
from engage.models import ConsentChannel, MemberSource, Plan, ReferralCode
from engage.security import public
from engage.sms.inbound import plan_name

SESSION_KEY = "join"
STEPS = {
    1: ("basics", _l("About you")),
    2: ("place", _l("Where you live")),
    3: ("children", _l("Your children")),
    4: ("participation", _l("How you want to take part")),
    5: ("needs", _l("What helps you come")),
    6: ("identity", _l("About you (optional)")),
    7: ("consent", _l("Text messages")),
}
LAST = len(STEPS)
FORMS = {
    1: AboutYouBasicsForm,
    2: PlaceForm,
    3: ChildrenForm,
    4: ParticipationForm,
    5: NeedsForm,
    6: IdentityForm,
    7: ConsentForm,
}


# The session -------------------------------------------------------------------------


def state() -> dict:
    """{"raw": {step: form data}, "data": {cleaned answers}, "done": [steps], "ref": id}"""
    current = session.get(SESSION_KEY)
    if not isinstance(current, dict):
        current = {}
    current.setdefault("raw", {})
    current.setdefault("data", {})
    current.setdefault("done", [])
    return current


def save(st: dict) -> None:
    session[SESSION_KEY] = st
    session.modified = True


def raw_of(form) -> dict:
    """The form's input as typed, without the CSRF token or the buttons."""
    skip = {"csrf_token", "action"}
    return {
        key: [value[:600] for value in request.form.getlist(key)[:60]]
        for key in request.form
        if key not in skip and key in form
    }


def plans() -> list[Plan]:
    return list(db.session.scalars(sa.select(Plan).order_by(Plan.name)))


def remember_referral(st: dict) -> None:
    ref = (request.args.get("ref") or "").strip()
    if not ref or len(ref) > 16:
        return
    code = db.session.scalar(
        sa.select(ReferralCode).where(sa.func.upper(ReferralCode.code) == ref.upper(), ReferralCode.is_active)
    )
    if code is not None:
        st["ref"] = code.id


def first_missing(st: dict) -> int:
    done = set(st["done"])
    return next((n for n in range(1, LAST + 1) if n not in done), LAST)


def make_form(step: int, st: dict, formdata=None):
    kwargs = {"plans": plans()} if step == 2 else {}
    if formdata is None and str(step) in st["raw"]:
        formdata = MultiDict([(k, v) for k, values in st["raw"][str(step)].items() for v in values])
    if formdata is None:
        form = FORMS[step](formdata=None, **kwargs)
        if step == 1:
            form.locale.data = current_locale()
        if step == 2 and "plan_id" in form:
            referral = st.get("ref") and db.session.get(ReferralCode, st["ref"])
            if referral and referral.plan_id:
                form.plan_id.data = referral.plan_id
        return form
    return FORMS[step](formdata=formdata, **kwargs)


def clean(step: int, form, st: dict) -> None:
    """Keep the checked answers of one step."""
    data = st["data"]
    if step == 1:
        data["display_name"] = form.display_name.data
        data["phone"] = parse_mobile(form.phone.data)
        data["locale"] = form.locale.data
        # The rest of the sign-up, and our texts, in the language they chose.
        session["lang"] = form.locale.data
    elif step == 2:
        data["county"] = form.county.data or None
        data["zip_code"] = form.zip_code.data or None
        every = plans()
        if "plan_id" in form:
            data["plan_id"] = form.plan_id.data
        else:
            data["plan_id"] = every[0].id if every else None
    elif step == 3:
        data["child_age_groups"] = list(form.child_age_groups.data)
    elif step == 4:
        data["participation"] = list(form.participation.data)
    elif step == 5:
        data["needs"] = form.as_needs()
    elif step == 6:
        data["race_ethnicity"] = form.as_race()
        data["disability"] = form.as_disability()


def step_plan_name(st: dict) -> str:
    plan_id = st["data"].get("plan_id")
    plan = db.session.get(Plan, plan_id) if plan_id else None
    if plan is None:
        referral = st.get("ref") and db.session.get(ReferralCode, st["ref"])
        plan = referral.plan if referral else None
    if plan is None:
        plan = db.session.scalar(sa.select(Plan).order_by(Plan.id).limit(1))
    return plan.short_name if plan else "engage"


def render_step(step: int, form, st: dict, problem: str | None = None, status: int = 200):
    context = dict(
        form=form,
        step=step,
        total=LAST,
        step_name=STEPS[step][0],
        step_title=STEPS[step][1],
        problem=problem,
        race_groups=RACE_ETHNICITY,
        race_decline=RACE_DECLINE,
        disability_questions=DISABILITY_QUESTIONS,
    )
    if step == LAST:
        # In the language they chose, whatever the page's: these are the words the ledger keeps.
        locale = st["data"].get("locale") or current_locale()
        with force_locale(locale):
            context["consent"] = consent_paragraphs(step_plan_name(st))
        context["consent_lang"] = html_lang(locale)
        phone = st["data"].get("phone")
        context["phone"] = pretty_phone(phone) if phone else ""
    return render_template("join/step.html", **context), status


# Limits: every step may be posted often (Back, Continue), the one that texts a code less.


def _not_last_step() -> bool:
    return request.method != "POST" or request.args.get("step", type=int) != LAST


# The steps -------------------------------------------------------------------------------


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit("120 per minute", methods=["POST"])
@limiter.limit("10 per minute", methods=["POST"], exempt_when=_not_last_step)
@public
def start():
    st = state()
    if request.method == "GET":
        remember_referral(st)
        save(st)
    step = request.args.get("step", type=int) or 1
    if step < 1 or step > LAST:
        return redirect(url_for("join.start"))
    if step > first_missing(st):
        return redirect(url_for("join.start", step=first_missing(st)))

    if request.method == "GET":
        return render_step(step, make_form(step, st), st)

    action = request.form.get("action", "next")
    form = make_form(step, st, formdata=request.form)
    # CSRFProtect has checked the token before the view runs.
    if action == "back":
        # Keep what was typed, checked or not, and go back a step.
        st["raw"][str(step)] = raw_of(form)
        save(st)
        return redirect(url_for("join.start", step=max(step - 1, 1)))
    if action == "skip" and step == 6:
        st["raw"].pop("6", None)
        st["data"]["race_ethnicity"] = None
        st["data"]["disability"] = None
        st["done"] = sorted(set(st["done"]) | {6})
        save(st)
        return redirect(url_for("join.start", step=7))

    if not form.validate_on_submit():
        st["raw"][str(step)] = raw_of(form)
        save(st)
        return render_step(step, form, st)

    st["raw"][str(step)] = raw_of(form)
    if step < LAST:
        clean(step, form, st)
        st["done"] = sorted(set(st["done"]) | {step})
        save(st)
        return redirect(url_for("join.start", step=step + 1))
    return finish(st, form)


def finish(st: dict, form):
    data = st["data"]
    referral = db.session.get(ReferralCode, st["ref"]) if st.get("ref") else None
    if referral is not None and not referral.is_active:
        referral = None
    profile = {key: data.get(key) for key in services.PROFILE_FIELDS}
    if profile["plan_id"] is None and referral is not None:
        profile["plan_id"] = referral.plan_id
    member, created = services.upsert_member(
        data["phone"],
        source=MemberSource.WEB,
        organisation_id=referral.organisation_id if referral else None,
        referral_code_id=referral.id if referral else None,
        **profile,
    )
    result = services.send_confirmation_code(member)
    db.session.commit()
    log.info("web sign-up", extra={"member_id": member.id, "new_member": created, "code_sent": result.sent})
    if not result.sent:
        problem = stopped_message() if result.reason == "stopped" else limit_message()
        return render_step(LAST, form, st, problem=problem)
    # The answers stay until the code is confirmed, so "change my number" loses nothing.
    session["join_phone"] = member.phone
    return redirect(url_for("join.confirm"))


def stopped_message() -> str:
    number = current_app.config.get("TWILIO_FROM_NUMBER")
    if number:
        return _(
            "This number asked us to stop texting it. To get our texts, first text START to %(number)s, "
            "then tap “Text me a code” again.",
            number=pretty_phone(number) if parse_mobile(number) else number,
        )
    return _(
        "This number asked us to stop texting it. To get our texts, first reply START to any text "
        "from us, then tap “Text me a code” again."
    )


def limit_message() -> str:
    return _("We have sent this number several codes already. Please wait an hour, then try again.")


# The code -------------------------------------------------------------------------------


@bp.route("/join/confirm", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def confirm():
    phone = session.get("join_phone")
    member = services.find_member(phone) if phone else None
    if member is None:
        # Nothing waiting for a code on this device: say so, and where to start.
        return render_template("join/confirm.html", form=None, resend=None, phone=None, notice=None)
    form = CodeForm()
    resend = ResendForm()
    notice = None
    if request.method == "POST" and request.form.get("action") == "resend":
        # CSRFProtect has checked the token before the view runs.
        result = services.send_confirmation_code(member)
        db.session.commit()
        if result.sent:
            notice = _("We texted you a new code. It works for 10 minutes.")
        elif result.reason == "stopped":
            notice = stopped_message()
        else:
            notice = limit_message()
        form = CodeForm(formdata=None)
    elif form.validate_on_submit():
        words = consent_text(plan_name(member), member.locale)
        confirmed = services.confirm_with_code(phone, form.code.data, channel=ConsentChannel.WEB, words_shown=words)
        db.session.commit()
        if confirmed is not None:
            log.info("web sign-up confirmed", extra={"member_id": confirmed.id})
            session.pop("join_phone", None)
            session.pop(SESSION_KEY, None)
            session["join_done"] = plan_name(confirmed)
            return redirect(url_for("join.done"))
        form.code.errors.append(
            _("That code did not work. Check the text we sent and try again, or ask for a new code.")
        )
    return render_template("join/confirm.html", form=form, resend=resend, phone=pretty_phone(phone), notice=notice)


@bp.get("/join/done")
@public
def done():
    plan = session.get("join_done") or None
    return render_template("join/done.html", plan=plan)
