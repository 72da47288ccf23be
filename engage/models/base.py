"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(e, length: int = 12) -> sa.Enum:
    """A Python StrEnum stored as its values in a VARCHAR (no database enum type to migrate)."""
    return sa.Enum(e, native_enum=False, length=length, values_callable=lambda cls: [m.value for m in cls])


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware datetime.

    PostgreSQL keeps the zone; SQLite keeps naive UTC, which this type re-labels.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            dict: sa.JSON(),
            list: sa.JSON(),
        },
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
