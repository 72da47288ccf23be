"""The rules for joining, shared by the web sign-up, the text-message sign-up and
CBO-assisted enrolment: one phone is one member, consent is confirmed from the
phone itself, and every opt-in is written in the ledger."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.members import codes
from engage.models import (
    CodePurpose,
    ConsentChannel,
    Member,
    MemberSource,
    OutboxKind,
    SmsStatus,
    StaffUser,
    utcnow,
)
from engage.sms import consent, texts
from engage.sms.inbound import plan_name
from engage.sms.outbox import enqueue

# Fields a sign-up may set; anything else on Member is engage's own business.
PROFILE_FIELDS = (
    "display_name",
    "locale",
    "county",
    "zip_code",
    "plan_id",
    "child_age_groups",
    "participation",
    "needs",
    "race_ethnicity",
    "disability",
)


def find_member(phone: str) -> Member | None:
    return db.session.scalar(sa.select(Member).where(Member.phone == phone, Member.deleted_at.is_(None)))


def upsert_member(
    phone: str,
    *,
    source: MemberSource,
    organisation_id: int | None = None,
    referral_code_id: int | None = None,
    assisted_by: StaffUser | None = None,
    **profile,
) -> tuple[Member, bool]:
    """Create the member for ``phone``, or update the one that exists: the same
    phone never makes two members. Returns (member, created)."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {sorted(unknown)}")
    member = find_member(phone)
    created = member is None
    if created:
        member = Member(phone=phone, source=source, sms_status=SmsStatus.PENDING)
        db.session.add(member)
    for name, value in profile.items():
        if value is not None:
            setattr(member, name, value)
    # The first organisation to bring a family keeps the credit.
    if organisation_id and member.organisation_id is None:
        member.organisation_id = organisation_id
    if referral_code_id and member.referral_code_id is None:
        member.referral_code_id = referral_code_id
    if assisted_by is not None and member.assisted_by_id is None:
        member.assisted_by_id = assisted_by.id
    db.session.flush()
    return member, created


@dataclass(frozen=True)
class CodeSent:
    sent: bool
    reason: str | None = None  # "stopped": the number said STOP; "limit": too many codes


def send_confirmation_code(member: Member) -> CodeSent:
    """Text a code that confirms the member wants texts (double opt-in)."""
    if consent.is_opted_out(member.phone):
        return CodeSent(False, "stopped")
    code = codes.issue(member.phone, CodePurpose.SIGNUP, member_id=member.id)
    if code is None:
        return CodeSent(False, "limit")
    with force_locale(member.locale):
        body = texts.signup_code(plan=plan_name(member), code=code)
    enqueue(member.phone, body, kind=OutboxKind.CONSENT, locale=member.locale, member=member)
    return CodeSent(True)


def confirm_with_code(
    phone: str,
    code: str,
    *,
    channel: ConsentChannel,
    words_shown: str,
    assisted_by: StaffUser | None = None,
) -> Member | None:
    """Check the texted code; on success the member is confirmed and welcomed."""
    member = find_member(phone)
    if member is None or codes.check(phone, CodePurpose.SIGNUP, code) is None:
        return None
    activate(member, channel=channel, words_shown=words_shown, assisted_by=assisted_by)
    return member


def activate(
    member: Member,
    *,
    channel: ConsentChannel,
    words_shown: str,
    keyword: str | None = None,
    assisted_by: StaffUser | None = None,
    send_welcome: bool = True,
) -> None:
    """Record the opt-in and send the welcome text (how often we text, how to stop).
    A sign-up by text answers with the welcome itself, so it passes ``send_welcome=False``."""
    already = member.sms_status == SmsStatus.ACTIVE
    consent.opt_in(
        member.phone,
        channel=channel,
        locale=member.locale,
        words_shown=words_shown,
        member=member,
        keyword=keyword,
        assisted_by=assisted_by,
    )
    member.confirmed_at = member.confirmed_at or utcnow()
    if not already and send_welcome:
        with force_locale(member.locale):
            body = texts.welcome(plan=plan_name(member))
        enqueue(member.phone, body, kind=OutboxKind.CONSENT, locale=member.locale, member=member)
