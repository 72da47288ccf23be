"""Joining: CBO referral codes, one-time codes texted to a phone, and sign-up
conversations by text that a person can leave and come back to."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.models.base import Base, utcnow
from engage.models.plans import Organisation, Plan


def _values(e):
    return [m.value for m in e]


class ReferralCode(Base):
    """A code a community organisation hands out: ``/join?ref=CODE`` or "JOIN CODE" by text."""

    __tablename__ = "referral_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    plan: Mapped[Plan | None] = relationship()


class CodePurpose(enum.StrEnum):
    SIGNUP = "signup"  # confirms consent after a web or assisted sign-up
    LOGIN = "login"  # signs a parent in to /me
    CHANGE_PHONE = "change_phone"  # confirms a new number


class VerificationCode(Base):
    """A one-time code texted to a phone. Only a keyed hash of the code is kept."""

    __tablename__ = "verification_codes"
    __table_args__ = (sa.Index("ix_verification_codes_phone_purpose", "phone", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[CodePurpose] = mapped_column(
        sa.Enum(CodePurpose, native_enum=False, length=12, values_callable=_values)
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SignupConversation(Base):
    """Where someone is in signing up by text. Kept until they finish, stop, or it goes stale."""

    __tablename__ = "signup_conversations"

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    step: Mapped[str] = mapped_column(sa.String(20))
    locale: Mapped[str] = mapped_column(sa.String(10))
    data: Mapped[dict] = mapped_column(default=dict)
    referral_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referral_codes.id", ondelete="SET NULL"))
    retries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
