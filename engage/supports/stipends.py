"""Stipends and reimbursements: who earned what, approval, payment recorded once, the
parent told by text; yearly totals against the tax-reporting threshold and warnings
before a payment would cross a benefits limit the parent told us about.

A second payment for the same meeting is impossible twice over: one ``stipends`` row per
person and meeting (a unique constraint), and payment is a compare-and-set from
``approved`` to ``paid`` — when two coordinators press "paid" at once, one wins and the
other is told it was already paid."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from engage.extensions import db
from engage.models import (
    Attendance,
    Committee,
    Meeting,
    MeetingStatus,
    Member,
    OutboxKind,
    PaymentMethod,
    Reimbursement,
    ReimbursementKind,
    ReimbursementStatus,
    Stipend,
    StipendStatus,
    utcnow,
)
from engage.supports import texts, vocab

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# The most a coordinator can set a stipend (or a committee's policy) to.
MAX_AMOUNT = Decimal(1000)
REASON_MAX = 300


class PaymentError(ValueError):
    """The change is not allowed in the payment's state (the message says which)."""


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


# Policy ---------------------------------------------------------------------------


@dataclass
class Policy:
    amount: Decimal  # for attending
    prep_amount: Decimal  # for preparation time
    methods: list[str]

    @property
    def total(self) -> Decimal:
        return self.amount + self.prep_amount


def policy(meeting: Meeting) -> Policy:
    committee = meeting.committee
    amount = meeting.stipend_amount if meeting.stipend_amount is not None else committee.stipend_amount
    prep = meeting.stipend_prep_amount if meeting.stipend_prep_amount is not None else committee.stipend_prep_amount
    methods = [m for m in (committee.stipend_methods or []) if m in PaymentMethod._value2member_map_]
    return Policy(money(amount), money(prep), methods or [m.value for m in PaymentMethod])


# Eligibility from attendance --------------------------------------------------------


def _insert_ignore(rows: list[dict]):
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(Stipend).values(rows).on_conflict_do_nothing()


def make_eligible(meeting: Meeting) -> int:
    """A stipend for everyone who attended and has none yet. Returns how many were added."""
    rule = policy(meeting)
    if rule.total <= 0:
        return 0
    attendees = db.session.scalars(
        sa.select(Attendance.member_id).where(
            Attendance.meeting_id == meeting.id,
            ~sa.exists().where(Stipend.meeting_id == meeting.id, Stipend.member_id == Attendance.member_id),
        )
    ).all()
    if not attendees:
        return 0
    now = utcnow()
    rows = [
        {
            "meeting_id": meeting.id,
            "member_id": member_id,
            "status": StipendStatus.ELIGIBLE.value,
            "amount_due": rule.total,
            "amount": rule.total,
            "reduced_by_member": False,
            "created_at": now,
        }
        for member_id in attendees
    ]
    # Counted from RETURNING: PostgreSQL's drivers may report -1 as the rowcount here.
    return len(db.session.execute(_insert_ignore(rows).returning(Stipend.id)).all())


def make_eligible_job(now: datetime) -> None:
    """The worker's job: stipends for meetings that ended in the last 30 days (the
    coordinator's "prepare" button does the same at once)."""
    meetings = db.session.scalars(
        sa.select(Meeting).where(
            Meeting.starts_at >= now - timedelta(days=31),
            Meeting.starts_at <= now,
            Meeting.status != MeetingStatus.CANCELLED,
        )
    ).all()
    for meeting in meetings:
        if meeting.ends_at <= now and meeting.ends_at >= now - timedelta(days=30):
            make_eligible(meeting)
    db.session.commit()


# Totals, thresholds and benefit limits -----------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])


