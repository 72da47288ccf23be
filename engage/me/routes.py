"""A parent's own page: /me, signed in with a code texted to their phone."""

from __future__ import annotations

import json
import re

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from engage.auth.routes import safe_next
from engage.extensions import db, limiter
from engage.logs import log
from engage.me import bp, services
from engage.me.forms import AboutForm, CodeForm, DeleteForm, NewPhoneForm, PhoneForm, SettingsForm
from engage.meetings import replies
from engage.members import vocab
from engage.security import allow, public, role_of

LOGIN_PHONE = "me_login_phone"
LOGIN_NEXT = "me_login_next"
NEW_PHONE = "me_new_phone"

ROLE_LABELS = {
    "member": _l("Member"),
    "chair": _l("Chair"),
    "co_chair": _l("Co-chair"),
    "alternate": _l("Alternate member"),
}


def _login_limit() -> str:
    return current_app.config["ME_LOGIN_RATE_LIMIT"]


def _code_limit() -> str:
    return current_app.config["ME_CODE_RATE_LIMIT"]


def _me():
    """The signed-in parent (the object itself, not Flask-Login's proxy)."""
    return current_user._get_current_object()


# A meeting's answer forms send an anonymous parent here; they come back to the meeting.
MEETING_PATH = re.compile(r"^/meetings/(\d+)(?:/(?:reply|needs|next))?/?(?:\?.*)?$")


def _return_to(target: str | None) -> str | None:
    """Where to go after signing in: a page of /me, or a meeting's page."""
    wanted = safe_next(target)
    if not wanted:
        return None
    if wanted == "/me" or wanted.startswith(("/me/", "/me?")):
        return wanted
    found = MEETING_PATH.match(wanted)
    if found:
        return url_for("meetings.show", meeting_id=int(found.group(1)))
    return None


def _fresh_session(member) -> None:
    """A new session for a parent who just proved they hold their phone."""
    next_url = session.get(LOGIN_NEXT)
    session.clear()
    login_user(member)
    session["lang"] = member.locale
    if next_url:
        session[LOGIN_NEXT] = next_url


