"""A coordinator changes a stipend's amount before it is paid, saying why: the rule (a
guarded UPDATE: never a paid or declined stipend, not even from a stale form; a parent
who asked for less keeps their lower amount), the page (validation, the benefits warnings
for the new amount, the audit, plan scoping) and what the parent sees on /me/stipends."""

from __future__ import annotations

import html
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import AuditEvent, PaymentMethod, Stipend, StipendStatus, utcnow
from engage.supports import stipends
from tests.conftest import login, post_form
from tests.test_stipends import _paid, a_stipend, approved_stipend, past_meeting, set_policy, texts_to

D = Decimal


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def fresh(stipend_id: int) -> Stipend:
    db.session.expire_all()
    return db.session.get(Stipend, stipend_id)


# The rule -------------------------------------------------------------------------------


def test_the_new_amount_becomes_what_is_due_and_what_is_paid(cast):
    stipend = approved_stipend(cast)
    old, new = stipends.change_amount(stipend, "30", "  Left after the first hour. ")
    db.session.commit()
    assert (old, new) == (D("50.00"), D("30.00"))
    row = fresh(stipend.id)
    assert row.amount == D("30.00") and row.amount_due == D("30.00") and not row.reduced_by_member
    assert row.note == "Left after the first hour."
    assert row.status == StipendStatus.APPROVED  # still ready to pay
    # More than the policy is allowed too ("the plan pays a different rate this time"), and nothing.
    stipends.change_amount(row, "75.50", "Double session")
    assert row.amount == D("75.50")
    stipends.change_amount(row, "0", "Was not there")
    assert row.amount == D("0.00") and row.status == StipendStatus.APPROVED


def test_a_parent_who_asked_for_less_keeps_their_lower_amount(cast):
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent)
    stipends.reduce(stipend, "20")
    stipends.change_amount(stipend, "30", "Left early")
    assert (stipend.amount, stipend.amount_due, stipend.reduced_by_member) == (D("20.00"), D("30.00"), True)
    stipends.change_amount(stipend, "10", "Left very early")
    assert (stipend.amount, stipend.amount_due, stipend.reduced_by_member) == (D("10.00"), D("10.00"), False)
    # "I want it after all" after a no thank you gives the amount the coordinator set.
    stipends.decline(stipend)
    stipends.restore(stipend)
    assert stipend.amount == D("10.00")


@pytest.mark.parametrize(
    ("amount", "reason", "problem"),
    [("-1", "x", "amount"), ("1000.01", "x", "amount"), ("30", "   ", "reason"), ("30", "x" * 301, "reason")],
)
def test_bad_amounts_and_reasons_are_refused(cast, amount, reason, problem):
    stipend = approved_stipend(cast)
    with pytest.raises(stipends.PaymentError) as found:
        stipends.change_amount(stipend, amount, reason)
    assert found.value.args[0] == problem
    assert fresh(stipend.id).amount == D("50.00")


@pytest.mark.parametrize("status", [StipendStatus.PAID, StipendStatus.DECLINED])
def test_a_paid_or_declined_stipend_keeps_its_amount(cast, status):
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent, status=status)
    with pytest.raises(stipends.PaymentError):
        stipends.change_amount(stipend, "30", "Left early")
    assert fresh(stipend.id).amount == D("50.00")


def test_a_change_from_a_stale_copy_never_changes_a_paid_stipend(cast):
    """The coordinator's form loaded the stipend before someone else paid it."""
    stipend = approved_stipend(cast)
    assert stipend.status == StipendStatus.APPROVED  # loaded: the copy the form holds
    with db.engine.begin() as conn:  # another coordinator pays, in their own transaction
        conn.execute(sa.update(Stipend).where(Stipend.id == stipend.id).values(status=StipendStatus.PAID))
    assert stipend.status == StipendStatus.APPROVED  # still stale
    with pytest.raises(stipends.PaymentError) as found:
        stipends.change_amount(stipend, "30", "Left early")
    assert found.value.args[0] == StipendStatus.PAID
    db.session.commit()
    row = fresh(stipend.id)
    assert row.status == StipendStatus.PAID and row.amount == D("50.00") and row.note is None