def quarter_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = moment.astimezone(_zone())
    first_month = 3 * ((local.month - 1) // 3) + 1
    start = datetime(local.year, first_month, 1, tzinfo=_zone())
    end = datetime(local.year + (first_month == 10), (first_month + 2) % 12 + 1, 1, tzinfo=_zone())
    return start.astimezone(UTC), end.astimezone(UTC)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return (
        datetime(year, 1, 1, tzinfo=_zone()).astimezone(UTC),
        datetime(year + 1, 1, 1, tzinfo=_zone()).astimezone(UTC),
    )


def paid_between(member_ids, start: datetime, end: datetime) -> dict[int, Decimal]:
    """What each person was paid (stipends and reimbursements) in [start, end)."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if not member_ids:
        return totals
    for model in (Stipend, Reimbursement):
        rows = db.session.execute(
            sa.select(model.member_id, sa.func.sum(model.amount))
            .where(
                model.member_id.in_(list(member_ids)),
                model.status == "paid",
                model.paid_on >= start,
                model.paid_on < end,
            )
            .group_by(model.member_id)
        )
        for member_id, total in rows:
            totals[member_id] += money(total)
    return totals


def tax_threshold() -> Decimal:
    return money(current_app.config["STIPEND_TAX_THRESHOLD"])


@dataclass
class YearTotal:
    member: Member
    total: Decimal
    threshold: Decimal

    @property
    def w9_needed(self) -> bool:
        return self.total >= self.threshold and not self.member.w9_on_file


def yearly_totals(plan_ids, year: int) -> list[YearTotal]:
    """Everyone paid in the year (their plan's members), highest first."""
    start, end = year_bounds(year)
    query = sa.select(Member).where(Member.id.in_(_paid_member_ids(start, end)))
    if plan_ids is not None:
        query = query.where(Member.plan_id.in_(plan_ids))
    members = {m.id: m for m in db.session.scalars(query)}
    totals = paid_between(members.keys(), start, end)
    threshold = tax_threshold()
    rows = [YearTotal(members[mid], total, threshold) for mid, total in totals.items()]
    return sorted(rows, key=lambda r: (-r.total, r.member.id))


def _paid_member_ids(start: datetime, end: datetime):
    return sa.union(
        sa.select(Stipend.member_id).where(Stipend.status == "paid", Stipend.paid_on >= start, Stipend.paid_on < end),
        sa.select(Reimbursement.member_id).where(
            Reimbursement.status == "paid", Reimbursement.paid_on >= start, Reimbursement.paid_on < end
        ),
    )


@dataclass
class Warnings:
    """What a coordinator should know before paying: both can be acted on (pay less,
    ask for a W-9) and neither blocks the payment."""

    quarter_limit: Decimal | None = None  # the parent's limit, when this payment would cross it
    quarter_paid: Decimal = ZERO
    year_total_after: Decimal = ZERO
    w9_needed: bool = False

    @property
    def any(self) -> bool:
        return self.quarter_limit is not None or self.w9_needed


def warnings_for(member: Member, amount: Decimal, when: datetime | None = None) -> Warnings:
    return warnings_for_many([(member, amount)], when)[0]


def warnings_for_many(items, when: datetime | None = None) -> list[Warnings]:
    """``warnings_for`` for many (member, amount) pairs at once, in a fixed number of
    queries (for list pages). Each pair is judged on its own against what was paid."""
    when = when or utcnow()
    items = list(items)
    ids = {member.id for member, _amount in items}
    quarter = paid_between(ids, *quarter_bounds(when))
    year = paid_between(ids, *year_bounds(when.astimezone(_zone()).year))
    threshold = tax_threshold()
    found = []
    for member, amount in items:
        result = Warnings(
            quarter_paid=quarter.get(member.id, ZERO),
            year_total_after=year.get(member.id, ZERO) + money(amount),
        )
        limit = member.benefit_quarterly_limit
        if limit is not None and result.quarter_paid + money(amount) > money(limit):
            result.quarter_limit = money(limit)
        result.w9_needed = result.year_total_after >= threshold and not member.w9_on_file
        found.append(result)
    return found


# The life of a stipend ------------------------------------------------------------


def _move(stipend: Stipend, allowed: tuple[StipendStatus, ...], **values) -> None:
    """Change a stipend only if it is still in one of ``allowed`` states, in one guarded
    UPDATE: a parent declining while a coordinator pays can never turn a paid stipend
    back into a declined one (or approve one the parent just declined)."""
    result = db.session.execute(
        sa.update(Stipend)
        .where(Stipend.id == stipend.id, Stipend.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(stipend)
    if result.rowcount != 1:
        raise PaymentError(stipend.status)


def approve(stipend: Stipend, *, by, now: datetime | None = None) -> None:
    if stipend.status != StipendStatus.ELIGIBLE:
        raise PaymentError(stipend.status)
    _move(
        stipend,
        (StipendStatus.ELIGIBLE,),
        status=StipendStatus.APPROVED,
        approved_at=now or utcnow(),
        approved_by_id=getattr(by, "id", None),
    )


def reduce(stipend: Stipend, amount, *, by_member: bool = True) -> None:
    """The parent asked for less (a benefits limit, say). Never more than is due."""
    amount = money(amount)
    if stipend.status in (StipendStatus.PAID, StipendStatus.DECLINED):
        raise PaymentError(stipend.status)
    if amount < 0 or amount > stipend.amount_due:
        raise PaymentError("amount")
    if amount == 0:
        decline(stipend)
        return
    _move(
        stipend,
        (StipendStatus.ELIGIBLE, StipendStatus.APPROVED),
        amount=amount,
        reduced_by_member=by_member or stipend.reduced_by_member,
    )


def decline(stipend: Stipend, *, now: datetime | None = None) -> None:
    if stipend.status == StipendStatus.PAID:
        raise PaymentError(stipend.status)
    _move(
        stipend,
        (StipendStatus.ELIGIBLE, StipendStatus.APPROVED, StipendStatus.DECLINED),
        status=StipendStatus.DECLINED,
        declined_at=now or utcnow(),
    )


def restore(stipend: Stipend) -> None:
    """The parent changed their mind about declining."""
    if stipend.status != StipendStatus.DECLINED:
        raise PaymentError(stipend.status)
    _move(
        stipend,
        (StipendStatus.DECLINED,),
        status=StipendStatus.ELIGIBLE,
        declined_at=None,
        amount=stipend.amount_due,
        reduced_by_member=False,
    )


def paid_after_change(stipend: Stipend, amount) -> Decimal:
    """What the parent would be paid if the amount due became ``amount`` (see below)."""
    amount = money(amount)
    if stipend.reduced_by_member and stipend.amount < amount:
        return stipend.amount
    return amount


def change_amount(stipend: Stipend, amount, reason: str) -> tuple[Decimal, Decimal]:
    """A coordinator sets what this stipend is worth (the parent left early, or the plan
    pays a different rate this time), with a reason the parent will see. Only before it
    is paid and while the parent has not said no thank you: one guarded UPDATE, so a form
    loaded before someone else paid it can never change a paid stipend.

    The new amount becomes the amount due. A parent who asked for less than that keeps
    their lower amount; otherwise they are paid the new amount. Returns (old, new) of
    what will be paid."""
    amount = money(amount)
    reason = (reason or "").strip()
    if amount < 0 or amount > MAX_AMOUNT:
        raise PaymentError("amount")
    if not reason or len(reason) > REASON_MAX:
        raise PaymentError("reason")
    if stipend.status in (StipendStatus.PAID, StipendStatus.DECLINED):
        raise PaymentError(stipend.status)
    old = stipend.amount
    # Worked out in the UPDATE itself, from the row as it is then (not from our copy):
    # the parent may have asked for less a moment ago.
    keeps_less = sa.and_(Stipend.reduced_by_member, Stipend.amount < amount)
    _move(
        stipend,
        (StipendStatus.ELIGIBLE, StipendStatus.APPROVED),
        amount_due=amount,
        amount=sa.case((keeps_less, Stipend.amount), else_=amount),
        reduced_by_member=sa.case((keeps_less, sa.true()), else_=sa.false()),
        note=reason,
    )
    if stipend.amount != old:
        _tell_changed(stipend, old)
    return old, stipend.amount


def _record_payment(row, *, method: PaymentMethod, reference: str | None, paid_on: datetime, by) -> bool:
    """The one way a stipend or reimbursement is paid: compare-and-set from "approved" to
    "paid". False when someone else paid it a moment earlier; PaymentError otherwise."""
    model = type(row)
    result = db.session.execute(
        sa.update(model)
        .where(model.id == row.id, model.status == "approved")
        .values(
            status="paid",
            method=method,
            reference=(reference or "").strip()[:120] or None,
            paid_on=paid_on,
            paid_by_id=getattr(by, "id", None),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    if result.rowcount == 1:
        return True
    if row.status == "paid":
        return False
    raise PaymentError(row.status)


def pay(
    stipend: Stipend,
    *,
    method: PaymentMethod,
    reference: str | None,
    paid_on: datetime,
    by,
    notify: bool = True,
) -> bool:
    """Record the payment once. Returns False when it was already paid (by someone else
    at the same moment); the caller then tells the coordinator."""
    method = PaymentMethod(method)
    if not _record_payment(stipend, method=method, reference=reference, paid_on=paid_on, by=by):
        return False
    if notify and stipend.amount > 0:  # a coordinator may have set it to nothing: no "we paid you $0"
        _tell_paid(stipend.member, stipend.amount, method, meeting=stipend.meeting)
    return True


def _tell_changed(stipend: Stipend, old: Decimal) -> None:
    """The parent hears, in their language, that what they will be paid changed (the
    coordinator's reason is on their stipends page: it is written in the coordinator's words)."""
    from engage.i18n import fmt_money  # noqa: PLC0415
    from engage.meetings import replies  # noqa: PLC0415
    from engage.meetings.texts import sms_when  # noqa: PLC0415
    from engage.sms.outbox import enqueue  # noqa: PLC0415

    member = stipend.member
    if not replies.can_text(member):
        return
    with force_locale(member.locale):
        body = texts.stipend_changed(
            plan=member.plan.short_name if member.plan else "engage",
            amount=fmt_money(stipend.amount),
            old=fmt_money(old),
            when=sms_when(stipend.meeting.starts_at),
        )
    enqueue(member.phone, body, kind=OutboxKind.NOTICE, locale=member.locale, member=member)


def _tell_paid(member: Member, amount: Decimal, method: PaymentMethod, *, meeting: Meeting | None) -> None:
    from engage.i18n import fmt_money  # noqa: PLC0415
    from engage.meetings import replies  # noqa: PLC0415
    from engage.meetings.texts import sms_when  # noqa: PLC0415
    from engage.sms.outbox import enqueue  # noqa: PLC0415

    if not replies.can_text(member):
        return
    with force_locale(member.locale):
        plan = member.plan.short_name if member.plan else "engage"
        how = str(vocab.PAYMENT_METHODS[method])
        if meeting is not None:
            body = texts.stipend_paid(plan=plan, amount=fmt_money(amount), when=sms_when(meeting.starts_at), method=how)
        else:
            body = texts.reimbursement_paid(plan=plan, amount=fmt_money(amount), method=how)
    enqueue(member.phone, body, kind=OutboxKind.NOTICE, locale=member.locale, member=member)


# Reimbursements ---------------------------------------------------------------------


def submit_reimbursement(
    member: Member,
    kind: ReimbursementKind,
    *,
    amount=None,
    miles=None,
    meeting: Meeting | None = None,
    receipt_note: str | None = None,
    by=None,
) -> Reimbursement:
    kind = ReimbursementKind(kind)
    if kind == ReimbursementKind.MILEAGE and miles is not None:
        amount = Decimal(str(miles)) * money(current_app.config["MILEAGE_RATE"])
    amount = money(amount)
    if amount <= 0:
        raise PaymentError("amount")
    row = Reimbursement(
        member_id=member.id,
        meeting_id=getattr(meeting, "id", None),
        kind=kind,
        amount=amount,
        miles=Decimal(str(miles)) if miles is not None else None,
        receipt_note=(receipt_note or "").strip() or None,
        status=ReimbursementStatus.SUBMITTED,
        submitted_by_id=getattr(by, "id", None),
    )
    db.session.add(row)
    return row


def approve_reimbursement(row: Reimbursement, *, by, now=None) -> None:
    if row.status != ReimbursementStatus.SUBMITTED:
        raise PaymentError(row.status)
    row.status = ReimbursementStatus.APPROVED
    row.approved_at = now or utcnow()
    row.approved_by_id = getattr(by, "id", None)


def reject_reimbursement(row: Reimbursement, reason: str, *, by) -> None:
    if row.status not in (ReimbursementStatus.SUBMITTED, ReimbursementStatus.APPROVED):
        raise PaymentError(row.status)
    if not reason.strip():
        raise PaymentError("reason")
    row.status = ReimbursementStatus.REJECTED
    row.rejected_reason = reason.strip()
    row.approved_by_id = getattr(by, "id", None)


def pay_reimbursement(row: Reimbursement, *, method, reference, paid_on: datetime, by, notify=True) -> bool:
    method = PaymentMethod(method)
    if not _record_payment(row, method=method, reference=reference, paid_on=paid_on, by=by):
        return False
    if notify:
        _tell_paid(row.member, row.amount, method, meeting=None)
    return True


# Figures and exports ---------------------------------------------------------------


def on_time_share(
    plan_ids, now: datetime | None = None, since: datetime | None = None, until: datetime | None = None
) -> tuple[int, int]:
    """(paid within STIPEND_ON_TIME_DAYS of the meeting, all paid or overdue) for meetings
    that have happened (and, if given, started at or after ``since`` and before ``until``)."""
    now = now or utcnow()
    days = timedelta(days=current_app.config["STIPEND_ON_TIME_DAYS"])
    query = (
        sa.select(Stipend.status, Stipend.paid_on, Meeting.starts_at)
        .join(Meeting, Meeting.id == Stipend.meeting_id)
        .join(Committee, Committee.id == Meeting.committee_id)
        .where(Stipend.status != StipendStatus.DECLINED, Meeting.starts_at <= now)
    )
    if plan_ids is not None:
        query = query.where(Committee.plan_id.in_(plan_ids))
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    if until is not None:
        query = query.where(Meeting.starts_at < until)
    on_time = counted = 0
    for status, paid_on, starts_at in db.session.execute(query):
        if status == StipendStatus.PAID:
            counted += 1
            on_time += int(paid_on <= starts_at + days)
        elif now > starts_at + days:
            counted += 1  # overdue and still unpaid
    return on_time, counted


FINANCE_COLUMNS = [
    "record",
    "id",
    "member_id",
    "name",
    "meeting_date",
    "committee",
    "kind",
    "status",
    "amount_due",
    "amount",
    "method",
    "reference",
    "paid_on",
    "w9_on_file",
]


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def finance_csv(plan_ids, start: date | None = None, end: date | None = None) -> str:
    """Stipends and reimbursements for the finance team (their plan's, in a date range)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FINANCE_COLUMNS)
    zone = _zone()
    q = (
        sa.select(Stipend, Meeting, Committee, Member)
        .join(Meeting, Meeting.id == Stipend.meeting_id)
        .join(Committee, Committee.id == Meeting.committee_id)
        .join(Member, Member.id == Stipend.member_id)
        .order_by(Meeting.starts_at, Stipend.id)
    )
    if plan_ids is not None:
        q = q.where(Committee.plan_id.in_(plan_ids))
    if start is not None:
        q = q.where(Meeting.starts_at >= datetime.combine(start, datetime.min.time(), tzinfo=zone))
    if end is not None:
        q = q.where(Meeting.starts_at < datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone))
    for stipend, meeting, committee, member in db.session.execute(q):
        writer.writerow(
            [
                _safe(v)
                for v in (
                    "stipend",
                    stipend.id,
                    member.id,
                    member.display_name,
                    meeting.starts_at.astimezone(zone).date().isoformat(),
                    committee.slug,
                    "attendance",
                    stipend.status.value,
                    stipend.amount_due,
                    stipend.amount,
                    stipend.method.value if stipend.method else "",
                    stipend.reference,
                    stipend.paid_on.astimezone(zone).date().isoformat() if stipend.paid_on else "",
                    "yes" if member.w9_on_file else "no",
                )
            ]
        )
    r = (
        sa.select(Reimbursement, Member)
        .join(Member, Member.id == Reimbursement.member_id)
        .options(joinedload(Reimbursement.meeting).joinedload(Meeting.committee))
        .order_by(Reimbursement.created_at, Reimbursement.id)
    )
    if plan_ids is not None:
        r = r.where(Member.plan_id.in_(plan_ids))
    if start is not None:
        r = r.where(Reimbursement.created_at >= datetime.combine(start, datetime.min.time(), tzinfo=zone))
    if end is not None:
        r = r.where(
            Reimbursement.created_at < datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        )
    for row, member in db.session.execute(r):
        writer.writerow(
            [
                _safe(v)
                for v in (
                    "reimbursement",
                    row.id,
                    member.id,
                    member.display_name,
                    row.meeting.starts_at.astimezone(zone).date().isoformat() if row.meeting else "",
                    row.meeting.committee.slug if row.meeting else "",
                    row.kind.value,
                    row.status.value,
                    row.amount,
                    row.amount,
                    row.method.value if row.method else "",
                    row.reference,
                    row.paid_on.astimezone(zone).date().isoformat() if row.paid_on else "",
                    "yes" if member.w9_on_file else "no",
                )
            ]
        )
    return out.getvalue()
