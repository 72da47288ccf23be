"""Stipends and reimbursements: the coordinator's approvals, payments, totals and exports; a parent's own.

The rules live in ``engage.supports.stipends``; these views check who may see what,
read forms, call the rules and say what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from engage.auth.services import audit
from engage.extensions import db
from engage.i18n import any_version, fmt_datetime, fmt_money
from engage.models import (
    Attendance,
    Committee,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    PaymentMethod,
    Reimbursement,
    ReimbursementKind,
    ReimbursementStatus,
    ReplyStatus,
    Stipend,
    StipendStatus,
    utcnow,
)
from engage.security import allow, require_plan, visible_plan_ids
from engage.supports import stipends, stipends_bp, vocab
from engage.supports.stipend_forms import (
    AmountForm,
    BenefitsForm,
    ConfirmForm,
    PayForm,
    PolicyForm,
    ReduceForm,
    ReimbursementForm,
    RejectForm,
    StipendFilterForm,
    method_choices,
)

bp = stipends_bp
MEETINGS_PER_PAGE = 10
REIMBURSEMENTS_PER_PAGE = 50
SEARCH_LIMIT = 20
# A stipend's amount can be changed until it is paid (not once the parent said no thank you).
OPEN_STIPENDS = (StipendStatus.ELIGIBLE, StipendStatus.APPROVED)


# Helpers -----------------------------------------------------------------------------


def _zone():
    return stipends._zone()


def today() -> date:
    return utcnow().astimezone(_zone()).date()


def paid_moment(day: date) -> datetime:
    """When a payment dated ``day`` (local) is recorded: now if today, else local noon."""
    if day == today():
        return utcnow()
    return datetime.combine(day, time(12, 0), tzinfo=_zone())


def _committees() -> list[Committee]:
    allowed = visible_plan_ids()
    query = sa.select(Committee).options(joinedload(Committee.plan)).order_by(Committee.plan_id, Committee.id)
    if allowed is not None:
        query = query.where(Committee.plan_id.in_(allowed))
    return list(db.session.scalars(query))


def _committee_label(committees):
    several = len({c.plan_id for c in committees}) > 1

    def label(committee: Committee) -> str:
        name = any_version(committee.name)
        if several:
            return _("%(plan)s: %(committee)s", plan=committee.plan.short_name, committee=name)
        return name

    return label


def _stipend_or_404(stipend_id: int) -> Stipend:
    stipend = db.session.get(
        Stipend,
        stipend_id,
        options=[joinedload(Stipend.meeting).joinedload(Meeting.committee), joinedload(Stipend.member)],
    )
    if stipend is None:
        abort(404)
    require_plan(stipend.meeting.committee.plan_id)
    return stipend


def _reimbursement_or_404(row_id: int) -> Reimbursement:
    row = db.session.get(Reimbursement, row_id, options=[joinedload(Reimbursement.member)])
    if row is None or row.member.plan_id is None:
        abort(404)
    require_plan(row.member.plan_id)
    return row


def _member_or_404(member_id: int | None) -> Member:
    member = db.session.get(Member, member_id) if member_id else None
    if member is None or member.deleted_at is not None or member.plan_id is None:
        abort(404)
    require_plan(member.plan_id)
    return member


def _name(member: Member) -> str:
    return member.display_name or _("This parent")


def warning_lines(member: Member, found: stipends.Warnings, amount) -> list[str]:
    """The warnings in plain words, for the coordinator."""
    lines = []
    if found.quarter_limit is not None:
        after = found.quarter_paid + stipends.money(amount)
        if member.benefits_note:
            lines.append(
                _(
                    "%(name)s told us a %(limit)s a quarter limit applies (%(note)s). Paid this quarter: "
                    "%(paid)s. This payment would make %(total)s.",
                    name=_name(member),
                    limit=fmt_money(found.quarter_limit),
                    note=member.benefits_note[:60],
                    paid=fmt_money(found.quarter_paid),
                    total=fmt_money(after),
                )
            )
        else:
            lines.append(
                _(
                    "%(name)s told us a %(limit)s a quarter limit applies. Paid this quarter: %(paid)s. "
                    "This payment would make %(total)s.",
                    name=_name(member),
                    limit=fmt_money(found.quarter_limit),
                    paid=fmt_money(found.quarter_paid),
                    total=fmt_money(after),
                )
            )
    if found.w9_needed:
        lines.append(
            _(
                "W-9 needed: with this payment %(name)s would be paid %(total)s this year, at or over the "
                "%(threshold)s tax-reporting line, and we have no W-9 on file.",
                name=_name(member),
                total=fmt_money(found.year_total_after),
                threshold=fmt_money(stipends.tax_threshold()),
            )
        )
    return lines


def error_message(error: stipends.PaymentError, *, reimbursement: bool = False) -> str:
    """A PaymentError in words."""
    reason = str(error.args[0]) if error.args else ""
    if reimbursement:
        messages = {
            "paid": _("This was already paid back."),
            "approved": _("This is already approved."),
            "submitted": _("This needs approval first."),
            "rejected": _("This was not approved."),
            "amount": _("Please enter an amount more than $0."),
            "reason": _("Please say why it is not approved."),
        }
    else:
        messages = {
            "paid": _("This stipend was already paid."),
            "approved": _("This stipend is already approved."),
            "eligible": _("This stipend needs approval first."),
            "declined": _("The parent said no thank you to this stipend."),
            "amount": _("The amount must be between $0 and the amount due."),
            "reason": _("Please say why the amount changed."),
        }
    return messages.get(reason, _("This cannot be changed now."))


def _back(default: str) -> str:
    """Back to the list the coordinator came from (only our own lists)."""
    wanted = request.values.get("next") or ""
    if wanted.startswith(("/coordinator/stipends", "/coordinator/reimbursements")) and "//" not in wanted:
        return wanted
    return default


# A committee's policy ----------------------------------------------------------------


def _plain(value):
    """A value as the audit log keeps it (JSON)."""
    return str(value) if isinstance(value, Decimal) else value


@bp.route("/coordinator/committees/<int:committee_id>/stipend-policy", methods=["GET", "POST"])
@allow("coordinator", "admin")
def policy(committee_id: int):
    committee = db.session.get(Committee, committee_id, options=[joinedload(Committee.plan)])
    if committee is None:
        abort(404)
    require_plan(committee.plan_id)
    form = PolicyForm(obj=committee)
    if request.method == "GET" and not committee.stipend_methods:
        form.stipend_methods.data = [m.value for m in PaymentMethod]
    if form.validate_on_submit():
        changes = {}
        for name in ("stipend_amount", "stipend_prep_amount", "stipend_methods"):
            new = getattr(form, name).data
            old = getattr(committee, name)
            if name == "stipend_methods":
                new = [m.value for m in PaymentMethod if m.value in new]
            elif new is not None:
                new = stipends.money(new)
            if old != new:
                changes[name] = [_plain(old), _plain(new)]
                setattr(committee, name, new)
        if changes:
            audit(current_user, "committee.stipend_policy_changed", committee, changes=changes)
        db.session.commit()
        flash(_("The stipend policy is saved."), "success")
        return redirect(url_for("stipends.policy", committee_id=committee.id))
    return render_template("stipends/policy.html", committee=committee, form=form)


# Stipends by meeting -----------------------------------------------------------------


@bp.get("/coordinator/stipends")
@allow("coordinator", "admin")
def index():
    committees = _committees()
    label = _committee_label(committees)
    form = StipendFilterForm(formdata=request.args)
    form.set_choices(committees, label)
    now = utcnow()
    committee_ids = [c.id for c in committees]
    query = (
        sa.select(Meeting)
        .options(joinedload(Meeting.committee).joinedload(Committee.plan))
        .where(
            Meeting.committee_id.in_(committee_ids),
            Meeting.starts_at <= now,
            Meeting.status != MeetingStatus.CANCELLED,
        )
    )
    status = ""
    filtered = False
    if form.validate():
        if form.committee.data:
            query = query.where(Meeting.committee_id == form.committee.data)
            filtered = True
        if form.status.data:
            status = form.status.data
            query = query.where(
                sa.exists().where(Stipend.meeting_id == Meeting.id, Stipend.status == StipendStatus(status))
            )
            filtered = True
    query = query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=MEETINGS_PER_PAGE, error_out=False)
    meeting_ids = [m.id for m in page.items]
    rows: dict[int, list[Stipend]] = {mid: [] for mid in meeting_ids}
    attended: dict[int, int] = {}
    if meeting_ids:
        stipend_query = (
            sa.select(Stipend)
            .options(joinedload(Stipend.member))
            .join(Member, Member.id == Stipend.member_id)
            .where(Stipend.meeting_id.in_(meeting_ids))
            .order_by(Member.display_name, Stipend.id)
        )
        if status:
            stipend_query = stipend_query.where(Stipend.status == StipendStatus(status))
        for stipend in db.session.scalars(stipend_query):
            rows[stipend.meeting_id].append(stipend)
        attended = dict(
            db.session.execute(
                sa.select(Attendance.meeting_id, sa.func.count(Attendance.id))
                .where(Attendance.meeting_id.in_(meeting_ids))
                .group_by(Attendance.meeting_id)
            ).all()
        )
    open_rows = [
        s for found in rows.values() for s in found if s.status in (StipendStatus.ELIGIBLE, StipendStatus.APPROVED)
    ]
    found = stipends.warnings_for_many([(s.member, s.amount) for s in open_rows], now)
    warnings = {s.id: warning_lines(s.member, w, s.amount) for s, w in zip(open_rows, found, strict=True)}
    args = {k: v for k, v in (("committee", form.committee.data), ("status", status)) if v}
    return render_template(
        "stipends/index.html",
        form=form,
        page=page,
        rows=rows,
        attended=attended,
        policies={m.id: stipends.policy(m) for m in page.items},
        warnings=warnings,
        statuses=vocab.STIPEND_STATUSES,
        committee_label=label,
        filtered=filtered,
        args=args,
        confirm=ConfirmForm(),
        here=request.full_path.rstrip("?"),
    )


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id, options=[joinedload(Meeting.committee)])
    if meeting is None:
        abort(404)
    require_plan(meeting.committee.plan_id)
    return meeting


@bp.post("/coordinator/stipends/meetings/<int:meeting_id>/prepare")
@allow("coordinator", "admin")
def prepare(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if meeting.starts_at > utcnow():
        flash(_("Stipends can be prepared once the meeting has started."), "error")
    elif stipends.policy(meeting).total <= 0:
        flash(_("This committee has no stipend amount yet. Set the stipend policy first."), "error")
    else:
        added = stipends.make_eligible(meeting)
        audit(current_user, "stipends.prepared", meeting, added=added)
        db.session.commit()
        if added:
            flash(
                ngettext("%(num)d stipend is ready for approval.", "%(num)d stipends are ready for approval.", added),
                "success",
            )
        else:
            flash(_("No one new: everyone who came already has a stipend."), "success")
    return redirect(_back(url_for("stipends.index")))


@bp.post("/coordinator/stipends/meetings/<int:meeting_id>/approve")
@allow("coordinator", "admin")
def approve_meeting(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    waiting = db.session.scalars(
        sa.select(Stipend).where(Stipend.meeting_id == meeting.id, Stipend.status == StipendStatus.ELIGIBLE)
    ).all()
    approved = 0
    for stipend in waiting:
        try:
            stipends.approve(stipend, by=current_user)
            approved += 1
        except stipends.PaymentError:
            continue  # declined by the parent a moment ago
    audit(current_user, "stipends.approved", meeting, count=approved)
    db.session.commit()
    flash(_("Approved: %(num)d.", num=approved), "success")
    return redirect(_back(url_for("stipends.index")))


# Approving and paying: the same steps for a stipend and for money paid back --------


@dataclass(frozen=True)
class _Payable:
    """What differs between approving / paying a stipend and a reimbursement."""

    noun: str  # the audit log's word: "stipend" or "reimbursement"
    list_endpoint: str
    approve: Callable
    pay: Callable
    already_paid: str  # a lazy message: someone else recorded the payment a moment earlier
    approved: object  # the status in which it can be paid
    statuses: dict

    @property
    def reimbursement(self) -> bool:
        return self.noun == "reimbursement"


STIPEND = _Payable(
    noun="stipend",
    list_endpoint="stipends.index",
    approve=stipends.approve,
    pay=stipends.pay,
    already_paid=_l("This stipend was already paid. Nothing was recorded twice."),
    approved=StipendStatus.APPROVED,
    statuses=vocab.STIPEND_STATUSES,
)
REIMBURSEMENT = _Payable(
    noun="reimbursement",
    list_endpoint="stipends.reimbursements",
    approve=stipends.approve_reimbursement,
    pay=stipends.pay_reimbursement,
    already_paid=_l("This was already paid back. Nothing was recorded twice."),
    approved=ReimbursementStatus.APPROVED,
    statuses=vocab.REIMBURSEMENT_STATUSES,
)


def _approve_one(row, kind: _Payable):
    """The approve button of a list row."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        kind.approve(row, by=current_user)
    except stipends.PaymentError as error:
        db.session.rollback()
        flash(error_message(error, reimbursement=kind.reimbursement), "error")
    else:
        audit(current_user, f"{kind.noun}.approved", row, amount=str(row.amount))
        db.session.commit()
        flash(_("Approved. It can be paid now."), "success")
    return redirect(_back(url_for(kind.list_endpoint)))


