"""Creating and changing meetings: one at a time, or a year of them from a regular
schedule ("second Tuesday of every third month at 6 pm") with dateutil's rrule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil import rrule
from flask import current_app
from sqlalchemy.orm import contains_eager

from engage.extensions import db
from engage.models import Committee, Meeting, MeetingSeries, MeetingStatus

WEEKDAYS = [rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU]
# Fields a new meeting copies from the form (or from the series' template).
MEETING_FIELDS = (
    "duration_minutes",
    "format",
    "title",
    "location_name",
    "address",
    "accessibility_notes",
    "online_url",
    "capacity",
    "childcare",
    "interpretation",
    "transport",
    "meals",
    "stipend_amount",
    "stipend_prep_amount",
)
MAX_MEETINGS = 60  # a series never makes more than this many at once


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in ENGAGE_TIMEZONE, as UTC (daylight saving handled by zoneinfo)."""
    return datetime.combine(day, at, tzinfo=zone()).astimezone(UTC)


def local_day(value: datetime) -> date:
    """The day in ENGAGE_TIMEZONE that a stored (UTC) time falls on."""
    return value.astimezone(zone()).date()


def same_day(plan_id: int, starts: Iterable[datetime], *, exclude: int | None = None) -> dict[date, list[Meeting]]:
    """The plan's other meetings (not cancelled) on the same local day as any of
    ``starts``: ``{local day: [meetings, by time]}``, only days that have some.

    One query over the range of days, however many meetings are asked about; their
    committees come with them. Run it before adding a new meeting to the session."""
    days = {local_day(s) for s in starts}
    if not days:
        return {}
    query = (
        sa.select(Meeting)
        .join(Committee, Committee.id == Meeting.committee_id)
        .options(contains_eager(Meeting.committee))
        .where(
            Committee.plan_id == plan_id,
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at >= local_to_utc(min(days), time.min),
            Meeting.starts_at < local_to_utc(max(days) + timedelta(days=1), time.min),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if exclude is not None:
        query = query.where(Meeting.id != exclude)
    found: dict[date, list[Meeting]] = {}
    for meeting in db.session.scalars(query):
        day = local_day(meeting.starts_at)
        if day in days:
            found.setdefault(day, []).append(meeting)
    return found


def same_day_as(plan_id: int, starts: datetime, *, exclude: int | None = None) -> list[Meeting]:
    """The plan's other meetings on the local day of ``starts`` (see same_day)."""
    return same_day(plan_id, [starts], exclude=exclude).get(local_day(starts), [])


@dataclass
class Rule:
    """A regular schedule, as a coordinator picks it."""

    start: date  # the first possible day
    at: time  # the local time of day
    every_months: int = 1  # 1 = monthly, 3 = quarterly...
    weekday: int = 1  # 0 = Monday
    week: int = 2  # 1..4 = first..fourth, -1 = last
    count: int | None = 4  # how many meetings
    until: date | None = None

    def rrule(self) -> rrule.rrule:
        return rrule.rrule(
            rrule.MONTHLY,
            interval=self.every_months,
            byweekday=WEEKDAYS[self.weekday](self.week),
            dtstart=datetime.combine(self.start, self.at),
            count=None if self.until else min(self.count or 1, MAX_MEETINGS),
            until=datetime.combine(self.until, time(23, 59)) if self.until else None,
        )

    def rule_text(self) -> str:
        """RFC 5545 RRULE, without DTSTART."""
        return str(self.rrule()).split("\n")[-1].removeprefix("RRULE:")

    def settings(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "at": self.at.strftime("%H:%M"),
            "every_months": self.every_months,
            "weekday": self.weekday,
            "week": self.week,
            "count": self.count,
            "until": self.until.isoformat() if self.until else None,
        }

    def dates(self) -> list[datetime]:
        """The meetings' start times in UTC."""
        return [local_to_utc(d.date(), self.at) for d in list(self.rrule())[:MAX_MEETINGS]]


def create_meeting(committee: Committee, starts_at: datetime, fields: dict, *, series: MeetingSeries | None = None):
    meeting = Meeting(committee_id=committee.id, committee=committee, starts_at=starts_at, series=series)
    for name in MEETING_FIELDS:
        if name in fields and fields[name] is not None:
            setattr(meeting, name, fields[name])
    db.session.add(meeting)
    return meeting


def create_series(committee: Committee, rule: Rule, fields: dict, *, by=None) -> tuple[MeetingSeries, list[Meeting]]:
    series = MeetingSeries(
        committee_id=committee.id,
        rule=rule.rule_text(),
        settings=rule.settings(),
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(series)
    db.session.flush()
    meetings = [create_meeting(committee, when, fields, series=series) for when in rule.dates()]
    return series, meetings


def next_occurrences(rule: Rule, limit: int = 6) -> list[datetime]:
    """A preview of the first few dates, for the form."""
    return rule.dates()[:limit]


def default_duration() -> timedelta:
    return timedelta(minutes=90)
