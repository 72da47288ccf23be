"""Meetings from the coordinator's side: one meeting, a regular schedule with a preview
of its dates, changing or cancelling a meeting (people who said yes are texted in their
language), and agendas and minutes written side by side in each language.

Times are typed and shown in ENGAGE_TIMEZONE; engage.meetings.schedule turns them
into UTC (daylight saving included)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from babel.dates import get_timezone_name
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from engage.auth.services import audit
from engage.coordinator import bp
from engage.coordinator.committees import committee_or_404
from engage.coordinator.meeting_forms import (
    OneMeetingForm,
    ScheduleForm,
    apply_changes,
    cancel_form,
    document_form,
    per_language,
    today_local,
    with_languages,
)
from engage.extensions import db
from engage.i18n import any_version, current_locale, fmt_time, format_locale, language_name, locales
from engage.meetings import documents, replies
from engage.meetings import schedule as service
from engage.members.vocab import INTERPRETER_LANGUAGES
from engage.models import Committee, DocumentKind, Meeting, MeetingReply, MeetingStatus, ReplyStatus, utcnow
from engage.security import allow, require_plan

KIND_LABELS = {DocumentKind.AGENDA: _l("Agenda"), DocumentKind.MINUTES: _l("Minutes")}


@bp.app_template_global("coordinator_meeting_url")
def coordinator_meeting_url(meeting_id: int) -> str:
    """The coordinator's page for one meeting (invitations, check-in)."""
    if "coordinator.meeting" in current_app.view_functions:
        return url_for("coordinator.meeting", meeting_id=meeting_id)
    return f"/coordinator/meetings/{meeting_id}"


@bp.app_template_global("spoken_languages")
def spoken_languages(codes) -> str:
    """Interpreted languages by name, in the reader's language."""
    return ", ".join(str(INTERPRETER_LANGUAGES.get(code, code)) for code in codes or [])


@bp.app_template_filter("language_label")
def language_label(locale: str) -> str:
    """A language's name in the reader's language, as a filter (for ``map``)."""
    return language_name(locale)


def zone_name() -> str:
    """ "Pacific Time" in the reader's language: the zone times are typed in."""
    return get_timezone_name(service.zone(), "long", locale=format_locale(current_locale()))


def meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id, options=[joinedload(Meeting.committee).joinedload(Committee.plan)])
    if meeting is None:
        abort(404)
    require_plan(meeting.committee.plan_id)
    return meeting


def local_parts(value: datetime) -> tuple:
    local = value.astimezone(service.zone())
    return local.date(), local.time().replace(second=0, microsecond=0)


def same_day_names(others: list[Meeting]) -> str:
    """The other meetings on a day, by committee and time: "Finance Committee at 10:00 AM; ..."."""
    return "; ".join(
        # TRANSLATORS: another meeting on the same day, e.g. "Children's Committee at 6:00 PM".
        _("%(committee)s at %(time)s", committee=any_version(m.committee.name), time=fmt_time(m.starts_at))
        for m in others
    )


def same_day_warning(others: list[Meeting]) -> str:
    """A warning, not a refusal: the plan already meets that day."""
    return ngettext(
        "This meeting is on the same day as another meeting of the plan: %(meetings)s.",
        "This meeting is on the same day as %(num)d other meetings of the plan: %(meetings)s.",
        len(others),
        meetings=same_day_names(others),
    )


def same_day_preview(committee: Committee, dates: list[datetime]) -> dict[datetime, str]:
    """For a schedule's preview: each date the plan already meets on, with those meetings."""
    clashes = service.same_day(committee.plan_id, dates)
    found = {}
    for when in dates:
        others = clashes.get(service.local_day(when))
        if others:
            found[when] = same_day_names(others)
    return found


def coming_count(meeting: Meeting) -> int:
    """People who said yes or wait for a place: they are texted when it changes."""
    return db.session.scalar(
        sa.select(sa.func.count(MeetingReply.id)).where(
            MeetingReply.meeting_id == meeting.id,
            MeetingReply.status.in_([ReplyStatus.YES, ReplyStatus.WAITLISTED, ReplyStatus.OFFERED]),
        )
    )


