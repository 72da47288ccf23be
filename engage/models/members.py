"""Parents and caregivers, and the ledger of every opt-in and opt-out."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from engage.models.base import Base, TimestampMixin, utcnow
from engage.models.plans import Organisation, Plan
from engage.models.staff import StaffUser
from engage.text import fold

SEARCH_NAME_LENGTH = 200  # folding can lengthen a name ("ß" is "ss"), so more than display_name's 80


def search_name_for(display_name: str | None) -> str | None:
    """The name as searches compare it: folded (accents, case, full-width) by engage.text.fold."""
    return (fold(display_name)[:SEARCH_NAME_LENGTH] or None) if display_name else None


def _values(e):
    return [m.value for m in e]


class MemberSource(enum.StrEnum):
    WEB = "web"
    SMS = "sms"
    CBO = "cbo"
    STAFF = "staff"


class SmsStatus(enum.StrEnum):
    PENDING = "pending"  # signed up, consent not yet confirmed by the texted code
    ACTIVE = "active"  # confirmed: we may text them
    STOPPED = "stopped"  # opted out: nothing is sent until they opt back in


class Member(TimestampMixin, Base):
    """A parent or caregiver. The phone number (E.164) identifies them."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(80))
    # display_name folded, kept in step by _fold_display_name: searched with LIKE so that
    # "diaz" finds "Díaz" on SQLite and PostgreSQL alike.
    search_name: Mapped[str | None] = mapped_column(sa.String(SEARCH_NAME_LENGTH), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    county: Mapped[str | None] = mapped_column(sa.String(40))
    zip_code: Mapped[str | None] = mapped_column(sa.String(10))
    child_age_groups: Mapped[list] = mapped_column(default=list)
    # Optional self-identification; None means "not asked or skipped".
    race_ethnicity: Mapped[list | None]
    disability: Mapped[dict | None]
    source: Mapped[MemberSource] = mapped_column(
        sa.Enum(MemberSource, native_enum=False, length=10, values_callable=_values)
    )
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    sms_status: Mapped[SmsStatus] = mapped_column(
        sa.Enum(SmsStatus, native_enum=False, length=10, values_callable=_values),
        default=SmsStatus.PENDING,
    )
    # How they want to take part: "committee", "feedback", "surveys".
    participation: Mapped[list] = mapped_column(default=list)
    # What they usually need to come: {"childcare": bool, "interpreter": bool,
    # "interpreter_language": "cantonese", "transport": bool, "accessibility": "..."}
    needs: Mapped[dict] = mapped_column(default=dict)
    referral_code_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("referral_codes.id", ondelete="SET NULL"), index=True
    )
    # The CBO worker who enrolled the family with them, if any.
    assisted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    # Stipends: a quarterly limit on irregular income the parent told us applies to them (SSI's
    # $60, say), a note about their benefits, and whether a W-9 is on file for tax reporting.
    benefit_quarterly_limit: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    benefits_note: Mapped[str | None] = mapped_column(sa.Text)
    w9_on_file: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    preferred_payment: Mapped[str | None] = mapped_column(sa.String(12))
    deleted_at: Mapped[datetime | None]
    # Bumped when the member signs out everywhere or changes number.
    session_version: Mapped[int] = mapped_column(default=1)

    plan: Mapped[Plan | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    # Flask-Login: a parent signed in to /me is a "user" too.
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_member = True

    @validates("display_name")
    def _fold_display_name(self, _key: str, value: str | None) -> str | None:
        # Every way a name is set (joining by web or text, staff, walk-ins, the demo,
        # clearing it on deletion) goes through here.
        self.search_name = search_name_for(value)
        return value

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def get_id(self) -> str:
        return f"member:{self.id}:{self.session_version}"

    @property
    def can_receive_sms(self) -> bool:
        return self.sms_status == SmsStatus.ACTIVE and self.phone is not None

    def __repr__(self) -> str:  # never the name or number
        return f"<Member {self.id}>"


class ConsentAction(enum.StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class ConsentChannel(enum.StrEnum):
    WEB = "web"
    SMS = "sms"
    CBO = "cbo"  # a CBO worker enrolled the family, who confirmed on their own phone
    STAFF = "staff"
    CARRIER = "carrier"  # the carrier reported the number unsubscribed (Twilio 21610)


class ConsentEvent(Base):
    """One line in the consent ledger. Rows are only ever added.

    Keyed by phone number so an opt-out is honoured even for someone who is not a
    member, and outlives the deletion of a member's account.
    """

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    action: Mapped[ConsentAction] = mapped_column(
        sa.Enum(ConsentAction, native_enum=False, length=10, values_callable=_values)
    )
    channel: Mapped[ConsentChannel] = mapped_column(
        sa.Enum(ConsentChannel, native_enum=False, length=10, values_callable=_values)
    )
    locale: Mapped[str] = mapped_column(sa.String(10))
    # The exact words the person saw (or the confirmation we sent), in their language.
    words_shown: Mapped[str] = mapped_column(sa.Text)
    # What the person sent, when they opted in or out by text ("STOP", "加入").
    keyword: Mapped[str | None] = mapped_column(sa.String(40))
    assisted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    member: Mapped[Member | None] = relationship()
    assisted_by: Mapped[StaffUser | None] = relationship()
