"""Stipend rules: eligibility from attendance, approve / reduce / decline / restore, one
payment per meeting (also with eight coordinators pressing "paid" at once on PostgreSQL),
the text to the parent, the tax threshold and W-9 flag, the quarterly benefits limit and
the finance CSV."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from engage.extensions import db
from engage.i18n import fmt_money
from engage.meetings.texts import sms_when
from engage.models import (
    Attendance,
    OutboxMessage,
    PaymentMethod,
    Reimbursement,
    ReimbursementKind,
    ReimbursementStatus,
    SmsStatus,
    Stipend,
    StipendStatus,
    utcnow,
)
from engage.supports import stipends, texts
from tests.conftest import make_member
from tests.meeting_factories import make_meeting

D = Decimal


# Factories (also used by the view tests) ----------------------------------------------


def set_policy(committee, amount="50", prep="0", methods=("gift_card", "check")):
    committee.stipend_amount = D(amount)
    committee.stipend_prep_amount = D(prep)
    committee.stipend_methods = list(methods)
    db.session.commit()


def past_meeting(committee, *, days: float = 3, **fields):
    return make_meeting(committee, days=-days, **fields)


def attend(meeting, *members) -> None:
    for m in members:
        db.session.add(Attendance(meeting_id=meeting.id, member_id=m.id))
    db.session.commit()


def a_stipend(meeting, member, *, status=StipendStatus.ELIGIBLE, amount="50", paid_on=None) -> Stipend:
    row = Stipend(
        meeting_id=meeting.id,
        member_id=member.id,
        status=status,
        amount_due=D(amount),
        amount=D(amount),
        paid_on=paid_on,
        method=PaymentMethod.GIFT_CARD if paid_on else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def approved_stipend(cast, member=None, **kwargs) -> Stipend:
    set_policy(cast.committee_a)
    meeting = past_meeting(cast.committee_a, **kwargs)
    return a_stipend(meeting, member or cast.parent, status=StipendStatus.APPROVED)


def texts_to(phone: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.phone == phone)))


def local(y, m, d, h=12) -> datetime:
    """A moment in ENGAGE_TIMEZONE (America/Los_Angeles), as UTC."""
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, h, tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)


# Eligibility --------------------------------------------------------------------------


def test_everyone_who_came_gets_one_stipend_at_the_policy_amount(cast):
    set_policy(cast.committee_a, "50", "25")
    other = make_member("+15105550199", "Otto", plan=cast.plan_a)
    meeting = past_meeting(cast.committee_a)
    attend(meeting, cast.parent, other)
    assert stipends.make_eligible(meeting) == 2
    db.session.commit()
    assert stipends.make_eligible(meeting) == 0  # again: nothing new
    rows = db.session.scalars(sa.select(Stipend).where(Stipend.meeting_id == meeting.id)).all()
    assert {r.member_id for r in rows} == {cast.parent.id, other.id}
    assert all(r.amount_due == D("75.00") and r.amount == D("75.00") for r in rows)
    assert all(r.status == StipendStatus.ELIGIBLE for r in rows)


def test_a_meetings_own_amount_wins_and_no_amount_means_no_stipend(cast):
    set_policy(cast.committee_a, "50", "0")
    special = past_meeting(cast.committee_a, stipend_amount=D("80"))
    attend(special, cast.parent)
    stipends.make_eligible(special)
    assert db.session.scalar(sa.select(Stipend.amount_due)) == D("80.00")
    set_policy(cast.committee_b, "0", "0")
    none = past_meeting(cast.committee_b)
    attend(none, cast.parent_b)
    assert stipends.make_eligible(none) == 0


def test_one_row_per_person_and_meeting(cast):
    meeting = past_meeting(cast.committee_a)
    a_stipend(meeting, cast.parent)
    db.session.add(Stipend(meeting_id=meeting.id, member_id=cast.parent.id, amount_due=D(1), amount=D(1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_worker_job_prepares_stipends_for_meetings_that_ended_in_the_last_30_days(cast):
    set_policy(cast.committee_a)
    recent = past_meeting(cast.committee_a, days=2)
    old = past_meeting(cast.committee_a, days=40)
    ongoing = make_meeting(cast.committee_a, days=-0.01)  # started 15 minutes ago, 90 minutes long
    for m in (recent, old, ongoing):
        attend(m, cast.parent)
    stipends.make_eligible_job(utcnow())
    got = set(db.session.scalars(sa.select(Stipend.meeting_id)))
    assert got == {recent.id}


# The life of a stipend ------------------------------------------------------------------


def test_approve_then_pay_once_and_the_parent_is_texted_in_spanish(cast):
    set_policy(cast.committee_a)
    meeting = past_meeting(cast.committee_a)
    stipend = a_stipend(meeting, cast.parent)
    with pytest.raises(stipends.PaymentError):
        stipends.pay(stipend, method=PaymentMethod.CHECK, reference="", paid_on=utcnow(), by=cast.coord_a)
    stipends.approve(stipend, by=cast.coord_a)
    db.session.commit()
    assert stipend.status == StipendStatus.APPROVED and stipend.approved_by_id == cast.coord_a.id
    with pytest.raises(stipends.PaymentError):
        stipends.approve(stipend, by=cast.coord_a)
    assert stipends.pay(stipend, method=PaymentMethod.GIFT_CARD, reference=" GC-1 ", paid_on=utcnow(), by=cast.coord_a)
    db.session.commit()
    assert stipend.status == StipendStatus.PAID
    assert stipend.reference == "GC-1" and stipend.paid_by_id == cast.coord_a.id
    assert not stipends.pay(stipend, method=PaymentMethod.CHECK, reference="x", paid_on=utcnow(), by=cast.coord_b)
    db.session.commit()
    assert stipend.method == PaymentMethod.GIFT_CARD  # the first payment stands
    (text,) = texts_to(cast.parent.phone)
    assert text.locale == "es"
    with force_locale("es"):
        expected = texts.stipend_paid(
            plan="AFH",
            amount=fmt_money(D("50")),
            when=sms_when(meeting.starts_at),
            method=str(stipends.vocab.PAYMENT_METHODS[PaymentMethod.GIFT_CARD]),
        )
    assert text.body == expected


def test_no_text_to_a_stopped_number(cast):
    cast.parent.sms_status = SmsStatus.STOPPED
    stipend = approved_stipend(cast)
    assert stipends.pay(stipend, method=PaymentMethod.CHECK, reference=None, paid_on=utcnow(), by=cast.coord_a)
    db.session.commit()
    assert texts_to(cast.parent.phone) == []


def test_reduce_decline_and_restore(cast):
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent)
    with pytest.raises(stipends.PaymentError):
        stipends.reduce(stipend, "60")  # more than is due
    with pytest.raises(stipends.PaymentError):
        stipends.reduce(stipend, "-1")
    stipends.reduce(stipend, "20")
    assert stipend.amount == D("20.00") and stipend.reduced_by_member
    stipends.decline(stipend)
    assert stipend.status == StipendStatus.DECLINED and stipend.declined_at
    with pytest.raises(stipends.PaymentError):
        stipends.reduce(stipend, "10")
    with pytest.raises(stipends.PaymentError):
        stipends.approve(stipend, by=cast.coord_a)
    stipends.restore(stipend)
    assert stipend.status == StipendStatus.ELIGIBLE
    assert stipend.amount == D("50.00") and not stipend.reduced_by_member
    with pytest.raises(stipends.PaymentError):
        stipends.restore(stipend)
    stipends.reduce(stipend, "0")  # nothing at all is a "no thank you"
    assert stipend.status == StipendStatus.DECLINED


def test_a_paid_stipend_cannot_be_declined_reduced_or_restored(cast):
    stipend = approved_stipend(cast)
    stipends.pay(stipend, method=PaymentMethod.CHECK, reference=None, paid_on=utcnow(), by=cast.coord_a, notify=False)
    db.session.commit()
    for change in (lambda: stipends.decline(stipend), lambda: stipends.reduce(stipend, "10")):
        with pytest.raises(stipends.PaymentError):
            change()
    with pytest.raises(stipends.PaymentError):
        stipends.restore(stipend)


def test_a_decline_from_a_stale_copy_never_undoes_a_payment(cast):
    """The parent's page loaded the stipend before the coordinator paid it."""
    stipend = approved_stipend(cast)
    assert stipend.status == StipendStatus.APPROVED  # loaded: the copy the parent's page holds
    with db.engine.begin() as conn:  # another coordinator pays, in their own transaction
        conn.execute(sa.update(Stipend).where(Stipend.id == stipend.id).values(status=StipendStatus.PAID))
    assert stipend.status == StipendStatus.APPROVED  # still stale
    with pytest.raises(stipends.PaymentError):
        stipends.decline(stipend)
    with pytest.raises(stipends.PaymentError):
        stipends.reduce(stipend, "10")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Stipend, stipend.id).status == StipendStatus.PAID


