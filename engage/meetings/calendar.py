"""Invitations for people's calendars, built with ``icalendar``: one meeting or a
committee's feed, with the time zone, a SEQUENCE raised on every change, and
STATUS:CANCELLED for a cancelled meeting."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone

from engage.i18n import any_version, localized
from engage.models import Committee, Meeting, MeetingFormat, utcnow


def meeting_title(meeting: Meeting) -> str:
    own = localized(meeting.title).text
    return own or any_version(meeting.committee.name) or _("Parent advisory group")


def _uid(meeting: Meeting) -> str:
    host = current_app.config["PUBLIC_BASE_URL"].split("://", 1)[-1].split("/", 1)[0] or "engage"
    return f"meeting-{meeting.id}@{host}"


def _event(meeting: Meeting, zone: ZoneInfo, *, with_link: bool) -> Event:
    event = Event()
    event.add("uid", _uid(meeting))
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", meeting_title(meeting))
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    page = current_app.config["PUBLIC_BASE_URL"] + url_for("meetings.show", meeting_id=meeting.id)
    event.add("url", page)
    where = ", ".join(part for part in (meeting.location_name, meeting.address) if part)
    if meeting.format != MeetingFormat.IN_PERSON:
        where = ", ".join(p for p in (where, _("Online")) if p)
    if where:
        event.add("location", where)
    lines = [page]
    if with_link and meeting.online_url and meeting.format != MeetingFormat.IN_PERSON:
        lines.insert(0, meeting.online_url)
    event.add("description", "\n".join(lines))
    return event


def build(meetings: Iterable[Meeting], *, name: str, with_link: bool = False) -> bytes:
    zone_name = current_app.config["ENGAGE_TIMEZONE"]
    zone = ZoneInfo(zone_name)
    meetings = list(meetings)
    cal = Calendar()
    cal.add("prodid", "-//engage//meetings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", zone_name)
    if meetings:
        first = min(m.starts_at for m in meetings)
        last = max(m.ends_at for m in meetings)
        cal.add_component(Timezone.from_tzinfo(zone, tzid=zone_name, first_date=first.date(), last_date=last.date()))
    for meeting in meetings:
        cal.add_component(_event(meeting, zone, with_link=with_link))
    return cal.to_ical()


def for_meeting(meeting: Meeting, *, with_link: bool = False) -> bytes:
    return build([meeting], name=meeting_title(meeting), with_link=with_link)


def for_committee(committee: Committee, meetings: Iterable[Meeting]) -> bytes:
    return build(meetings, name=any_version(committee.name) or _("Parent advisory group"))
