"""engage: Medi-Cal plans' Community Advisory Committees, with parents as partners."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_config


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the app. Settings come from the environment (``config.py``); a test
    may pass its own overrides, which win."""
    overrides = dict(config_overrides or {})
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(overrides.get("ENGAGE_ENV"), app.instance_path))
    app.config.from_mapping(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from engage import errors, i18n, logs
    from engage.extensions import babel, csrf, db, limiter, login_manager, migrate

    logs.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    i18n.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    _init_login(app, login_manager)

    from engage import admin, auth, coordinator, feedback, join, me, meetings, partner, public, sms, supports

    for module in (public, auth, join, me, meetings, admin, coordinator, partner, sms):
        app.register_blueprint(module.bp)
    app.register_blueprint(supports.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(supports.stipends_bp)
    meetings.init_app(app)
    supports.init_app(app)
    feedback.init_app(app)

    errors.init_app(app)

    from engage.security import check_rules, set_security_headers

    app.after_request(set_security_headers)

    @app.context_processor
    def _globals():
        return {"person": getattr(g, "person", None)}

    from engage import cli

    cli.init_app(app)
    check_rules(app)

    from engage.sms.fastpath import InboundFastPath

    InboundFastPath.install(app)
    return app


def _init_login(app: Flask, login_manager) -> None:
    from engage.extensions import db
    from engage.models import Member, StaffUser

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            kind, raw_id, version = user_id.split(":")
            model = {"staff": StaffUser, "member": Member}[kind]
            obj = db.session.get(model, int(raw_id))
        except (ValueError, KeyError):
            return None
        if obj is None or not obj.is_active or str(obj.session_version) != version:
            return None
        return obj

    @app.before_request
    def _person():
        g.person = current_user if current_user.is_authenticated else None


__all__ = ["create_app"]
