"""The coordinator's meetings: the list, one meeting's page (who answered what, what
they need, stipends due), inviting people, and checking people in at the door.

Everything is scoped to the coordinator's plans: another plan's meeting is a 404. The
rules live in engage.meetings (replies, attendance, tally); these views call them.
Each page makes a fixed number of queries, however many meetings or replies there are.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.auth.services import audit
from engage.coordinator import bp
from engage.coordinator.forms import ConfirmForm, committee_label
from engage.coordinator.inbox import several_plans, visible_committees
from engage.extensions import db
from engage.forms import BaseForm, max_length, optional, required
from engage.i18n import any_version, current_locale, fmt_date, language_name, locales
from engage.meetings import attendance, replies, tally
from engage.members.vocab import county_label
from engage.models import (
    Attendance,
    Committee,
    CommitteeMembership,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    Organisation,
    ReplyChannel,
    ReplyStatus,
    RosterStatus,
    SmsOptOut,
    SmsStatus,
    utcnow,
)
from engage.models.plans import organisation_plans
from engage.partner.roster import _cell
from engage.security import allow, require_plan, visible_plan_ids
from engage.text import fold

PER_PAGE = 30
# How many names the invitation preview lists before "and N more".
PREVIEW_NAMES = 100
# How many people not invited a check-in search also offers.
OTHERS_LIMIT = 10

STATUS_LABELS = {
    ReplyStatus.YES: _l("Coming"),
    ReplyStatus.WAITLISTED: _l("On the waiting list"),
    ReplyStatus.OFFERED: _l("Offered a place"),
    ReplyStatus.NO: _l("Said no"),
    ReplyStatus.INVITED: _l("Not answered yet"),
}
CHANNEL_LABELS = {
    ReplyChannel.SMS: _l("By text"),
    ReplyChannel.WEB: _l("On the web"),
    ReplyChannel.STAFF: _l("By staff"),
}
# Why an invited person will not get a text (they can still answer on the web).
OK, STOPPED, NO_PHONE, UNCONFIRMED = "ok", "stopped", "no_phone", "unconfirmed"
NO_TEXT_LABELS = {
    STOPPED: _l("Stopped texts"),
    NO_PHONE: _l("No mobile number"),
    UNCONFIRMED: _l("Has not confirmed texts"),
}


# Loading and scoping ------------------------------------------------------------------


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id, options=[joinedload(Meeting.committee).joinedload(Committee.plan)])
    if meeting is None:
        abort(404)
    require_plan(meeting.committee.plan_id)
    return meeting


def meeting_name(meeting: Meeting) -> str:
    return any_version(meeting.title) or any_version(meeting.committee.name)


def _local_today_start() -> datetime:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])
    today = datetime.now(zone).date()
    return datetime.combine(today, time.min, tzinfo=zone)


def _reply_counts(meeting_ids: list[int]) -> dict[int, dict[str, int]]:
    """``{meeting_id: {"yes": n, "waiting": n, "no": n, "invited": n}}`` in one query."""
    out = {mid: {"yes": 0, "waiting": 0, "no": 0, "invited": 0} for mid in meeting_ids}
    if not meeting_ids:
        return out
    rows = db.session.execute(
        sa.select(MeetingReply.meeting_id, MeetingReply.status, sa.func.count(MeetingReply.id))
        .join(Member, Member.id == MeetingReply.member_id)
        .where(MeetingReply.meeting_id.in_(meeting_ids), Member.deleted_at.is_(None))
        .group_by(MeetingReply.meeting_id, MeetingReply.status)
    )
    for mid, status, n in rows:
        key = {
            ReplyStatus.YES: "yes",
            ReplyStatus.WAITLISTED: "waiting",
            ReplyStatus.OFFERED: "waiting",
            ReplyStatus.NO: "no",
        }.get(status, "invited")
        out[mid][key] += n
    return out


# The list -------------------------------------------------------------------------------


class MeetingFilterForm(BaseForm):
    """A GET form: no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    committee = SelectField(_l("Committee"), coerce=int, validators=[optional()], default=0)

    def set_choices(self, committees, several: bool) -> None:
        self.committee.choices = [SelectChoice(0, _l("All committees"))] + [
            SelectChoice(c.id, committee_label(c, several)) for c in committees
        ]


