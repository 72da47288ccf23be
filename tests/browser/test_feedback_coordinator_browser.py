"""A coordinator on a phone (360 px) groups two pieces of input into a new theme, takes
it to the quality and equity committee and decides it "not adopted" with the reason in
two languages. Each step is checked with axe, for 44 px targets and for sideways
scrolling, and saved as a screenshot (build/screenshots/feedback-*.png)."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from engage.extensions import db
from engage.feedback import intake
from engage.models import LoopMessage, OutboxMessage, Theme, ThemeStatus, Topic
from tests.conftest import make_member

from .test_coordinator_messages import check, sign_in


def _input(cast):
    olga = make_member("+15105550999", "陳美玲", plan=cast.plan_a, locale="zh_Hant")
    db.session.flush()
    rows = [
        intake.from_web(
            cast.parent,
            "La clínica cierra antes de que yo salga del trabajo.",
            Topic.CARE_COORDINATION,
            anonymous=False,
            locale="es",
        ),
        intake.from_web(
            olga, "診所晚上不開門,我下班後沒辦法帶孩子去。", Topic.CARE_COORDINATION, anonymous=False, locale="zh_Hant"
        ),
        intake.from_web(
            cast.parent, "Más clases de nutrición, por favor.", Topic.HEALTH_EDUCATION, anonymous=False, locale="es"
        ),
    ]
    rows[0].translation = "The clinic closes before I get off work."
    rows[0].translation_locale = "en"
    rows[0].machine_translated = True
    db.session.commit()
    return [r.id for r in rows]


def test_a_coordinator_groups_input_and_decides_not_adopted_on_a_phone(live_server, phone_page, cast):
    first, second, _third = _input(cast)
    page = phone_page
    sign_in(page, live_server, cast.coord_a.email)

    page.goto(f"{live_server}/coordinator/input")
    expect(page.locator(".input-card")).to_have_count(3)
    expect(page.locator("blockquote[lang=zh-Hant]")).to_have_count(1)
    expect(page.locator(".machine-tag")).to_have_count(1)
    check(page, "feedback-input-list")

    page.locator(f"#pick-{first}").check()
    page.locator(f"#pick-{second}").check()
    page.select_option("#theme_id", "0")
    page.fill("#title", "Clinic hours after work")
    page.locator(".group-box button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Clinic hours after work")
    expect(page.locator(".flash-success")).to_contain_text("2 pieces of input")
    expect(page.locator("#input ~ .input-list .input-card")).to_have_count(2)
    check(page, "feedback-theme-new")

    page.select_option("#body", "qihec")
    page.fill("#taken_on", "2026-12-08")
    page.locator("form[action$='/take'] button[type=submit]").click()
    expect(page.locator(".flash-success").last).to_contain_text("We texted 2 people.")
    check(page, "feedback-theme-taken")

    page.select_option("#outcome", "not_adopted")
    page.fill("#decided_on", "2027-01-12")
    page.fill("#reason_en", "There is no money for evening hours this year. We will ask again in the spring.")
    page.fill("#reason_es", "Este año no hay dinero para abrir de noche. Volveremos a pedirlo en primavera.")
    page.locator("form[action$='/decide'] button[type=submit]").click()
    expect(page.locator(".flash-success").first).to_contain_text("Not adopted")
    expect(page.locator(".flashes .flash-warning")).to_contain_text("Chinese")
    expect(page.locator(".timeline > li")).to_have_count(4)
    check(page, "feedback-theme-decided")

    page.goto(f"{live_server}/coordinator/themes/1?lang=es#loop")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check(page, "feedback-theme-decided-es")

    theme = db.session.scalar(sa.select(Theme))
    assert theme.status in (ThemeStatus.DECIDED, ThemeStatus.CLOSED)
    decided = db.session.scalars(sa.select(LoopMessage).where(LoopMessage.stage == "decided")).all()
    bodies = {
        db.session.get(OutboxMessage, m.outbox_id).locale: db.session.get(OutboxMessage, m.outbox_id).body
        for m in decided
    }
    assert "Este año no hay dinero" in bodies["es"] and "money" not in bodies["zh_Hant"]

    page.goto(f"{live_server}/coordinator/themes")
    check(page, "feedback-themes")
    page.goto(f"{live_server}/coordinator/measures")
    check(page, "feedback-measures")


def test_a_coordinator_deletes_a_theme_made_by_mistake_in_chinese(live_server, new_page, cast):
    from engage.feedback import triage

    from .conftest import PHONE

    theme = triage.create(cast.plan_a.id, {"en": "Made by mistake", "zh_Hant": "建錯的主題"}, topic=Topic.QUALITY)
    db.session.commit()
    theme_id = theme.id
    page = new_page(locale="zh_Hant", **PHONE)
    sign_in(page, live_server, cast.coord_a.email)
    page.goto(f"{live_server}/coordinator/themes/{theme_id}?lang=zh_Hant")
    button = page.get_by_role("button", name="刪除這個主題")
    expect(button).to_be_visible()
    check(page, "feedback-theme-empty-zh")
    button.click()
    expect(page.locator(".flash")).to_contain_text("已刪除主題")
    check(page, "feedback-theme-deleted-zh")
    db.session.expire_all()
    assert db.session.get(Theme, theme_id) is None
