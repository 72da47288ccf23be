"""A coordinator on a phone: the inbox, a conversation with a reply preview, and a
message to many people previewed and sent. Each page is checked with axe, for tap
targets and for sideways scrolling, and saved as a screenshot."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_bulk import people  # noqa: F401 - a fixture
from tests.test_inbox import texted

from .conftest import check_axe, screenshot
from .test_home_journey import horizontal_overflow, small_tap_targets


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("h1")).to_have_count(1)


def check(page, name: str) -> None:
    check_axe(page, name)
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, name)


def test_a_coordinator_answers_a_text_and_writes_to_everyone(live_server, phone_page, cast, people):  # noqa: F811
    conv = texted(cast.parent.phone, "¿Hay cuidado de niños el martes?", member=cast.parent)
    page = phone_page
    sign_in(page, live_server, cast.coord_a.email)

    page.goto(f"{live_server}/coordinator/inbox")
    expect(page.locator("tr.needs-reply")).to_have_count(1)
    check(page, "coordinator-inbox")

    page.locator("tr.needs-reply th a").click()
    expect(page).to_have_url(f"{live_server}/coordinator/inbox/{conv.id}")
    page.fill("#body", "Sí, habrá cuidado de niños gratis.")
    page.locator("button[value=preview]").click()
    expect(page.locator(".preview blockquote")).to_have_text("AFH: Sí, habrá cuidado de niños gratis.")
    check(page, "coordinator-conversation-preview")
    page.locator("button[value=send]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    page.goto(f"{live_server}/coordinator/messages/new")
    page.fill("#body_en", "Meeting on Tuesday at 6 pm. Free childcare.")
    page.fill("#body_es", "Reunión el martes a las 6 p. m. Cuidado de niños gratis.")
    page.locator("button[value=preview]").click()
    expect(page.locator(".error-summary")).to_be_visible()  # no Chinese text yet
    check(page, "coordinator-message-missing-language")
    page.fill("#body_zh_Hant", "星期二晚上六點開會，免費托兒。")
    page.locator("button[value=preview]").click()
    expect(page.locator(".compare .card")).to_have_count(3)
    check(page, "coordinator-message-preview")
    page.locator("button[value=send]").click()
    expect(page.locator("table.progress")).to_be_visible()
    check(page, "coordinator-message-progress")
