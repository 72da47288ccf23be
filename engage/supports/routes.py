"""Asking for supports and arranging them: parents on the web, CBO staff for a family, coordinators.

One form for everyone (``SupportForm``); the rules are in ``services``. A parent may ask
only for meetings of their own plan that are still to come; CBO staff only for their
own organisation's families; coordinators only in their plans (another plan is a 404).
The coordinator's list makes the same number of queries however many requests there are.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from engage.auth.services import audit
from engage.coordinator.forms import ConfirmForm, committee_label
from engage.coordinator.inbox import several_plans, visible_committees
from engage.extensions import db
from engage.i18n import any_version, fmt_datetime, language_name, locales
from engage.meetings import replies
from engage.models import (
    Committee,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    OutboxMessage,
    Plan,
    ReplyStatus,
    RequestedVia,
    SupportKind,
    SupportRequest,
    SupportStatus,
    utcnow,
)
from engage.partner.roster import _cell
from engage.security import allow, require_organisation, require_plan, visible_plan_ids
from engage.supports import bp, services, stipends, vocab
from engage.supports.forms import ArrangeForm, FairnessFilterForm, OutcomeForm, SupportFilterForm, SupportForm

PER_PAGE = 100
# How many requests of meetings already held, still waiting for what happened, are listed.
PAST_LIMIT = 100
# How many coming meetings a family's page lists.
FAMILY_MEETINGS = 20

VIA_LABELS = {
    RequestedVia.WEB: _l("On the web"),
    RequestedVia.SMS: _l("By text"),
    RequestedVia.CBO: _l("By a community organisation"),
    RequestedVia.STAFF: _l("By staff"),
}
REPLY_LABELS = {
    ReplyStatus.YES: _l("Coming"),
    ReplyStatus.WAITLISTED: _l("On the waiting list"),
    ReplyStatus.OFFERED: _l("Offered a place"),
    ReplyStatus.NO: _l("Said no"),
    ReplyStatus.INVITED: _l("Not answered yet"),
}
ERRORS = {
    SupportStatus.CANCELLED: _l("This request was withdrawn, so it cannot be changed. Ask for it again first."),
    SupportStatus.DELIVERED: _l("What happened at the meeting is already recorded for this request."),
    SupportStatus.NOT_DELIVERED: _l("What happened at the meeting is already recorded for this request."),
    SupportStatus.REQUESTED: _l("Only a support that was arranged can be marked as confirmed."),
    SupportStatus.CONFIRMED: _l("This support is already confirmed to the parent."),
    "reason": _l("Please say why it was not provided."),
}


def error_message(exc: services.SupportError) -> str:
    key = exc.args[0] if exc.args else None
    return str(ERRORS.get(key, _l("This change is not possible now. Reload the page to see the latest.")))


def display_name(member: Member) -> str:
    return member.display_name or _("Name not given")


def _load_meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id, options=[joinedload(Meeting.committee).joinedload(Committee.plan)])
    if meeting is None:
        abort(404)
    return meeting


def _ordered(rows) -> list[SupportRequest]:
    order = list(SupportKind)
    return sorted(rows, key=lambda r: order.index(r.kind))


# The one form -------------------------------------------------------------------------------


def _prefill(form: SupportForm, meeting: Meeting, member: Member) -> str | None:
    """What this person asked for this meeting; else the same as last time (and say so);
    else a first guess from what we know (nothing ticked)."""
    current = services.requests_for(meeting, member)
    if current:
        form.load(
            {k: r.details for k, r in current.items()},
            {k for k, r in current.items() if r.status in services.LIVE},
        )
        return None
    last = services.last_details(member, before=meeting)
    if last:
        guesses = {k: services.default_details(member, k) for k in SupportKind}
        form.load({**guesses, **last}, set(last))
        return "last_time"
    form.load({k: services.default_details(member, k) for k in SupportKind}, set())
    return None


def _support_form(meeting: Meeting, member: Member, *, via: RequestedVia, action: str, on_saved, **context):
    """GET shows the form; a valid POST saves every support and calls ``on_saved(rows)``."""
    if not services.may_ask(meeting, member):
        return render_template("support/closed.html", meeting=meeting, member=member, **context)
    form = SupportForm()
    form.set_choices(meeting.interpretation)
    prefilled = None
    if form.validate_on_submit():
        by = None if via == RequestedVia.WEB else current_user._get_current_object()
        rows = services.set_requests(meeting, member, form.wanted(), via=via, by=by)
        if by is not None:
            audit(by, "support.request", member, meeting_id=meeting.id, kinds=[str(r.kind) for r in rows], via=str(via))
        db.session.commit()
        return on_saved(rows)
    if not form.is_submitted():
        prefilled = _prefill(form, meeting, member)
    return render_template(
        "support/form.html",
        meeting=meeting,
        member=member,
        form=form,
        action=action,
        prefilled=prefilled,
        **context,
    )


# A parent --------------------------------------------------------------------------------------


def _parent_meeting(meeting_id: int) -> tuple[Meeting, Member]:
    """A meeting of the signed-in parent's own plan (any other is hidden)."""
    member = current_user._get_current_object()
    meeting = _load_meeting(meeting_id)
    if member.plan_id is None or meeting.committee.plan_id != member.plan_id:
        abort(404)
    return meeting, member