def _pay_form(methods, member: Member) -> PayForm:
    form = PayForm()
    form.method.choices = method_choices(methods)
    if request.method == "GET":
        form.paid_on.data = today()
        if member.preferred_payment in methods:
            form.method.data = member.preferred_payment
    return form


def _check_date(form: PayForm) -> bool:
    if form.paid_on.data and form.paid_on.data > today():
        form.paid_on.errors.append(_("The date paid cannot be in the future."))
        return False
    return True


def _pay_one(row, kind: _Payable, methods, **page):
    """The pay page: the warnings and the form; recording the payment once."""
    form = _pay_form(methods, row.member)
    if form.validate_on_submit() and _check_date(form):
        done_to = url_for(kind.list_endpoint)
        try:
            done = kind.pay(
                row,
                method=PaymentMethod(form.method.data),
                reference=form.reference.data,
                paid_on=paid_moment(form.paid_on.data),
                by=current_user,
                notify=True,
            )
        except stipends.PaymentError as error:
            db.session.rollback()
            flash(error_message(error, reimbursement=kind.reimbursement), "error")
            return redirect(done_to)
        if not done:
            db.session.rollback()
            flash(str(kind.already_paid), "error")
            return redirect(done_to)
        audit(current_user, f"{kind.noun}.paid", row, amount=str(row.amount), method=row.method.value)
        db.session.commit()
        flash(
            _("Paid %(amount)s. We will text %(name)s.", amount=fmt_money(row.amount), name=_name(row.member)),
            "success",
        )
        return redirect(done_to)
    when = paid_moment(form.paid_on.data) if form.paid_on.data and not form.paid_on.errors else utcnow()
    found = stipends.warnings_for(row.member, row.amount, when)
    return render_template(
        "stipends/pay.html",
        form=form,
        row=row,
        member=row.member,
        warnings=warning_lines(row.member, found, row.amount),
        status_label=kind.statuses[row.status],
        can_pay=row.status == kind.approved,
        methods=vocab.PAYMENT_METHODS,
        **page,
    )


