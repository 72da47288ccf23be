"""Text messages: conversations, what came in, the outbox of what goes out,
opt-outs, sender pacing and bulk messages."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.models.base import Base, utcnow
from engage.models.members import Member
from engage.models.plans import Plan
from engage.models.staff import StaffUser


def _values(e):
    return [m.value for m in e]


CONVERSATION_FILLFACTOR = 80  # percent of a page filled by inserts (PostgreSQL)


def _partial(name: str, column: str) -> sa.Index:
    """An index of the rows where ``column`` is set: most rows leave it empty (a reply
    sent in a webhook's answer has no bulk message and no provider id), and a lookup by
    value never needs the empty ones."""
    where = sa.text(f"{column} IS NOT NULL")
    return sa.Index(name, column, postgresql_where=where, sqlite_where=where)


def _enum(e, length=12):
    return sa.Enum(e, native_enum=False, length=length, values_callable=_values)


class Conversation(Base):
    """Everything exchanged with one phone number, member or not."""

    __tablename__ = "conversations"
    __table_args__ = (
        # The inbox counts and lists the conversations waiting for an answer: few, so a
        # small index of just those.
        sa.Index(
            "ix_conversations_unanswered",
            "member_id",
            postgresql_where=sa.text("needs_reply"),
            sqlite_where=sa.text("needs_reply = 1"),  # how SQLAlchemy writes the test there
        ),
        # Every text updates its conversation's row. Room left in each page, and no index
        # on the times that change with every text, let PostgreSQL update the row in its
        # page without touching the indexes (a HOT update).
        {"postgresql_with": {"fillfactor": CONVERSATION_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    # Set when the person wrote something a coordinator should answer.
    needs_reply: Mapped[bool] = mapped_column(default=False)
    last_inbound_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_ack_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    # A question engage asked and is waiting for the answer to, e.g. "needs:12" after a
    # "yes" by text; answers are read by whoever registered for that prefix.
    awaiting: Mapped[str | None] = mapped_column(sa.String(40))
    awaiting_until: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member | None] = relationship()
    handled_by: Mapped[StaffUser | None] = relationship()


class InboundMessage(Base):
    """A text someone sent us. ``message_sid`` is unique: a retried webhook is handled once."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    conversation_id: Mapped[int] = mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    # What engage understood: stop, start, help, yes, no, join, language, or None for free text.
    intent: Mapped[str | None] = mapped_column(sa.String(12))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship()


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting to be sent (maybe until a later time)
    SENDING = "sending"  # a worker has claimed it and is handing it to the provider
    UNKNOWN = "unknown"  # a worker stopped mid-send: it may or may not have gone out; never resent blindly
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # permanently refused, or out of retries
    SKIPPED = "skipped"  # not sent: the person opted out, or never confirmed
    DROPPED = "dropped"  # not sent: quiet hours would make it too late to matter


FINAL_STATUSES = {
    OutboxStatus.DELIVERED,
    OutboxStatus.UNDELIVERED,
    OutboxStatus.FAILED,
    OutboxStatus.SKIPPED,
    OutboxStatus.DROPPED,
}


class OutboxKind(enum.StrEnum):
    REPLY = "reply"  # an answer to a text the person just sent: never held for quiet hours
    CONSENT = "consent"  # a confirmation code or opt-in/opt-out confirmation
    DIRECT = "direct"  # a coordinator writing in a conversation
    NOTICE = "notice"  # something changed (meeting moved, support arranged, decision made)
    REMINDER = "reminder"
    BULK = "bulk"


class OutboxMessage(Base):
    """One text to send. Written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.Index("ix_outbox_messages_status_due_at", "status", "due_at"),
        _partial("ix_outbox_messages_bulk_id", "bulk_id"),
        _partial("ix_outbox_messages_provider_sid", "provider_sid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    bulk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bulk_messages.id", ondelete="SET NULL"))
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind))
    body: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(10))
    segments: Mapped[int] = mapped_column(default=1)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.QUEUED)
    # Not before this time (quiet hours and retries move it later).
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    # After this, the message is no use: dropped rather than sent late.
    expires_at: Mapped[datetime | None]
    quiet_hours: Mapped[bool] = mapped_column(default=True)
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=5)
    attempts: Mapped[int] = mapped_column(default=0)
    sender: Mapped[str] = mapped_column(sa.String(40), default="default")
    via: Mapped[str | None] = mapped_column(sa.String(10))  # twiml, twilio, console, memory
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64))
    error_code: Mapped[str | None] = mapped_column(sa.String(20))
    error_message: Mapped[str | None] = mapped_column(sa.String(300))
    locked_by: Mapped[str | None] = mapped_column(sa.String(60))
    locked_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))

    member: Mapped[Member | None] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()


class SmsOptOut(Base):
    """A number that has said STOP. While a row is here nothing is sent to it."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsSender(Base):
    """Pacing per sending number, shared by every worker: the next free send slot."""

    __tablename__ = "sms_senders"

    sender: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(default=utcnow)


class BulkMessage(Base):
    """A message a coordinator sent to many people, written once per language."""

    __tablename__ = "bulk_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    bodies: Mapped[dict] = mapped_column(default=dict)
    audience: Mapped[dict] = mapped_column(default=dict)
    recipient_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[Plan] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()


class RosterRole(enum.StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    CO_CHAIR = "co_chair"
    ALTERNATE = "alternate"


class RosterStatus(enum.StrEnum):
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    LEFT = "left"


class CommitteeMembership(Base):
    """A member's seat on a committee's roster."""

    __tablename__ = "committee_memberships"
    __table_args__ = (sa.UniqueConstraint("committee_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(sa.ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[RosterRole] = mapped_column(_enum(RosterRole), default=RosterRole.MEMBER)
    status: Mapped[RosterStatus] = mapped_column(_enum(RosterStatus), default=RosterStatus.ACTIVE)
    # A consumer is a plan member or the parent of one; other seats are advocates or providers.
    is_consumer: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    term_start: Mapped[datetime | None]
    term_end: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