@bp.route("/meetings/<int:meeting_id>/support", methods=["GET", "POST"])
@allow("parent")
def parent_form(meeting_id: int):
    meeting, member = _parent_meeting(meeting_id)
    return _support_form(
        meeting,
        member,
        via=RequestedVia.WEB,
        action=url_for("support.parent_form", meeting_id=meeting.id),
        on_saved=lambda rows: redirect(url_for("support.parent_next", meeting_id=meeting.id)),
        for_parent=True,
        back=_back_to_meeting(meeting),
    )


def _back_to_meeting(meeting: Meeting) -> str:
    if meeting.committee.is_public:
        return url_for("meetings.show", meeting_id=meeting.id)
    return url_for("me.index")


@bp.get("/meetings/<int:meeting_id>/support/next")
@allow("parent")
def parent_next(meeting_id: int):
    meeting, member = _parent_meeting(meeting_id)
    rows = _ordered(r for r in services.requests_for(meeting, member).values() if r.status != SupportStatus.CANCELLED)
    return render_template(
        "support/next.html",
        meeting=meeting,
        rows=rows,
        can_text=replies.can_text(member),
        can_change=services.may_ask(meeting, member),
        back=_back_to_meeting(meeting),
        support_label=vocab.support_label,
        plain_details=services.plain_details,
        parent_statuses=vocab.PARENT_STATUSES,
    )


# CBO staff, for one of their families ----------------------------------------------------------


def _family_or_404(member_id: int) -> Member:
    from engage.partner.families import family_or_404  # noqa: PLC0415

    member = family_or_404(member_id)
    require_organisation(member.organisation_id)
    return member


def _coming_meetings(member: Member) -> list[Meeting]:
    """Meetings of the family's plan still to come: public committees' and any they were invited to."""
    if member.plan_id is None:
        return []
    invited = sa.exists().where(MeetingReply.meeting_id == Meeting.id, MeetingReply.member_id == member.id)
    return list(
        db.session.scalars(
            sa.select(Meeting)
            .join(Committee, Committee.id == Meeting.committee_id)
            .where(
                Committee.plan_id == member.plan_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at > utcnow(),
                sa.or_(Committee.is_public.is_(True), invited),
            )
            .options(contains_eager(Meeting.committee))
            .order_by(Meeting.starts_at, Meeting.id)
            .limit(FAMILY_MEETINGS)
        )
    )


@bp.get("/partner/families/<int:member_id>")
@allow("cbo")
def family(member_id: int):
    member = _family_or_404(member_id)
    meetings = _coming_meetings(member)
    ids = [m.id for m in meetings]
    answers = {
        r.meeting_id: r
        for r in db.session.scalars(
            sa.select(MeetingReply).where(MeetingReply.member_id == member.id, MeetingReply.meeting_id.in_(ids))
        )
    }
    supports: dict[int, list[SupportRequest]] = {}
    for row in db.session.scalars(
        sa.select(SupportRequest).where(
            SupportRequest.member_id == member.id,
            SupportRequest.meeting_id.in_(ids),
            SupportRequest.status != SupportStatus.CANCELLED,
        )
    ):
        supports.setdefault(row.meeting_id, []).append(row)
    return render_template(
        "support/family.html",
        member=member,
        meetings=meetings,
        answers=answers,
        supports={k: _ordered(v) for k, v in supports.items()},
        reply_labels=REPLY_LABELS,
        status_labels=vocab.STATUSES,
        support_label=vocab.support_label,
        can_text=replies.can_text(member),
    )


