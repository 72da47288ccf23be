"""The stipend and reimbursement pages: a coordinator's policy, lists, approvals, payments,
totals and export; a parent's own stipends, "pay me less", "no thank you" and their benefits
limit. Scoping (plan B's coordinator gets 404, a parent sees only their own), languages,
query counts."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from engage.extensions import db
from engage.models import Reimbursement, ReimbursementKind, ReimbursementStatus, Stipend, StipendStatus
from tests.test_stipends import a_stipend, past_meeting, set_policy

D = Decimal


# Rows for tests/test_access.py (made once per test) -------------------------------------


def past_meeting_a(c) -> int:
    """A meeting of committee A three days ago, with a stipend policy."""
    from engage.models import Meeting

    found = db.session.scalar(
        sa.select(Meeting).where(Meeting.committee_id == c.committee_a.id, Meeting.stipend_amount.is_not(None))
    )
    if found is None:
        set_policy(c.committee_a)
        found = past_meeting(c.committee_a, stipend_amount=D("50"))
    return found.id


def stipend_a(c) -> int:
    """An approved stipend of plan A's parent."""
    found = db.session.scalar(sa.select(Stipend).where(Stipend.member_id == c.parent.id))
    if found is None:
        from engage.models import Meeting

        found = a_stipend(db.session.get(Meeting, past_meeting_a(c)), c.parent, status=StipendStatus.APPROVED)
    return found.id


def reimbursement_a(c) -> int:
    found = db.session.scalar(sa.select(Reimbursement).where(Reimbursement.member_id == c.parent.id))
    if found is None:
        found = Reimbursement(
            member_id=c.parent.id, kind=ReimbursementKind.TRANSIT, amount=D("5.50"), status=ReimbursementStatus.APPROVED
        )
        db.session.add(found)
        db.session.commit()
    return found.id


# Coordinator pages --------------------------------------------------------------------

import csv  # noqa: E402
import io  # noqa: E402

import pytest  # noqa: E402

from engage.models import Attendance, AuditEvent, OutboxMessage, PaymentMethod  # noqa: E402
from tests.conftest import login, make_member, post_form  # noqa: E402
from tests.test_stipends import _paid, local  # noqa: E402


def _get(client, url, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_policy_page_saves_amounts_and_methods_and_audits(client, cast):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/stipend-policy"
    assert "Amount for attending" in _get(client, url)
    response = post_form(
        client, url, {"stipend_amount": "60", "stipend_prep_amount": "15", "stipend_methods": ["check", "prepaid"]}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert cast.committee_a.stipend_amount == D("60.00") and cast.committee_a.stipend_prep_amount == D("15.00")
    assert cast.committee_a.stipend_methods == ["check", "prepaid"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "committee.stipend_policy_changed"))
    assert event.detail["changes"]["stipend_amount"] == [None, "60.00"]
    page = post_form(client, url, {"stipend_amount": "-5", "stipend_methods": []}).get_data(as_text=True)
    assert "Please tick at least one way of paying." in page


@pytest.mark.parametrize("amount", ["sNaN", "NaN", "Infinity", "-Infinity", "1e999"])
def test_the_policy_page_refuses_amounts_that_are_not_numbers_with_a_message(client, cast, amount):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/stipend-policy"
    response = post_form(client, url, {"stipend_amount": amount, "stipend_methods": ["check"]})
    assert response.status_code == 200
    assert "Please enter an amount from $0 to $" in response.get_data(as_text=True)
    db.session.expire_all()
    assert cast.committee_a.stipend_amount is None


def test_prepare_approve_and_pay_from_the_list(client, cast):
    set_policy(cast.committee_a, "50", "10")
    meeting = past_meeting(cast.committee_a)
    db.session.add(Attendance(meeting_id=meeting.id, member_id=cast.parent.id))
    db.session.commit()
    login(client, cast.coord_a)
    assert "Prepare stipends from attendance" in _get(client, "/coordinator/stipends")
    post_form(client, f"/coordinator/stipends/meetings/{meeting.id}/prepare", token_from="/coordinator/stipends")
    stipend = db.session.scalar(sa.select(Stipend))
    assert stipend.amount == D("60.00") and stipend.status == StipendStatus.ELIGIBLE
    page = _get(client, "/coordinator/stipends")
    assert "Paloma Parent" in page and "Waiting for approval" in page
    post_form(client, f"/coordinator/stipends/meetings/{meeting.id}/approve", token_from="/coordinator/stipends")
    db.session.expire_all()
    assert stipend.status == StipendStatus.APPROVED
    pay_url = f"/coordinator/stipends/{stipend.id}/pay"
    page = _get(client, pay_url)
    assert 'value="gift_card"' in page and 'value="deposit"' not in page  # the policy's methods only
    response = post_form(client, pay_url, {"method": "check", "reference": "CHK 1001", "paid_on": local_today()})
    assert response.status_code == 302
    db.session.expire_all()
    assert stipend.status == StipendStatus.PAID and stipend.method == PaymentMethod.CHECK
    assert stipend.paid_by_id == cast.coord_a.id
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    # Pressing "paid" again (a second tab, say): told, and nothing recorded twice.
    response = post_form(
        client, pay_url, {"method": "gift_card", "paid_on": local_today()}, token_from="/coordinator/stipends"
    )
    assert response.status_code == 302
    assert "This stipend was already paid" in _get(client, "/coordinator/stipends")
    db.session.expire_all()
    assert stipend.method == PaymentMethod.CHECK
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def local_today() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat()


def test_a_payment_error_is_a_message_not_a_500(client, cast):
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent, status=StipendStatus.DECLINED)
    login(client, cast.coord_a)
    response = post_form(
        client,
        f"/coordinator/stipends/{stipend.id}/pay",
        {"method": "check", "paid_on": local_today()},
        token_from="/coordinator/stipends",
    )
    assert response.status_code == 302
    assert "The parent said no thank you to this stipend." in _get(client, "/coordinator/stipends")
    response = post_form(client, f"/coordinator/stipends/{stipend.id}/approve", token_from="/coordinator/stipends")
    assert response.status_code == 302


