"""The coordinator's committees: the list with roster counts and warnings, one
committee's roster and settings, adding someone to the roster and changing a seat."""

from __future__ import annotations

from datetime import date, time

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from engage.auth.services import audit
from engage.coordinator import bp
from engage.coordinator.inbox import visible_committees
from engage.coordinator.meeting_forms import (
    AddSeatForm,
    CommitteeSettingsForm,
    EditSeatForm,
    SearchForm,
    apply_changes,
)
from engage.extensions import db
from engage.i18n import any_version
from engage.meetings import rosters
from engage.meetings.schedule import local_day, local_to_utc
from engage.models import Committee, CommitteeMembership, Meeting, MeetingStatus, RosterRole, RosterStatus, utcnow
from engage.security import allow, require_plan

UPCOMING = 6  # meetings shown on a committee's page


def committee_or_404(committee_id: int) -> Committee:
    committee = db.session.get(Committee, committee_id, options=[joinedload(Committee.plan)])
    if committee is None:
        abort(404)
    require_plan(committee.plan_id)
    return committee


def next_meetings(committee_ids: list[int]) -> dict[int, Meeting]:
    """Each committee's next scheduled meeting, in one query."""
    if not committee_ids:
        return {}
    now = utcnow()
    first = (
        sa.select(Meeting.committee_id, sa.func.min(Meeting.starts_at).label("starts_at"))
        .where(
            Meeting.committee_id.in_(committee_ids),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
        )
        .group_by(Meeting.committee_id)
        .subquery()
    )
    rows = db.session.scalars(
        sa.select(Meeting)
        .join(first, sa.and_(first.c.committee_id == Meeting.committee_id, first.c.starts_at == Meeting.starts_at))
        .where(Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Meeting.id)
    ).all()
    found: dict[int, Meeting] = {}
    for m in rows:
        found.setdefault(m.committee_id, m)
    return found


def to_date(value) -> date | None:
    """A stored term boundary (UTC) as the local day it stands for."""
    return local_day(value) if value is not None else None


def to_stored(day: date | None):
    return local_to_utc(day, time(0, 0)) if day is not None else None


@bp.get("/committees")
@allow("coordinator", "admin")
def committees():
    found = visible_committees()
    ids = [c.id for c in found]
    counts = rosters.counts(ids)
    return render_template(
        "coordinator/committees/list.html",
        committees=found,
        counts=counts,
        warnings={c.id: rosters.warnings(c, counts[c.id]) for c in found},
        next_meetings=next_meetings(ids),
        several_plans=len({c.plan_id for c in found}) > 1,
    )


@bp.route("/committees/<int:committee_id>", methods=["GET", "POST"])
@allow("coordinator", "admin")
def committee(committee_id: int):
    committee = committee_or_404(committee_id)
    form = CommitteeSettingsForm(obj=committee)
    if form.validate_on_submit():
        changes = apply_changes(
            committee,
            {
                "min_members": form.min_members.data,
                "max_members": form.max_members.data,
                "consumer_majority": bool(form.consumer_majority.data),
            },
        )
        if changes:
            audit(current_user, "committee.roster_rules_changed", committee, changes=changes)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("coordinator.committee", committee_id=committee.id))
    seats = rosters.seats(committee)
    counts = rosters.counts([committee.id])[committee.id]
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.committee_id == committee.id, Meeting.starts_at > utcnow())
        .order_by(Meeting.starts_at)
        .limit(UPCOMING)
    ).all()
    return render_template(
        "coordinator/committees/show.html",
        committee=committee,
        form=form,
        seats=seats,
        counts=counts,
        warnings=rosters.warnings(committee, counts),
        meetings=meetings,
        role_labels=rosters.ROLE_LABELS,
        status_labels=rosters.STATUS_LABELS,
    )


@bp.route("/committees/<int:committee_id>/roster/add", methods=["GET", "POST"])
@allow("coordinator", "admin")
def roster_add(committee_id: int):
    committee = committee_or_404(committee_id)
    search = SearchForm(request.args)
    form = AddSeatForm()
    text = (form.q.data if request.method == "POST" else search.q.data) or ""
    found = rosters.search(committee, text) if (search.validate() or request.method == "POST") else []
    chosen = rosters.candidate(committee, request.form.get("member_id", type=int)) if request.method == "POST" else None
    choices = [(m.id, m.display_name or _("Name not given")) for m, seated in found if not seated]
    if chosen is not None and chosen.id not in {c[0] for c in choices}:
        choices.append((chosen.id, chosen.display_name or _("Name not given")))
    form.member_id.choices = choices
    if request.method == "GET":
        form.q.data = text
    if form.validate_on_submit():
        try:
            rosters.add_seat(
                committee,
                chosen,
                role=RosterRole(form.role.data),
                is_consumer=bool(form.is_consumer.data),
                term_start=to_stored(form.term_start.data),
                term_end=to_stored(form.term_end.data),
                by=current_user,
            )
        except rosters.RosterError as exc:
            form.member_id.errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                _("%(name)s now has a seat in this group.", name=chosen.display_name or _("Name not given")), "success"
            )
            return redirect(url_for("coordinator.committee", committee_id=committee.id))
    return render_template(
        "coordinator/committees/add_seat.html",
        committee=committee,
        search=search,
        form=form,
        found=found,
        searched=bool(text),
    )


@bp.route("/committees/<int:committee_id>/roster/<int:seat_id>", methods=["GET", "POST"])
@allow("coordinator", "admin")
def seat_edit(committee_id: int, seat_id: int):
    committee = committee_or_404(committee_id)
    seat = db.session.scalar(
        sa.select(CommitteeMembership)
        .where(CommitteeMembership.id == seat_id, CommitteeMembership.committee_id == committee.id)
        .options(joinedload(CommitteeMembership.member))
    )
    if seat is None or seat.member.deleted_at is not None:
        abort(404)
    form = EditSeatForm(
        data=None
        if request.method == "POST"
        else {
            "role": seat.role.value,
            "status": seat.status.value,
            "is_consumer": seat.is_consumer,
            "term_start": to_date(seat.term_start),
            "term_end": to_date(seat.term_end),
        }
    )
    if form.validate_on_submit():
        try:
            changed = rosters.update_seat(
                seat,
                by=current_user,
                role=RosterRole(form.role.data),
                status=RosterStatus(form.status.data),
                is_consumer=bool(form.is_consumer.data),
                term_start=to_stored(form.term_start.data),
                term_end=to_stored(form.term_end.data),
            )
        except rosters.RosterError as exc:
            form.term_end.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("coordinator.committee", committee_id=committee.id))
    return render_template(
        "coordinator/committees/seat.html",
        committee=committee,
        seat=seat,
        form=form,
        committee_name=any_version(committee.name),
    )