@bp.route("/partner/families/<int:member_id>/support/<int:meeting_id>", methods=["GET", "POST"])
@allow("cbo")
def family_form(member_id: int, meeting_id: int):
    member = _family_or_404(member_id)
    meeting = _load_meeting(meeting_id)
    if member.plan_id is None or meeting.committee.plan_id != member.plan_id:
        abort(404)

    def saved(rows):
        flash(_("Saved what %(name)s needs for this meeting.", name=display_name(member)), "success")
        return redirect(url_for("support.family", member_id=member.id))

    return _support_form(
        meeting,
        member,
        via=RequestedVia.CBO,
        action=url_for("support.family_form", member_id=member.id, meeting_id=meeting.id),
        on_saved=saved,
        for_parent=False,
        nav="partner",
        back=url_for("support.family", member_id=member.id),
    )


# The coordinator --------------------------------------------------------------------------------


def _staff_member_or_404(meeting: Meeting, member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None or member.deleted_at is not None or member.plan_id != meeting.committee.plan_id:
        abort(404)
    return member


@bp.route("/coordinator/meetings/<int:meeting_id>/support/<int:member_id>", methods=["GET", "POST"])
@allow("coordinator", "admin")
def staff_form(meeting_id: int, member_id: int):
    meeting = _load_meeting(meeting_id)
    require_plan(meeting.committee.plan_id)
    member = _staff_member_or_404(meeting, member_id)

    def saved(rows):
        flash(_("Saved what %(name)s needs for this meeting.", name=display_name(member)), "success")
        return redirect(url_for("support.coordinator_list"))

    return _support_form(
        meeting,
        member,
        via=RequestedVia.STAFF,
        action=url_for("support.staff_form", meeting_id=meeting.id, member_id=member.id),
        on_saved=saved,
        for_parent=False,
        nav="coordinator",
        back=url_for("support.coordinator_list"),
    )


def _filters() -> tuple[SupportFilterForm, list[Committee], dict[int, str], dict[str, str]]:
    committees = visible_committees()
    several = several_plans(committees)
    labels = {c.id: committee_label(c, several) for c in committees}
    form = SupportFilterForm(request.args)
    form.set_choices(committees, lambda c: labels[c.id], locales())
    if not form.validate():
        for name in ("committee", "kind", "status", "language"):
            if form[name].errors:
                form[name].data = form[name].default
    args = {
        k: v
        for k, v in (
            ("committee", form.committee.data or None),
            ("kind", form.kind.data or None),
            ("status", form.status.data if form.status.data != form.status.default else None),
            ("language", form.language.data or None),
        )
        if v
    }
    return form, committees, labels, args


def _scoped_query(form: SupportFilterForm) -> sa.Select:
    query = (
        sa.select(SupportRequest)
        .join(Meeting, Meeting.id == SupportRequest.meeting_id)
        .join(Committee, Committee.id == Meeting.committee_id)
        .join(Member, Member.id == SupportRequest.member_id)
        .where(Meeting.status == MeetingStatus.SCHEDULED)
        .options(
            contains_eager(SupportRequest.meeting).contains_eager(Meeting.committee),
            contains_eager(SupportRequest.member),
        )
    )
    allowed = visible_plan_ids()
    if allowed is not None:
        query = query.where(Committee.plan_id.in_(allowed))
    if form.committee.data:
        query = query.where(Committee.id == form.committee.data)
    if form.kind.data:
        query = query.where(SupportRequest.kind == SupportKind(form.kind.data))
    statuses = form.statuses()
    if statuses is not None:
        query = query.where(SupportRequest.status.in_(statuses))
    if form.language.data:
        query = query.where(Member.locale == form.language.data)
    return query


@bp.get("/coordinator/supports")
@allow("coordinator", "admin")
def coordinator_list():
    form, _committees, labels, args = _filters()
    now = utcnow()
    plan_ids = visible_plan_ids()
    flagged = services.flagged(plan_ids, now)
    base = _scoped_query(form)
    page = db.paginate(
        base.where(Meeting.starts_at > now).order_by(
            Meeting.starts_at, Meeting.id, Member.display_name, SupportRequest.id
        ),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    past = db.session.scalars(
        base.where(Meeting.starts_at <= now)
        .order_by(Meeting.starts_at.desc(), Meeting.id, Member.display_name, SupportRequest.id)
        .limit(PAST_LIMIT)
    ).all()
    return render_template(
        "support/coordinator_list.html",
        form=form,
        args=args,
        flagged=flagged,
        flagged_ids={r.id for r in flagged},
        page=page,
        upcoming=_by_meeting(page.items),
        past=_by_meeting(past),
        past_limit=PAST_LIMIT,
        committee_labels=labels,
        status_labels=vocab.STATUSES,
        via_labels=VIA_LABELS,
        support_label=vocab.support_label,
        flag_hours=current_app.config["SUPPORT_FLAG_HOURS"],
    )


CSV_COLUMNS = [
    "request_id",
    "meeting_id",
    "meeting_starts",
    "committee",
    "member_id",
    "name",
    "language",
    "support",
    "details",
    "status",
    "requested_via",
    "requested_at",
    "arranged_at",
    "arrangement",
    "confirmed_at",
    "outcome_at",
    "outcome_reason",
]


def _by_meeting(rows) -> list[tuple[Meeting, list[SupportRequest]]]:
    """Rows already ordered by meeting, grouped, keeping that order."""
    groups: dict[int, tuple[Meeting, list[SupportRequest]]] = {}
    for row in rows:
        groups.setdefault(row.meeting_id, (row.meeting, []))[1].append(row)
    return list(groups.values())


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


@bp.get("/coordinator/supports.csv")
@allow("coordinator", "admin")
def coordinator_csv():
    form, _committees, labels, args = _filters()
    rows = db.session.scalars(_scoped_query(form).order_by(Meeting.starts_at, Meeting.id, SupportRequest.id)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.id,
                r.meeting_id,
                _iso(r.meeting.starts_at),
                _cell(labels.get(r.meeting.committee_id, "")),
                r.member_id,
                _cell(r.member.display_name),
                r.member.locale,
                _cell(vocab.support_label(r.kind, r.details)),
                _cell("; ".join(services.plain_details(r.kind, r.details))),
                str(r.status),
                str(r.requested_via),
                _iso(r.requested_at),
                _iso(r.arranged_at),
                _cell(r.arrangement),
                _iso(r.confirmed_at),
                _iso(r.outcome_at),
                _cell(r.outcome_reason),
            ]
        )
    audit(current_user, "support.export", None, filters=args, rows=len(rows))
    db.session.commit()
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="supports.csv"'},
    )