@bp.get("/meetings")
@allow("coordinator", "admin")
def meetings():
    committees = visible_committees()
    several = several_plans(committees)
    form = MeetingFilterForm(formdata=request.args)
    form.set_choices(committees, several)
    allowed = visible_plan_ids()
    query = (
        sa.select(Meeting)
        .join(Committee, Committee.id == Meeting.committee_id)
        .options(contains_eager(Meeting.committee).joinedload(Committee.plan))
    )
    if allowed is not None:
        query = query.where(Committee.plan_id.in_(allowed))
    committee_id = form.committee.data if form.validate() else 0
    if committee_id:
        query = query.where(Meeting.committee_id == committee_id)
    today = _local_today_start()
    upcoming = Meeting.starts_at >= today
    # Upcoming first (soonest first), then past ones (latest first).
    query = query.order_by(
        sa.case((upcoming, 0), else_=1),
        sa.case((upcoming, Meeting.starts_at), else_=None),
        Meeting.starts_at.desc(),
        Meeting.id,
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    ids = [m.id for m in page.items]
    return render_template(
        "coordinator/meeting/list.html",
        form=form,
        page=page,
        upcoming=[m for m in page.items if m.starts_at >= today],
        past=[m for m in page.items if m.starts_at < today],
        counts=_reply_counts(ids),
        unarranged=tally.unarranged_counts(ids),
        came=attendance.counts(ids),
        args={"committee": committee_id} if committee_id else {},
        several=several,
        meeting_name=meeting_name,
    )


# One meeting -----------------------------------------------------------------------------


@dataclass
class Groups:
    coming: list[MeetingReply]
    waiting: list[MeetingReply]
    offered: list[MeetingReply]
    no: list[MeetingReply]
    invited: list[MeetingReply]

    @property
    def total(self) -> int:
        return len(self.coming) + len(self.waiting) + len(self.offered) + len(self.no) + len(self.invited)


def _all_replies(meeting: Meeting) -> list[MeetingReply]:
    return list(
        db.session.scalars(
            sa.select(MeetingReply)
            .join(Member, Member.id == MeetingReply.member_id)
            .options(contains_eager(MeetingReply.member))
            .where(MeetingReply.meeting_id == meeting.id, Member.deleted_at.is_(None))
            .order_by(MeetingReply.id)
        )
    )


def _sort_name(member: Member) -> str:
    return fold(member.display_name or "")


def group_replies(rows: list[MeetingReply]) -> Groups:
    by = {s: [r for r in rows if r.status == s] for s in ReplyStatus}
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    return Groups(
        coming=sorted(by[ReplyStatus.YES], key=lambda r: _sort_name(r.member)),
        waiting=sorted(by[ReplyStatus.WAITLISTED], key=lambda r: (r.waitlisted_at or far, r.id)),
        offered=sorted(by[ReplyStatus.OFFERED], key=lambda r: (r.offered_at or far, r.id)),
        no=sorted(by[ReplyStatus.NO], key=lambda r: _sort_name(r.member)),
        invited=sorted(by[ReplyStatus.INVITED], key=lambda r: _sort_name(r.member)),
    )


def stipends_due(meeting: Meeting, came: int) -> Decimal | None:
    if meeting.stipend_amount is None:
        return None
    return meeting.stipend_amount * came


class AnswerForm(BaseForm):
    """A coordinator records a yes or no someone gave them (on the phone, in person)."""

    member_id = IntegerField(validators=[v.InputRequired()])
    answer = SelectField(choices=[SelectChoice("yes", "yes"), SelectChoice("no", "no")], validators=[v.InputRequired()])


@bp.get("/meetings/<int:meeting_id>")
@allow("coordinator", "admin")
def meeting(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    rows = _all_replies(meeting)
    here = attendance.attendees(meeting)
    return render_template(
        "coordinator/meeting/show.html",
        meeting=meeting,
        name=meeting_name(meeting),
        groups=group_replies(rows),
        tally=tally.needs_tally(rows),
        here={a.member_id for a in here},
        came=len(here),
        walk_ins=sum(1 for a in here if a.walk_in),
        stipends=stipends_due(meeting, len(here)),
        open=replies.is_open(meeting),
        past=meeting.starts_at < utcnow(),
        form=ConfirmForm(),
        status_labels=STATUS_LABELS,
        channel_labels=CHANNEL_LABELS,
        need_labels=replies.NEEDS,
        tally_labels=tally.STATUS_LABELS,
        county_label=county_label,
    )


OUTCOME_MESSAGES = {
    replies.Outcome.YES: _l("%(name)s has a place at the meeting. We texted them if we can."),
    replies.Outcome.WAITLISTED: _l("The meeting is full: %(name)s is on the waiting list, number %(position)d."),
    replies.Outcome.NO: _l("%(name)s is not coming. If they had a place, it is offered to the waiting list."),
    replies.Outcome.UNCHANGED: _l("Nothing changed: %(name)s had already answered this way."),
    replies.Outcome.CLOSED: _l("Replies are closed: the meeting has started or was cancelled."),
}


def _waiting_position(reply: MeetingReply) -> int:
    """1 for the first person on the waiting list."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(MeetingReply.id)).where(
                MeetingReply.meeting_id == reply.meeting_id,
                MeetingReply.status == ReplyStatus.WAITLISTED,
                sa.or_(
                    MeetingReply.waitlisted_at < reply.waitlisted_at,
                    sa.and_(MeetingReply.waitlisted_at == reply.waitlisted_at, MeetingReply.id <= reply.id),
                ),
            )
        )
        or 1
    )


def _plan_member_or_404(meeting: Meeting, member_id: int | None) -> Member:
    """A member the coordinator may act for at this meeting: invited to it, checked in,
    or in the meeting's plan."""
    member = db.session.get(Member, member_id) if member_id else None
    if member is None or member.deleted_at is not None:
        abort(404)
    if member.plan_id == meeting.committee.plan_id:
        return member
    linked = db.session.scalar(
        sa.select(
            sa.or_(
                sa.exists().where(MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == member.id),
                sa.exists().where(Attendance.meeting_id == meeting.id, Attendance.member_id == member.id),
            )
        )
    )
    if not linked:
        abort(404)
    return member


def _name(member: Member) -> str:
    return member.display_name or _("Name not given")


@bp.post("/meetings/<int:meeting_id>/answer")
@allow("coordinator", "admin")
def meeting_answer(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Choose a person and their answer, then try again."), "error")
        return redirect(url_for("coordinator.meeting", meeting_id=meeting.id))
    member = _plan_member_or_404(meeting, form.member_id.data)
    reply = replies.reply_for(meeting, member, by=current_user)
    outcome = replies.answer(reply, form.answer.data == "yes", channel=ReplyChannel.STAFF, by=current_user)
    if outcome not in (replies.Outcome.CLOSED, replies.Outcome.UNCHANGED):
        audit(current_user, "meeting.reply_recorded", meeting, reply_id=reply.id, outcome=str(outcome))
    db.session.commit()
    params = {"name": _name(member)}
    if outcome == replies.Outcome.WAITLISTED:
        params["position"] = _waiting_position(reply)
    category = {replies.Outcome.CLOSED: "error", replies.Outcome.UNCHANGED: "warning"}.get(outcome, "success")
    flash(str(OUTCOME_MESSAGES[outcome]) % params, category)
    return redirect(url_for("coordinator.meeting", meeting_id=meeting.id, _anchor=f"p{member.id}"))


@bp.get("/meetings/<int:meeting_id>/replies.csv")
@allow("coordinator", "admin")
def meeting_replies_csv(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    rows = _all_replies(meeting)
    groups = group_replies(rows)
    here = {a.member_id for a in attendance.attendees(meeting)}
    position = {r.id: i for i, r in enumerate(groups.waiting, start=1)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Name"),
            _("Mobile number"),
            _("Language"),
            _("County"),
            _("Answer"),
            _("Place on the waiting list"),
            _("Answered on"),
            _("How they answered"),
            _("Needs"),
            _("Checked in"),
        ]
    )
    ordered = groups.coming + groups.offered + groups.waiting + groups.no + groups.invited
    for r in ordered:
        m = r.member
        writer.writerow(
            [
                _cell(m.display_name),
                m.phone or "",
                language_name(m.locale) if m.locale else "",
                _cell(county_label(m.county) if m.county else ""),
                str(STATUS_LABELS[r.status]),
                position.get(r.id, ""),
                fmt_date(r.responded_at, "short") if r.responded_at else "",
                str(CHANNEL_LABELS[r.channel]) if r.channel else "",
                replies.needs_label(r.needs or []),
                _("Yes") if m.id in here else "",
            ]
        )
    audit(current_user, "meeting.replies_export", meeting, rows=len(ordered))
    db.session.commit()
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="meeting-{meeting.id}-replies.csv"'
    return response


# Invitations -----------------------------------------------------------------------------

ROSTER, LIST = "roster", "list"


class InviteForm(BaseForm):
    audience = RadioField(
        _l("Who to invite"),
        choices=[
            SelectChoice(ROSTER, _l("The committee's members (everyone with an active seat)")),
            SelectChoice(LIST, _l("People who signed up with the plan, chosen by language, county or organisation")),
        ],
        default=ROSTER,
        validators=[required()],
    )
    language = SelectField(_l("Language"), default="", validators=[optional()])
    county = SelectField(_l("County"), default="", validators=[optional()])
    organisation = SelectField(_l("Community organisation"), coerce=int, default=0, validators=[optional()])

    def set_choices(self, counties: list[str], organisations) -> None:
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(loc, language_name(loc)) for loc in locales()
        ]
        self.county.choices = [SelectChoice("", _l("Any county"))] + [
            SelectChoice(c, county_label(c)) for c in counties
        ]
        self.organisation.choices = [SelectChoice(0, _l("Any community organisation"))] + [
            SelectChoice(o.id, o.name) for o in organisations
        ]


_no_text_reason = sa.case(
    (SmsOptOut.phone.is_not(None), sa.literal(STOPPED)),
    (Member.sms_status == SmsStatus.STOPPED, sa.literal(STOPPED)),
    (Member.phone.is_(None), sa.literal(NO_PHONE)),
    (Member.sms_status != SmsStatus.ACTIVE, sa.literal(UNCONFIRMED)),
    else_=sa.literal(OK),
).label("reason")


def _candidates(meeting: Meeting, form: InviteForm) -> list:
    """``(Member, reason, already_invited)`` for the chosen people, in one query."""
    query = (
        sa.select(Member, _no_text_reason, MeetingReply.id.is_not(None).label("already"))
        .outerjoin(SmsOptOut, SmsOptOut.phone == Member.phone)
        .outerjoin(MeetingReply, sa.and_(MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == Member.id))
        # Members of another plan are never invited (replies.invite leaves them out too).
        .where(Member.deleted_at.is_(None), Member.plan_id == meeting.committee.plan_id)
    )
    if form.audience.data == LIST:
        if form.language.data:
            query = query.where(Member.locale == form.language.data)
        if form.county.data:
            query = query.where(Member.county == form.county.data)
        if form.organisation.data:
            query = query.where(Member.organisation_id == form.organisation.data)
    else:
        query = query.join(
            CommitteeMembership,
            sa.and_(
                CommitteeMembership.member_id == Member.id,
                CommitteeMembership.committee_id == meeting.committee_id,
                CommitteeMembership.status == RosterStatus.ACTIVE,
            ),
        )
    return db.session.execute(query.order_by(Member.display_name, Member.id)).all()


@dataclass
class InvitePreview:
    new: list  # (Member, reason) of people who will be invited now
    already: int

    @property
    def no_text(self) -> dict[str, int]:
        out = {STOPPED: 0, NO_PHONE: 0, UNCONFIRMED: 0}
        for _m, reason in self.new:
            if reason != OK:
                out[reason] += 1
        return out

    @property
    def texted(self) -> int:
        return sum(1 for _m, reason in self.new if reason == OK)


def _plan_counties(plan_id: int) -> list[str]:
    query = (
        sa.select(Member.county)
        .where(Member.plan_id == plan_id, Member.county.is_not(None), Member.deleted_at.is_(None))
        .distinct()
        .order_by(Member.county)
    )
    return [c for c in db.session.scalars(query) if c]


def _plan_organisations(plan_id: int) -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(organisation_plans, organisation_plans.c.organisation_id == Organisation.id)
            .where(organisation_plans.c.plan_id == plan_id)
            .order_by(Organisation.name)
        )
    )