def test_a_payment_of_nothing_sends_no_text(cast):
    stipend = approved_stipend(cast)
    stipends.change_amount(stipend, "0", "Was not there")
    db.session.commit()
    told = texts_to(cast.parent.phone)  # the amount changed
    assert stipends.pay(stipend, method=PaymentMethod.CHECK, reference=None, paid_on=utcnow(), by=cast.coord_a)
    db.session.commit()
    assert len(told) == 1 and texts_to(cast.parent.phone) == told  # no "we sent you $0.00"


@pytest.fixture
def postgresql(app):
    if app.extensions["sqlalchemy"].engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent writers); set TEST_DATABASE_URL")
    return app


def test_changing_the_amount_while_coordinators_pay_never_changes_a_paid_stipend(postgresql, cast):
    """Four coordinators press "paid" while a fifth changes the amount: the parent is paid
    once, and the amount recorded is the amount paid (and texted)."""
    app = postgresql
    stipend_id = approved_stipend(cast).id
    start = threading.Barrier(5)
    errors: list[BaseException] = []
    paid: list[Decimal] = []
    changed: list[bool] = []

    def coordinator() -> None:
        try:
            with app.app_context():
                row = db.session.get(Stipend, stipend_id)
                start.wait(timeout=20)
                try:
                    if stipends.pay(row, method=PaymentMethod.CHECK, reference=None, paid_on=utcnow(), by=None):
                        paid.append(row.amount)
                    db.session.commit()
                except stipends.PaymentError:
                    db.session.rollback()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    def changer() -> None:
        try:
            with app.app_context():
                row = db.session.get(Stipend, stipend_id)
                start.wait(timeout=20)
                try:
                    stipends.change_amount(row, "30", "Left early")
                    db.session.commit()
                    changed.append(True)
                except stipends.PaymentError:
                    db.session.rollback()
                    changed.append(False)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=coordinator) for _ in range(4)] + [threading.Thread(target=changer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    row = fresh(stipend_id)
    assert row.status == StipendStatus.PAID and len(paid) == 1
    assert row.amount == paid[0]  # what was recorded as paid is what the row says
    assert row.amount == (D("30.00") if changed == [True] else D("50.00"))
    bodies = [t.body for t in sorted(texts_to(cast.parent.phone), key=lambda t: t.id)]
    if changed == [True]:  # the change came first: its text, then the payment's, for $30
        assert len(bodies) == 2 and "30" in bodies[0] and "50" in bodies[0] and "30" in bodies[1]
    else:
        assert len(bodies) == 1 and "50" in bodies[0]


# The page ---------------------------------------------------------------------------------


def test_from_the_list_change_the_amount_and_the_parent_sees_it_and_why(client, cast):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    listing = page_text(client.get("/coordinator/stipends?status=approved"))
    link = f"/coordinator/stipends/{stipend.id}/amount?next=/coordinator/stipends?status%3Dapproved"
    assert f'href="{link}"' in listing and "Change the amount" in listing
    page = page_text(client.get(link))
    assert "New amount (US dollars)" in page and 'value="50.00"' in page
    response = post_form(
        client,
        link,
        {"amount": "30", "reason": "Left after the first hour.", "next": "/coordinator/stipends?status=approved"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/coordinator/stipends?status=approved")
    row = fresh(stipend.id)
    assert row.amount == D("30.00") and row.amount_due == D("30.00") and row.status == StipendStatus.APPROVED
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "stipend.amount_changed"))
    assert event.actor_id == cast.coord_a.id and event.target_id == stipend.id
    assert event.detail["old"] == "50.00" and event.detail["new"] == "30.00"
    assert event.detail["reason"] == "Left after the first hour."
    listing = page_text(client.get("/coordinator/stipends?status=approved"))
    assert "Saved: Paloma Parent will be paid $30.00." in listing
    assert "Amount changed: Left after the first hour." in listing
    # The parent's page shows the current amount and why it changed.
    login(client, cast.parent)
    mine = page_text(client.get("/me/stipends?lang=en"))
    assert "$30.00" in mine and "$50.00" not in mine
    assert "The coordinator changed the amount. Why: Left after the first hour." in mine


def test_the_pay_page_links_to_the_change_and_comes_back(client, cast):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    pay = page_text(client.get(f"/coordinator/stipends/{stipend.id}/pay"))
    assert f'href="/coordinator/stipends/{stipend.id}/amount"' in pay
    response = post_form(client, f"/coordinator/stipends/{stipend.id}/amount", {"amount": "45", "reason": "Rate"})
    assert response.headers["Location"].endswith(f"/coordinator/stipends/{stipend.id}/pay")
    pay = page_text(client.get(f"/coordinator/stipends/{stipend.id}/pay"))
    assert "$45.00" in pay and "Amount changed: Rate" in pay


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "30", "reason": ""}, "Please fill this in."),
        ({"amount": "", "reason": "Left early"}, "Please fill this in."),
        ({"amount": "-1", "reason": "Left early"}, "Please enter an amount from $0 to $1,000."),
        ({"amount": "1000.01", "reason": "Left early"}, "Please enter an amount from $0 to $1,000."),
        ({"amount": "12.345", "reason": "Left early"}, "Please enter dollars and cents only, for example 25.50."),
        ({"amount": "thirty", "reason": "Left early"}, "Not a valid decimal value."),
        ({"amount": "NaN", "reason": "Left early"}, "Please enter an amount from $0 to $1,000."),
        ({"amount": "1e999999", "reason": "Left early"}, "Please enter an amount from $0 to $1,000."),
        ({"amount": "-0.001", "reason": "Left early"}, "Please enter an amount from $0 to $1,000."),
        ({"amount": "30", "reason": "x" * 301}, "Please use 300 characters or fewer."),
    ],
)
def test_bad_input_is_a_message_on_the_page_and_nothing_changes(client, cast, data, message):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    page = page_text(post_form(client, f"/coordinator/stipends/{stipend.id}/amount", data))
    assert message in page and 'aria-invalid="true"' in page
    assert fresh(stipend.id).amount == D("50.00")
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "stipend.amount_changed")) is None


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (StipendStatus.PAID, "This stipend was already paid."),
        (StipendStatus.DECLINED, "The parent said no thank you to this stipend."),
    ],
)
def test_a_paid_or_declined_stipend_cannot_be_changed_on_the_page(client, cast, status, message):
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent, status=status)
    login(client, cast.coord_a)
    response = client.get(f"/coordinator/stipends/{stipend.id}/amount")
    assert response.status_code == 302
    assert message in page_text(client.get(response.headers["Location"]))
    response = post_form(
        client,
        f"/coordinator/stipends/{stipend.id}/amount",
        {"amount": "30", "reason": "Left early"},
        token_from="/coordinator/stipends",
    )
    assert response.status_code == 302
    assert fresh(stipend.id).amount == D("50.00")
    listing = page_text(client.get("/coordinator/stipends"))
    assert f"/coordinator/stipends/{stipend.id}/amount" not in listing