# One meeting -----------------------------------------------------------------------------


@bp.route("/committees/<int:committee_id>/meetings/new", methods=["GET", "POST"])
@allow("coordinator", "admin")
def meeting_new(committee_id: int):
    committee = committee_or_404(committee_id)
    langs = locales()
    form = with_languages(OneMeetingForm, langs)()
    form.at.description = zone_name()
    form.set_prep_hint(committee)
    if form.validate_on_submit():
        starts = service.local_to_utc(form.day.data, form.at.data)
        if starts <= utcnow():
            form.day.errors.append(_("Please choose a day and time that have not passed yet."))
        else:
            # Asked before the new meeting is in the session, so it does not find itself.
            others = service.same_day_as(committee.plan_id, starts)
            warning = same_day_warning(others) if others else None
            meeting = service.create_meeting(committee, starts, form.fields(langs))
            db.session.flush()
            audit(current_user, "meeting.created", meeting, committee_id=committee.id)
            db.session.commit()
            flash(_("Meeting added: %(when)s.", when=_when(meeting.starts_at)), "success")
            if warning:
                flash(warning, "warning")
            return redirect(url_for("coordinator.committee", committee_id=committee.id))
    return render_template(
        "coordinator/schedule/meeting_form.html", committee=committee, form=form, langs=langs, meeting=None
    )


def _when(value: datetime) -> str:
    from engage.i18n import fmt_datetime

    return fmt_datetime(value, "full_short")


# A regular schedule ------------------------------------------------------------------------


@bp.route("/committees/<int:committee_id>/schedule", methods=["GET", "POST"])
@allow("coordinator", "admin")
def schedule_new(committee_id: int):
    committee = committee_or_404(committee_id)
    langs = locales()
    form = with_languages(ScheduleForm, langs)(data=None if request.method == "POST" else {"start": today_local()})
    form.at.description = zone_name()
    form.set_prep_hint(committee)
    dates = None
    if form.validate_on_submit():
        rule = service.Rule(
            start=form.start.data,
            at=form.at.data,
            every_months=form.every_months.data,
            weekday=form.weekday.data,
            week=form.week.data,
            count=form.count.data if not form.until.data else None,
            until=form.until.data,
        )
        dates = rule.dates()
        now = utcnow()
        if form.start.data < today_local():
            form.start.errors.append(_("Please choose a day that has not passed yet."))
            dates = None
        elif not dates:
            form.until.errors.append(_("No meeting day falls between these days. Choose a later last day."))
            dates = None
        elif dates[0] <= now:
            form.at.errors.append(_("The first meeting would already have started. Choose a later time or day."))
            dates = None
        elif request.form.get("action") == "create":
            series, made = service.create_series(committee, rule, form.fields(langs), by=current_user)
            db.session.flush()
            audit(current_user, "meeting.series_created", series, committee_id=committee.id, meetings=len(made))
            db.session.commit()
            flash(
                ngettext("%(num)d meeting added.", "%(num)d meetings added.", len(made)),
                "success",
            )
            return redirect(url_for("coordinator.committee", committee_id=committee.id))
    return render_template(
        "coordinator/schedule/schedule_form.html",
        committee=committee,
        form=form,
        langs=langs,
        dates=dates,
        same_day=same_day_preview(committee, dates or []),
        capped=dates is not None and len(dates) >= service.MAX_MEETINGS,
        max_meetings=service.MAX_MEETINGS,
    )


