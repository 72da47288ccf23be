"""Agendas and minutes, written per language and posted publicly with their posting
time; and the warnings a coordinator sees when one is late or a language is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.i18n import locales
from engage.models import Committee, DocumentKind, Meeting, MeetingDocument, MeetingStatus, utcnow


def document(meeting: Meeting, kind: DocumentKind, locale: str) -> MeetingDocument | None:
    for doc in meeting.documents:
        if doc.kind == kind and doc.locale == locale:
            return doc
    return None


def save(meeting: Meeting, kind: DocumentKind, locale: str, body: str, *, post: bool, by=None) -> MeetingDocument:
    """Write one language version; ``post`` makes it public now (a posted version stays
    posted when edited: its posting time is kept)."""
    doc = document(meeting, kind, locale)
    if doc is None:
        doc = MeetingDocument(meeting=meeting, kind=kind, locale=locale)
        db.session.add(doc)
    doc.body = body.strip()
    if post and doc.posted_at is None and doc.body:
        doc.posted_at = utcnow()
        doc.posted_by_id = getattr(by, "id", None)
    return doc


def unpost(doc: MeetingDocument) -> None:
    doc.posted_at = None


def posted(meeting: Meeting, kind: DocumentKind) -> dict[str, MeetingDocument]:
    """Posted versions by language."""
    return {d.locale: d for d in meeting.documents if d.kind == kind and d.posted_at is not None and d.body}


def missing_locales(meeting: Meeting, kind: DocumentKind) -> list[str]:
    have = posted(meeting, kind)
    return [loc for loc in locales() if loc not in have]


@dataclass
class Warning:
    meeting: Meeting
    kind: DocumentKind
    missing: list[str]  # languages not posted
    none_posted: bool


def warnings(plan_ids: list[int] | None, now: datetime | None = None) -> list[Warning]:
    """Agendas not posted (or missing a language) for meetings within AGENDA_LEAD_HOURS,
    and minutes not posted for meetings in the last 60 days."""
    now = now or utcnow()
    lead = timedelta(hours=current_app.config["AGENDA_LEAD_HOURS"])
    query = (
        sa.select(Meeting)
        .join(Committee, Committee.id == Meeting.committee_id)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at <= now + lead,
            Meeting.starts_at > now - timedelta(days=60),
        )
        .options(selectinload(Meeting.documents), selectinload(Meeting.committee))
        .order_by(Meeting.starts_at)
    )
    if plan_ids is not None:
        query = query.where(Committee.plan_id.in_(plan_ids))
    found = []
    for meeting in db.session.scalars(query):
        kind = DocumentKind.AGENDA if meeting.starts_at > now else DocumentKind.MINUTES
        missing = missing_locales(meeting, kind)
        if missing:
            found.append(Warning(meeting, kind, missing, none_posted=len(missing) == len(locales())))
    return found


def standing_items(committee: Committee) -> list:
    """The standing agenda item "Earlier input still open, with its latest update": input
    the committee gave that has not yet reached a final decision (engage.feedback.outcomes),
    each with ``title`` (per language) and a one-line summary as its ``str``."""
    from engage.feedback.public_routes import agenda_items  # noqa: PLC0415

    return agenda_items(committee)
