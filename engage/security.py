"""Who may use what: the one place where access rules live.

Every view declares its rule with ``@public`` or ``@allow(...)``. ``check_rules``
runs when the app is created and refuses to start if a route has no rule, so a new
page cannot be forgotten. Scoping helpers keep coordinators to their plans and CBO
staff to their organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

ROLES = ("admin", "coordinator", "cbo", "parent")
ACCESS_ATTR = "_engage_access"


def public(view: Callable) -> Callable:
    """Anyone may use this view, signed in or not."""
    setattr(view, ACCESS_ATTR, ("public",))
    return view


def role_of(user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "is_member", False):
        return "parent"
    return str(user.role)


def allow(*roles: str) -> Callable:
    """Only these roles may use the view. Anonymous people are sent to sign in."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            role = role_of(current_user)
            if role is None:
                if roles == ("parent",):
                    return redirect(url_for("me.login", next=request.full_path))
                return redirect(url_for("auth.login", next=request.full_path))
            if role not in roles:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, tuple(roles))
        return wrapped

    return decorator


def access_rule(view: Callable) -> tuple[str, ...] | None:
    return getattr(view, ACCESS_ATTR, None)


def check_rules(app: Flask) -> None:
    missing = [
        endpoint for endpoint, view in app.view_functions.items() if endpoint != "static" and access_rule(view) is None
    ]
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(sorted(missing))}")


# Scoping --------------------------------------------------------------------


def visible_plan_ids() -> set[int] | None:
    """Plans the signed-in staff member may see; ``None`` means every plan (admin)."""
    role = role_of(current_user)
    if role == "admin":
        return None
    if role == "coordinator":
        return current_user.plan_ids
    if role == "cbo" and current_user.organisation is not None:
        return {p.id for p in current_user.organisation.plans}
    return set()


def require_plan(plan_id: int) -> None:
    """404 unless the signed-in staff member may see this plan."""
    allowed = visible_plan_ids()
    if allowed is not None and plan_id not in allowed:
        abort(404)


def require_organisation(organisation_id: int | None) -> None:
    """404 unless the signed-in CBO worker belongs to this organisation."""
    if role_of(current_user) == "admin":
        return
    if organisation_id is None or getattr(current_user, "organisation_id", None) != organisation_id:
        abort(404)


# Headers ----------------------------------------------------------------------

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Sent with every answer (also by the SMS webhook's short way, engage.sms.fastpath).
STATIC_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def set_security_headers(response):
    headers = response.headers
    for name, value in STATIC_HEADERS.items():
        headers.setdefault(name, value)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    return response
