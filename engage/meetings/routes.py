"""Public meeting pages and calendar files."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, render_template
from flask_login import current_user

from engage.extensions import db
from engage.meetings import bp, calendar
from engage.models import Committee, Meeting, MeetingReply, ReplyStatus
from engage.security import public


def _public_meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.committee.is_public:
        abort(404)
    return meeting


def _my_reply(meeting: Meeting) -> MeetingReply | None:
    if not getattr(current_user, "is_member", False):
        return None
    return db.session.scalar(
        sa.select(MeetingReply).where(MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == current_user.id)
    )


@bp.get("/meetings/<int:meeting_id>")
@public
def show(meeting_id: int):
    meeting = _public_meeting(meeting_id)
    return render_template("meetings/show.html", meeting=meeting, reply=_my_reply(meeting))


@bp.get("/meetings/<int:meeting_id>.ics")
@public
def ics(meeting_id: int):
    meeting = _public_meeting(meeting_id)
    reply = _my_reply(meeting)
    body = calendar.for_meeting(meeting, with_link=reply is not None and reply.status == ReplyStatus.YES)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}.ics"'},
    )


@bp.get("/committees/<slug>/calendar.ics")
@public
def committee_feed(slug: str):
    committee = db.session.scalar(sa.select(Committee).where(Committee.slug == slug, Committee.is_public.is_(True)))
    if committee is None:
        abort(404)
    meetings = db.session.scalars(
        sa.select(Meeting).where(Meeting.committee_id == committee.id).order_by(Meeting.starts_at)
    ).all()
    return Response(
        calendar.for_committee(committee, meetings),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{committee.slug}.ics"'},
    )
