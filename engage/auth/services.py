"""Staff accounts: signing in, invitations and password resets."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from engage.extensions import db
from engage.mail import send_email
from engage.models import AuditEvent, StaffUser, utcnow

PURPOSES = {"invite": "INVITE_MAX_AGE_HOURS", "reset": "RESET_MAX_AGE_HOURS"}
# Checked when an email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> StaffUser | None:
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None or not user.password_hash:
        from werkzeug.security import check_password_hash

        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_enabled:
        return None
    user.last_login_at = utcnow()
    return user


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"engage-staff-{purpose}")


def make_token(user: StaffUser, purpose: str) -> str:
    # The session version is in the token, so setting a password spends it.
    return _serializer(purpose).dumps({"id": user.id, "v": user.session_version})


def read_token(token: str, purpose: str) -> StaffUser | None:
    max_age = current_app.config[PURPOSES[purpose]] * 3600
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(StaffUser, data.get("id")) if isinstance(data.get("id"), int) else None
    if user is None or not user.is_enabled or user.session_version != data.get("v"):
        return None
    return user


def send_password_link(user: StaffUser, purpose: str) -> None:
    """Email an invitation or reset link, in the staff member's language."""
    token = make_token(user, purpose)
    link = current_app.config["PUBLIC_BASE_URL"] + url_for("auth.set_password", purpose=purpose, token=token)
    hours = current_app.config[PURPOSES[purpose]]
    with force_locale(user.locale or "en"):
        if purpose == "invite":
            subject = _("You are invited to engage")
        else:
            subject = _("Set a new password for engage")
        body = render_template(f"email/{purpose}.txt", user=user, link=link, hours=hours)
    send_email(user.email, subject, body)


def set_password(user: StaffUser, password: str) -> None:
    user.set_password(password)
    db.session.add(AuditEvent(actor_id=user.id, action="staff.password_set", target_type="staff", target_id=user.id))


def audit(actor: StaffUser | None, action: str, target=None, **detail) -> None:
    db.session.add(
        AuditEvent(
            actor_id=getattr(actor, "id", None),
            action=action,
            target_type=type(target).__name__.lower() if target is not None else None,
            target_id=getattr(target, "id", None),
            detail=detail,
        )
    )
