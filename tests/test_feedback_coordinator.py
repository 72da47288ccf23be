"""Input to decision, the coordinator's screens: all input with its original words and
translation, grouping input into themes, the theme's timeline with the texts that close
the loop, the measures, scoping to the coordinator's plans, and query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.feedback import intake, triage
from engage.models import (
    AuditEvent,
    Input,
    LoopMessage,
    LoopStage,
    OutboxMessage,
    Outcome,
    SmsOptOut,
    Theme,
    ThemeEvent,
    ThemeStatus,
    Topic,
    utcnow,
)
from tests.conftest import login, make_member, post_form

# Factories (also used by tests/test_access.py) -----------------------------------------------


def input_a(c) -> int:
    """A piece of plan A's input, from its Spanish-speaking parent (made once per test)."""
    found = db.session.scalar(sa.select(Input).where(Input.plan_id == c.plan_a.id).order_by(Input.id).limit(1))
    if found is None:
        found = intake.from_web(
            c.parent,
            "El horario de la clínica choca con mi trabajo.",
            Topic.CARE_COORDINATION,
            anonymous=False,
            locale="es",
        )
        found.committee_id = c.committee_a.id
        db.session.commit()
    return found.id


def theme_a(c) -> int:
    """A theme of plan A holding ``input_a``."""
    found = db.session.scalar(sa.select(Theme).where(Theme.plan_id == c.plan_a.id).order_by(Theme.id).limit(1))
    if found is None:
        row = db.session.get(Input, input_a(c))
        found = triage.create(
            c.plan_a.id,
            {"en": "Clinic hours", "es": "Horario de la clínica"},
            topic=Topic.CARE_COORDINATION,
            committee_id=c.committee_a.id,
            by=c.coord_a,
        )
        db.session.flush()
        triage.assign(found, [row], by=c.coord_a)
        db.session.commit()
    return found.id


def input_b(c) -> int:
    row = intake.from_web(c.parent_b, "Plan B's words", Topic.QUALITY, anonymous=False, locale="en")
    db.session.commit()
    return row.id


def theme_b(c) -> int:
    row = db.session.get(Input, input_b(c))
    theme = triage.create(c.plan_b.id, {"en": "B theme"}, topic=Topic.QUALITY, by=c.coord_b)
    db.session.flush()
    triage.assign(theme, [row])
    db.session.commit()
    return theme.id