def test_a_stale_form_after_someone_else_paid_changes_nothing(client, cast):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    url = f"/coordinator/stipends/{stipend.id}/amount"
    token_page = client.get(url)  # the form, loaded while it was approved
    assert token_page.status_code == 200
    stipends.pay(stipend, method=PaymentMethod.CHECK, reference=None, paid_on=utcnow(), by=cast.coord_b)
    db.session.commit()
    response = post_form(client, url, {"amount": "30", "reason": "Left early"}, token_from="/coordinator/stipends")
    assert response.status_code == 302
    assert "This stipend was already paid." in page_text(client.get(response.headers["Location"]))
    row = fresh(stipend.id)
    assert row.status == StipendStatus.PAID and row.amount == D("50.00") and row.note is None


def test_the_benefits_warnings_are_shown_for_the_new_amount_before_saving(client, cast):
    cast.parent.benefit_quarterly_limit = D("60")
    cast.parent.benefits_note = "SSI"
    db.session.commit()
    _paid(cast, cast.parent, "40", utcnow() - timedelta(minutes=5))  # $40 paid this quarter
    set_policy(cast.committee_a, "10")
    stipend = a_stipend(past_meeting(cast.committee_a, days=1), cast.parent, status=StipendStatus.APPROVED, amount="10")
    login(client, cast.coord_a)
    url = f"/coordinator/stipends/{stipend.id}/amount"
    assert "quarter limit" not in page_text(client.get(url))  # $40 + $10 is within $60
    page = page_text(post_form(client, url, {"amount": "50", "reason": "Double session"}))
    assert (
        "Paloma Parent told us a $60.00 a quarter limit applies (SSI). Paid this quarter: $40.00. "
        "This payment would make $90.00."
    ) in page
    assert "Check before you save" in page and 'name="checked" type="hidden" value="50.00"' in page
    assert fresh(stipend.id).amount == D("10.00")  # not saved yet
    # A different amount is checked again; the same one is saved.
    page = page_text(post_form(client, url, {"amount": "45", "reason": "Double session", "checked": "50.00"}))
    assert "This payment would make $85.00." in page
    assert fresh(stipend.id).amount == D("10.00")
    response = post_form(client, url, {"amount": "45", "reason": "Double session", "checked": "45.00"})
    assert response.status_code == 302
    assert fresh(stipend.id).amount == D("45.00")
    # The pay page then warns about the new amount too.
    assert "This payment would make $85.00." in page_text(client.get(f"/coordinator/stipends/{stipend.id}/pay"))


