"""A theme with no input that has not gone to decision-makers can be deleted (made by
mistake, or emptied by taking its input out); its timeline goes with it, the audit log
keeps that it existed. Input is never lost this way."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from engage.extensions import db
from engage.feedback import intake, triage
from engage.models import AuditEvent, DecisionBody, Input, Theme, ThemeEvent, Topic
from tests.conftest import login, post_form
from tests.test_feedback_coordinator import flashes, input_a, submit, theme_a, theme_b


def url(theme_id: int) -> str:
    return f"/coordinator/themes/{theme_id}/delete"


def empty_theme(cast, title="Made by mistake") -> int:
    theme = triage.create(cast.plan_a.id, {"en": title}, topic=Topic.QUALITY, by=cast.coord_a)
    db.session.commit()
    return theme.id


def test_an_emptied_theme_is_deleted_with_its_timeline_and_the_input_stays(client, cast):
    theme_id, input_id = theme_a(cast), input_a(cast)
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    assert "Delete this theme" not in page  # it holds input
    post_form(client, f"/coordinator/themes/{theme_id}/input/{input_id}/take-out", {"theme_id": "0"})
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    assert "Delete this theme" in page
    response = submit(client, url(theme_id), {})
    assert "The theme “Clinic hours” is deleted." in flashes(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Theme, theme_id) is None
    assert db.session.scalar(sa.select(sa.func.count()).where(ThemeEvent.theme_id == theme_id)) == 0
    row = db.session.get(Input, input_id)
    assert row is not None and row.theme_id is None  # with the input not in a theme yet
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "feedback.theme_deleted"))
    assert event is not None and event.actor_id == cast.coord_a.id


def test_a_theme_with_input_or_taken_to_decision_makers_stays(client, cast):
    login(client, cast.coord_a)
    full = theme_a(cast)
    response = submit(client, url(full), {})
    assert "This theme still holds input. Take it out first, or keep the theme." in flashes(
        response.get_data(as_text=True)
    )
    # Taken to the QIHEC, then its input taken back out: empty, but it was presented.
    taken = triage.create(cast.plan_a.id, {"en": "Presented"}, topic=Topic.QUALITY, by=cast.coord_a)
    other = intake.from_web(cast.parent, "Más horas", Topic.QUALITY, anonymous=False, locale="es")
    db.session.flush()
    triage.assign(taken, [other], by=cast.coord_a)
    triage.take(taken, DecisionBody.QIHEC, date(2026, 12, 8), by=cast.coord_a)
    triage.take_out(taken, other, by=cast.coord_a)
    db.session.commit()
    taken = taken.id
    page = client.get(f"/coordinator/themes/{taken}").get_data(as_text=True)
    assert "Delete this theme" not in page
    response = submit(client, url(taken), {})
    assert "This theme was taken to decision-makers, so it stays on record." in flashes(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Theme, full) is not None and db.session.get(Theme, taken) is not None
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "feedback.theme_deleted")) == 0


def test_another_plans_coordinator_cannot_delete_it(client, cast):
    other = theme_b(cast)
    db.session.execute(sa.update(Input).where(Input.theme_id == other).values(theme_id=None))
    db.session.commit()
    login(client, cast.coord_a)
    assert post_form(client, url(other), {}).status_code == 404
    assert db.session.get(Theme, other) is not None


def test_the_delete_button_in_every_language(client, cast):
    theme_id = empty_theme(cast)
    login(client, cast.coord_a)
    for lang, words in (("es", "Eliminar este tema"), ("zh_Hant", "刪除這個主題")):
        page = client.get(f"/coordinator/themes/{theme_id}?lang={lang}").get_data(as_text=True)
        assert words in page
