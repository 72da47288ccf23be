"""Meetings of a committee: the schedule, agendas and minutes per language, who was
invited and what they answered, reminders sent, and who came."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.models.base import Base, TimestampMixin, str_enum, utcnow

if TYPE_CHECKING:
    from engage.models.members import Member
    from engage.models.plans import Committee
    from engage.models.staff import StaffUser


class MeetingFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class DocumentKind(enum.StrEnum):
    AGENDA = "agenda"
    MINUTES = "minutes"


class ReplyStatus(enum.StrEnum):
    INVITED = "invited"  # asked, no answer yet
    YES = "yes"  # coming: holds one of the meeting's places
    NO = "no"
    WAITLISTED = "waitlisted"  # said yes when the meeting was full
    OFFERED = "offered"  # a place opened up and was offered by text; still on the waiting list


class ReplyChannel(enum.StrEnum):
    SMS = "sms"
    WEB = "web"
    STAFF = "staff"  # a coordinator or CBO worker on the person's behalf


class MeetingSeries(Base):
    """A regular schedule (an RFC 5545 RRULE) that created some of a committee's meetings."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(sa.ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(sa.String(200))
    # What a coordinator chose, to show the rule back in words.
    settings: Mapped[dict] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Meeting(TimestampMixin, Base):
    """One meeting. Times are stored in UTC and shown in ENGAGE_TIMEZONE."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(sa.ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_series.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(default=90)
    format: Mapped[MeetingFormat] = mapped_column(str_enum(MeetingFormat), default=MeetingFormat.IN_PERSON)
    # Optional title per language; the committee's name otherwise.
    title: Mapped[dict] = mapped_column(default=dict)
    location_name: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    # Per language: step-free entrance, parking, elevator, quiet room...
    accessibility_notes: Mapped[dict] = mapped_column(default=dict)
    # Shown only to people who said yes.
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    capacity: Mapped[int | None]
    # Places held by "yes" replies; changed only by guarded UPDATEs (see meetings.replies).
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    childcare: Mapped[bool] = mapped_column(default=False)
    # Spoken languages interpreted (codes from engage.members.vocab.INTERPRETER_LANGUAGES).
    interpretation: Mapped[list] = mapped_column(default=list)
    transport: Mapped[bool] = mapped_column(default=False)
    meals: Mapped[bool] = mapped_column(default=False)
    stipend_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    # Extra for preparation time; both fall back to the committee's policy when empty.
    stipend_prep_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus), default=MeetingStatus.SCHEDULED)
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[dict] = mapped_column(default=dict)
    # iCalendar SEQUENCE: raised on every reschedule or cancellation.
    sequence: Mapped[int] = mapped_column(default=0)

    committee: Mapped[Committee] = relationship()
    series: Mapped[MeetingSeries | None] = relationship()
    documents: Mapped[list[MeetingDocument]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingDocument.id"
    )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.starts_at:%Y-%m-%d}>"


class MeetingDocument(Base):
    """An agenda or minutes in one language. Public once ``posted_at`` is set."""

    __tablename__ = "meeting_documents"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "kind", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind))
    locale: Mapped[str] = mapped_column(sa.String(10))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    posted_at: Mapped[datetime | None]
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="documents")
    posted_by: Mapped[StaffUser | None] = relationship()


class MeetingReply(Base):
    """One person's invitation to one meeting and their answer."""

    __tablename__ = "meeting_replies"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReplyStatus] = mapped_column(str_enum(ReplyStatus), default=ReplyStatus.INVITED, index=True)
    channel: Mapped[ReplyChannel | None] = mapped_column(str_enum(ReplyChannel))
    invited_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    # Order on the waiting list.
    waitlisted_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    # What the person said they need to come: "childcare", "interpreter", "transport".
    needs: Mapped[list] = mapped_column(default=list)
    needs_text: Mapped[str | None] = mapped_column(sa.Text)
    needs_answered_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    member: Mapped[Member] = relationship()


class ReminderSent(Base):
    """A reminder offset already handled for one reply, so no worker sends it twice."""

    __tablename__ = "meeting_reminders"
    __table_args__ = (sa.UniqueConstraint("reply_id", "offset_hours"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_replies.id", ondelete="CASCADE"), index=True)
    offset_hours: Mapped[int]
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    """Someone who came. Drives stipends and reports."""

    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    walk_in: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship()
