"""Staff accounts: admins, plan coordinators and CBO staff."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from engage.models.base import Base, TimestampMixin
from engage.models.plans import Organisation, Plan

staff_plans = sa.Table(
    "staff_plans",
    Base.metadata,
    sa.Column("staff_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
)


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CBO = "cbo"


class StaffUser(UserMixin, TimestampMixin, Base):
    """Someone who signs in with email and password.

    A coordinator is scoped to one or more plans; CBO staff to one organisation;
    an admin sets everything up.
    """

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change or disable, which signs out every session.
    session_version: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    invited_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="staff")
    plans: Mapped[list[Plan]] = relationship(secondary=staff_plans, order_by="Plan.name")

    # Flask-Login
    def get_id(self) -> str:
        return f"staff:{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def is_staff(self) -> bool:
        return True

    @property
    def is_member(self) -> bool:
        return False

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt, Werkzeug's default
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def plan_ids(self) -> set[int]:
        return {p.id for p in self.plans}

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role}>"
