"""Input to decision: what parents said (by text, web, in a meeting, through a CBO),
grouped into themes that move towards a plan decision, and the messages that tell each
person what became of what they said."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from engage.models.meetings import Meeting
    from engage.models.members import Member
    from engage.models.plans import Committee, Organisation
    from engage.models.staff import StaffUser


class Topic(enum.StrEnum):
    """The areas where a plan must hear its committee."""

    NEEDS_ASSESSMENT = "pna"
    HEALTH_EQUITY = "equity"
    QUALITY = "quality"
    LANGUAGE_CULTURE = "culture"
    SATISFACTION = "satisfaction"
    CARE_COORDINATION = "care"
    HEALTH_EDUCATION = "education"
    POPULATION_HEALTH = "population"
    OTHER = "other"


class InputChannel(enum.StrEnum):
    WEB = "web"
    SMS = "sms"
    MEETING = "meeting"
    CBO = "cbo"


class ThemeStatus(enum.StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "review"
    TAKEN = "taken"  # taken to decision-makers
    DECIDED = "decided"
    CLOSED = "closed"  # everyone who can be told was told (delivered)


class Outcome(enum.StrEnum):
    ADOPTED = "adopted"
    PARTLY = "partly"
    NOT_ADOPTED = "not_adopted"
    DEFERRED = "deferred"


class DecisionBody(enum.StrEnum):
    BOARD = "board"
    QIHEC = "qihec"  # Quality Improvement and Health Equity Committee
    NEEDS_ASSESSMENT = "pna"
    PROGRAM = "program"  # a program or material change
    OTHER = "other"


input_people = sa.Table(
    "input_people",
    Base.metadata,
    sa.Column("input_id", sa.ForeignKey("inputs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True),
)

decision_themes = sa.Table(
    "decision_themes",
    Base.metadata,
    sa.Column("decision_id", sa.ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True),
)

decision_inputs = sa.Table(
    "decision_inputs",
    Base.metadata,
    sa.Column("decision_id", sa.ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("input_id", sa.ForeignKey("inputs.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Question(Base):
    """A question a coordinator texts ("What makes it hard to get your child to a
    check-up?"); replies while it is open become input tied to it."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("committees.id", ondelete="SET NULL"))
    topic: Mapped[Topic] = mapped_column(str_enum(Topic))
    text: Mapped[dict] = mapped_column(default=dict)  # per language
    sent_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    committee: Mapped[Committee | None] = relationship()


class Theme(Base):
    """Input grouped by what it is about, with an owner, moving towards a decision."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("committees.id", ondelete="SET NULL"), index=True)
    topic: Mapped[Topic] = mapped_column(str_enum(Topic), default=Topic.OTHER)
    title: Mapped[dict] = mapped_column(default=dict)  # per language
    summary: Mapped[dict] = mapped_column(default=dict)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[ThemeStatus] = mapped_column(str_enum(ThemeStatus), default=ThemeStatus.RECEIVED, index=True)
    # Taken to decision-makers: which body, when.
    taken_to: Mapped[DecisionBody | None] = mapped_column(str_enum(DecisionBody))
    taken_on: Mapped[date | None]
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome))
    reason: Mapped[dict] = mapped_column(default=dict)  # why, per language
    decided_on: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    committee: Mapped[Committee | None] = relationship()
    owner: Mapped[StaffUser | None] = relationship()
    inputs: Mapped[list[Input]] = relationship(back_populates="theme", order_by="Input.received_at")
    events: Mapped[list[ThemeEvent]] = relationship(
        back_populates="theme", order_by="ThemeEvent.at", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[Decision]] = relationship(secondary=decision_themes, back_populates="themes")


class Input(Base):
    """One piece of input, in the words and language it was given."""

    __tablename__ = "inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    committee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("committees.id", ondelete="SET NULL"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    question_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questions.id", ondelete="SET NULL"), index=True)
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("themes.id", ondelete="SET NULL"), index=True)
    topic: Mapped[Topic] = mapped_column(str_enum(Topic), default=Topic.OTHER)
    channel: Mapped[InputChannel] = mapped_column(str_enum(InputChannel))
    body: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(10))  # the language it was given in
    translation: Mapped[str | None] = mapped_column(sa.Text)
    translation_locale: Mapped[str | None] = mapped_column(sa.String(10))
    machine_translated: Mapped[bool] = mapped_column(default=False)
    # Anonymous input keeps no person; it is never answered by text.
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Input from a meeting may be credited to the committee as a whole.
    from_committee: Mapped[bool] = mapped_column(default=False)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    inbound_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("inbound_messages.id", ondelete="SET NULL"), unique=True
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    theme: Mapped[Theme | None] = relationship(back_populates="inputs")
    people: Mapped[list[Member]] = relationship(secondary=input_people, order_by="Member.id")
    committee: Mapped[Committee | None] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    question: Mapped[Question | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class ThemeEvent(Base):
    """A dated entry on a theme's timeline: every change is kept."""

    __tablename__ = "theme_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(sa.ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    status: Mapped[ThemeStatus] = mapped_column(str_enum(ThemeStatus))
    # What changed: {"taken_to": "qihec", "outcome": "not_adopted", "reason": {...}, "note": "..."}
    detail: Mapped[dict] = mapped_column(default=dict)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    theme: Mapped[Theme] = relationship(back_populates="events")
    by: Mapped[StaffUser | None] = relationship()


class Decision(Base):
    """Something the plan decided, and the input and themes that shaped it."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    body: Mapped[DecisionBody] = mapped_column(str_enum(DecisionBody))
    title: Mapped[dict] = mapped_column(default=dict)
    summary: Mapped[dict] = mapped_column(default=dict)
    rationale: Mapped[dict] = mapped_column(default=dict)
    decided_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    themes: Mapped[list[Theme]] = relationship(secondary=decision_themes, back_populates="decisions")
    inputs: Mapped[list[Input]] = relationship(secondary=decision_inputs)


class LoopStage(enum.StrEnum):
    TAKEN = "taken"
    DECIDED = "decided"


class LoopMessage(Base):
    """A text telling one person what became of their input. The loop closes for them
    when the decided-stage text is delivered."""

    __tablename__ = "loop_messages"
    __table_args__ = (sa.UniqueConstraint("theme_id", "member_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(sa.ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    stage: Mapped[LoopStage] = mapped_column(str_enum(LoopStage))
    outbox_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True, unique=True
    )
    # Why nobody was texted: "stopped", "no_phone", "not_confirmed", "deleted".
    skipped: Mapped[str | None] = mapped_column(sa.String(20))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    theme: Mapped[Theme] = relationship()
    member: Mapped[Member] = relationship()
