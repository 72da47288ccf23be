"""Paying parents back for mileage, transit and childcare: a parent asks (miles × rate),
a coordinator approves or says why not, pays once, and the parent is texted."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    AuditEvent,
    OutboxMessage,
    PaymentMethod,
    Reimbursement,
    ReimbursementKind,
    ReimbursementStatus,
    utcnow,
)
from engage.supports import stipends
from tests.conftest import login, post_form
from tests.test_stipends import attend, past_meeting, set_policy
from tests.test_stipends_views import local_today

D = Decimal


def test_mileage_is_miles_times_the_rate_setting(app, cast):
    app.config["MILEAGE_RATE"] = "0.70"
    row = stipends.submit_reimbursement(cast.parent, ReimbursementKind.MILEAGE, miles=D("12.5"))
    assert row.amount == D("8.75") and row.miles == D("12.5") and row.status == ReimbursementStatus.SUBMITTED
    with pytest.raises(stipends.PaymentError):
        stipends.submit_reimbursement(cast.parent, ReimbursementKind.TRANSIT, amount=D("0"))


def test_approve_reject_and_pay_once(cast):
    row = stipends.submit_reimbursement(cast.parent, ReimbursementKind.CHILDCARE, amount="40", receipt_note="sitter")
    db.session.commit()
    with pytest.raises(stipends.PaymentError):
        stipends.pay_reimbursement(row, method="check", reference=None, paid_on=utcnow(), by=cast.coord_a)
    stipends.approve_reimbursement(row, by=cast.coord_a)
    assert stipends.pay_reimbursement(row, method="check", reference="1", paid_on=utcnow(), by=cast.coord_a)
    assert not stipends.pay_reimbursement(row, method="check", reference="2", paid_on=utcnow(), by=cast.coord_a)
    db.session.commit()
    assert row.reference == "1"
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    with pytest.raises(stipends.PaymentError):
        stipends.reject_reimbursement(row, "late", by=cast.coord_a)
    other = stipends.submit_reimbursement(cast.parent, ReimbursementKind.TRANSIT, amount="3")
    with pytest.raises(stipends.PaymentError):
        stipends.reject_reimbursement(other, "  ", by=cast.coord_a)
    stipends.reject_reimbursement(other, "No receipt", by=cast.coord_a)
    assert other.status == ReimbursementStatus.REJECTED and other.rejected_reason == "No receipt"


def test_a_parent_asks_to_be_paid_back_for_mileage_for_a_meeting_they_came_to(client, cast):
    set_policy(cast.committee_a)
    meeting = past_meeting(cast.committee_a)
    attend(meeting, cast.parent)
    login(client, cast.parent)
    page = client.get("/me/reimbursements/new?lang=en").get_data(as_text=True)
    assert "$0.70" in page and f'value="{meeting.id}"' in page
    page = post_form(client, "/me/reimbursements/new", {"kind": "mileage", "meeting_id": meeting.id}).get_data(
        as_text=True
    )
    assert "Please say how many miles." in page
    response = post_form(client, "/me/reimbursements/new", {"kind": "mileage", "miles": "10", "meeting_id": meeting.id})
    assert response.status_code == 302
    row = db.session.scalar(sa.select(Reimbursement))
    assert row.amount == D("7.00") and row.meeting_id == meeting.id and row.member_id == cast.parent.id
    assert row.submitted_by_id is None
    page = client.get("/me/stipends?lang=en").get_data(as_text=True)
    assert "Mileage" in page and "$7.00" in page and "Waiting for approval" in page
    # A meeting they did not come to cannot be chosen.
    other = past_meeting(cast.committee_b)
    page = post_form(
        client, "/me/reimbursements/new", {"kind": "transit", "amount": "3", "meeting_id": other.id}
    ).get_data(as_text=True)
    assert "Not a valid choice" in page


def test_a_coordinator_enters_approves_rejects_and_pays(client, cast):
    login(client, cast.coord_a)
    assert "Paloma Parent" in client.get("/coordinator/reimbursements/new?q=Palo").get_data(as_text=True)
    assert "Bernard" not in client.get("/coordinator/reimbursements/new?q=Bern").get_data(as_text=True)
    url = f"/coordinator/reimbursements/new?member_id={cast.parent.id}"
    assert (
        post_form(client, url, {"kind": "childcare", "amount": "45", "receipt_note": "Sitter receipt"}).status_code
        == 302
    )
    row = db.session.scalar(sa.select(Reimbursement))
    assert row.submitted_by_id == cast.coord_a.id and row.amount == D("45.00")
    page = client.get("/coordinator/reimbursements").get_data(as_text=True)
    assert "Childcare I paid for" in page and "Sitter receipt" in page
    post_form(client, f"/coordinator/reimbursements/{row.id}/approve", token_from="/coordinator/reimbursements")
    db.session.expire_all()
    assert row.status == ReimbursementStatus.APPROVED
    pay_url = f"/coordinator/reimbursements/{row.id}/pay"
    response = post_form(client, pay_url, {"method": "gift_card", "reference": "GC-9", "paid_on": local_today()})
    assert response.status_code == 302
    db.session.expire_all()
    assert row.status == ReimbursementStatus.PAID and row.method == PaymentMethod.GIFT_CARD
    (text,) = db.session.scalars(sa.select(OutboxMessage)).all()
    assert text.phone == cast.parent.phone and text.locale == "es"
    response = post_form(
        client, pay_url, {"method": "check", "paid_on": local_today()}, token_from="/coordinator/reimbursements"
    )
    assert response.status_code == 302
    assert "This was already paid back." in client.get("/coordinator/reimbursements").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "reimbursement.paid"))

    second = stipends.submit_reimbursement(cast.parent, ReimbursementKind.TRANSIT, amount="4")
    db.session.commit()
    reject = f"/coordinator/reimbursements/{second.id}/reject"
    assert "Please fill this in." in post_form(client, reject, {"reason": " "}).get_data(as_text=True)
    post_form(client, reject, {"reason": "We gave you a bus pass"})
    db.session.expire_all()
    assert second.status == ReimbursementStatus.REJECTED
    login(client, cast.parent)
    assert "We gave you a bus pass" in client.get("/me/stipends").get_data(as_text=True)


def test_plan_b_cannot_see_plan_a_reimbursements(client, cast):
    row = stipends.submit_reimbursement(cast.parent, ReimbursementKind.TRANSIT, amount="4")
    db.session.commit()
    login(client, cast.coord_b)
    assert "Paloma" not in client.get("/coordinator/reimbursements").get_data(as_text=True)
    for url in (f"/coordinator/reimbursements/{row.id}/pay", f"/coordinator/reimbursements/{row.id}/reject"):
        assert client.get(url).status_code == 404
    assert client.get(f"/coordinator/reimbursements/new?member_id={cast.parent.id}").status_code == 404
