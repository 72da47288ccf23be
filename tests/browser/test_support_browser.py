"""A parent on a phone (360 px) asks for childcare and a Cantonese interpreter, in
Chinese: the form, a mistake explained next to the field, then "what happens next".
Each page is checked with axe and saved under build/screenshots/."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.meeting_factories import make_meeting
from tests.test_me import last_code

from .conftest import check_axe, screenshot
from .test_home_journey import horizontal_overflow, small_tap_targets


def test_a_parent_asks_for_childcare_and_an_interpreter_in_chinese(app, cast, live_server, new_page):
    from engage.extensions import db
    from engage.models import SupportKind, SupportRequest

    cast.parent.locale = "zh_Hant"
    cast.parent.child_age_groups = ["0-5", "6-12"]
    db.session.commit()
    meeting = make_meeting(cast.committee_a)
    page = new_page(
        locale="zh_Hant",
        viewport={"width": 360, "height": 780},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )

    page.goto(f"{live_server}/me/login?lang=zh_Hant")
    page.locator("#phone").fill("(510) 555-0111")
    page.locator("main button[type=submit]").click()
    page.locator("#code").fill(last_code(cast.parent.phone))
    page.locator("main button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")

    url = f"{live_server}/meetings/{meeting.id}/support?lang=zh_Hant"
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    check_axe(page, "support-form-zh_Hant")
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, "support-form-zh_Hant")

    # A mistake: no number of children. It is explained next to the field; the rest stays.
    page.locator("#childcare").check()
    page.locator("#children").fill("")
    page.locator("#interpreter").check()
    page.locator("#language").select_option("cantonese")
    page.locator("#interpreter_mode-2").check()
    page.locator("main button[type=submit]").click()
    expect(page.locator("#children-error")).to_be_visible()
    expect(page.locator("#interpreter")).to_be_checked()
    expect(page.locator("#language")).to_have_value("cantonese")
    check_axe(page, "support-form-error-zh_Hant")
    assert horizontal_overflow(page) is None
    screenshot(page, "support-form-error-zh_Hant")

    page.locator("#children").fill("2")
    page.locator("#age_groups-1").check()
    page.locator("#age_groups-2").check()
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/meetings/{meeting.id}/support/next")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.locator(".support-status li")).to_have_count(2)
    check_axe(page, "support-next-zh_Hant")
    assert small_tap_targets(page) == []
    assert horizontal_overflow(page) is None
    screenshot(page, "support-next-zh_Hant")

    db.session.expire_all()
    rows = {
        r.kind: r
        for r in db.session.scalars(sa.select(SupportRequest).where(SupportRequest.member_id == cast.parent.id))
    }
    assert set(rows) == {SupportKind.CHILDCARE, SupportKind.INTERPRETER}
    assert rows[SupportKind.CHILDCARE].details["children"] == 2
    assert rows[SupportKind.INTERPRETER].details == {"language": "cantonese", "other": "", "mode": "remote"}


def test_the_coordinator_and_cbo_pages_pass_axe(app, cast, live_server, new_page):
    from engage.extensions import db
    from engage.models import RequestedVia, SupportKind
    from engage.supports import services
    from tests.conftest import PASSWORD

    soon = make_meeting(cast.committee_a, days=2)
    row = services.request(soon, cast.parent, SupportKind.CHILDCARE, {"children": 2}, via=RequestedVia.WEB)
    services.request(soon, cast.parent, SupportKind.INTERPRETER, {"language": "mixteco"}, via=RequestedVia.SMS)
    db.session.commit()
    for user, paths in (
        (
            cast.coord_a,
            ["/coordinator/supports", f"/coordinator/supports/{row.id}", "/coordinator/supports/fairness"],
        ),
        (cast.cbo_a, [f"/partner/families/{cast.parent.id}"]),
    ):
        page = new_page(viewport={"width": 360, "height": 780})
        page.goto(f"{live_server}/login")
        page.locator("#email").fill(user.email)
        page.locator("#password").fill(PASSWORD)
        page.locator("main button[type=submit]").click()
        for path in paths:
            page.goto(f"{live_server}{path}")
            name = "support-staff-" + path.strip("/").replace("/", "-")
            check_axe(page, name)
            assert horizontal_overflow(page) is None, path
            screenshot(page, name)
