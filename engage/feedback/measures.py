"""Measures for the plan and the state: the share of input that reached a decision,
median days from input to decision and to the loop closed, input still open after 90
days — overall and by topic, language, county and race/ethnicity (where people shared
it). Each person's input counts once per group they belong to; anonymous input counts
under "not known"."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

import sqlalchemy as sa

from engage.extensions import db
from engage.models import Input, LoopMessage, LoopStage, Member, Theme, ThemeStatus, input_people, utcnow

OPEN_DAYS = 90
UNKNOWN = "unknown"
DIMENSIONS = ("topic", "language", "county", "race_ethnicity")


@dataclass
class Group:
    total: int = 0
    decided: int = 0
    open_90: int = 0
    days_to_decision: list = field(default_factory=list)
    days_to_closed: list = field(default_factory=list)

    @property
    def share_decided(self) -> float | None:
        return None if not self.total else round(100 * self.decided / self.total, 1)

    @property
    def median_days_to_decision(self) -> float | None:
        return round(statistics.median(self.days_to_decision), 1) if self.days_to_decision else None

    @property
    def median_days_to_closed(self) -> float | None:
        return round(statistics.median(self.days_to_closed), 1) if self.days_to_closed else None


@dataclass
class Measures:
    overall: Group
    by: dict  # dimension -> {value: Group}


def _day_end(d) -> datetime:
    return datetime.combine(d, time(12, 0), tzinfo=UTC)


def compute(
    plan_ids, now: datetime | None = None, *, since: datetime | None = None, until: datetime | None = None
) -> Measures:
    """The measures of the input of these plans (``None``: every plan) received from
    ``since`` (included) until ``until`` (not included); either may be ``None`` (no
    limit). Three queries, however much input there is."""
    now = now or utcnow()
    query = sa.select(Input, Theme).outerjoin(Theme, Theme.id == Input.theme_id)
    if plan_ids is not None:
        query = query.where(Input.plan_id.in_(plan_ids))
    if since is not None:
        query = query.where(Input.received_at >= since)
    if until is not None:
        query = query.where(Input.received_at < until)
    rows = db.session.execute(query).all()
    input_ids = [i.id for i, _t in rows]
    people: dict[int, list[Member]] = defaultdict(list)
    if input_ids:
        for input_id, member in db.session.execute(
            sa.select(input_people.c.input_id, Member)
            .join(Member, Member.id == input_people.c.member_id)
            .where(input_people.c.input_id.in_(input_ids))
        ):
            people[input_id].append(member)
    # When the loop closed for each (theme, person): the decided text delivered.
    closed_query = sa.select(LoopMessage.theme_id, LoopMessage.member_id, LoopMessage.delivered_at).where(
        LoopMessage.stage == LoopStage.DECIDED, LoopMessage.delivered_at.is_not(None)
    )
    if plan_ids is not None:
        closed_query = closed_query.where(
            LoopMessage.theme_id.in_(sa.select(Theme.id).where(Theme.plan_id.in_(plan_ids)))
        )
    closed = {(t, m): d for t, m, d in db.session.execute(closed_query)}
    overall = Group()
    by: dict = {d: defaultdict(Group) for d in DIMENSIONS}
    for item, theme in rows:
        decided = (
            theme is not None
            and theme.decided_on is not None
            and theme.status
            in (
                ThemeStatus.DECIDED,
                ThemeStatus.CLOSED,
            )
        )
        received = item.received_at
        to_decision = (_day_end(theme.decided_on) - received).total_seconds() / 86400 if decided else None
        credited = [] if item.anonymous else people.get(item.id, [])
        closed_times = [closed[(theme.id, p.id)] for p in credited if theme is not None and (theme.id, p.id) in closed]
        to_closed = (
            (max(c if c.tzinfo else c.replace(tzinfo=UTC) for c in closed_times) - received).total_seconds() / 86400
            if closed_times
            else None
        )
        still_open_90 = not decided and (now - received).days >= OPEN_DAYS
        groups = [overall]
        groups.append(by["topic"][item.topic.value])
        groups.append(by["language"][item.locale])
        counties = {p.county or UNKNOWN for p in credited} or {UNKNOWN}
        groups.extend(by["county"][c] for c in sorted(counties))
        races = {r for p in credited for r in (p.race_ethnicity or [])} or {UNKNOWN}
        groups.extend(by["race_ethnicity"][r] for r in sorted(races))
        for g in groups:
            g.total += 1
            g.decided += int(decided)
            g.open_90 += int(still_open_90)
            if to_decision is not None:
                g.days_to_decision.append(max(to_decision, 0))
            if to_closed is not None:
                g.days_to_closed.append(max(to_closed, 0))
    return Measures(overall=overall, by={d: dict(sorted(v.items())) for d, v in by.items()})


CSV_COLUMNS = [
    "dimension",
    "group",
    "input",
    "with_decision",
    "share_with_decision_percent",
    "median_days_to_decision",
    "median_days_to_loop_closed",
    "open_after_90_days",
]


def to_csv(measures: Measures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)

    def line(dimension: str, name: str, g: Group) -> None:
        writer.writerow(
            [
                dimension,
                name,
                g.total,
                g.decided,
                "" if g.share_decided is None else g.share_decided,
                "" if g.median_days_to_decision is None else g.median_days_to_decision,
                "" if g.median_days_to_closed is None else g.median_days_to_closed,
                g.open_90,
            ]
        )

    line("all", "all", measures.overall)
    for dimension, groups in measures.by.items():
        for name, g in groups.items():
            line(dimension, name, g)
    return out.getvalue()
