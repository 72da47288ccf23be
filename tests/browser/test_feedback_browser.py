"""Input to decision on a phone, end to end: a Spanish-speaking parent answers a texted
question (posted to /sms/inbound the way Twilio does, signed), a coordinator puts the
answer in a theme, takes it to the quality and equity committee and decides "no" with a
reason in Spanish; the public "you said, we did" page shows that reason in Spanish at
360 px, and says plainly that it is missing in Chinese. The parent then sees the same
timeline on their page, and sends a new idea by the web form; a CBO worker passes on
what a family said. Each page is checked with axe and saved under build/screenshots/."""

from __future__ import annotations

import html
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_me import last_code
from tests.test_sms_webhooks import BASE, TOKEN, FakeTwilio

from .conftest import check_axe, screenshot
from .test_home_journey import horizontal_overflow, small_tap_targets

ANSWER = "El horario de la clínica choca con mi trabajo. Necesito citas en la tarde."
REASON = {
    "es": "Este año no hay dinero para abrir de noche. Lo veremos otra vez en junio.",
    "en": "There is no money to open at night this year. We will look again in June.",
}
TITLE = {"es": "Horario de la clínica", "en": "Clinic hours"}


@pytest.fixture
def app_config(database_url):
    """Webhooks are signed, as in production."""
    return {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE}


def check(page, name: str) -> None:
    check_axe(page, name)
    assert small_tap_targets(page) == [], name
    assert horizontal_overflow(page) is None, name
    screenshot(page, name)


def spanish_answer_decided(app, cast):
    """The services a coordinator's screens call: a question, the parent's texted answer,
    a theme taken to decision-makers and decided with a reason in Spanish."""
    from engage.extensions import db
    from engage.feedback import intake, triage
    from engage.models import DecisionBody, Input, LoopMessage, Outcome, Question, Topic
    from engage.sms import outbox

    question = Question(
        plan_id=cast.plan_a.id,
        committee_id=cast.committee_a.id,
        topic=Topic.CARE_COORDINATION,
        text={
            "en": "What makes it hard to get your child to a check-up?",
            "es": "¿Qué le dificulta llevar a su hijo a un chequeo?",
        },
        created_by_id=cast.coord_a.id,
    )
    db.session.add(question)
    db.session.flush()
    assert intake.ask(question, [cast.parent]) == (1, 0)
    db.session.commit()

    response = FakeTwilio(app).text(ANSWER, phone=cast.parent.phone)
    assert response.status_code == 200
    from engage.feedback import texts

    with force_locale("es"):  # acknowledged in Spanish (once the catalog has it)
        assert html.escape(texts.answer_received(plan="AFH"), quote=False) in response.get_data(as_text=True)
    row = db.session.scalar(sa.select(Input).where(Input.question_id == question.id))
    assert row.body == ANSWER and row.locale == "es"

    theme = triage.create(
        cast.plan_a.id, TITLE, topic=Topic.CARE_COORDINATION, committee_id=cast.committee_a.id, by=cast.coord_a
    )
    db.session.flush()
    triage.assign(theme, [row], by=cast.coord_a)
    triage.review(theme, by=cast.coord_a)
    assert triage.take(theme, DecisionBody.QIHEC, date(2026, 12, 8), by=cast.coord_a) == 1
    db.session.commit()
    assert triage.decide(theme, Outcome.NOT_ADOPTED, REASON, date(2027, 1, 12), by=cast.coord_a) == 1
    db.session.commit()
    for message in db.session.scalars(sa.select(LoopMessage).where(LoopMessage.theme_id == theme.id)):
        with app.test_request_context():
            outbox.record_status(message.outbox_id, None, "delivered", None)
    db.session.expire_all()
    return theme


def test_a_spanish_text_reply_reaches_the_public_page_in_spanish(app, cast, live_server, new_page):
    from tests.browser.conftest import PHONE

    theme = spanish_answer_decided(app, cast)
    outcomes = f"{live_server}/committees/{cast.committee_a.slug}/outcomes"

    page = new_page(locale="es", **PHONE)
    page.goto(f"{outcomes}?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    card = page.locator(f"#theme-{theme.id}")
    expect(card).to_contain_text(TITLE["es"])
    expect(card).to_contain_text(REASON["es"])
    # Never a name, never the parent's own words.
    assert "Paloma" not in page.content() and ANSWER not in page.content()
    assert REASON["en"] not in page.content()
    with force_locale("es"):
        expect(card).to_contain_text(_("Raised by fewer than %(num)d people", num=11))
    check(page, "feedback-outcomes-es")

    # The short link in the text goes to the same card.
    page.goto(f"{live_server}/o/{theme.id}")
    assert page.url.endswith(f"/committees/{cast.committee_a.slug}/outcomes#theme-{theme.id}")

    for locale in ("en", "zh_Hant"):
        other = new_page(locale=locale, **PHONE)
        other.goto(f"{outcomes}?lang={locale}")
        expect(other.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))
        text = other.content()
        assert REASON["es"] not in text
        if locale == "en":
            assert REASON["en"] in text
        else:
            assert REASON["en"] not in text
            with force_locale(locale):
                expect(other.locator(f"#theme-{theme.id}")).to_contain_text(
                    _("The reason is not yet available in your language.")
                )
        check(other, f"feedback-outcomes-{locale}")


def test_the_parent_sees_what_became_of_it_and_sends_a_new_idea(app, cast, live_server, new_page):
    from engage.extensions import db
    from engage.models import Input
    from tests.browser.conftest import PHONE

    spanish_answer_decided(app, cast)
    page = new_page(locale="es", **PHONE)
    page.goto(f"{live_server}/me?lang=es")
    page.locator("#phone").fill("(510) 555-0111")
    page.locator("main button[type=submit]").click()
    page.locator("#code").fill(last_code(cast.parent.phone))
    page.locator("main button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Paloma")
    said = page.locator("section[aria-labelledby=said-heading]")
    expect(said).to_contain_text(ANSWER)
    expect(said).to_contain_text(REASON["es"])
    check(page, "feedback-me-es")

    page.goto(f"{live_server}/me/input/history")
    check(page, "feedback-history-es")

    page.goto(f"{live_server}/me/input")
    check(page, "feedback-input-es")
    page.locator("main button[type=submit]").click()  # nothing filled in
    expect(page.locator(".error-summary")).to_be_visible()
    check(page, "feedback-input-errors-es")
    page.locator("input[name=topic]").nth(2).check()
    page.locator("#body").fill("Los folletos llegan solo en inglés.")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/me/input/sent")
    check(page, "feedback-sent-es")
    db.session.expire_all()
    row = db.session.scalar(sa.select(Input).order_by(Input.id.desc()).limit(1))
    assert row.body == "Los folletos llegan solo en inglés." and row.locale == "es"


def test_a_cbo_worker_passes_on_what_a_family_said(app, cast, live_server, new_page):
    from engage.extensions import db
    from engage.models import Input, InputChannel
    from tests.browser.conftest import PHONE

    page = new_page(locale="en", **PHONE)
    page.goto(f"{live_server}/login")
    page.fill("#email", cast.cbo_a.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("h1")).to_have_count(1)
    page.goto(f"{live_server}/partner/families/{cast.parent.id}/input")
    check(page, "feedback-cbo-input-en")
    page.locator("input[name=topic]").nth(3).check()
    page.locator("#body").fill("Quiere materiales en español.")
    page.locator("#consent").check()
    page.locator("main button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()
    db.session.expire_all()
    row = db.session.scalar(sa.select(Input).order_by(Input.id.desc()).limit(1))
    assert row.channel == InputChannel.CBO and row.locale == "es"
