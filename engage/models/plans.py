"""Plans, their committees, and the community organisations that work with them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from engage.models.staff import StaffUser

organisation_plans = sa.Table(
    "organisation_plans",
    Base.metadata,
    sa.Column("organisation_id", sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
)


class Plan(TimestampMixin, Base):
    """A Medi-Cal managed care plan: the tenant everything else belongs to."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    short_name: Mapped[str] = mapped_column(sa.String(30))
    colour: Mapped[str] = mapped_column(sa.String(7), default="#1f5f8b")
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    website: Mapped[str | None] = mapped_column(sa.String(300))

    committees: Mapped[list[Committee]] = relationship(
        back_populates="plan", order_by="Committee.id", cascade="all, delete-orphan"
    )
    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_plans, back_populates="plans", order_by="Organisation.name"
    )

    def __repr__(self) -> str:
        return f"<Plan {self.slug}>"


class Committee(TimestampMixin, Base):
    """A Community Advisory Committee of one plan. Name and description are per language."""

    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[dict] = mapped_column(default=dict)
    description: Mapped[dict] = mapped_column(default=dict)
    is_public: Mapped[bool] = mapped_column(default=True)
    # Roster size limits and the "majority consumers" rule; broken ones are warned about.
    min_members: Mapped[int | None]
    max_members: Mapped[int | None]
    consumer_majority: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Stipend policy: paid for attending, plus preparation time; a meeting may override the amounts.
    stipend_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    stipend_prep_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    # Payment methods offered (engage.models.supports.PaymentMethod values).
    stipend_methods: Mapped[list] = mapped_column(default=list, server_default="[]")

    plan: Mapped[Plan] = relationship(back_populates="committees")

    def __repr__(self) -> str:
        return f"<Committee {self.slug}>"


class Organisation(TimestampMixin, Base):
    """A community-based organisation (CBO) that recruits and supports families."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    counties: Mapped[list] = mapped_column(default=list)

    plans: Mapped[list[Plan]] = relationship(
        secondary=organisation_plans, back_populates="organisations", order_by="Plan.name"
    )
    staff: Mapped[list[StaffUser]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"
