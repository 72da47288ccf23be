"""On a phone: a coordinator changes a stipend's amount from the list (the warning for the
new amount first, then saved), the parent sees why in Spanish; the fairness figures with a
bad date. Each step is checked with axe, for 44 px targets and sideways scrolling, and
saved as a screenshot (build/screenshots/stipends-amount-*.png, support-fairness-*.png)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import expect

from engage.extensions import db
from engage.models import Stipend, StipendStatus, utcnow
from tests.test_stipends import _paid, a_stipend, past_meeting, set_policy

from .test_coordinator_messages import check, sign_in
from .test_stipends_browser import _sign_in_parent


def test_a_coordinator_changes_the_amount_and_the_parent_sees_why(live_server, phone_page, new_page, cast):
    from .conftest import PHONE

    cast.parent.benefit_quarterly_limit = Decimal("60")
    cast.parent.benefits_note = "SSI"
    db.session.commit()
    _paid(cast, cast.parent, "40", utcnow() - timedelta(minutes=5))
    set_policy(cast.committee_a, "10")
    stipend = a_stipend(past_meeting(cast.committee_a, days=1), cast.parent, status=StipendStatus.APPROVED, amount="10")
    page = phone_page
    sign_in(page, live_server, cast.coord_a.email)

    page.goto(f"{live_server}/coordinator/stipends")
    page.locator(f"a[href^='/coordinator/stipends/{stipend.id}/amount']").click()
    expect(page.locator("h1")).to_have_text("Change the amount")
    check(page, "stipends-amount-form")
    page.fill("#amount", "50")
    page.fill("#reason", "Two sessions this time.")
    page.locator("main form.stack button[type=submit]").click()
    expect(page.locator(".stipend-warnings")).to_contain_text("This payment would make $90.00.")
    check(page, "stipends-amount-warning")
    page.locator("main form.stack button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/coordinator/stipends")
    expect(page.locator(".flash-success")).to_contain_text("$50.00")
    check(page, "stipends-amount-saved")
    db.session.expire_all()
    assert db.session.get(Stipend, stipend.id).amount == Decimal("50.00")

    parent = new_page(locale="es", **PHONE)
    _sign_in_parent(parent, live_server, "(510) 555-0111", cast.parent.phone)
    expect(parent.locator(f"#stipend-{stipend.id}")).to_contain_text("Two sessions this time.")
    check(parent, "stipends-amount-parent-es")


def test_the_fairness_filter_with_a_bad_date(live_server, phone_page, cast):
    page = phone_page
    sign_in(page, live_server, cast.admin.email)
    page.goto(f"{live_server}/coordinator/supports/fairness?start=2026-02-30")
    expect(page.locator("#start-error")).to_be_visible()
    check(page, "support-fairness-bad-date")
    page.goto(f"{live_server}/coordinator/supports/fairness")
    page.select_option("#plan", str(cast.plan_a.id))
    page.locator("main form.filters button[type=submit]").click()
    expect(page.locator(f"#plan option[value='{cast.plan_a.id}']")).to_have_attribute("selected", "")
    assert f"plan={cast.plan_a.id}" in page.url
    check(page, "support-fairness-filtered")