# Signing in ------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if role_of(current_user) == "parent":
        return redirect(url_for("me.index"))
    form = PhoneForm()
    wanted = _return_to(request.args.get("next"))
    if wanted:
        session[LOGIN_NEXT] = wanted
    if form.validate_on_submit():
        phone = form.phone.e164
        # The same answer whether or not the number belongs to someone.
        services.send_login_code(phone)
        db.session.commit()
        session[LOGIN_PHONE] = phone
        return redirect(url_for("me.login_code"))
    return render_template("me/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
@public
def login_code():
    if role_of(current_user) == "parent":
        return redirect(url_for("me.index"))
    phone = session.get(LOGIN_PHONE)
    if not phone:
        return redirect(url_for("me.login"))
    form = CodeForm()
    if form.validate_on_submit():
        member = services.check_login_code(phone, form.code.data)
        if member is None:
            db.session.commit()  # the wrong try counts
            log.info("member login failed")
            form.code.errors.append(
                _("That code is not right, or it has expired. Check the text we sent, or ask for a new code.")
            )
        else:
            _fresh_session(member)
            next_url = session.pop(LOGIN_NEXT, None)
            db.session.commit()
            log.info("member login", extra={"member_id": member.id})
            return redirect(safe_next(next_url) or url_for("me.index"))
    return render_template("me/code.html", form=form, last_digits=phone[-4:])


# The page ------------------------------------------------------------------------------


def _needs_labels(member) -> list[str]:
    needs = member.needs or {}
    labels = [str(label) for key, label in vocab.NEEDS.items() if needs.get(key)]
    if needs.get("interpreter") and needs.get("interpreter_language") in vocab.INTERPRETER_LANGUAGES:
        language = vocab.INTERPRETER_LANGUAGES[needs["interpreter_language"]]
        labels[labels.index(str(vocab.NEEDS["interpreter"]))] = _(
            "An interpreter who speaks %(language)s", language=language
        )
    if needs.get("accessibility"):
        labels.append(needs["accessibility"])
    return labels


def _upcoming(member) -> list[dict]:
    """The parent's next meetings, with their answer and what they asked for."""
    from engage.meetings.routes import format_label, reply_status_text  # noqa: PLC0415

    return [
        {
            "meeting": item.meeting,
            "reply": item.reply,
            "status": _("This meeting is cancelled.") if item.meeting.is_cancelled else reply_status_text(item.reply),
            "format": format_label(item.meeting),
            "needs": replies.needs_label(item.reply.needs) if item.reply and item.reply.needs else "",
        }
        for item in services.upcoming_meetings(member)
    ]


@bp.get("")
@allow("parent")
def index():
    member = _me()
    return render_template(
        "me/index.html",
        member=member,
        seats=services.seats(member),
        upcoming=_upcoming(member),
        texts=services.texts_with(member),
        needs=_needs_labels(member),
        role_labels=ROLE_LABELS,
        said=_said(member),
    )


def _said(member) -> list:
    """The parent's latest input with what became of it (engage/feedback/public_routes.py)."""
    from engage.feedback.public_routes import ME_LATEST, my_input  # noqa: PLC0415

    return my_input(member, limit=ME_LATEST)


# Settings ----------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@allow("parent")
def settings():
    member = _me()
    form = SettingsForm()
    form.set_choices()
    if request.method == "GET":
        services.load_settings(member, form)
    if form.validate_on_submit():
        services.save_settings(member, form)
        session["lang"] = member.locale
        db.session.commit()
        log.info("member settings saved", extra={"member_id": member.id})
        with force_locale(member.locale):
            flash(_("Your changes are saved."), "success")
        return redirect(url_for("me.index"))
    return render_template("me/settings.html", form=form)


@bp.route("/about", methods=["GET", "POST"])
@allow("parent")
def about():
    member = _me()
    form = AboutForm()
    form.set_choices()
    codes = list(vocab.DISABILITY_QUESTIONS)
    # CSRFProtect has already checked the token of any POST.
    if request.method == "POST" and request.form.get("action") == "remove":
        services.clear_about(member)
        db.session.commit()
        flash(_("Your answers are removed."), "success")
        return redirect(url_for("me.about"))
    if form.validate_on_submit():
        services.save_about(member, form, codes)
        db.session.commit()
        flash(_("Your answers are saved. Thank you."), "success")
        return redirect(url_for("me.index"))
    if request.method == "GET":
        services.load_about(member, form, codes)
    return render_template(
        "me/about.html",
        form=form,
        groups=_race_groups(form),
        disability_fields=[getattr(form, f"disability_{c}") for c in codes],
        has_answers=member.race_ethnicity is not None or member.disability is not None,
    )


def _race_groups(form) -> list[dict]:
    """The race and ethnicity checkboxes, each category followed by its detailed groups."""
    chosen = set(form.race_ethnicity.data or [])
    groups = []
    for top, (label, subgroups) in vocab.RACE_ETHNICITY.items():
        groups.append(
            {
                "code": top,
                "label": label,
                "checked": top in chosen,
                "subgroups": [(code, sub, code in chosen) for code, sub in subgroups.items()],
            }
        )
    return groups


# A new number ------------------------------------------------------------------------------


@bp.route("/phone", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@allow("parent")
def phone():
    member = _me()
    form = NewPhoneForm()
    if form.validate_on_submit():
        result = services.start_phone_change(member, form.phone.e164)
        db.session.commit()
        if result.ok:
            session[NEW_PHONE] = form.phone.e164
            return redirect(url_for("me.phone_confirm"))
        if result.reason == "same":
            form.phone.errors.append(_("This is already your number."))
        else:
            form.phone.errors.append(
                _(
                    "We could not text a code to this number just now. If you texted STOP from it, "
                    "text START from it first. Or wait a few minutes and try again."
                )
            )
    return render_template("me/phone.html", form=form, member=member)


@bp.route("/phone/confirm", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
@allow("parent")
def phone_confirm():
    member = _me()
    new_phone = session.get(NEW_PHONE)
    if not new_phone:
        return redirect(url_for("me.phone"))
    form = CodeForm()
    words = services.phone_consent_words()
    if form.validate_on_submit():
        result = services.confirm_phone_change(member, new_phone, form.code.data, words_shown=words)
        if result.ok:
            lang = session.get("lang")
            session.clear()
            login_user(member)  # signed in again with the new session version
            session["lang"] = lang or member.locale
            db.session.commit()
            flash(_("Your number is changed. We will text you at the new number."), "success")
            return redirect(url_for("me.index"))
        db.session.commit()  # a wrong try counts
        if result.reason == "taken":
            session.pop(NEW_PHONE, None)
            form.code.errors.append(_("This number already belongs to another member. Ask your coordinator for help."))
        else:
            form.code.errors.append(
                _("That code is not right, or it has expired. Check the text we sent, or ask for a new code.")
            )
    return render_template("me/phone_confirm.html", form=form, last_digits=new_phone[-4:], words=words)


# Export and deletion ------------------------------------------------------------------------


def _export(kind: str) -> dict:
    """Everything engage holds about the signed-in parent; the export itself is audited."""
    member = _me()
    services.record_export(member, kind)
    db.session.flush()
    data = services.export_member(member)
    db.session.commit()
    return data


@bp.get("/export.json")
@allow("parent")
def export_json():
    body = json.dumps(_export("json"), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="engage-my-data.json"'},
    )


@bp.get("/export.csv")
@allow("parent")
def export_csv():
    return Response(
        services.export_csv(_export("csv")).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="engage-my-data.csv"'},
    )


@bp.route("/delete", methods=["GET", "POST"])
@allow("parent")
def delete():
    member = _me()
    form = DeleteForm()
    if form.validate_on_submit():
        services.delete_member(member)
        db.session.commit()
        lang = session.get("lang") or member.locale
        logout_user()
        session.clear()
        session["lang"] = lang
        flash(_("Your account is deleted and we will not text you again. Thank you for taking part."), "success")
        return redirect(url_for("public.home"))
    return render_template("me/delete.html", form=form)