@bp.post("/coordinator/stipends/<int:stipend_id>/approve")
@allow("coordinator", "admin")
def approve(stipend_id: int):
    return _approve_one(_stipend_or_404(stipend_id), STIPEND)


@bp.route("/coordinator/stipends/<int:stipend_id>/pay", methods=["GET", "POST"])
@allow("coordinator", "admin")
def pay(stipend_id: int):
    stipend = _stipend_or_404(stipend_id)
    return _pay_one(
        stipend,
        STIPEND,
        stipends.policy(stipend.meeting).methods,
        stipend=stipend,
        can_change=stipend.status in OPEN_STIPENDS,
    )


@bp.route("/coordinator/stipends/<int:stipend_id>/amount", methods=["GET", "POST"])
@allow("coordinator", "admin")
def change_amount(stipend_id: int):
    """A coordinator changes what a stipend pays, before it is paid, saying why. When the
    new amount brings warnings (a benefits limit, a W-9), they are shown first and a second
    press saves: a payment never blocks on them, and neither does this."""
    stipend = _stipend_or_404(stipend_id)
    back = _back(url_for("stipends.pay", stipend_id=stipend.id))
    if stipend.status not in OPEN_STIPENDS:
        flash(error_message(stipends.PaymentError(stipend.status)), "error")
        return redirect(back)
    form = AmountForm()
    if request.method == "GET":
        form.amount.data = stipend.amount_due
    if form.validate_on_submit():
        new = stipends.money(form.amount.data)
        lines = _amount_warnings(stipend, new)
        if lines and form.checked.data != str(new):
            form.checked.data = str(new)
            return _amount_page(stipend, form, lines, back, checking=True)
        old_due = stipend.amount_due
        try:
            old, paid = stipends.change_amount(stipend, new, form.reason.data)
        except stipends.PaymentError as error:
            db.session.rollback()
            flash(error_message(error), "error")
            return redirect(back)
        audit(
            current_user,
            "stipend.amount_changed",
            stipend,
            old=str(old),
            new=str(paid),
            old_due=str(old_due),
            new_due=str(stipend.amount_due),
            reason=stipend.note,
        )
        db.session.commit()
        flash(
            _("Saved: %(name)s will be paid %(amount)s.", name=_name(stipend.member), amount=fmt_money(paid)),
            "success",
        )
        return redirect(back)
    shown = form.amount.data if form.amount.data is not None and not form.amount.errors else stipend.amount_due
    return _amount_page(stipend, form, _amount_warnings(stipend, stipends.money(shown)), back, checking=False)


