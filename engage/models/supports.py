"""What parents need in order to come — childcare, interpreters, transport,
accessibility, meals — and what they are paid: stipends and reimbursements."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from engage.models.meetings import Meeting
    from engage.models.members import Member
    from engage.models.staff import StaffUser

MONEY = sa.Numeric(10, 2)


class SupportKind(enum.StrEnum):
    CHILDCARE = "childcare"
    INTERPRETER = "interpreter"
    TRANSPORT = "transport"
    ACCESSIBILITY = "access"
    MEALS = "meals"


class SupportStatus(enum.StrEnum):
    REQUESTED = "requested"
    ARRANGED = "arranged"  # a coordinator booked it
    CONFIRMED = "confirmed"  # the parent was told by text (delivered)
    DELIVERED = "delivered"  # it happened at the meeting
    NOT_DELIVERED = "not_delivered"  # it did not, with a reason
    CANCELLED = "cancelled"  # no longer needed


class RequestedVia(enum.StrEnum):
    WEB = "web"
    SMS = "sms"
    CBO = "cbo"
    STAFF = "staff"


class SupportRequest(Base):
    """One kind of support for one person at one meeting."""

    __tablename__ = "support_requests"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SupportKind] = mapped_column(str_enum(SupportKind))
    # childcare: {"children": 2, "age_groups": ["0-5"], "notes": ""}; interpreter: {"language":
    # "mixteco", "other": "", "mode": "in_person"|"remote"}; transport: {"mode": "ride"|"transit"|
    # "mileage", "notes": ""}; access / meals: {"notes": "..."}
    details: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[SupportStatus] = mapped_column(
        str_enum(SupportStatus, length=14), default=SupportStatus.REQUESTED, index=True
    )
    requested_via: Mapped[RequestedVia] = mapped_column(str_enum(RequestedVia), default=RequestedVia.WEB)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    arranged_at: Mapped[datetime | None]
    arranged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Who or what was booked: "Kiddie Care (2 sitters)", "Interpreter: R. Ortiz (Mixteco)".
    arrangement: Mapped[str | None] = mapped_column(sa.Text)
    confirmation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    outcome_at: Mapped[datetime | None]
    outcome_reason: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship()
    member: Mapped[Member] = relationship()
    arranged_by: Mapped[StaffUser | None] = relationship(foreign_keys=[arranged_by_id])
    requested_by: Mapped[StaffUser | None] = relationship(foreign_keys=[requested_by_id])


class StipendStatus(enum.StrEnum):
    ELIGIBLE = "eligible"  # earned by attendance, waiting for approval
    APPROVED = "approved"
    PAID = "paid"
    DECLINED = "declined"  # the parent said no thank you


class PaymentMethod(enum.StrEnum):
    GIFT_CARD = "gift_card"
    CHECK = "check"
    DIRECT_DEPOSIT = "deposit"
    PREPAID_CARD = "prepaid"
    CASH_CARD = "cash_card"


class Stipend(Base):
    """Payment to a parent for their time at one meeting. One per person per meeting:
    a second payment for the same meeting cannot be recorded."""

    __tablename__ = "stipends"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[StipendStatus] = mapped_column(str_enum(StipendStatus), default=StipendStatus.ELIGIBLE, index=True)
    # What the policy pays for this meeting (attendance + preparation), and what will be paid
    # (less when the parent asked for less).
    amount_due: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reduced_by_member: Mapped[bool] = mapped_column(default=False)
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    method: Mapped[PaymentMethod | None] = mapped_column(str_enum(PaymentMethod))
    reference: Mapped[str | None] = mapped_column(sa.String(120))
    paid_on: Mapped[datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    declined_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    member: Mapped[Member] = relationship()


class ReimbursementKind(enum.StrEnum):
    MILEAGE = "mileage"
    TRANSIT = "transit"
    CHILDCARE = "childcare"


class ReimbursementStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


class Reimbursement(Base):
    """Money a parent spent to come (mileage, transit, childcare), paid back."""

    __tablename__ = "reimbursements"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    kind: Mapped[ReimbursementKind] = mapped_column(str_enum(ReimbursementKind))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    miles: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 1))
    receipt_note: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[ReimbursementStatus] = mapped_column(
        str_enum(ReimbursementStatus), default=ReimbursementStatus.SUBMITTED, index=True
    )
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    rejected_reason: Mapped[str | None] = mapped_column(sa.Text)
    method: Mapped[PaymentMethod | None] = mapped_column(str_enum(PaymentMethod))
    reference: Mapped[str | None] = mapped_column(sa.String(120))
    paid_on: Mapped[datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting | None] = relationship()
    member: Mapped[Member] = relationship()


class DigestSent(Base):
    """The daily digest of supports not yet arranged, once per plan per day."""

    __tablename__ = "support_digests"
    __table_args__ = (sa.UniqueConstraint("plan_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(sa.String(10))  # local date, YYYY-MM-DD
    flagged: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