@bp.route("/meetings/<int:meeting_id>/invite", methods=["GET", "POST"])
@allow("coordinator", "admin")
def meeting_invite(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    plan_id = meeting.committee.plan_id
    form = InviteForm()
    form.set_choices(_plan_counties(plan_id), _plan_organisations(plan_id))
    preview = None
    closed = not replies.is_open(meeting)
    if request.method == "POST" and form.validate_on_submit():
        rows = _candidates(meeting, form)
        preview = InvitePreview(new=[(m, reason) for m, reason, already in rows if not already], already=0)
        preview.already = sum(1 for _m, _r, already in rows if already)
        if request.form.get("action") == "send":
            if closed:
                flash(_("This meeting has started or was cancelled, so nobody can be invited."), "error")
                return redirect(url_for("coordinator.meeting", meeting_id=meeting.id))
            if not preview.new:
                form.audience.errors.append(_("Nobody new to invite in this group. Choose another group."))
            else:
                result = replies.invite(meeting, [m for m, _r in preview.new], by=current_user)
                audit(
                    current_user,
                    "meeting.invited",
                    meeting,
                    audience=form.audience.data,
                    language=form.language.data or None,
                    county=form.county.data or None,
                    organisation_id=form.organisation.data or None,
                    invited=len(result.invited),
                    already=result.already,
                    not_texted=result.not_texted,
                )
                db.session.commit()
                flash(
                    ngettext("%(num)d person is invited.", "%(num)d people are invited.", len(result.invited))
                    + " "
                    + ngettext(
                        "%(num)d of them can't get texts and can answer on the web.",
                        "%(num)d of them can't get texts and can answer on the web.",
                        result.not_texted,
                    )
                    + (
                        " " + _("Already invited: %(num)d.", num=result.already + preview.already)
                        if result.already + preview.already
                        else ""
                    ),
                    "success",
                )
                return redirect(url_for("coordinator.meeting", meeting_id=meeting.id))
    return render_template(
        "coordinator/meeting/invite.html",
        meeting=meeting,
        name=meeting_name(meeting),
        form=form,
        preview=preview,
        closed=closed,
        limit=PREVIEW_NAMES,
        no_text_labels=NO_TEXT_LABELS,
    )


# Check-in ----------------------------------------------------------------------------------


class WalkInForm(BaseForm):
    name = StringField(_l("Name"), [required(), max_length(80)])
    phone = StringField(
        _l("Mobile number (optional)"),
        [optional(), max_length(30)],
        description=_l("We will not text them until they agree from their own phone."),
    )
    language = SelectField(_l("Language"), validators=[required()])
    q = HiddenField()

    def set_choices(self) -> None:
        self.language.choices = [SelectChoice(loc, language_name(loc)) for loc in locales()]

    def validate_phone(self, field):
        try:
            attendance.normalise_phone(field.data)
        except attendance.InvalidPhone:
            raise v.ValidationError(
                _l("Please enter a US mobile number with its area code, like 510-555-0123.")
            ) from None


def _matches(words: list[str], member: Member) -> bool:
    name = fold(member.display_name or "")
    return all(word in name for word in words)


@dataclass
class Row:
    member: Member
    status: ReplyStatus | None  # None: not invited (a walk-in, or someone found by search)
    here: Attendance | None


def _long_enough(typed: str) -> bool:
    """Enough to search the whole plan: two characters, or one wide one (a Chinese
    character is a whole syllable, often a surname: 陳, 李)."""
    return len(typed) >= 2 or any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in typed)