def _amount_warnings(stipend: Stipend, amount_due) -> list[str]:
    """The pay page's warnings, for what would be paid if the amount due became ``amount_due``."""
    paid = stipends.paid_after_change(stipend, amount_due)
    return warning_lines(stipend.member, stipends.warnings_for(stipend.member, paid), paid)


def _amount_page(stipend: Stipend, form: AmountForm, warnings: list[str], back: str, *, checking: bool):
    return render_template(
        "stipends/amount.html",
        stipend=stipend,
        member=stipend.member,
        form=form,
        warnings=warnings,
        checking=checking,
        back=back,
        status_label=vocab.STIPEND_STATUSES[stipend.status],
    )


# Yearly totals, W-9s and the finance export ------------------------------------------


@bp.get("/coordinator/stipends/totals")
@allow("coordinator", "admin")
def totals():
    this_year = today().year
    year = request.args.get("year", this_year, type=int)
    if year < 2000 or year > this_year + 1:
        year = this_year
    rows = stipends.yearly_totals(visible_plan_ids(), year)
    start, end = date(year, 1, 1), min(date(year, 12, 31), today())
    return render_template(
        "stipends/totals.html",
        rows=rows,
        year=year,
        years=list(range(this_year, this_year - 4, -1)),
        threshold=stipends.tax_threshold(),
        confirm=ConfirmForm(),
        start=start if start <= end else date(year, 1, 1),
        end=end if start <= end else date(year, 12, 31),
    )


