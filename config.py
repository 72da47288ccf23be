"""Settings for engage, read from the environment when the app is created.

Nothing here is read at import time: ``load_config(name)`` builds a plain dict that
``engage.create_app`` applies. Secrets may also come from a file named by
``<NAME>_FILE`` (Docker and systemd credentials).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    """A setting from the environment, or from the file named by NAME_FILE."""
    value = os.environ.get(name)
    if value is not None and value != "":
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def env_float(name: str, default: float) -> float:
    value = env(name)
    return default if value is None else float(value)


class ConfigError(RuntimeError):
    """A setting needed to start is missing or wrong."""


def load_config(name: str | None = None, instance_path: str | None = None) -> dict:
    """Settings for ``development``, ``test`` or ``production`` (``ENGAGE_ENV``)."""
    name = name or env("ENGAGE_ENV", "development")
    if name not in {"development", "test", "production"}:
        raise ConfigError(f"ENGAGE_ENV must be development, test or production, not {name!r}")
    instance = Path(instance_path or BASE_DIR / "instance")
    production = name == "production"

    secret = env("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set in production.")
        # Development and tests get a fresh random key each start.
        secret = os.urandom(32).hex()

    cfg: dict = {
        "ENGAGE_ENV": name,
        "TESTING": name == "test",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": env("DATABASE_URL", f"sqlite:///{instance / 'engage.db'}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Languages and time
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "ENGAGE_TIMEZONE": env("ENGAGE_TIMEZONE", "America/Los_Angeles"),
        # Text messages
        "SMS_BACKEND": env("SMS_BACKEND", "console"),
        "TWILIO_ACCOUNT_SID": env("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env("TWILIO_AUTH_TOKEN"),
        "TWILIO_MESSAGING_SERVICE_SID": env("TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_FROM_NUMBER": env("TWILIO_FROM_NUMBER"),
        "SMS_RATE_PER_SECOND": env_float("SMS_RATE_PER_SECOND", 1.0),
        "SMS_PRICE_PER_SEGMENT": env("SMS_PRICE_PER_SEGMENT", "0.0083"),
        "SMS_MAX_ATTEMPTS": env_int("SMS_MAX_ATTEMPTS", 6),
        "SMS_RETRY_BASE_SECONDS": env_int("SMS_RETRY_BASE_SECONDS", 30),
        "SMS_LEASE_SECONDS": env_int("SMS_LEASE_SECONDS", 300),
        # Answer plain incoming texts without Flask or the ORM on PostgreSQL (engage.sms.fastpath).
        "SMS_FAST_PATH": env_bool("SMS_FAST_PATH", True),
        "TWILIO_API_BASE_URL": env("TWILIO_API_BASE_URL"),
        "PUBLIC_BASE_URL": (env("PUBLIC_BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
        # Meetings
        # Reminders go this many hours before a meeting, to everyone who said yes.
        "MEETING_REMINDER_HOURS": env("MEETING_REMINDER_HOURS", "168,24,2"),
        # Coordinators are warned when a meeting is this near and its agenda is not posted.
        "AGENDA_LEAD_HOURS": env_int("AGENDA_LEAD_HOURS", 72),
        # A place offered from the waiting list goes to the next person after this long.
        "WAITLIST_OFFER_HOURS": env_int("WAITLIST_OFFER_HOURS", 24),
        # The needs question after a "yes" by text waits this long for its answer.
        "NEEDS_ANSWER_HOURS": env_int("NEEDS_ANSWER_HOURS", 24),
        # Supports and stipends
        # Requests not arranged this long before a meeting are flagged (dashboard and daily digest).
        "SUPPORT_FLAG_HOURS": env_int("SUPPORT_FLAG_HOURS", 72),
        # The local hour the daily digest of unarranged supports is emailed to coordinators.
        "SUPPORT_DIGEST_HOUR": env_int("SUPPORT_DIGEST_HOUR", 7),
        # Yearly payments to one person at or above this need a W-9 / 1099 (2026: $2,000).
        "STIPEND_TAX_THRESHOLD": env("STIPEND_TAX_THRESHOLD", "2000"),
        # A stipend paid within this many days of the meeting counts as paid on time.
        "STIPEND_ON_TIME_DAYS": env_int("STIPEND_ON_TIME_DAYS", 30),
        # Mileage reimbursement rate, US dollars a mile.
        "MILEAGE_RATE": env("MILEAGE_RATE", "0.70"),
        # Input to decision
        # "module:function" taking (text, source_locale, target_locale) and returning a translation;
        # off by default. Its output is marked as machine translation.
        "MACHINE_TRANSLATION": env("MACHINE_TRANSLATION"),
        "MACHINE_TRANSLATION_TARGET": env("MACHINE_TRANSLATION_TARGET", "en"),
        # Rate limits
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Staff email
        "MAIL_BACKEND": env("MAIL_BACKEND", "smtp" if production else "console"),
        "MAIL_SERVER": env("MAIL_SERVER", "localhost"),
        "MAIL_PORT": env_int("MAIL_PORT", 587),
        "MAIL_USERNAME": env("MAIL_USERNAME"),
        "MAIL_PASSWORD": env("MAIL_PASSWORD"),
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS", True),
        "MAIL_USE_SSL": env_bool("MAIL_USE_SSL", False),
        "MAIL_FROM": env("MAIL_FROM", "engage <no-reply@localhost>"),
        # Sign-in
        "INVITE_MAX_AGE_HOURS": env_int("INVITE_MAX_AGE_HOURS", 72),
        "RESET_MAX_AGE_HOURS": env_int("RESET_MAX_AGE_HOURS", 2),
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "ME_LOGIN_RATE_LIMIT": env("ME_LOGIN_RATE_LIMIT", "5 per minute;20 per hour"),
        "ME_CODE_RATE_LIMIT": env("ME_CODE_RATE_LIMIT", "10 per minute;30 per hour"),
        # Forms
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_I18N_ENABLED": False,  # every message comes from engage's own catalogs
        # Cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "LOG_LEVEL": env("LOG_LEVEL", "INFO"),
        # Number of proxies in front of the app (X-Forwarded-For/-Proto).
        "PROXY_COUNT": env_int("PROXY_COUNT", 0),
    }
    if production and cfg["SMS_BACKEND"] == "twilio":
        missing = [k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not cfg[k]]
        if not (cfg["TWILIO_MESSAGING_SERVICE_SID"] or cfg["TWILIO_FROM_NUMBER"]):
            missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
        if missing:
            raise ConfigError(f"SMS_BACKEND=twilio needs {', '.join(missing)}")
    if name == "test":
        cfg.update(
            SQLALCHEMY_DATABASE_URI=env("TEST_SQLITE_URL", "sqlite://"),
            MAIL_BACKEND="memory",
            SMS_BACKEND="memory",
            RATELIMIT_STORAGE_URI="memory://",
        )
    return cfg