def test_the_pay_page_warns_about_the_quarter_limit_in_plain_words(client, cast):
    from datetime import timedelta

    from engage.models import utcnow

    cast.parent.benefit_quarterly_limit = D("60")
    cast.parent.benefits_note = "SSI"
    db.session.commit()
    # $40 paid earlier this quarter (today, to stay inside whatever quarter today is in).
    _paid(cast, cast.parent, "40", utcnow() - timedelta(minutes=5))
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a, days=1), cast.parent, status=StipendStatus.APPROVED)
    login(client, cast.coord_a)
    page = _get(client, f"/coordinator/stipends/{stipend.id}/pay")
    assert (
        "Paloma Parent told us a $60.00 a quarter limit applies (SSI). Paid this quarter: $40.00. "
        "This payment would make $90.00."
    ) in page
    assert "Paloma Parent told us a $60.00" in _get(client, "/coordinator/stipends")


def test_a_coordinator_of_another_plan_gets_404(client, cast):
    stipend_id = stipend_a(cast)
    login(client, cast.coord_b)
    assert client.get(f"/coordinator/stipends/{stipend_id}/pay").status_code == 404
    assert (
        post_form(
            client,
            f"/coordinator/stipends/{stipend_id}/pay",
            {"method": "check", "paid_on": local_today()},
            token_from="/coordinator/stipends",
        ).status_code
        == 404
    )
    page = _get(client, "/coordinator/stipends")
    assert "Paloma" not in page
    db.session.expire_all()
    assert db.session.get(Stipend, stipend_id).status == StipendStatus.APPROVED


def test_totals_show_the_threshold_and_w9_needed_and_mark_on_file(client, cast):
    _paid(cast, cast.parent, "2000", local(2026, 2, 1))
    _paid(cast, cast.parent_b, "2500", local(2026, 2, 1), committee=cast.committee_b)
    login(client, cast.coord_a)
    page = _get(client, "/coordinator/stipends/totals?year=2026")
    assert "$2,000.00" in page and "W-9 needed" in page and "Bernard" not in page
    post_form(client, f"/coordinator/stipends/totals/{cast.parent.id}/w9", {"on_file": "1", "year": "2026"})
    db.session.expire_all()
    assert cast.parent.w9_on_file
    assert "W-9 needed" not in _get(client, "/coordinator/stipends/totals?year=2026")
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.w9_on_file"))
    assert (
        post_form(
            client,
            f"/coordinator/stipends/totals/{cast.parent_b.id}/w9",
            {"on_file": "1"},
            token_from="/coordinator/stipends/totals",
        ).status_code
        == 404
    )