def follow(client, response):
    """Where a POST redirected to (the test client's own redirect-following needs the
    request's context, which each request here has to itself)."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"])


def submit(client, url, data=None, *, token_from=None):
    return follow(client, post_form(client, url, data, token_from=token_from))


def flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<p class="flash[^"]*">(.*?)</p>', html, re.S)]


# Input ---------------------------------------------------------------------------------------


def test_input_shows_the_original_words_in_their_language_and_a_marked_translation(cast, client):
    row = db.session.get(Input, input_a(cast))
    row.translation = "The clinic hours clash with my work."
    row.translation_locale = "en"
    row.machine_translated = True
    db.session.commit()
    login(client, cast.coord_a)
    page = client.get("/coordinator/input").get_data(as_text=True)
    assert '<blockquote lang="es" class="original">El horario de la clínica choca con mi trabajo.</blockquote>' in page
    assert '<blockquote lang="en" class="translation">The clinic hours clash with my work.</blockquote>' in page
    assert "Machine translation" in page
    assert "Paloma Parent" in page  # staff of the plan see who said it


def test_input_filters(cast, client):
    input_a(cast)
    other = intake.from_web(cast.parent, "Más clases de salud", Topic.HEALTH_EDUCATION, anonymous=True, locale="es")
    db.session.commit()
    login(client, cast.coord_a)
    page = client.get("/coordinator/input?topic=education").get_data(as_text=True)
    assert "Más clases de salud" in page and "choca con mi trabajo" not in page
    page = client.get(f"/coordinator/input?committee={cast.committee_a.id}").get_data(as_text=True)
    assert "Más clases de salud" not in page and "choca con mi trabajo" in page
    page = client.get("/coordinator/input?language=en").get_data(as_text=True)
    assert "No input matches these filters." in page
    page = client.get("/coordinator/input?channel=web&unthemed=y").get_data(as_text=True)
    assert "Más clases de salud" in page
    theme_a(cast)
    page = client.get("/coordinator/input?unthemed=y").get_data(as_text=True)
    assert "Más clases de salud" in page and "choca con mi trabajo" not in page
    assert other.id


def test_grouping_ticked_input_into_a_new_theme_and_an_existing_one(cast, client):
    first = input_a(cast)
    second = intake.from_web(cast.parent, "Abran los sábados", Topic.CARE_COORDINATION, anonymous=False, locale="es")
    third = intake.from_web(cast.parent, "Y por la tarde", Topic.CARE_COORDINATION, anonymous=False, locale="es")
    db.session.commit()
    second_id, third_id = second.id, third.id
    login(client, cast.coord_a)
    response = post_form(
        client,
        "/coordinator/input",
        {"input_ids": [first, second_id], "theme_id": "0", "title": "Clinic hours", "topic": ""},
    )
    assert response.status_code == 302
    theme = db.session.scalar(sa.select(Theme))
    assert response.headers["Location"].endswith(f"/coordinator/themes/{theme.id}")
    assert theme.title == {"en": "Clinic hours"} and theme.topic == Topic.CARE_COORDINATION
    assert theme.owner_id == cast.coord_a.id and theme.committee_id is None  # mixed committees
    assert {i.id for i in theme.inputs} == {first, second_id}
    post_form(client, "/coordinator/input", {"input_ids": [third_id], "theme_id": str(theme.id)})
    db.session.expire_all()
    assert db.session.get(Input, third_id).theme_id == theme.id
    assert [e.detail.get("added") for e in theme.events if e.detail.get("added")] == [2, 1]
    # Nothing ticked: a plain message, no theme.
    page = submit(client, "/coordinator/input", {"theme_id": "0", "title": "X"})
    assert "Tick the input" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Theme)) == 1


def test_another_plans_input_cannot_be_grouped(cast, client):
    other = input_b(cast)
    login(client, cast.coord_a)
    response = post_form(client, "/coordinator/input", {"input_ids": [other], "theme_id": "0", "title": "Mine now"})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Theme)) == 0
    response = post_form(client, "/coordinator/input", {"input_ids": [input_a(cast)], "theme_id": str(theme_b(cast))})
    assert response.status_code == 404


def test_a_translation_is_added_and_replaces_a_machine_one(cast, client):
    row_id = input_a(cast)
    row = db.session.get(Input, row_id)
    row.translation, row.translation_locale, row.machine_translated = "machine words", "en", True
    db.session.commit()
    login(client, cast.coord_a)
    post_form(
        client,
        f"/coordinator/input/{row_id}/translation",
        {"translation": "The clinic is closed when I am free.", "translation_locale": "en"},
        token_from=f"/coordinator/input/{row_id}",
    )
    db.session.expire_all()
    row = db.session.get(Input, row_id)
    assert row.body == "El horario de la clínica choca con mi trabajo."
    assert row.translation == "The clinic is closed when I am free." and not row.machine_translated
    page = client.get(f"/coordinator/input/{row_id}").get_data(as_text=True)
    assert "Machine translation" not in page


def test_moving_input_to_a_theme_from_its_page(cast, client):
    theme_id = theme_a(cast)
    other = intake.from_web(cast.parent, "Otra idea", Topic.QUALITY, anonymous=False, locale="es")
    db.session.commit()
    other_id = other.id
    login(client, cast.coord_a)
    post_form(client, f"/coordinator/input/{other_id}/theme", {"theme_id": str(theme_id)})
    db.session.expire_all()
    assert db.session.get(Input, other_id).theme_id == theme_id
    assert post_form(client, f"/coordinator/input/{other_id}/theme", {"theme_id": str(theme_b(cast))}).status_code in (
        200,
        404,
    )
    db.session.expire_all()
    assert db.session.get(Input, other_id).theme_id == theme_id


# Themes: the whole timeline ----------------------------------------------------------------------


def test_the_full_timeline_texts_each_person_in_their_language_and_never_a_stopped_number(cast, client):
    olga = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    sam = make_member("+15105550998", "Sam", plan=cast.plan_a)
    db.session.add(SmsOptOut(phone=sam.phone))
    db.session.commit()
    theme_id = theme_a(cast)
    rows = [
        intake.from_web(p, "Necesitamos horario de tarde", Topic.CARE_COORDINATION, anonymous=False, locale=p.locale)
        for p in (olga, sam)
    ]
    db.session.flush()
    triage.assign(db.session.get(Theme, theme_id), rows)
    db.session.commit()
    login(client, cast.coord_a)
    url = f"/coordinator/themes/{theme_id}"
    page = submit(client, f"{url}/review", token_from=url).get_data(as_text=True)
    assert "The theme is under review." in page
    page = submit(
        client, f"{url}/take", {"body": "qihec", "taken_on": "2026-12-08", "note": "On the agenda"}, token_from=url
    ).get_data(as_text=True)
    assert "We texted 2 people. 1 has stopped texts and was not texted." in flashes(page)
    # Not adopted, with the reason in English and Spanish but not Chinese.
    page = submit(
        client,
        f"{url}/decide",
        {
            "outcome": "not_adopted",
            "decided_on": "2027-01-12",
            "reason_en": "There is no money for it this year.",
            "reason_es": "Este año no hay dinero para eso.",
            "reason_zh_Hant": "",
        },
        token_from=url,
    ).get_data(as_text=True)
    shown = flashes(page)
    assert "Saved: Not adopted." in shown
    assert "We texted 2 people. 1 has stopped texts and was not texted." in shown
    assert any("Chinese" in f and "link" in f for f in shown)
    db.session.expire_all()
    theme = db.session.get(Theme, theme_id)
    assert theme.status == ThemeStatus.DECIDED and theme.outcome == Outcome.NOT_ADOPTED
    assert [e.status for e in theme.events][-3:] == [ThemeStatus.UNDER_REVIEW, ThemeStatus.TAKEN, ThemeStatus.DECIDED]
    texts = {
        (m.member_id, m.stage): db.session.get(OutboxMessage, m.outbox_id)
        for m in db.session.scalars(sa.select(LoopMessage).where(LoopMessage.theme_id == theme_id))
        if m.outbox_id
    }
    es = texts[(cast.parent.id, LoopStage.DECIDED)]
    assert es.locale == "es" and "Este año no hay dinero para eso." in es.body
    zh = texts[(olga.id, LoopStage.DECIDED)]
    assert zh.locale == "zh_Hant" and "money" not in zh.body and "/o/" in zh.body
    assert texts[(cast.parent.id, LoopStage.TAKEN)].locale == "es"
    assert not db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.phone == sam.phone)).all()
    # The page shows the timeline (who, when, what) and each person's texts.
    assert "Carmen Coordinator" in page and "On the agenda" in page
    assert "Stopped texts" in page and "Olga" in page
    assert "There is no money for it this year." in page and "Not written in this language." in page
    audit = {a.action for a in db.session.scalars(sa.select(AuditEvent))}
    assert {"feedback.theme_taken", "feedback.theme_decided"} <= audit


def test_a_decision_needs_a_reason_and_wrong_steps_are_explained_not_500(cast, client):
    theme_id = theme_a(cast)
    url = f"/coordinator/themes/{theme_id}"
    login(client, cast.coord_a)
    response = post_form(
        client, f"{url}/decide", {"outcome": "not_adopted", "decided_on": "2027-01-12"}, token_from=url
    )
    assert response.status_code == 200
    assert "Write why in at least one language" in response.get_data(as_text=True)
    assert db.session.get(Theme, theme_id).status == ThemeStatus.RECEIVED
    post_form(client, f"{url}/review", token_from=url)
    response = submit(client, f"{url}/review", token_from=url)
    assert response.status_code == 200
    assert "This step is not possible now" in response.get_data(as_text=True)
    # A theme with no input cannot be taken anywhere.
    empty = triage.create(cast.plan_a.id, {"en": "Empty"}, topic=Topic.OTHER)
    db.session.commit()
    response = submit(
        client, f"/coordinator/themes/{empty.id}/take", {"body": "board", "taken_on": "2026-12-08"}, token_from=url
    )
    assert response.status_code == 200 and "has no input yet" in response.get_data(as_text=True)


def test_editing_a_theme_keeps_a_timeline_entry_and_sets_the_owner(cast, client):
    theme_id = theme_a(cast)
    url = f"/coordinator/themes/{theme_id}"
    login(client, cast.coord_a)
    post_form(
        client,
        f"{url}/edit",
        {
            "topic": "care",
            "owner_id": str(cast.coord_a.id),
            "title_en": "Clinic hours",
            "title_es": "Horario de la clínica",
            "title_zh_Hant": "診所時間",
            "summary_en": "Parents want evening hours.",
        },
        token_from=url,
    )
    post_form(client, f"{url}/note", {"note": "Called the clinic"}, token_from=url)
    db.session.expire_all()
    theme = db.session.get(Theme, theme_id)
    assert theme.title["zh_Hant"] == "診所時間" and theme.owner_id == cast.coord_a.id
    details = [e.detail for e in db.session.scalars(sa.select(ThemeEvent).where(ThemeEvent.theme_id == theme_id))]
    assert {"edited": ["title", "summary"]} in details
    assert any(d.get("owner") == "Carmen Coordinator" for d in details)
    assert any(d.get("note") == "Called the clinic" for d in details)
    page = client.get(url).get_data(as_text=True)
    assert 'lang="zh-Hant"' in page and "診所時間" in page


def test_themes_list_filters_and_days_open(cast, client):
    theme_id = theme_a(cast)
    theme = db.session.get(Theme, theme_id)
    theme.created_at = utcnow() - timedelta(days=30)
    theme.owner_id = cast.coord_a.id
    done = triage.create(cast.plan_a.id, {"en": "Done already"}, topic=Topic.QUALITY)
    db.session.flush()
    done.status, done.outcome, done.decided_on = ThemeStatus.DECIDED, Outcome.ADOPTED, date(2026, 1, 1)
    db.session.commit()
    login(client, cast.coord_a)
    page = client.get("/coordinator/themes?status=open").get_data(as_text=True)
    assert "Clinic hours" in page and "Done already" not in page
    assert re.search(r"<td>\s*30\s*</td>", page)
    page = client.get(f"/coordinator/themes?owner={cast.coord_a.id}&topic=care").get_data(as_text=True)
    assert "Clinic hours" in page and "Done already" not in page
    page = client.get("/coordinator/themes?status=decided").get_data(as_text=True)
    assert "Done already" in page and "Clinic hours" not in page


# Measures -----------------------------------------------------------------------------------------


def test_measures_page_and_csv_on_a_known_data_set(cast, client):
    now = utcnow()
    olga = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    olga.county = "Fresno"
    olga.race_ethnicity = ["asian", "asian_chinese"]
    db.session.commit()
    theme = triage.create(cast.plan_a.id, {"en": "T"}, topic=Topic.CARE_COORDINATION)
    rows = [
        intake.from_web(p, "Evening hours", Topic.CARE_COORDINATION, anonymous=False, locale=p.locale)
        for p in (cast.parent, olga)
    ]
    old = intake.from_web(cast.parent, "Old idea", Topic.QUALITY, anonymous=False, locale="es")
    db.session.flush()
    for row in rows:
        row.received_at = now - timedelta(days=20)
    old.received_at = now - timedelta(days=100)
    triage.assign(theme, rows)
    triage.decide(theme, Outcome.ADOPTED, {"en": "Yes"}, (now - timedelta(days=10)).date(), notify=False)
    input_b(cast)  # plan B's input is not counted for plan A
    db.session.commit()
    login(client, cast.coord_a)
    page = client.get("/coordinator/measures").get_data(as_text=True)
    assert "Quality of care" in page and "Fresno" in page and "Chinese" in page
    assert "Asian: Chinese" in page and "Not shared" not in page.split("By county")[1].split("By race")[0]
    assert "66.7%" in page
    csv_text = client.get("/coordinator/measures.csv").get_data(as_text=True).lstrip("\ufeff")
    lines = csv_text.splitlines()
    assert lines[0].startswith("dimension,group,input,with_decision")
    assert lines[1].startswith("all,all,3,2,66.7,")
    assert "county,Fresno,1,1,100.0," in csv_text
    page = client.get("/coordinator/measures?lang=es").get_data(as_text=True)
    assert "Calidad" in page or "Quality of care" in page  # translated once the catalogs are filled


# Scoping and languages ----------------------------------------------------------------------------


PAGES = [
    lambda c: "/coordinator/input",
    lambda c: f"/coordinator/input/{input_a(c)}",
    lambda c: "/coordinator/themes",
    lambda c: f"/coordinator/themes/{theme_a(c)}",
    lambda c: "/coordinator/measures",
]


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_pages_render_in_each_language(cast, client, locale):
    theme_a(cast)
    login(client, cast.coord_a)
    for page in PAGES:
        response = client.get(page(cast) + f"?lang={locale}")
        assert response.status_code == 200, page(cast)
        assert f'<html lang="{locale.replace("_", "-")}"' in response.get_data(as_text=True)


def test_plan_b_coordinator_sees_none_of_plan_a(cast, client):
    input_id, theme_id = input_a(cast), theme_a(cast)
    login(client, cast.coord_b)
    page = client.get("/coordinator/input").get_data(as_text=True)
    assert "choca con mi trabajo" not in page
    assert "Clinic hours" not in client.get("/coordinator/themes").get_data(as_text=True)
    assert client.get(f"/coordinator/input/{input_id}").status_code == 404
    assert client.get(f"/coordinator/themes/{theme_id}").status_code == 404
    url = f"/coordinator/themes/{theme_id}"
    for action, data in [
        ("review", {}),
        ("take", {"body": "board", "taken_on": "2026-12-08"}),
        ("decide", {"outcome": "adopted", "decided_on": "2026-12-08", "reason_en": "x"}),
        ("note", {"note": "x"}),
        ("edit", {"topic": "care", "title_en": "Mine"}),
    ]:
        assert post_form(client, f"{url}/{action}", data, token_from="/coordinator/themes").status_code == 404
    assert (
        post_form(
            client,
            f"/coordinator/input/{input_id}/translation",
            {"translation": "x", "translation_locale": "en"},
            token_from="/coordinator/themes",
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(Theme, theme_id).status == ThemeStatus.RECEIVED
    assert "choca" not in client.get("/coordinator/measures.csv").get_data(as_text=True)
    assert client.get("/coordinator/measures.csv").get_data(as_text=True).count("\n") >= 1


@pytest.mark.parametrize("role", ["cbo_a", "parent"])
def test_cbo_staff_and_parents_are_refused(cast, client, role):
    login(client, getattr(cast, role))
    for page in PAGES:
        assert client.get(page(cast)).status_code == 403


# Query counts -----------------------------------------------------------------------------------


def _add_input(cast, n: int, theme=None):
    for i in range(n):
        person = make_member(
            f"+1559666{db.session.scalar(sa.select(sa.func.count()).select_from(Input)):04d}{i}",
            f"P{i}",
            plan=cast.plan_a,
        )
        db.session.flush()
        row = intake.from_web(person, f"Idea {i}", Topic.QUALITY, anonymous=False, locale="en")
        row.committee_id = cast.committee_a.id
        db.session.flush()
        if theme is not None:
            triage.assign(theme, [row])
        else:
            other = triage.create(cast.plan_a.id, {"en": f"Theme {i}"}, topic=Topic.QUALITY, owner=cast.coord_a)
            db.session.flush()
            triage.assign(other, [row])
    db.session.commit()


def test_input_and_themes_lists_make_the_same_number_of_queries_however_much_data(cast, client, count_queries):
    login(client, cast.coord_a)
    _add_input(cast, 2)
    counts = []
    for _round in range(2):
        for url in ("/coordinator/input", "/coordinator/themes"):
            with count_queries() as q:
                assert client.get(url).status_code == 200
            counts.append(q.count)
        _add_input(cast, 6)
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