@pytest.fixture
def postgresql(app):
    if app.extensions["sqlalchemy"].engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent writers); set TEST_DATABASE_URL")
    return app


def test_eight_coordinators_paying_the_same_stipend_at_once_pay_it_once(postgresql, cast):
    app = postgresql
    stipend_id = approved_stipend(cast).id
    coord_id = cast.coord_a.id
    start = threading.Barrier(8)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            with app.app_context():
                from engage.models import StaffUser

                row = db.session.get(Stipend, stipend_id)
                by = db.session.get(StaffUser, coord_id)
                start.wait(timeout=20)
                done = stipends.pay(
                    row, method=PaymentMethod.CHECK, reference=f"CHK-{n}", paid_on=utcnow(), by=by, notify=True
                )
                db.session.commit()
                with lock:
                    results.append(done)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert sorted(results) == [False] * 7 + [True]
    db.session.expire_all()
    row = db.session.get(Stipend, stipend_id)
    assert row.status == StipendStatus.PAID and row.reference.startswith("CHK-")
    assert len(texts_to(cast.parent.phone)) == 1
    assert db.session.scalar(sa.select(sa.func.count(Stipend.id))) == 1


def test_a_parent_declining_while_coordinators_pay_ends_paid_or_declined_never_both(postgresql, cast):
    app = postgresql
    stipend_id = approved_stipend(cast).id
    start = threading.Barrier(5)
    errors: list[BaseException] = []
    outcomes: list[str] = []

    def coordinator() -> None:
        try:
            with app.app_context():
                row = db.session.get(Stipend, stipend_id)
                start.wait(timeout=20)
                try:
                    if stipends.pay(row, method=PaymentMethod.CHECK, reference=None, paid_on=utcnow(), by=None):
                        outcomes.append("paid")
                    db.session.commit()
                except stipends.PaymentError:
                    db.session.rollback()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    def parent() -> None:
        try:
            with app.app_context():
                row = db.session.get(Stipend, stipend_id)
                start.wait(timeout=20)
                try:
                    stipends.decline(row)
                    db.session.commit()
                    outcomes.append("declined")
                except stipends.PaymentError:
                    db.session.rollback()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=coordinator) for _ in range(4)] + [threading.Thread(target=parent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    db.session.expire_all()
    final = db.session.get(Stipend, stipend_id).status
    if final == StipendStatus.PAID:
        assert outcomes == ["paid"]
        assert len(texts_to(cast.parent.phone)) == 1
    else:
        assert final == StipendStatus.DECLINED and outcomes == ["declined"]
        assert texts_to(cast.parent.phone) == []


# Tax threshold and the W-9 flag ---------------------------------------------------------


def _paid(cast, member, amount, when, committee=None):
    meeting = make_meeting(committee or cast.committee_a, starts_at=when - timedelta(days=1))
    return a_stipend(meeting, member, status=StipendStatus.PAID, amount=amount, paid_on=when)


def test_crossing_the_2000_line_in_a_year_needs_a_w9(cast):
    for month in range(1, 11):  # $190 a month: $1,900 by October
        _paid(cast, cast.parent, "190", local(2026, month, 15))
    before = stipends.warnings_for(cast.parent, D("50"), local(2026, 11, 20))
    assert before.year_total_after == D("1950.00") and not before.w9_needed
    crossing = stipends.warnings_for(cast.parent, D("100"), local(2026, 11, 20))
    assert crossing.w9_needed and crossing.year_total_after == D("2000.00")
    # A new year starts again from nothing.
    assert not stipends.warnings_for(cast.parent, D("100"), local(2027, 1, 5)).w9_needed
    (row,) = stipends.yearly_totals({cast.plan_a.id}, 2026)
    assert row.total == D("1900.00") and not row.w9_needed
    _paid(cast, cast.parent, "100", local(2026, 12, 31, 23))  # still 2026 in California
    (row,) = stipends.yearly_totals({cast.plan_a.id}, 2026)
    assert row.total == D("2000.00") and row.w9_needed
    cast.parent.w9_on_file = True
    assert not stipends.yearly_totals({cast.plan_a.id}, 2026)[0].w9_needed
    assert not stipends.warnings_for(cast.parent, D("100"), local(2026, 12, 31)).w9_needed
    assert stipends.yearly_totals({cast.plan_b.id}, 2026) == []


def test_the_threshold_is_a_setting(app, cast):
    app.config["STIPEND_TAX_THRESHOLD"] = "600"
    _paid(cast, cast.parent, "550", local(2026, 3, 1))
    assert stipends.warnings_for(cast.parent, D("50"), local(2026, 3, 2)).w9_needed


def test_reimbursements_count_toward_the_yearly_total(cast):
    _paid(cast, cast.parent, "100", local(2026, 2, 1))
    db.session.add(
        Reimbursement(
            member_id=cast.parent.id,
            kind=ReimbursementKind.TRANSIT,
            amount=D("12.50"),
            status=ReimbursementStatus.PAID,
            paid_on=local(2026, 2, 3),
        )
    )
    db.session.commit()
    (row,) = stipends.yearly_totals(None, 2026)
    assert row.total == D("112.50")


# The quarterly benefits limit ------------------------------------------------------------


def test_ssi_60_a_quarter_warns_when_40_paid_and_50_more_would_make_90(cast):
    cast.parent.benefit_quarterly_limit = D("60")
    cast.parent.benefits_note = "SSI"
    _paid(cast, cast.parent, "40", local(2026, 4, 10))
    w = stipends.warnings_for(cast.parent, D("50"), local(2026, 5, 20))
    assert w.quarter_limit == D("60.00") and w.quarter_paid == D("40.00") and w.any
    # Within the limit: no warning.
    assert stipends.warnings_for(cast.parent, D("20"), local(2026, 5, 20)).quarter_limit is None
    # Next quarter: nothing paid yet, so no warning.
    assert stipends.warnings_for(cast.parent, D("50"), local(2026, 7, 1, 0)).quarter_limit is None
    # No limit told: never a warning.
    cast.parent.benefit_quarterly_limit = None
    assert stipends.warnings_for(cast.parent, D("500"), local(2026, 5, 20)).quarter_limit is None


def test_quarter_boundaries_are_in_california_time(cast):
    cast.parent.benefit_quarterly_limit = D("60")
    # 31 March, 11 p.m. in California is already 1 April in UTC: still the first quarter here.
    late_march = local(2026, 3, 31, 23)
    assert late_march.month == 4
    _paid(cast, cast.parent, "40", late_march)
    assert stipends.warnings_for(cast.parent, D("50"), local(2026, 3, 2)).quarter_limit == D("60.00")
    assert stipends.warnings_for(cast.parent, D("50"), local(2026, 4, 1, 1)).quarter_limit is None
    start, end = stipends.quarter_bounds(local(2026, 11, 5))
    assert start == local(2026, 10, 1, 0) and end == local(2027, 1, 1, 0)


def test_warnings_for_many_agrees_with_warnings_for(cast):
    cast.parent.benefit_quarterly_limit = D("60")
    _paid(cast, cast.parent, "40", local(2026, 4, 10))
    when = local(2026, 5, 1)
    many = stipends.warnings_for_many([(cast.parent, D("50")), (cast.parent_b, D("50"))], when)
    assert many[0] == stipends.warnings_for(cast.parent, D("50"), when)
    assert many[1] == stipends.warnings_for(cast.parent_b, D("50"), when)


# The finance CSV ---------------------------------------------------------------------------


def test_finance_csv_has_stipends_and_reimbursements_of_the_plan_in_the_range(cast):
    cast.parent.display_name = '=HYPERLINK("http://x")'
    inside = _paid(cast, cast.parent, "50", local(2026, 3, 10))
    inside.reference = "+1-555"
    _paid(cast, cast.parent, "50", local(2026, 6, 10))  # outside the range
    _paid(cast, cast.parent_b, "50", local(2026, 3, 10), committee=cast.committee_b)  # another plan
    db.session.add(
        Reimbursement(
            member_id=cast.parent.id,
            meeting_id=inside.meeting_id,
            kind=ReimbursementKind.MILEAGE,
            amount=D("7.00"),
            miles=D("10"),
            status=ReimbursementStatus.SUBMITTED,
            created_at=local(2026, 3, 11),
        )
    )
    db.session.commit()
    text = stipends.finance_csv({cast.plan_a.id}, date(2026, 3, 1), date(2026, 3, 31))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["record"] for r in rows] == ["stipend", "reimbursement"]
    stipend, paid_back = rows
    assert stipend["name"] == '\'=HYPERLINK("http://x")'  # a spreadsheet shows it, never runs it
    assert stipend["reference"] == "'+1-555"
    assert stipend["amount"] == "50.00" and stipend["status"] == "paid" and stipend["method"] == "gift_card"
    assert stipend["meeting_date"] == "2026-03-09" and stipend["paid_on"] == "2026-03-10"
    assert stipend["committee"] == "alameda-children" and stipend["w9_on_file"] == "no"
    assert paid_back["kind"] == "mileage" and paid_back["amount"] == "7.00" and paid_back["status"] == "submitted"
    assert paid_back["meeting_date"] == "2026-03-09"
    everything = stipends.finance_csv(None)
    assert everything.count("\n") == 5  # header, 3 stipends, 1 reimbursement
