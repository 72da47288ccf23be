"""A stipend and a reimbursement are approved and paid through the same steps, and their
two lists are drawn with the same pieces (stipends/_macros.html): the same behaviour,
audit and markup for both."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template_string
from markupsafe import Markup

from engage.extensions import db
from engage.models import (
    AuditEvent,
    OutboxMessage,
    PaymentMethod,
    Reimbursement,
    ReimbursementKind,
    ReimbursementStatus,
    Stipend,
    StipendStatus,
)
from tests.conftest import login, post_form
from tests.test_stipends import a_stipend, past_meeting, set_policy
from tests.test_stipends_views import local_today

D = Decimal


def _stipend(cast) -> tuple[Stipend, str, str]:
    set_policy(cast.committee_a)
    row = a_stipend(past_meeting(cast.committee_a), cast.parent)
    return row, f"/coordinator/stipends/{row.id}", "/coordinator/stipends"


def _reimbursement(cast) -> tuple[Reimbursement, str, str]:
    row = Reimbursement(member_id=cast.parent.id, kind=ReimbursementKind.TRANSIT, amount=D("50.00"))
    db.session.add(row)
    db.session.commit()
    return row, f"/coordinator/reimbursements/{row.id}", "/coordinator/reimbursements"


KINDS = {
    "stipend": (
        _stipend,
        "This stipend was already paid. Nothing was recorded twice.",
        "This stipend is already approved.",
    ),
    "reimbursement": (
        _reimbursement,
        "This was already paid back. Nothing was recorded twice.",
        "This is already approved.",
    ),
}


@pytest.mark.parametrize("noun", sorted(KINDS))
def test_approve_and_pay_the_same_way(client, cast, noun):
    make, already_paid, already_approved = KINDS[noun]
    row, base, listing = make(cast)
    login(client, cast.coord_a)
    # Approve from a filtered list: back to that list, audited with the amount.
    back = f"{listing}?page=1"
    response = post_form(client, f"{base}/approve", {"next": back}, token_from=listing)
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    assert "Approved. It can be paid now." in html.unescape(client.get(back).get_data(as_text=True))
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == f"{noun}.approved"))
    assert event.detail["amount"] == "50.00" and event.actor_id == cast.coord_a.id
    # Approving twice is a message; a "next" to somewhere else is ignored.
    response = post_form(client, f"{base}/approve", {"next": "https://example.org/"}, token_from=listing)
    assert response.headers["Location"].endswith(listing)
    assert already_approved in html.unescape(client.get(listing).get_data(as_text=True))
    # A date in the future is a message on the page, and nothing is paid.
    page = post_form(client, f"{base}/pay", {"method": "check", "paid_on": "2999-01-01"}).get_data(as_text=True)
    assert "The date paid cannot be in the future." in page
    db.session.expire_all()
    assert db.session.get(type(row), row.id).status == "approved"
    # The pay page, then paying once: audited, texted once.
    page = client.get(f"{base}/pay").get_data(as_text=True)
    assert "Save: it was paid" in page and 'value="check"' in page
    response = post_form(client, f"{base}/pay", {"method": "check", "reference": "C-1", "paid_on": local_today()})
    assert response.status_code == 302 and response.headers["Location"].endswith(listing)
    assert "Paid $50.00. We will text Paloma Parent." in html.unescape(client.get(listing).get_data(as_text=True))
    db.session.expire_all()
    row = db.session.get(type(row), row.id)
    assert row.status == "paid" and row.method == PaymentMethod.CHECK and row.paid_by_id == cast.coord_a.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == f"{noun}.paid"))
    assert event.detail == {"amount": "50.00", "method": "check"}
    response = post_form(client, f"{base}/pay", {"method": "check", "paid_on": local_today()}, token_from=listing)
    assert response.headers["Location"].endswith(listing)
    assert already_paid in html.unescape(client.get(listing).get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


@pytest.mark.parametrize("noun", sorted(KINDS))
def test_another_plans_coordinator_cannot_approve_or_pay(client, cast, noun):
    make = KINDS[noun][0]
    row, base, listing = make(cast)
    login(client, cast.coord_b)
    assert post_form(client, f"{base}/approve", token_from=listing).status_code == 404
    assert client.get(f"{base}/pay").status_code == 404
    db.session.expire_all()
    assert db.session.get(type(row), row.id).status in (StipendStatus.ELIGIBLE, ReimbursementStatus.SUBMITTED)


def test_the_shared_row_pieces_keep_the_markup(app, cast):
    """The macros both lists use: a row heading, a status tag, "Approve" posting back to
    the list with the token, and links that name the parent for screen readers."""
    with app.test_request_context("/coordinator/stipends"):
        out = render_template_string(
            '{% from "stipends/_macros.html" import approve_button, payments_table, row_link, status_tag, who %}'
            "{% call payments_table('stipends', 'Label', 'Caption', ['Who', 'Action']) %}"
            "<tr>{{ who(member) }}<td>{{ status_tag('stipend', row, statuses) }}</td>"
            "<td>{{ approve_button('/approve', member, confirm, '/coordinator/stipends?page=2') }}"
            "{{ row_link('/pay', 'Record payment', member) }}{{ row_link('/x', 'Details', nameless, 'tap') }}</td></tr>"
            "{% endcall %}",
            member=cast.parent,
            nameless=type("M", (), {"display_name": None})(),
            row=type("R", (), {"status": StipendStatus.APPROVED})(),
            statuses={StipendStatus.APPROVED: "Approved, not yet paid"},
            confirm=type("F", (), {"csrf_token": Markup('<input name="csrf_token" type="hidden" value="t">')})(),
        )
    assert '<div class="table-scroll" role="region" aria-label="Label" tabindex="0">' in out
    assert '<table class="stipends">' in out and '<caption class="visually-hidden">Caption</caption>' in out
    assert '<th scope="col">Who</th>' in out and '<th scope="col">Action</th>' in out
    assert '<th scope="row">Paloma Parent</th>' in out
    assert '<span class="tag stipend-approved">Approved, not yet paid</span>' in out
    assert '<form method="post" action="/approve" class="inline-form">' in out
    assert '<input type="hidden" name="next" value="/coordinator/stipends?page=2">' in out
    assert 'name="csrf_token"' in out
    assert (
        '<button type="submit" class="button secondary">Approve<span class="visually-hidden"> Paloma Parent</span>'
        in out
    )
    assert '<a class="button" href="/pay">Record payment<span class="visually-hidden"> Paloma Parent</span></a>' in out
    assert '<a class="tap" href="/x">Details<span class="visually-hidden"> </span></a>' in out


def test_both_lists_are_drawn_with_the_shared_pieces(app):
    for name in ("stipends/index.html", "stipends/reimbursements.html"):
        source, _path, _fresh = app.jinja_loader.get_source(app.jinja_env, name)
        assert 'from "stipends/_macros.html" import' in source
        assert "<table" not in source and 'class="visually-hidden"> {{' not in source