def test_no_warning_means_saved_at_once(client, cast):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    response = post_form(client, f"/coordinator/stipends/{stipend.id}/amount", {"amount": "60", "reason": "Rate"})
    assert response.status_code == 302 and fresh(stipend.id).amount == D("60.00")


def test_the_reason_is_shown_as_written_not_as_html(client, cast):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    post_form(client, f"/coordinator/stipends/{stipend.id}/amount", {"amount": "30", "reason": "<b>Left</b> & ran"})
    login(client, cast.parent)
    raw = client.get("/me/stipends?lang=en").get_data(as_text=True)
    assert "&lt;b&gt;Left&lt;/b&gt; &amp; ran" in raw and "<b>Left" not in raw


def test_another_plans_coordinator_gets_404_and_nothing_changes(client, cast):
    stipend = approved_stipend(cast)
    login(client, cast.coord_b)
    url = f"/coordinator/stipends/{stipend.id}/amount"
    assert client.get(url).status_code == 404
    response = post_form(client, url, {"amount": "1", "reason": "x"}, token_from="/coordinator/stipends")
    assert response.status_code == 404
    assert fresh(stipend.id).amount == D("50.00")
    login(client, cast.admin)
    assert client.get(url).status_code == 200


def test_a_parent_whose_amount_was_not_changed_sees_no_such_line(client, cast):
    approved_stipend(cast)
    login(client, cast.parent)
    mine = page_text(client.get("/me/stipends?lang=en"))
    assert "$50.00" in mine and "changed the amount" not in mine


def test_the_parent_is_texted_the_new_amount_in_their_language(client, cast):
    from flask_babel import force_locale

    from engage.i18n import fmt_money
    from engage.meetings.texts import sms_when
    from engage.supports import texts

    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    post_form(client, f"/coordinator/stipends/{stipend.id}/amount", {"amount": "30", "reason": "Left early"})
    (text,) = texts_to(cast.parent.phone)
    assert (text.locale, text.kind) == ("es", "notice")
    with force_locale("es"):
        expected = texts.stipend_changed(
            plan="AFH", amount=fmt_money(D("30")), old=fmt_money(D("50")), when=sms_when(stipend.meeting.starts_at)
        )
    assert text.body == expected
    assert "Left early" not in text.body  # the coordinator's own words stay on the parent's page


def test_no_text_when_what_the_parent_is_paid_does_not_change(cast):
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent)
    stipends.reduce(stipend, "20")  # the parent asked for $20
    stipends.change_amount(stipend, "30", "New rate")  # they keep their $20
    stipends.change_amount(stipend, "20", "Same")  # still $20
    db.session.commit()
    assert texts_to(cast.parent.phone) == []


def test_no_text_about_a_changed_amount_to_a_number_that_said_stop(cast):
    from engage.models import SmsStatus

    cast.parent.sms_status = SmsStatus.STOPPED
    stipend = approved_stipend(cast)
    stipends.change_amount(stipend, "30", "Left early")
    db.session.commit()
    assert texts_to(cast.parent.phone) == []


@pytest.mark.parametrize("lang", ["en", "es", "zh_Hant"])
def test_the_page_in_every_language(client, cast, lang):
    stipend = approved_stipend(cast)
    login(client, cast.coord_a)
    page = page_text(client.get(f"/coordinator/stipends/{stipend.id}/amount?lang={lang}"))
    assert f'lang="{lang.replace("_", "-")}"' in page