def _check_in_rows(meeting: Meeting, q: str):
    rows = _all_replies(meeting)
    here = {a.member_id: a for a in attendance.attendees(meeting)}
    expected = sum(1 for r in rows if r.status == ReplyStatus.YES)
    people: dict[int, Row] = {r.member_id: Row(r.member, r.status, here.get(r.member_id)) for r in rows}
    for member_id, att in here.items():
        if member_id not in people and att.member.deleted_at is None:
            people[member_id] = Row(att.member, None, att)
    words = [word for word in map(fold, q.split()) if word]
    if words:
        people = {k: row for k, row in people.items() if _matches(words, row.member)}
    coming, others = [], []
    for row in sorted(people.values(), key=lambda row: (_sort_name(row.member), row.member.id)):
        (coming if row.here or row.status == ReplyStatus.YES else others).append(row)
    found: list[Member] = []
    if _long_enough("".join(words)):
        # People of the plan who were not invited, matched on their stored folded name
        # (Member.search_name), so accents and case do not matter on any database.
        known = {r.member_id for r in rows} | set(here)
        query = sa.select(Member).where(
            Member.plan_id == meeting.committee.plan_id,
            Member.deleted_at.is_(None),
            Member.id.not_in(known) if known else sa.true(),
        )
        for word in words:
            # LIKE '%word%', with % and _ typed by the user matched as themselves.
            query = query.where(Member.search_name.contains(word, autoescape=True))
        found = list(db.session.scalars(query.order_by(Member.search_name, Member.id).limit(OTHERS_LIMIT)))
    return coming, others, found, len(here), expected


