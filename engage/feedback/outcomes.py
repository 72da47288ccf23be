""" "You said, we did": per committee, each theme with how many people raised it, what
was decided and why, and what is still open and for how long. No names; groups smaller
than 11 people are shown as "fewer than 11". The same list of open themes is the
standing item at the top of every agenda."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.models import (
    Committee,
    Input,
    Outcome,
    Theme,
    ThemeEvent,
    ThemeStatus,
    input_people,
    utcnow,
)

SMALL_GROUP = 11  # counts below this are never shown


@dataclass
class Count:
    """A number of people that is only shown when it is 11 or more."""

    value: int

    @property
    def hidden(self) -> bool:
        return self.value < SMALL_GROUP

    @property
    def shown(self) -> int | None:
        return None if self.hidden else self.value


@dataclass
class Row:
    theme: Theme
    people: Count
    first_input_at: datetime | None
    latest: ThemeEvent | None
    decisions: list = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.theme.status not in (ThemeStatus.DECIDED, ThemeStatus.CLOSED) or (
            self.theme.outcome == Outcome.DEFERRED
        )

    def days_open(self, now: datetime | None = None) -> int | None:
        if self.first_input_at is None:
            return None
        return max(((now or utcnow()) - self.first_input_at).days, 0)


def people_counts(theme_ids: list[int]) -> dict[int, int]:
    """Distinct people credited per theme, plus one per anonymous input."""
    if not theme_ids:
        return {}
    named = dict(
        db.session.execute(
            sa.select(Input.theme_id, sa.func.count(sa.distinct(input_people.c.member_id)))
            .join(input_people, input_people.c.input_id == Input.id)
            .where(Input.theme_id.in_(theme_ids), Input.anonymous.is_(False))
            .group_by(Input.theme_id)
        ).all()
    )
    anonymous = dict(
        db.session.execute(
            sa.select(Input.theme_id, sa.func.count(Input.id))
            .where(
                Input.theme_id.in_(theme_ids),
                sa.or_(Input.anonymous.is_(True), ~sa.exists().where(input_people.c.input_id == Input.id)),
            )
            .group_by(Input.theme_id)
        ).all()
    )
    return {tid: named.get(tid, 0) + anonymous.get(tid, 0) for tid in theme_ids}


def rows_for(committee: Committee) -> list[Row]:
    """Every theme of the committee with input, open ones first, then by latest change."""
    themes = list(
        db.session.scalars(
            sa.select(Theme)
            .where(Theme.committee_id == committee.id, sa.exists().where(Input.theme_id == Theme.id))
            .options(selectinload(Theme.decisions), selectinload(Theme.events))
        )
    )
    ids = [t.id for t in themes]
    counts = people_counts(ids)
    first = (
        dict(
            db.session.execute(
                sa.select(Input.theme_id, sa.func.min(Input.received_at))
                .where(Input.theme_id.in_(ids))
                .group_by(Input.theme_id)
            ).all()
        )
        if ids
        else {}
    )
    rows = [
        Row(
            theme=t,
            people=Count(counts.get(t.id, 0)),
            first_input_at=_aware(first.get(t.id)),
            latest=t.events[-1] if t.events else None,
            decisions=list(t.decisions),
        )
        for t in themes
    ]
    rows.sort(key=lambda r: (not r.is_open, -(r.latest.at.timestamp() if r.latest else 0)))
    return rows


def standing_items(committee: Committee) -> list[Row]:
    """Earlier input still open, with its latest update: the first item on every agenda."""
    return [r for r in rows_for(committee) if r.is_open]


def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC  # noqa: PLC0415

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
