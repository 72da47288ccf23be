"""Input to decision for the public and the person who spoke: "you said, we did" per
committee (no names, small groups hidden, open themes with their age), the short link in
texts, a parent's own timeline in their language, the standing agenda item, and what
export and deletion do with a person's input."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.feedback import intake, triage
from engage.models import (
    Committee,
    DecisionBody,
    Input,
    LoopMessage,
    LoopStage,
    Outcome,
    Theme,
    ThemeStatus,
    Topic,
    input_people,
    utcnow,
)
from engage.sms import outbox
from tests.conftest import login, make_member

REASON = {
    "en": "There is no money for it this year.",
    "es": "Este año no hay dinero para eso.",
}


def theme_a(c, *, people=None, title=None, anonymous=False, committee=None) -> int:
    """A theme of plan A's committee A with input from ``people`` (the parent by default)."""
    committee = committee or c.committee_a
    theme = triage.create(
        c.plan_a.id,
        title or {"en": "Clinic hours", "es": "Horario de la clínica", "zh_Hant": "診所時間"},
        topic=Topic.CARE_COORDINATION,
        committee_id=committee.id,
        by=c.coord_a,
    )
    rows = [
        intake.from_web(p, "Evening hours please", Topic.CARE_COORDINATION, anonymous=anonymous, locale=p.locale)
        for p in (people if people is not None else [c.parent])
    ]
    db.session.flush()
    triage.assign(theme, rows, by=c.coord_a)
    db.session.commit()
    return theme.id


def many(c, n: int, start: int = 0) -> list:
    people = [make_member(f"+1559555{start + i:04d}", f"Person {start + i}", plan=c.plan_a) for i in range(n)]
    db.session.commit()
    return people


def deliver(app, row_id: int) -> None:
    with app.test_request_context():
        outbox.record_status(row_id, None, "delivered", None)


def decided_theme(app, c, reason=REASON) -> Theme:
    theme = db.session.get(Theme, theme_a(c))
    triage.review(theme, by=c.coord_a)
    triage.take(theme, DecisionBody.QIHEC, date(2026, 12, 8), by=c.coord_a)
    db.session.commit()
    triage.decide(theme, Outcome.NOT_ADOPTED, reason, date(2027, 1, 12), by=c.coord_a)
    db.session.commit()
    for message in db.session.scalars(sa.select(LoopMessage).where(LoopMessage.theme_id == theme.id)):
        if message.outbox_id:
            deliver(app, message.outbox_id)
    db.session.expire_all()
    return theme


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# You said, we did --------------------------------------------------------------------------


def test_the_public_page_shows_counts_only_from_eleven_and_never_names(cast, client):
    small = theme_a(cast, title={"en": "Small group idea", "es": "Idea de un grupo pequeño"})
    crowd = many(cast, 12)
    big = theme_a(cast, people=crowd, title={"en": "Big group idea", "es": "Idea de muchos"})
    text = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=en")
    assert f'id="theme-{small}"' in text and f'id="theme-{big}"' in text
    assert "Raised by fewer than 11 people" in text
    assert "Raised by 12 people" in text
    for person in [cast.parent, *crowd]:
        assert person.display_name not in text
        assert person.phone not in text
    assert "Evening hours please" not in text  # people's own words stay with the coordinator
    assert cast.coord_a.name not in text


def test_exactly_eleven_people_are_counted_and_ten_are_not(cast, client):
    ten = theme_a(cast, people=many(cast, 10), title={"en": "Ten"})
    eleven = theme_a(cast, people=many(cast, 11, start=100), title={"en": "Eleven"})
    text = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=en")
    ten_card = text.split(f'id="theme-{ten}"')[1].split("</li>")[0]
    eleven_card = text.split(f'id="theme-{eleven}"')[1].split("</li>")[0]
    assert "fewer than 11" in ten_card and "10" not in ten_card
    assert "Raised by 11 people" in eleven_card


def test_open_themes_come_first_with_days_open_and_decided_ones_with_the_reason(app, cast, client):
    open_id = theme_a(cast, title={"en": "Still open", "es": "Todavía abierto"})
    db.session.execute(
        sa.update(Input).where(Input.theme_id == open_id).values(received_at=utcnow() - timedelta(days=12))
    )
    db.session.commit()
    decided = decided_theme(app, cast)
    text = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=en")
    assert text.index(f'id="theme-{open_id}"') < text.index(f'id="theme-{decided.id}"')
    open_card = text.split(f'id="theme-{open_id}"')[1].split("</li>")[0]
    assert "Open for 12 days" in open_card
    decided_card = text.split(f'id="theme-{decided.id}"')[1].split("</li>")[0]
    assert "Not adopted" in decided_card and REASON["en"] in decided_card
    es = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=es")
    assert REASON["es"] in es and REASON["en"] not in es
    # No Chinese reason was written: it says so, and never shows the English one.
    zh = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=zh_Hant")
    assert REASON["en"] not in zh and REASON["es"] not in zh
    with force_locale("zh_Hant"):
        from flask_babel import gettext  # noqa: PLC0415

        assert gettext("The reason is not yet available in your language.") in zh


