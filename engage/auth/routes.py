"""Staff sign-in and sign-out, and setting a password from an emailed link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from engage.auth import bp, services
from engage.auth.forms import LoginForm, SetPasswordForm
from engage.extensions import db, limiter
from engage.logs import log
from engage.security import public, role_of

HOME_FOR_ROLE = {"admin": "admin.index", "coordinator": "coordinator.index", "cbo": "partner.index"}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login-email:" + services.normalise_email(request.form.get("email", ""))[:254]


def safe_next(target: str | None) -> str | None:
    """Only paths on this site; never another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user) -> str:
    return url_for(HOME_FOR_ROLE.get(role_of(user) or "", "public.home"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit("20 per hour", key_func=_email_key, methods=["POST"])
@public
def login():
    if current_user.is_authenticated and getattr(current_user, "is_staff", False):
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            log.info("login failed")
            form.password.errors.append(_("That email and password do not match an active account."))
        else:
            session.clear()  # a fresh session on sign-in
            login_user(user, remember=form.remember.data)
            if user.locale:
                session["lang"] = user.locale
            db.session.commit()
            log.info("login", extra={"staff_id": user.id})
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@public
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.home"))


@bp.route("/password/<purpose>/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@public
def set_password(purpose: str, token: str):
    if purpose not in services.PURPOSES:
        abort(404)
    user = services.read_token(token, purpose)
    if user is None:
        return render_template("auth/link_expired.html"), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        db.session.commit()
        session.clear()
        login_user(user)
        flash(_("Your password is set. Welcome to engage."), "success")
        return redirect(home_for(user))
    return render_template("auth/set_password.html", form=form, user=user, purpose=purpose)