def _fairness_filters() -> tuple[FairnessFilterForm, set[int] | None, list[Plan], date, date]:
    """The fairness page's filters: the plans to count (only someone who sees several
    plans may choose one) and the meeting days, the last 12 months unless asked."""
    allowed = visible_plan_ids()
    query = sa.select(Plan).order_by(Plan.name, Plan.id)
    if allowed is not None:
        query = query.where(Plan.id.in_(allowed))
    plans = list(db.session.scalars(query)) if allowed is None or len(allowed) > 1 else []
    form = FairnessFilterForm(request.args)
    form.set_choices(plans)
    form.validate()
    if form.plan.errors or len(plans) < 2:
        form.plan.errors = []
        form.plan.data = 0
    start, end = form.meeting_range(utcnow().astimezone(stipends._zone()).date())
    plan_ids = {form.plan.data} if form.plan.data else allowed
    return form, plan_ids, plans, start, end


@bp.get("/coordinator/supports/fairness")
@allow("coordinator", "admin")
def fairness():
    form, plan_ids, plans, start, end = _fairness_filters()
    since = datetime.combine(start, time.min, tzinfo=stipends._zone())
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=stipends._zone())
    figures = services.fairness(plan_ids, since=since, until=until)
    on_time, counted = stipends.on_time_share(plan_ids, since=since, until=until)
    return render_template(
        "support/fairness.html",
        form=form,
        several_plans=len(plans) > 1,
        start=start,
        end=end,
        figures=figures,
        stipends=services.Share(met=on_time, total=counted),
        kind_rows=[(vocab.KINDS[k], share) for k, share in figures.by_kind.items()],
        language_rows=[(language_name(loc), share) for loc, share in figures.by_language.items()],
        on_time_days=current_app.config["STIPEND_ON_TIME_DAYS"],
    )


