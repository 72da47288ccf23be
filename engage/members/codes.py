"""One-time codes texted to a phone: to confirm a sign-up, to sign in to /me, to
confirm a new number. Short-lived, single use, kept only as a keyed hash, limited
per number; checking one takes the same path whether or not the number is known."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from engage.extensions import db
from engage.models import utcnow
from engage.models.joining import CodePurpose, VerificationCode

CODE_DIGITS = 6
LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5  # wrong tries before a code is spent
# At most this many codes for one number and purpose in the window.
PER_NUMBER = [(timedelta(minutes=15), 3), (timedelta(days=1), 10)]


def _hash(phone: str, purpose: CodePurpose, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def may_issue(phone: str, purpose: CodePurpose) -> bool:
    now = utcnow()
    for window, limit in PER_NUMBER:
        issued = db.session.scalar(
            sa.select(sa.func.count(VerificationCode.id)).where(
                VerificationCode.phone == phone,
                VerificationCode.purpose == purpose,
                VerificationCode.created_at > now - window,
            )
        )
        if issued >= limit:
            return False
    return True


def issue(phone: str, purpose: CodePurpose, *, member_id: int | None = None, payload: dict | None = None) -> str | None:
    """A fresh code (the caller texts it), or None when this number has had too many."""
    if not may_issue(phone, purpose):
        return None
    now = utcnow()
    # A new code replaces any earlier one for the same number and purpose.
    db.session.execute(
        sa.update(VerificationCode)
        .where(
            VerificationCode.phone == phone,
            VerificationCode.purpose == purpose,
            VerificationCode.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    db.session.add(
        VerificationCode(
            phone=phone,
            purpose=purpose,
            code_hash=_hash(phone, purpose, code),
            member_id=member_id,
            payload=payload or {},
            expires_at=now + LIFETIME,
            created_at=now,
        )
    )
    return code


def check(phone: str, purpose: CodePurpose, code: str) -> VerificationCode | None:
    """The matching live code, now spent; or None. Wrong tries count against the code."""
    now = utcnow()
    row = db.session.scalar(
        sa.select(VerificationCode)
        .where(
            VerificationCode.phone == phone,
            VerificationCode.purpose == purpose,
            VerificationCode.consumed_at.is_(None),
            VerificationCode.expires_at > now,
        )
        .order_by(VerificationCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())[:CODE_DIGITS]
    given = _hash(phone, purpose, cleaned)
    if row is None:
        hmac.compare_digest(given, given)  # same work either way
        return None
    if not hmac.compare_digest(row.code_hash, given):
        row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS:
            row.consumed_at = now
        return None
    row.consumed_at = now
    return row
