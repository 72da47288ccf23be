"""Stipends on a phone: a parent opens /me/stipends in Spanish and asks for less; a
coordinator sees the quarterly-limit warning and records the payment. Each step is
checked with axe, for 44 px targets and sideways scrolling, and saved as a screenshot
(build/screenshots/stipends-*.png)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import expect

from engage.extensions import db
from engage.models import Stipend, StipendStatus, utcnow
from tests.test_me import last_code
from tests.test_stipends import _paid, a_stipend, past_meeting, set_policy

from .test_coordinator_messages import check, sign_in


def _sign_in_parent(page, base: str, phone_typed: str, phone: str) -> None:
    page.goto(f"{base}/me/stipends")
    page.locator("#phone").fill(phone_typed)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{base}/me/login/code")
    page.locator("#code").fill(last_code(phone))
    page.locator("main button[type=submit]").click()


def test_a_parent_asks_for_less_in_spanish(live_server, new_page, cast):
    from .conftest import PHONE

    set_policy(cast.committee_a, "50", "25")
    stipend = a_stipend(past_meeting(cast.committee_a), cast.parent, amount="75")
    paid = a_stipend(past_meeting(cast.committee_a, days=40), cast.parent, status=StipendStatus.PAID, amount="75",
                     paid_on=utcnow() - timedelta(days=35))  # fmt: skip
    page = new_page(locale="es", **PHONE)
    _sign_in_parent(page, live_server, "(510) 555-0111", cast.parent.phone)
    expect(page).to_have_url(f"{live_server}/me/stipends")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(f"#stipend-{stipend.id}")).to_be_visible()
    expect(page.locator(f"#stipend-{paid.id}")).not_to_contain_text("Pay me less")
    check(page, "stipends-parent-es-list")

    page.locator(f"#stipend-{stipend.id} a.button").click()
    expect(page).to_have_url(f"{live_server}/me/stipends/{stipend.id}/less")
    page.fill("#amount", "100")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check(page, "stipends-parent-es-less-error")
    page.fill("#amount", "40")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/me/stipends")
    expect(page.locator(".flash-success")).to_be_visible()
    check(page, "stipends-parent-es-reduced")
    db.session.expire_all()
    row = db.session.get(Stipend, stipend.id)
    assert row.amount == Decimal("40.00") and row.amount_due == Decimal("75.00")

    page.goto(f"{live_server}/me/stipends/benefits")
    check(page, "stipends-parent-es-benefits")


def test_a_coordinator_pays_a_stipend_after_the_warning(live_server, phone_page, cast):
    cast.parent.benefit_quarterly_limit = Decimal("60")
    cast.parent.benefits_note = "SSI"
    db.session.commit()
    _paid(cast, cast.parent, "40", utcnow() - timedelta(minutes=5))
    set_policy(cast.committee_a)
    stipend = a_stipend(past_meeting(cast.committee_a, days=1), cast.parent, status=StipendStatus.APPROVED)
    page = phone_page
    sign_in(page, live_server, cast.coord_a.email)

    page.goto(f"{live_server}/coordinator/stipends")
    expect(page.locator(".stipend-warning").first).to_contain_text("$60.00 a quarter limit applies (SSI)")
    check(page, "stipends-coordinator-list")

    page.locator(f"a[href='/coordinator/stipends/{stipend.id}/pay']").click()
    expect(page.locator(".stipend-warnings")).to_contain_text("This payment would make $90.00.")
    check(page, "stipends-coordinator-pay")
    page.select_option("#method", "check")
    page.fill("#reference", "CHK 2044")
    page.locator("main form.stack button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("$50.00")
    check(page, "stipends-coordinator-paid")
    db.session.expire_all()
    assert db.session.get(Stipend, stipend.id).status == StipendStatus.PAID

    page.goto(f"{live_server}/coordinator/stipends/totals")
    check(page, "stipends-coordinator-totals")
