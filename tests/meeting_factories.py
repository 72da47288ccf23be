"""Meetings for tests: ``make_meeting`` and the cast's upcoming meeting in committee A."""

from __future__ import annotations

from datetime import timedelta

from engage.extensions import db
from engage.models import Meeting, MeetingFormat, utcnow


def make_meeting(committee, *, days: float = 10, commit: bool = True, **fields) -> Meeting:
    values = dict(
        format=MeetingFormat.IN_PERSON,
        location_name="Centro Comunitario",
        address="1200 Tulare St, Fresno",
        duration_minutes=90,
        childcare=True,
        interpretation=["spanish", "cantonese"],
        transport=True,
        meals=True,
    )
    values.update(fields)
    starts = values.pop("starts_at", None) or (utcnow() + timedelta(days=days)).replace(microsecond=0)
    meeting = Meeting(committee_id=committee.id, starts_at=starts, **values)
    db.session.add(meeting)
    if commit:
        db.session.commit()
    return meeting


def meeting_a(c) -> int:
    """An upcoming meeting of committee A (made once per test)."""
    import sqlalchemy as sa

    found = db.session.scalar(sa.select(Meeting).where(Meeting.committee_id == c.committee_a.id).limit(1))
    return (found or make_meeting(c.committee_a)).id
