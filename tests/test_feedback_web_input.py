"""Input by the web: a parent's own form in three languages (saved with its language,
topic and anonymity; errors translated; what was typed kept; never a 500), and what a CBO
passes on for one of its own families."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.extensions import db
from engage.models import AuditEvent, Committee, Input, InputChannel, Topic
from tests.conftest import csrf_token, login, make_member, post_form

WORDS = {
    "en": "The clinic closes before I finish work.",
    "es": "La clínica cierra antes de que yo salga del trabajo.",
    "zh_Hant": "診所在我下班前就關門了。",
}


def inputs() -> list[Input]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Input).order_by(Input.id)))


def send(client, data: dict, lang: str | None = None):
    client.get(f"/me/input?lang={lang}" if lang else "/me/input")
    return post_form(client, "/me/input", data)


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_a_parent_sends_their_words_in_their_language(cast, client, locale):
    login(client, cast.parent)
    form = client.get(f"/me/input?lang={locale}").get_data(as_text=True)
    with force_locale(locale):
        assert _("Tell the plan what you think") in form
        assert _("What families in our area need (needs assessment)") in form
    response = post_form(client, "/me/input", {"topic": "care", "body": WORDS[locale]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/input/sent")
    [row] = inputs()
    assert row.body == WORDS[locale] and row.locale == locale
    assert row.topic == Topic.CARE_COORDINATION and row.channel == InputChannel.WEB
    assert not row.anonymous and [p.id for p in row.people] == [cast.parent.id]
    assert row.committee_id == cast.committee_a.id  # the plan's first public group
    thanks = client.get("/me/input/sent").get_data(as_text=True)
    with force_locale(locale):
        assert (
            _(
                "A coordinator reads every message. We will text you when it goes to the plan’s leaders "
                "and when they decide."
            )
            in thanks
        )


def test_anonymous_input_keeps_no_person_and_says_where_to_look(cast, client):
    login(client, cast.parent)
    response = send(client, {"topic": "equity", "body": "Secret", "anonymous": "y"}, "en")
    assert response.status_code == 302
    [row] = inputs()
    assert row.anonymous and row.people == []
    thanks = client.get("/me/input/sent").get_data(as_text=True)
    assert "You can see what happens on the You said, we did page." in thanks
    assert f"/committees/{cast.committee_a.slug}/outcomes" in thanks


def test_a_parent_may_choose_another_group_of_their_plan_but_not_another_plans(cast, client):
    second = Committee(plan=cast.plan_a, slug="alameda-county", name={"en": "County group"})
    db.session.add(second)
    db.session.commit()
    login(client, cast.parent)
    form = client.get("/me/input?lang=en").get_data(as_text=True)
    assert "County group" in form and "Bayview CAC" not in form
    send(client, {"topic": "quality", "body": "Hi", "committee_id": str(second.id)})
    assert inputs()[-1].committee_id == second.id
    response = send(client, {"topic": "quality", "body": "Hi", "committee_id": str(cast.committee_b.id)})
    assert response.status_code == 200  # not a choice: the form comes back
    assert len(inputs()) == 1


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Please use 4000 characters or fewer."),
        ("es", "Use 4000 caracteres o menos."),
        ("zh_Hant", "請勿超過 4000 個字元。"),
    ],
)
def test_too_long_is_refused_in_the_readers_language_and_the_words_are_kept(cast, client, locale, expected):
    login(client, cast.parent)
    long_words = "palabra " * 625  # 5,000 characters
    response = send(client, {"topic": "other", "body": long_words}, locale)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert expected in text
    assert long_words.strip() in text  # nothing typed is lost
    assert inputs() == []


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_empty_words_and_no_topic_are_refused_with_translated_messages(cast, client, locale):
    login(client, cast.parent)
    response = send(client, {"body": " \u200b\u00a0 ", "anonymous": "y"}, locale)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    with force_locale(locale):
        assert _("Please write what you want to tell the plan.") in text
        assert _("Please choose what it is about.") in text
    assert re.search(r'<input[^>]*\bchecked\b[^>]*name="anonymous"', text)  # the tick is kept
    assert inputs() == []


def test_an_unknown_topic_is_refused(cast, client):
    login(client, cast.parent)
    response = send(client, {"topic": "nonsense", "body": "Words kept"}, "es")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "No es una opción válida." in text and "Words kept" in text
    assert inputs() == []


def test_control_characters_are_dropped_and_letters_kept(cast, client):
    login(client, cast.parent)
    send(client, {"topic": "other", "body": "Hola\x00 mundo\x07 👩‍👧 ¿sí?\r\nSegunda línea"}, "es")
    assert inputs()[0].body == "Hola mundo 👩‍👧 ¿sí?\nSegunda línea"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_any_text_gets_a_page_never_a_server_error(cast, app, body):
    client = app.test_client()
    login(client, cast.parent)
    token = csrf_token(client, "/me/input")
    response = client.post("/me/input", data={"csrf_token": token, "topic": "other", "body": body})
    assert response.status_code in (200, 302)
    db.session.rollback()


def test_a_parent_without_a_plan_is_told_plainly(cast, client):
    cast.parent.plan_id = None
    db.session.commit()
    login(client, cast.parent)
    response = send(client, {"topic": "other", "body": "Hi"}, "en")
    assert response.status_code == 200
    assert "not on a health plan" in response.get_data(as_text=True)
    assert inputs() == []


# A CBO passes on what a family said ---------------------------------------------------------------


def test_a_cbo_passes_on_what_its_family_said_with_consent(cast, client):
    login(client, cast.cbo_a)
    url = f"/partner/families/{cast.parent.id}/input"
    form = client.get(url + "?lang=en").get_data(as_text=True)
    assert "The family agreed that we share this" in form
    assert '<option selected value="es">' in form  # the family's language first
    response = post_form(client, url, {"topic": "culture", "body": WORDS["es"], "locale": "es"})
    assert response.status_code == 200 and "Please ask the family first" in response.get_data(as_text=True)
    assert inputs() == []
    response = post_form(client, url, {"topic": "culture", "body": WORDS["es"], "locale": "es", "consent": "y"})
    assert response.status_code == 302
    [row] = inputs()
    assert row.channel == InputChannel.CBO and row.locale == "es" and row.topic == Topic.LANGUAGE_CULTURE
    assert row.organisation_id == cast.org_a.id and row.recorded_by_id == cast.cbo_a.id
    assert [p.id for p in row.people] == [cast.parent.id]
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "input.from_cbo"))
    assert audit.target_id == cast.parent.id


def test_a_cbo_cannot_reach_another_organisations_family(cast, client):
    login(client, cast.cbo_b)
    url = f"/partner/families/{cast.parent.id}/input"
    assert client.get(url).status_code == 404
    response = post_form(
        client, url, {"topic": "other", "body": "x", "locale": "es", "consent": "y"}, token_from="/partner/"
    )
    assert response.status_code == 404
    assert inputs() == []
    stranger = make_member("+15105550777", "No org", plan=cast.plan_a)
    db.session.commit()
    login(client, cast.cbo_a)
    assert client.get(f"/partner/families/{stranger.id}/input").status_code == 404