# Changing and cancelling ---------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@allow("coordinator", "admin")
def meeting_edit(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    committee = meeting.committee
    langs = locales()
    if meeting.is_cancelled:
        if request.method == "POST":
            flash(_("This meeting was cancelled, so it cannot be changed."), "warning")
            return redirect(url_for("coordinator.committee", committee_id=committee.id))
        return render_template(
            "coordinator/schedule/meeting_form.html", committee=committee, form=None, langs=langs, meeting=meeting
        )
    Form = with_languages(OneMeetingForm, langs)
    if request.method == "POST":
        form = Form()
    else:
        day, at = local_parts(meeting.starts_at)
        form = Form(data={**OneMeetingForm.data_from(meeting, langs), "day": day, "at": at})
    form.at.description = zone_name()
    form.set_prep_hint(committee)
    if form.validate_on_submit():
        starts = service.local_to_utc(form.day.data, form.at.data)
        # The form holds minutes: a meeting made elsewhere with seconds has not moved.
        moved = starts != meeting.starts_at.replace(second=0, microsecond=0)
        fields = form.fields(langs)
        if moved and starts <= utcnow():
            form.day.errors.append(_("Please choose a day and time that have not passed yet."))
        elif fields["capacity"] is not None and fields["capacity"] < meeting.seats_taken:
            form.capacity.errors.append(
                ngettext(
                    "%(num)d person already has a place. Places cannot be fewer than that.",
                    "%(num)d people already have a place. Places cannot be fewer than that.",
                    meeting.seats_taken,
                )
            )
        else:
            changed = list(apply_changes(meeting, {name: fields[name] for name in service.MEETING_FIELDS}))
            others = service.same_day_as(committee.plan_id, starts, exclude=meeting.id) if moved else []
            warning = same_day_warning(others) if others else None
            texted = replies.reschedule(meeting, starts, by=current_user) if moved else 0
            if changed or moved:
                audit(current_user, "meeting.changed", meeting, fields=changed, moved=moved, texted=texted)
            db.session.commit()
            if moved:
                flash(
                    ngettext(
                        "The meeting has moved to %(when)s. We texted %(num)d person who said yes or is waiting "
                        "for a place.",
                        "The meeting has moved to %(when)s. We texted %(num)d people who said yes or are waiting "
                        "for a place.",
                        texted,
                        when=_when(meeting.starts_at),
                    ),
                    "success",
                )
            else:
                flash(_("Saved.") if changed else _("Nothing changed."), "success")
            if warning:
                flash(warning, "warning")
            return redirect(url_for("coordinator.committee", committee_id=committee.id))
    return render_template(
        "coordinator/schedule/meeting_form.html",
        committee=committee,
        form=form,
        langs=langs,
        meeting=meeting,
        coming=coming_count(meeting),
    )


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@allow("coordinator", "admin")
def meeting_cancel(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    committee = meeting.committee
    langs = locales()
    form = cancel_form(langs)()
    if meeting.is_cancelled:
        flash(_("This meeting is already cancelled."), "warning")
        return redirect(url_for("coordinator.committee", committee_id=committee.id))
    if meeting.starts_at <= utcnow():
        flash(_("This meeting has already started, so it cannot be cancelled."), "warning")
        return redirect(url_for("coordinator.committee", committee_id=committee.id))
    if form.validate_on_submit():
        reason = per_language(form, "reason", langs)
        texted = replies.cancel(meeting, reason=reason, by=current_user)
        audit(current_user, "meeting.cancelled", meeting, texted=texted)
        db.session.commit()
        flash(
            ngettext(
                "The meeting is cancelled. We texted %(num)d person who said yes or is waiting for a place.",
                "The meeting is cancelled. We texted %(num)d people who said yes or are waiting for a place.",
                texted,
            ),
            "success",
        )
        return redirect(url_for("coordinator.committee", committee_id=committee.id))
    return render_template(
        "coordinator/schedule/cancel.html",
        committee=committee,
        meeting=meeting,
        form=form,
        langs=langs,
        coming=coming_count(meeting),
    )


# Agendas and minutes ------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/documents/<kind>", methods=["GET", "POST"])
@allow("coordinator", "admin")
def meeting_documents(meeting_id: int, kind: str):
    if kind not in {k.value for k in DocumentKind}:
        abort(404)
    kind = DocumentKind(kind)
    meeting = meeting_or_404(meeting_id)
    committee = meeting.committee
    langs = locales()
    Form = document_form(langs)
    if request.method == "POST":
        form = Form()
    else:
        form = Form(data={f"body_{loc}": _body(meeting, kind, loc) for loc in langs})
    if form.validate_on_submit():
        action = request.form.get("action", "draft")
        posted_before = set(documents.posted(meeting, kind))
        for loc in langs:
            body = form[f"body_{loc}"].data or ""
            doc = documents.document(meeting, kind, loc)
            if body or doc is not None:
                doc = documents.save(meeting, kind, loc, body, post=action == "post", by=current_user)
                if not doc.body and doc.posted_at is not None:
                    documents.unpost(doc)
            if action == f"unpost:{loc}" and doc is not None and doc.posted_at is not None:
                documents.unpost(doc)
        db.session.flush()
        posted_now = set(documents.posted(meeting, kind))
        audit(
            current_user,
            f"meeting.{kind.value}_saved",
            meeting,
            posted=sorted(posted_now - posted_before),
            unposted=sorted(posted_before - posted_now),
        )
        db.session.commit()
        missing = documents.missing_locales(meeting, kind)
        if action == "post" and missing:
            flash(
                _(
                    "Posted. Still missing: %(languages)s.",
                    languages=", ".join(language_name(loc) for loc in missing),
                ),
                "warning",
            )
        elif action == "post":
            flash(_("Posted in every language."), "success")
        elif action.startswith("unpost:"):
            flash(_("Taken down. It is no longer public."), "success")
        else:
            flash(_("Draft saved. It is not public yet."), "success")
        return redirect(url_for("coordinator.meeting_documents", meeting_id=meeting.id, kind=kind.value))
    lead_hours = current_app.config["AGENDA_LEAD_HOURS"]
    late = [w for w in documents.warnings([committee.plan_id]) if w.meeting.id == meeting.id and w.kind == kind]
    return render_template(
        "coordinator/schedule/documents.html",
        committee=committee,
        meeting=meeting,
        kind=kind,
        kind_label=KIND_LABELS[kind],
        form=form,
        langs=langs,
        docs={loc: documents.document(meeting, kind, loc) for loc in langs},
        late=late[0] if late else None,
        late_languages=", ".join(language_name(loc) for loc in late[0].missing) if late else "",
        lead_hours=lead_hours,
        standing=documents.standing_items(committee) if kind == DocumentKind.AGENDA else None,
    )


def _body(meeting: Meeting, kind: DocumentKind, loc: str) -> str:
    doc = documents.document(meeting, kind, loc)
    return doc.body if doc is not None else ""


# The coordinator's first screen -----------------------------------------------------------


def upcoming(plan_ids: set[int] | None, days: int = 7) -> list[tuple[Meeting, int, int]]:
    """Scheduled meetings in the next ``days``, with how many said yes and how many of
    them asked for a support, in two queries."""
    now = utcnow()
    query = (
        sa.select(Meeting)
        .join(Committee, Committee.id == Meeting.committee_id)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + timedelta(days=days),
        )
        .options(selectinload(Meeting.committee))
        .order_by(Meeting.starts_at)
    )
    if plan_ids is not None:
        query = query.where(Committee.plan_id.in_(plan_ids))
    meetings = db.session.scalars(query).all()
    if not meetings:
        return []
    rows = db.session.execute(
        sa.select(MeetingReply.meeting_id, MeetingReply.needs).where(
            MeetingReply.meeting_id.in_([m.id for m in meetings]), MeetingReply.status == ReplyStatus.YES
        )
    ).all()
    yes: dict[int, int] = {}
    needs: dict[int, int] = {}
    for meeting_id, asked in rows:
        yes[meeting_id] = yes.get(meeting_id, 0) + 1
        if asked:
            needs[meeting_id] = needs.get(meeting_id, 0) + 1
    return [(m, yes.get(m.id, 0), needs.get(m.id, 0)) for m in meetings]