# One request ---------------------------------------------------------------------------------


def _request_or_404(request_id: int) -> SupportRequest:
    row = db.session.get(
        SupportRequest,
        request_id,
        options=[
            joinedload(SupportRequest.meeting).joinedload(Meeting.committee).joinedload(Committee.plan),
            joinedload(SupportRequest.member),
            selectinload(SupportRequest.arranged_by),
            selectinload(SupportRequest.requested_by),
        ],
    )
    if row is None:
        abort(404)
    require_plan(row.meeting.committee.plan_id)
    return row


def _render_detail(row: SupportRequest, arrange_form=None, outcome_form=None):
    confirmation = db.session.get(OutboxMessage, row.confirmation_id) if row.confirmation_id else None
    from engage.coordinator.inbox import STATUS_LABELS as TEXT_STATUS  # noqa: PLC0415

    return render_template(
        "support/detail.html",
        row=row,
        member=row.member,
        meeting=row.meeting,
        committee_name=any_version(row.meeting.committee.name),
        arrange_form=arrange_form or ArrangeForm(arrangement=row.arrangement or ""),
        outcome_form=outcome_form or OutcomeForm(),
        form=ConfirmForm(),
        confirmation=confirmation,
        text_status=TEXT_STATUS,
        can_text=replies.can_text(row.member),
        status_labels=vocab.STATUSES,
        via_labels=VIA_LABELS,
        support_label=vocab.support_label,
        plain_details=services.plain_details,
        done=row.status in (SupportStatus.CANCELLED, SupportStatus.DELIVERED, SupportStatus.NOT_DELIVERED),
        is_past=row.meeting.starts_at <= utcnow(),
        may_edit=services.may_ask(row.meeting, row.member),
        fmt_datetime=fmt_datetime,
    )


@bp.get("/coordinator/supports/<int:request_id>")
@allow("coordinator", "admin")
def detail(request_id: int):
    return _render_detail(_request_or_404(request_id))


def _what(row: SupportRequest) -> str:
    what = vocab.support_label(row.kind, row.details)
    return what[:1].lower() + what[1:]


@bp.post("/coordinator/supports/<int:request_id>/arrange")
@allow("coordinator", "admin")
def arrange(request_id: int):
    row = _request_or_404(request_id)
    form = ArrangeForm()
    if not form.validate_on_submit():
        return _render_detail(row, arrange_form=form)
    try:
        texted = services.arrange(row, form.arrangement.data, by=current_user._get_current_object())
    except services.SupportError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
        return redirect(url_for("support.detail", request_id=request_id))
    audit(current_user, "support.arrange", row, texted=bool(texted))
    db.session.commit()
    name = display_name(row.member)
    if texted:
        flash(_("We texted %(name)s that %(what)s is arranged.", name=name, what=_what(row)), "success")
    elif not replies.can_text(row.member):
        flash(
            _("%(name)s cannot get texts: tell them another way, then mark it as confirmed.", name=name),
            "warning",
        )
    else:
        flash(_("Saved. The meeting has started, so we did not send a text."), "warning")
    return redirect(url_for("support.detail", request_id=row.id))


@bp.post("/coordinator/supports/<int:request_id>/confirmed")
@allow("coordinator", "admin")
def mark_confirmed(request_id: int):
    row = _request_or_404(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.mark_confirmed(row, by=current_user._get_current_object())
    except services.SupportError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
        return redirect(url_for("support.detail", request_id=row.id))
    audit(current_user, "support.confirmed", row)
    db.session.commit()
    flash(_("Marked as confirmed: %(name)s knows it is arranged.", name=display_name(row.member)), "success")
    return redirect(url_for("support.detail", request_id=row.id))


@bp.post("/coordinator/supports/<int:request_id>/outcome")
@allow("coordinator", "admin")
def outcome(request_id: int):
    row = _request_or_404(request_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _render_detail(row, outcome_form=form)
    delivered = form.outcome.data == "provided"
    try:
        services.record_outcome(row, delivered, reason=form.reason.data)
    except services.SupportError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
        return redirect(url_for("support.detail", request_id=row.id))
    audit(current_user, "support.outcome", row, delivered=delivered)
    db.session.commit()
    flash(_("Saved: %(status)s.", status=vocab.STATUSES[row.status]), "success")
    return redirect(url_for("support.detail", request_id=row.id))