def test_linked_decisions_show_in_the_readers_language(app, cast, client):
    from engage.feedback import decisions  # noqa: PLC0415

    theme = decided_theme(app, cast)
    decisions.save(
        cast.plan_a.id,
        body=DecisionBody.BOARD,
        decided_on=date(2027, 1, 20),
        title={"en": "Evening clinic pilot", "es": "Prueba de clínica nocturna"},
        rationale={"en": "Parents asked for it."},
        theme_ids=[theme.id],
    )
    db.session.commit()
    es = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=es")
    assert "Prueba de clínica nocturna" in es and "Evening clinic pilot" not in es
    assert "Parents asked for it." not in es
    en = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang=en")
    assert "Evening clinic pilot" in en and "Parents asked for it." in en


def test_a_hidden_committee_has_no_public_page_and_no_short_link(cast, client):
    hidden = Committee(plan=cast.plan_a, slug="hidden-group", name={"en": "Hidden"}, is_public=False)
    db.session.add(hidden)
    db.session.commit()
    theme_id = theme_a(cast, committee=hidden)
    assert client.get("/committees/hidden-group/outcomes").status_code == 404
    assert client.get("/committees/no-such-group/outcomes").status_code == 404
    assert client.get(f"/o/{theme_id}").status_code == 404
    assert client.get("/o/999999").status_code == 404


def test_the_short_link_goes_to_the_theme_on_its_committees_page(cast, client):
    theme_id = theme_a(cast)
    response = client.get(f"/o/{theme_id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/committees/{cast.committee_a.slug}/outcomes#theme-{theme_id}")
    no_committee = triage.create(cast.plan_a.id, {"en": "Loose"}, topic=Topic.OTHER)
    db.session.commit()
    assert client.get(f"/o/{no_committee.id}").status_code == 404


def test_the_outcomes_page_makes_the_same_number_of_queries_whatever_the_data(app, cast, client, count_queries):
    from engage.feedback import decisions  # noqa: PLC0415

    url = f"/committees/{cast.committee_a.slug}/outcomes?lang=es"
    theme_a(cast)
    client.get(url)
    with count_queries() as few:
        page(client, url)
    for i in range(4):
        tid = theme_a(cast, people=many(cast, 3, start=10 * i), title={"en": f"Theme {i}", "es": f"Tema {i}"})
        theme = db.session.get(Theme, tid)
        triage.decide(theme, Outcome.ADOPTED, {"es": "Sí"}, date(2027, 1, 1), notify=False)
        decisions.save(
            cast.plan_a.id, body=DecisionBody.BOARD, decided_on=date(2027, 1, 2), title={"es": f"D{i}"}, theme_ids=[tid]
        )
        db.session.commit()
    with count_queries() as more:
        page(client, url)
    assert more.count == few.count


# The standing agenda item ----------------------------------------------------------------------


def test_open_themes_are_the_standing_item_on_the_meeting_page_and_the_agenda_editor(app, cast, client):
    from engage.meetings import documents  # noqa: PLC0415
    from tests.meeting_factories import make_meeting  # noqa: PLC0415

    open_id = theme_a(cast, title={"en": "Bus passes", "es": "Pases de autobús"})
    decided = decided_theme(app, cast)
    items = documents.standing_items(cast.committee_a)
    assert [i.theme.id for i in items] == [open_id]
    assert items[0].title["es"] == "Pases de autobús" and items[0].days_open() == 0
    meeting = make_meeting(cast.committee_a)
    db.session.commit()
    text = page(client, f"/meetings/{meeting.id}?lang=es")
    assert "Pases de autobús" in text and "Horario de la clínica" not in text
    assert decided.status == ThemeStatus.CLOSED
    login(client, cast.coord_a)
    editor = page(client, f"/coordinator/meetings/{meeting.id}/documents/agenda?lang=en")
    assert "Bus passes" in editor and "Received" in editor and "Row(" not in editor


# A parent's own timeline ---------------------------------------------------------------------