@bp.post("/coordinator/stipends/totals/<int:member_id>/w9")
@allow("coordinator", "admin")
def w9(member_id: int):
    member = _member_or_404(member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    on_file = request.form.get("on_file") == "1"
    if member.w9_on_file != on_file:
        member.w9_on_file = on_file
        audit(current_user, "member.w9_on_file", member, on_file=on_file)
        db.session.commit()
    if on_file:
        flash(_("Marked: W-9 on file for %(name)s.", name=_name(member)), "success")
    else:
        flash(_("Marked: no W-9 on file for %(name)s.", name=_name(member)), "success")
    year = request.form.get("year", type=int)
    return redirect(url_for("stipends.totals", year=year) if year else url_for("stipends.totals"))


def _day(name: str) -> date | None:
    raw = request.args.get(name) or ""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400)


@bp.get("/coordinator/stipends/export.csv")
@allow("coordinator", "admin")
def export():
    start, end = _day("start"), _day("end")
    if start and end and start > end:
        start, end = end, start
    body = stipends.finance_csv(visible_plan_ids(), start, end)
    audit(
        current_user,
        "stipends.exported",
        None,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        rows=body.count("\n") - 1,
    )
    db.session.commit()
    name = "stipends"
    if start:
        name += f"-from-{start.isoformat()}"
    if end:
        name += f"-to-{end.isoformat()}"
    response = Response("\ufeff" + body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# Reimbursements (coordinator) -------------------------------------------------------


@bp.get("/coordinator/reimbursements")
@allow("coordinator", "admin")
def reimbursements():
    allowed = visible_plan_ids()
    status = request.args.get("status", "")
    if status not in ReimbursementStatus._value2member_map_:
        status = ""
    query = (
        sa.select(Reimbursement)
        .join(Member, Member.id == Reimbursement.member_id)
        .options(
            joinedload(Reimbursement.member),
            joinedload(Reimbursement.meeting).joinedload(Meeting.committee),
        )
    )
    if allowed is not None:
        query = query.where(Member.plan_id.in_(allowed))
    if status:
        query = query.where(Reimbursement.status == ReimbursementStatus(status))
    waiting_first = sa.case((Reimbursement.status == ReimbursementStatus.SUBMITTED, 0), else_=1)
    query = query.order_by(waiting_first, Reimbursement.created_at.desc(), Reimbursement.id.desc())
    page = db.paginate(
        query, page=request.args.get("page", 1, type=int), per_page=REIMBURSEMENTS_PER_PAGE, error_out=False
    )
    return render_template(
        "stipends/reimbursements.html",
        page=page,
        status=status,
        statuses=vocab.REIMBURSEMENT_STATUSES,
        kinds=vocab.REIMBURSEMENT_KINDS,
        confirm=ConfirmForm(),
        args={"status": status} if status else {},
        here=request.full_path.rstrip("?"),
    )


def _meeting_choices(member: Member) -> list[SelectChoice]:
    """Meetings this person came to or said yes to, from 90 days ago to 30 days ahead."""
    now = utcnow()
    came = sa.select(Attendance.meeting_id).where(Attendance.member_id == member.id)
    said_yes = sa.select(MeetingReply.meeting_id).where(
        MeetingReply.member_id == member.id, MeetingReply.status == ReplyStatus.YES
    )
    meetings = db.session.scalars(
        sa.select(Meeting)
        .options(joinedload(Meeting.committee))
        .where(
            sa.or_(Meeting.id.in_(came), Meeting.id.in_(said_yes)),
            Meeting.starts_at >= now - timedelta(days=90),
            Meeting.starts_at <= now + timedelta(days=30),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(20)
    ).all()
    return [SelectChoice(0, _("Not for one meeting"))] + [
        SelectChoice(m.id, f"{fmt_datetime(m.starts_at, 'day_time')} · {any_version(m.committee.name)}")
        for m in meetings
    ]


def _submit(form: ReimbursementForm, member: Member, by) -> Reimbursement | None:
    meeting = db.session.get(Meeting, form.meeting_id.data) if form.meeting_id.data else None
    kind = ReimbursementKind(form.kind.data)
    try:
        row = stipends.submit_reimbursement(
            member,
            kind,
            amount=form.amount.data if kind != ReimbursementKind.MILEAGE else None,
            miles=form.miles.data if kind == ReimbursementKind.MILEAGE else None,
            meeting=meeting,
            receipt_note=form.receipt_note.data,
            by=by,
        )
    except stipends.PaymentError as error:
        form.amount.errors.append(error_message(error, reimbursement=True))
        return None
    db.session.flush()
    return row


@bp.route("/coordinator/reimbursements/new", methods=["GET", "POST"])
@allow("coordinator", "admin")
def reimbursement_new():
    member_id = request.args.get("member_id", type=int)
    if not member_id:
        q = (request.args.get("q") or "").strip()[:80]
        found = []
        if q:
            allowed = visible_plan_ids()
            query = sa.select(Member).where(
                Member.deleted_at.is_(None),
                Member.plan_id.is_not(None),
                sa.or_(Member.display_name.ilike(f"%{q}%"), Member.phone.contains(q)),
            )
            if allowed is not None:
                query = query.where(Member.plan_id.in_(allowed))
            found = db.session.scalars(query.order_by(Member.display_name, Member.id).limit(SEARCH_LIMIT)).all()
        return render_template("stipends/reimbursement_find.html", q=q, found=found)
    member = _member_or_404(member_id)
    form = ReimbursementForm()
    form.meeting_id.choices = _meeting_choices(member)
    if form.validate_on_submit():
        row = _submit(form, member, current_user)
        if row is not None:
            audit(current_user, "reimbursement.entered", row, member_id=member.id, amount=str(row.amount))
            db.session.commit()
            flash(_("Saved. It is waiting for approval."), "success")
            return redirect(url_for("stipends.reimbursements"))
    return render_template(
        "stipends/reimbursement_new.html",
        form=form,
        member=member,
        rate=stipends.money(current_app.config["MILEAGE_RATE"]),
        staff=True,
    )


@bp.post("/coordinator/reimbursements/<int:row_id>/approve")
@allow("coordinator", "admin")
def reimbursement_approve(row_id: int):
    return _approve_one(_reimbursement_or_404(row_id), REIMBURSEMENT)


@bp.route("/coordinator/reimbursements/<int:row_id>/reject", methods=["GET", "POST"])
@allow("coordinator", "admin")
def reimbursement_reject(row_id: int):
    row = _reimbursement_or_404(row_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            stipends.reject_reimbursement(row, form.reason.data, by=current_user)
        except stipends.PaymentError as error:
            db.session.rollback()
            flash(error_message(error, reimbursement=True), "error")
        else:
            audit(current_user, "reimbursement.rejected", row)
            db.session.commit()
            flash(_("Saved: not approved."), "success")
        return redirect(url_for("stipends.reimbursements"))
    return render_template(
        "stipends/reimbursement_reject.html",
        form=form,
        row=row,
        kinds=vocab.REIMBURSEMENT_KINDS,
        statuses=vocab.REIMBURSEMENT_STATUSES,
    )


@bp.route("/coordinator/reimbursements/<int:row_id>/pay", methods=["GET", "POST"])
@allow("coordinator", "admin")
def reimbursement_pay(row_id: int):
    row = _reimbursement_or_404(row_id)
    methods = [m.value for m in PaymentMethod]
    if row.meeting is not None:
        methods = stipends.policy(row.meeting).methods
    return _pay_one(row, REIMBURSEMENT, methods, stipend=None, kinds=vocab.REIMBURSEMENT_KINDS)


# A parent's own ----------------------------------------------------------------------


def _me() -> Member:
    return current_user._get_current_object()


def _my_stipend_or_404(stipend_id: int) -> Stipend:
    stipend = db.session.get(Stipend, stipend_id, options=[joinedload(Stipend.meeting).joinedload(Meeting.committee)])
    if stipend is None or stipend.member_id != _me().id:
        abort(404)
    return stipend


@bp.get("/me/stipends")
@allow("parent")
def mine():
    me = _me()
    rows = db.session.scalars(
        sa.select(Stipend)
        .join(Meeting, Meeting.id == Stipend.meeting_id)
        .options(joinedload(Stipend.meeting).joinedload(Meeting.committee))
        .where(Stipend.member_id == me.id)
        .order_by(Meeting.starts_at.desc(), Stipend.id.desc())
    ).all()
    paid_back = db.session.scalars(
        sa.select(Reimbursement)
        .options(joinedload(Reimbursement.meeting))
        .where(Reimbursement.member_id == me.id)
        .order_by(Reimbursement.created_at.desc(), Reimbursement.id.desc())
    ).all()
    return render_template(
        "stipends/mine.html",
        me=me,
        rows=rows,
        reimbursements=paid_back,
        statuses=vocab.STIPEND_STATUSES,
        r_statuses=vocab.REIMBURSEMENT_STATUSES,
        kinds=vocab.REIMBURSEMENT_KINDS,
        methods=vocab.PAYMENT_METHODS,
        confirm=ConfirmForm(),
        open_statuses=(StipendStatus.ELIGIBLE, StipendStatus.APPROVED),
    )


@bp.post("/me/stipends/<int:stipend_id>/decline")
@allow("parent")
def decline(stipend_id: int):
    stipend = _my_stipend_or_404(stipend_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        stipends.decline(stipend)
    except stipends.PaymentError as error:
        db.session.rollback()
        flash(error_message(error), "error")
    else:
        audit(None, "stipend.declined_by_parent", stipend)
        db.session.commit()
        flash(_("Done: we will not pay you for this meeting. You can change your mind until it is paid."), "success")
    return redirect(url_for("stipends.mine"))


@bp.post("/me/stipends/<int:stipend_id>/restore")
@allow("parent")
def restore(stipend_id: int):
    stipend = _my_stipend_or_404(stipend_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        stipends.restore(stipend)
    except stipends.PaymentError as error:
        db.session.rollback()
        flash(error_message(error), "error")
    else:
        audit(None, "stipend.restored_by_parent", stipend)
        db.session.commit()
        flash(_("Done: we will pay you for this meeting after all."), "success")
    return redirect(url_for("stipends.mine"))


@bp.route("/me/stipends/<int:stipend_id>/less", methods=["GET", "POST"])
@allow("parent")
def reduce(stipend_id: int):
    stipend = _my_stipend_or_404(stipend_id)
    if stipend.status not in (StipendStatus.ELIGIBLE, StipendStatus.APPROVED):
        flash(error_message(stipends.PaymentError(stipend.status)), "error")
        return redirect(url_for("stipends.mine"))
    form = ReduceForm()
    if request.method == "GET":
        form.amount.data = stipend.amount
    if form.validate_on_submit():
        if form.amount.data > stipend.amount_due:
            form.amount.errors.append(
                _("Please enter %(amount)s or less.", amount=fmt_money(stipend.amount_due)),
            )
        else:
            try:
                stipends.reduce(stipend, form.amount.data, by_member=True)
            except stipends.PaymentError as error:
                db.session.rollback()
                flash(error_message(error), "error")
                return redirect(url_for("stipends.mine"))
            audit(None, "stipend.reduced_by_parent", stipend, amount=str(stipend.amount))
            db.session.commit()
            if stipend.status == StipendStatus.DECLINED:
                flash(_("Done: we will not pay you for this meeting."), "success")
            else:
                flash(_("Done: we will pay you %(amount)s.", amount=fmt_money(stipend.amount)), "success")
            return redirect(url_for("stipends.mine"))
    return render_template("stipends/reduce.html", form=form, stipend=stipend)


@bp.route("/me/stipends/benefits", methods=["GET", "POST"])
@allow("parent")
def benefits():
    me = _me()
    form = BenefitsForm(obj=me)
    form.preferred_payment.choices = [SelectChoice("", _("No preference")), *method_choices()]
    if request.method == "GET":
        form.has_limit.data = "yes" if me.benefit_quarterly_limit is not None else "no"
    if form.validate_on_submit():
        if form.has_limit.data == "yes":
            me.benefit_quarterly_limit = form.benefit_quarterly_limit.data
            me.benefits_note = form.benefits_note.data or None
        else:
            me.benefit_quarterly_limit = None
            me.benefits_note = None
        me.preferred_payment = form.preferred_payment.data or None
        db.session.commit()
        flash(_("Saved. We will check this before we pay you."), "success")
        return redirect(url_for("stipends.mine"))
    return render_template("stipends/benefits.html", form=form)


@bp.route("/me/reimbursements/new", methods=["GET", "POST"])
@allow("parent")
def my_reimbursement_new():
    me = _me()
    form = ReimbursementForm()
    form.meeting_id.choices = _meeting_choices(me)
    if request.method == "GET" and request.args.get("meeting", type=int):
        form.meeting_id.data = request.args.get("meeting", type=int)
    if form.validate_on_submit():
        row = _submit(form, me, None)
        if row is not None:
            db.session.commit()
            flash(
                _("Thank you. We got it: %(amount)s. We will text you when it is paid.", amount=fmt_money(row.amount)),
                "success",
            )
            return redirect(url_for("stipends.mine"))
    return render_template(
        "stipends/reimbursement_new.html",
        form=form,
        member=me,
        rate=stipends.money(current_app.config["MILEAGE_RATE"]),
        staff=False,
    )