def _render_check_in(meeting: Meeting, walk_in: WalkInForm, q: str):
    coming, others, found, came, expected = _check_in_rows(meeting, q)
    return render_template(
        "coordinator/meeting/check_in.html",
        meeting=meeting,
        name=meeting_name(meeting),
        q=q,
        coming=coming,
        others=others,
        found=found,
        came=came,
        expected=expected,
        walk_in=walk_in,
        form=ConfirmForm(),
        cancelled=meeting.status == MeetingStatus.CANCELLED,
        today=fmt_date(meeting.starts_at) == fmt_date(utcnow()),
        status_labels=STATUS_LABELS,
    )


def _new_walk_in_form() -> WalkInForm:
    form = WalkInForm(formdata=None, data={"language": current_locale()})
    form.set_choices()
    return form


@bp.get("/meetings/<int:meeting_id>/check-in")
@allow("coordinator", "admin")
def meeting_check_in(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    q = (request.args.get("q") or "").strip()[:80]
    return _render_check_in(meeting, _new_walk_in_form(), q)


def _back_to_check_in(meeting: Meeting, member_id: int | None = None):
    q = (request.form.get("q") or "").strip()[:80]
    return redirect(
        url_for(
            "coordinator.meeting_check_in",
            meeting_id=meeting.id,
            q=q or None,
            _anchor=f"p{member_id}" if member_id else None,
        )
    )


def _refuse_if_cancelled(meeting: Meeting) -> bool:
    if meeting.status == MeetingStatus.CANCELLED:
        flash(_("This meeting was cancelled, so nobody can be checked in."), "error")
        return True
    return False


@bp.post("/meetings/<int:meeting_id>/check-in/<int:member_id>")
@allow("coordinator", "admin")
def meeting_check_in_member(meeting_id: int, member_id: int):
    meeting = _meeting_or_404(meeting_id)
    member = _plan_member_or_404(meeting, member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if _refuse_if_cancelled(meeting):
        return _back_to_check_in(meeting)
    done = attendance.check_in(meeting, member, current_user)
    if done.created:
        audit(current_user, "meeting.check_in", meeting, member_id=member.id)
        flash(_("%(name)s is checked in.", name=_name(member)), "success")
    else:
        flash(_("%(name)s was already checked in.", name=_name(member)), "warning")
    db.session.commit()
    return _back_to_check_in(meeting, member.id)


@bp.post("/meetings/<int:meeting_id>/check-in/<int:member_id>/undo")
@allow("coordinator", "admin")
def meeting_check_in_undo(meeting_id: int, member_id: int):
    meeting = _meeting_or_404(meeting_id)
    member = _plan_member_or_404(meeting, member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if attendance.undo(meeting, member, current_user):
        audit(current_user, "meeting.check_in_undone", meeting, member_id=member.id)
        flash(_("%(name)s is no longer checked in.", name=_name(member)), "success")
    db.session.commit()
    return _back_to_check_in(meeting, member.id)


@bp.post("/meetings/<int:meeting_id>/walk-in")
@allow("coordinator", "admin")
def meeting_walk_in(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    form = WalkInForm()
    form.set_choices()
    q = (form.q.data or "").strip()[:80]
    if not form.validate_on_submit():
        # Nothing typed is lost: the page comes back with the form filled in.
        return _render_check_in(meeting, form, q)
    if _refuse_if_cancelled(meeting):
        return _back_to_check_in(meeting)
    added = attendance.add_walk_in(meeting, form.name.data, form.phone.data, form.language.data, current_user)
    audit(
        current_user,
        "meeting.walk_in",
        meeting,
        member_id=added.member.id,
        new_member=added.created,
        checked_in=added.check_in.created,
    )
    db.session.commit()
    if added.created:
        flash(_("%(name)s is added and checked in.", name=form.name.data), "success")
    elif added.check_in.created:
        flash(
            _("This phone number is already signed up. %(name)s is checked in.", name=_name(added.member)),
            "success",
        )
    else:
        flash(_("%(name)s was already checked in.", name=_name(added.member)), "warning")
    return _back_to_check_in(meeting, added.member.id)