def test_me_shows_the_timeline_with_the_reason_in_the_readers_language(app, cast, client):
    theme = decided_theme(app, cast)
    login(client, cast.parent)
    text = page(client, "/me?lang=es")
    assert "Evening hours please" in text  # their own words
    assert REASON["es"] in text and REASON["en"] not in text
    assert f"/committees/{cast.committee_a.slug}/outcomes#theme-{theme.id}" in text
    delivered = db.session.scalar(
        sa.select(LoopMessage).where(LoopMessage.member_id == cast.parent.id, LoopMessage.stage == LoopStage.DECIDED)
    )
    assert delivered.delivered_at is not None
    with force_locale("es"):
        from flask_babel import gettext  # noqa: PLC0415

        from engage.i18n import fmt_date  # noqa: PLC0415

        assert gettext("We texted you") in text
        assert fmt_date(delivered.delivered_at, "medium") in text
    history = page(client, "/me/input/history?lang=zh_Hant")
    assert REASON["en"] not in history and REASON["es"] not in history
    with force_locale("zh_Hant"):
        assert gettext("The reason is not yet available in your language.") in history
    assert "診所時間" in history


def test_me_shows_what_is_still_to_come_and_never_anonymous_input(cast, client):
    login(client, cast.parent)
    intake.from_web(cast.parent, "Only my words", Topic.QUALITY, anonymous=False, locale="es")
    intake.from_web(cast.parent, "Secret words", Topic.QUALITY, anonymous=True, locale="es")
    db.session.commit()
    text = page(client, "/me/input/history?lang=en")
    assert "Only my words" in text and "Secret words" not in text
    assert "Still to come:" in text
    assert "Secret words" not in page(client, "/me?lang=en")


def test_the_me_page_makes_the_same_number_of_queries_whatever_the_input(app, cast, client, count_queries):
    login(client, cast.parent)
    theme_a(cast)
    page(client, "/me/input/history")
    with count_queries() as few:
        page(client, "/me/input/history")
    for i in range(4):
        theme = db.session.get(Theme, theme_a(cast, title={"en": f"T{i}"}))
        triage.take(theme, DecisionBody.BOARD, date(2026, 12, 1))
        db.session.commit()
    with count_queries() as more:
        page(client, "/me/input/history")
    assert more.count == few.count


# Export and deletion -------------------------------------------------------------------------


def test_the_export_holds_the_persons_input_and_the_texts_about_it(app, cast, client):
    theme = decided_theme(app, cast)
    login(client, cast.parent)
    data = json.loads(client.get("/me/export.json").get_data(as_text=True))
    assert [i["body"] for i in data["input"]] == ["Evening hours please"]
    assert data["input"][0]["reason"]["es"] == REASON["es"]
    stages = {(m["theme_id"], m["stage"]) for m in data["loop_messages"]}
    assert stages == {(theme.id, "taken"), (theme.id, "decided")}
    csv_text = client.get("/me/export.csv").get_data(as_text=True)
    assert "Evening hours please" in csv_text and "loop_messages" in csv_text


def test_deleting_an_account_keeps_the_words_but_not_the_person(app, cast, client):
    from engage.me import services  # noqa: PLC0415

    theme = db.session.get(Theme, theme_a(cast))
    other = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    db.session.commit()
    shared = intake.from_web(other, "Together", Topic.QUALITY, anonymous=False, locale="zh_Hant")
    shared.people = [cast.parent, other]
    db.session.flush()
    triage.assign(theme, [shared])
    triage.take(theme, DecisionBody.BOARD, date(2026, 12, 1))
    db.session.commit()
    mine = db.session.scalar(sa.select(Input).where(Input.body == "Evening hours please"))
    services.delete_member(cast.parent)
    db.session.commit()
    db.session.expire_all()
    assert mine.body == "Evening hours please" and mine.anonymous and mine.people == []
    assert not shared.anonymous and [p.id for p in shared.people] == [other.id]
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(input_people).where(input_people.c.member_id == cast.parent.id)
    )
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(LoopMessage).where(LoopMessage.member_id == cast.parent.id)
    )


def test_a_decided_theme_waiting_only_for_a_deleted_person_closes(app, cast):
    from engage.me import services  # noqa: PLC0415

    theme = db.session.get(Theme, theme_a(cast))
    triage.decide(theme, Outcome.ADOPTED, {"es": "Sí"}, date(2027, 1, 1))
    db.session.commit()
    assert theme.status == ThemeStatus.DECIDED  # the text is queued, not delivered
    services.delete_member(cast.parent)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).status == ThemeStatus.CLOSED


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_the_outcomes_page_renders_in_every_language(cast, client, locale):
    theme_a(cast)
    text = page(client, f"/committees/{cast.committee_a.slug}/outcomes?lang={locale}")
    assert f'lang="{locale.replace("_", "-")}"' in text


def test_the_committee_page_links_to_you_said_we_did(cast, client):
    text = page(client, f"/committees/{cast.committee_a.slug}?lang=en")
    assert f'href="/committees/{cast.committee_a.slug}/outcomes"' in text