def test_the_finance_export_is_scoped_escaped_and_audited(client, cast):
    cast.parent.display_name = "@SUM(A1)"
    _paid(cast, cast.parent, "50", local(2026, 3, 10))
    _paid(cast, cast.parent_b, "50", local(2026, 3, 10), committee=cast.committee_b)
    login(client, cast.coord_a)
    response = client.get("/coordinator/stipends/export.csv?start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["name"] == "'@SUM(A1)"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "stipends.exported"))
    assert event.actor_id == cast.coord_a.id and event.detail["start"] == "2026-03-01" and event.detail["rows"] == 1
    assert client.get("/coordinator/stipends/export.csv?start=nonsense").status_code == 400


def test_the_list_makes_the_same_number_of_queries_however_many_stipends(client, cast, count_queries):
    set_policy(cast.committee_a)
    login(client, cast.coord_a)

    def add(n):
        for _ in range(n):
            meeting = past_meeting(cast.committee_a, days=2)
            for i in range(3):
                m = make_member(f"+1510555{meeting.id:02d}{i:02d}", f"P{meeting.id}-{i}", plan=cast.plan_a)
                m.benefit_quarterly_limit = D("60")
                db.session.commit()
                a_stipend(meeting, m, status=StipendStatus.APPROVED)

    add(1)
    client.get("/coordinator/stipends")
    with count_queries() as few:
        _get(client, "/coordinator/stipends")
    add(5)
    with count_queries() as many:
        page = _get(client, "/coordinator/stipends")
    assert page.count("Record payment") == 18
    assert many.count == few.count


@pytest.mark.parametrize("lang", ["en", "es", "zh_Hant"])
def test_coordinator_pages_in_every_language(client, cast, lang):
    stipend_a(cast)
    reimbursement_a(cast)
    login(client, cast.coord_a)
    for url in (
        "/coordinator/stipends",
        f"/coordinator/stipends/{stipend_a(cast)}/pay",
        "/coordinator/stipends/totals",
        "/coordinator/reimbursements",
        f"/coordinator/reimbursements/new?member_id={cast.parent.id}",
        f"/coordinator/committees/{cast.committee_a.id}/stipend-policy",
    ):
        page = _get(client, f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert f'lang="{lang.replace("_", "-")}"' in page


# A parent's own -------------------------------------------------------------------------


def test_a_parent_sees_their_stipends_and_can_say_no_thank_you_and_undo(client, cast):
    stipend_id = stipend_a(cast)
    login(client, cast.parent)
    page = _get(client, "/me/stipends?lang=en")
    assert "$50.00" in page and "Approved, not yet paid" in page and "No thank you" in page
    post_form(client, f"/me/stipends/{stipend_id}/decline", token_from="/me/stipends")
    db.session.expire_all()
    assert db.session.get(Stipend, stipend_id).status == StipendStatus.DECLINED
    assert "I want it after all" in _get(client, "/me/stipends")
    post_form(client, f"/me/stipends/{stipend_id}/restore", token_from="/me/stipends")
    db.session.expire_all()
    assert db.session.get(Stipend, stipend_id).status == StipendStatus.ELIGIBLE


def test_a_parent_asks_for_less_but_never_more(client, cast):
    stipend_id = stipend_a(cast)
    login(client, cast.parent)
    url = f"/me/stipends/{stipend_id}/less"
    page = post_form(client, url, {"amount": "75"}).get_data(as_text=True)
    assert "$50.00" in page  # "Please enter $50.00 or less"
    db.session.expire_all()
    assert db.session.get(Stipend, stipend_id).amount == D("50.00")
    assert post_form(client, url, {"amount": "20"}).status_code == 302
    db.session.expire_all()
    row = db.session.get(Stipend, stipend_id)
    assert row.amount == D("20.00") and row.reduced_by_member and row.amount_due == D("50.00")


def test_a_parent_cannot_see_or_change_another_parents_stipend(client, cast):
    set_policy(cast.committee_b)
    other = a_stipend(past_meeting(cast.committee_b), cast.parent_b)
    login(client, cast.parent)
    assert client.get(f"/me/stipends/{other.id}/less").status_code == 404
    assert post_form(client, f"/me/stipends/{other.id}/decline", token_from="/me/stipends").status_code == 404
    assert "Bernard" not in _get(client, "/me/stipends")
    db.session.expire_all()
    assert db.session.get(Stipend, other.id).status == StipendStatus.ELIGIBLE


def test_a_parent_tells_us_their_benefits_limit(client, cast):
    login(client, cast.parent)
    page = _get(client, "/me/stipends/benefits?lang=en")
    assert "Does a limit on income apply to you (for example SSI)?" in page
    page = post_form(client, "/me/stipends/benefits", {"has_limit": "yes"}).get_data(as_text=True)
    assert "Please tell us how much a quarter." in page
    post_form(
        client,
        "/me/stipends/benefits",
        {"has_limit": "yes", "benefit_quarterly_limit": "60", "benefits_note": "SSI", "preferred_payment": "prepaid"},
    )
    db.session.expire_all()
    assert cast.parent.benefit_quarterly_limit == D("60.00") and cast.parent.benefits_note == "SSI"
    assert cast.parent.preferred_payment == "prepaid"
    assert "$60.00" in _get(client, "/me/stipends?lang=en")
    post_form(client, "/me/stipends/benefits", {"has_limit": "no", "benefit_quarterly_limit": "60"})
    db.session.expire_all()
    assert cast.parent.benefit_quarterly_limit is None


@pytest.mark.parametrize("lang", ["en", "es", "zh_Hant"])
def test_parent_pages_in_every_language(client, cast, lang):
    stipend_id = stipend_a(cast)
    login(client, cast.parent)
    for url in ("/me/stipends", f"/me/stipends/{stipend_id}/less", "/me/stipends/benefits", "/me/reimbursements/new"):
        page = _get(client, f"{url}?lang={lang}")
        assert f'lang="{lang.replace("_", "-")}"' in page
