"""Taking input back out of a theme it was put in by mistake (and maybe into another of the
plan's themes in the same step): only while the theme is not decided; the timeline says
so without names; it is audited; the parent's page no longer shows the theme; texts about
the theme still queued for the people who gave that input do not go."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.feedback import intake, loop, triage
from engage.models import (
    AuditEvent,
    DecisionBody,
    Input,
    LoopMessage,
    LoopStage,
    OutboxMessage,
    OutboxStatus,
    Outcome,
    Theme,
    ThemeEvent,
    ThemeStatus,
    Topic,
)
from tests.conftest import login, make_member, post_form
from tests.test_feedback_coordinator import flashes, input_a, input_b, submit, theme_a, theme_b


def url(theme_id: int, input_id: int) -> str:
    return f"/coordinator/themes/{theme_id}/input/{input_id}/take-out"


def _taken(cast):
    """Plan A's theme with the parent's input and Olga's, taken to the QIHEC: one text
    each, still queued."""
    theme_id, parents = theme_a(cast), input_a(cast)
    olga = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    db.session.flush()
    olgas = intake.from_web(olga, "Open on Saturdays", Topic.CARE_COORDINATION, anonymous=False, locale="zh_Hant")
    theme = db.session.get(Theme, theme_id)
    db.session.flush()
    triage.assign(theme, [olgas], by=cast.coord_a)
    assert triage.take(theme, DecisionBody.QIHEC, date(2026, 12, 8), by=cast.coord_a) == 2
    db.session.commit()
    return theme_id, parents, olgas.id, olga


def _text_to(member, theme_id: int, stage=LoopStage.TAKEN) -> tuple[LoopMessage, OutboxMessage | None]:
    db.session.expire_all()
    message = db.session.scalar(
        sa.select(LoopMessage).where(
            LoopMessage.theme_id == theme_id, LoopMessage.member_id == member.id, LoopMessage.stage == stage
        )
    )
    row = db.session.get(OutboxMessage, message.outbox_id) if message.outbox_id else None
    return message, row


def test_taking_input_out_ungroups_it_cancels_its_queued_text_and_keeps_a_dated_entry(cast, client):
    theme_id, parents, olgas, olga = _taken(cast)
    login(client, cast.parent)
    assert "Clinic hours" in client.get("/me?lang=en").get_data(as_text=True)
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    assert page.count("Take it out of this theme") == 2
    assert f'action="{url(theme_id, parents)}"' in page
    assert '<label for="move-' in page  # each select has its own label

    page = submit(client, url(theme_id, parents), {"theme_id": "0"}).get_data(as_text=True)
    assert f"Input {parents} is out of this theme." in " ".join(flashes(page))
    assert "1 text about this theme had not gone yet and will not be sent." in flashes(page)
    assert "1 piece of input moved out" in page

    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id is None  # as if never grouped
    theme = db.session.get(Theme, theme_id)
    assert [i.id for i in theme.inputs] == [olgas]
    assert theme.status == ThemeStatus.TAKEN  # the theme itself does not move
    event = db.session.scalars(
        sa.select(ThemeEvent).where(ThemeEvent.theme_id == theme_id).order_by(ThemeEvent.id.desc())
    ).first()
    assert event.detail == {"removed": 1} and event.by_id == cast.coord_a.id and event.at is not None
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "feedback.input_taken_out"))
    assert audit.actor_id == cast.coord_a.id and audit.target_id == theme_id
    assert audit.detail == {"input_id": parents, "moved_to": None, "texts_cancelled": 1}

    # The parent's text will not go; Olga's still will.
    message, row = _text_to(cast.parent, theme_id)
    assert row.status == OutboxStatus.SKIPPED and message.skipped == loop.MOVED_OUT
    assert _text_to(olga, theme_id)[1].status == OutboxStatus.QUEUED
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    assert "Their input was moved out of this theme" in page

    # The parent's own page: the input is back with what is still to come, not in the theme.
    login(client, cast.parent)
    for path in ("/me?lang=en", "/me/input/history?lang=en"):
        text = client.get(path).get_data(as_text=True)
        assert "El horario de la clínica" in text and "Clinic hours" not in text
        assert "A coordinator reads it and puts it with similar ideas" in text


def test_a_text_already_sent_stays_and_so_does_one_for_someone_with_other_input_in_the_theme(cast, client):
    theme_id, parents, olgas, olga = _taken(cast)
    # The parent has a second piece of input in the theme; Olga's text already went.
    second = intake.from_web(cast.parent, "Y por la tarde", Topic.CARE_COORDINATION, anonymous=False, locale="es")
    db.session.flush()
    triage.assign(db.session.get(Theme, theme_id), [second])
    db.session.commit()
    _text_to(olga, theme_id)[1].status = OutboxStatus.SENT
    db.session.commit()
    login(client, cast.coord_a)
    page = submit(client, url(theme_id, parents)).get_data(as_text=True)
    assert not any("will not be sent" in f for f in flashes(page))
    assert _text_to(cast.parent, theme_id)[1].status == OutboxStatus.QUEUED  # still theirs to hear
    submit(client, url(theme_id, olgas))
    message, row = _text_to(olga, theme_id)
    assert row.status == OutboxStatus.SENT and message.skipped is None


@pytest.mark.parametrize("status", [ThemeStatus.DECIDED, ThemeStatus.CLOSED])
def test_a_decided_or_closed_theme_keeps_its_input_and_says_why(cast, client, status):
    theme_id, parents = theme_a(cast), input_a(cast)
    theme = db.session.get(Theme, theme_id)
    triage.decide(theme, Outcome.NOT_ADOPTED, {"en": "No money this year."}, date(2026, 12, 8), notify=False)
    theme.status = status
    db.session.commit()
    events = db.session.scalar(sa.select(sa.func.count()).select_from(ThemeEvent))
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    assert "Take it out of this theme" not in page
    assert "This theme is decided, so its input stays in it" in page
    page = submit(client, url(theme_id, parents)).get_data(as_text=True)
    assert (
        "This input stays in this theme: the theme is decided, and the people who gave the input were already "
        "told what was decided."
    ) in flashes(page)
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id == theme_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThemeEvent)) == events
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "feedback.input_taken_out")) is None


def test_moving_it_to_another_theme_of_the_plan_in_the_same_step(cast, client):
    theme_id, parents, _olgas, _olga = _taken(cast)
    other = triage.create(cast.plan_a.id, {"en": "Saturday clinics"}, topic=Topic.CARE_COORDINATION)
    decided = triage.create(cast.plan_a.id, {"en": "Already decided"}, topic=Topic.QUALITY)
    db.session.flush()
    triage.assign(decided, [intake.from_web(cast.parent, "x", Topic.QUALITY, anonymous=False, locale="es")])
    triage.decide(decided, Outcome.ADOPTED, {"en": "Yes"}, date(2026, 12, 1), notify=False)
    db.session.commit()
    other_id, decided_id, b_theme = other.id, decided.id, theme_b(cast)
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    options = page.split(f'action="{url(theme_id, parents)}"')[1].split("</select>")[0]
    assert f'value="{other_id}"' in options and "No theme for now" in options
    assert f'value="{decided_id}"' not in options  # decided: not a choice
    assert f'value="{b_theme}"' not in options  # another plan's: not a choice
    assert f'value="{theme_id}"' not in options  # the theme itself

    # Not a choice: the page comes back with the error at that input's select; nothing moves.
    for target in (decided_id, b_theme, theme_id):
        response = post_form(client, url(theme_id, parents), {"theme_id": str(target)})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f'<p class="error" id="move-{parents}-error">Not a valid choice.</p>' in page
        assert f'aria-describedby="move-{parents}-hint move-{parents}-error"' in page
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id == theme_id

    page = submit(client, url(theme_id, parents), {"theme_id": str(other_id)}).get_data(as_text=True)
    assert f"Input {parents} is out of this theme and now in “Saturday clinics”." in flashes(page)
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id == other_id
    moved_out = db.session.scalars(
        sa.select(ThemeEvent).where(ThemeEvent.theme_id == theme_id).order_by(ThemeEvent.id.desc())
    ).first()
    assert moved_out.detail == {"removed": 1, "moved_to": other_id}
    added = db.session.scalars(
        sa.select(ThemeEvent).where(ThemeEvent.theme_id == other_id).order_by(ThemeEvent.id.desc())
    ).first()
    assert added.detail == {"added": 1}
    assert _text_to(cast.parent, theme_id)[1].status == OutboxStatus.SKIPPED
    page = client.get(f"/coordinator/themes/{theme_id}").get_data(as_text=True)
    assert f'href="/coordinator/themes/{other_id}">to theme {other_id}</a>' in page


def test_a_theme_left_with_no_input_stays(cast, client):
    theme_id, parents = theme_a(cast), input_a(cast)
    login(client, cast.coord_a)
    page = submit(client, url(theme_id, parents)).get_data(as_text=True)
    assert "No input in this theme yet." in page
    db.session.expire_all()
    assert db.session.get(Theme, theme_id) is not None
    assert client.get("/coordinator/input?unthemed=y").get_data(as_text=True).count("choca con mi trabajo") == 1


def test_input_back_in_the_theme_is_texted_when_it_is_taken_again(cast, client):
    theme_id, parents, _olgas, _olga = _taken(cast)
    login(client, cast.coord_a)
    submit(client, url(theme_id, parents))
    theme = db.session.get(Theme, theme_id)
    triage.assign(theme, [db.session.get(Input, parents)], by=cast.coord_a)
    assert triage.take(theme, DecisionBody.QIHEC, date(2026, 12, 9), by=cast.coord_a) == 1
    db.session.commit()
    message, row = _text_to(cast.parent, theme_id)
    assert message.skipped is None and row.status == OutboxStatus.QUEUED


def test_the_wrong_theme_a_stale_page_and_another_plan(cast, client):
    theme_id, parents = theme_a(cast), input_a(cast)
    other = triage.create(cast.plan_a.id, {"en": "Other"}, topic=Topic.QUALITY)
    db.session.commit()
    other_id = other.id
    login(client, cast.coord_a)
    # The input is not in that theme (a second click, an old page): said, nothing changes.
    page = submit(client, url(other_id, parents)).get_data(as_text=True)
    assert "This input is not in this theme any more." in flashes(page)
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id == theme_id
    # Plan B's input, or plan A's theme for plan B's coordinator: 404, as if it did not exist.
    assert post_form(client, url(theme_id, input_b(cast)), token_from="/coordinator/themes").status_code == 404
    login(client, cast.coord_b)
    assert post_form(client, url(theme_id, parents), token_from="/coordinator/themes").status_code == 404
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id == theme_id
    # An admin may.
    login(client, cast.admin)
    assert post_form(client, url(theme_id, parents), token_from="/coordinator/themes").status_code == 302
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id is None


def test_grouping_never_pulls_input_out_of_a_decided_theme_and_moves_it_out_of_an_open_one(cast, client):
    theme_id, parents, olgas, _olga = _taken(cast)
    decided = triage.create(cast.plan_a.id, {"en": "Decided"}, topic=Topic.QUALITY)
    db.session.flush()
    kept = intake.from_web(cast.parent, "Kept", Topic.QUALITY, anonymous=False, locale="es")
    db.session.flush()
    triage.assign(decided, [kept])
    triage.decide(decided, Outcome.ADOPTED, {"en": "Yes"}, date(2026, 12, 1), notify=False)
    db.session.commit()
    kept_id, decided_id = kept.id, decided.id
    login(client, cast.coord_a)
    page = submit(
        client, "/coordinator/input", {"input_ids": [str(parents), str(kept_id)], "theme_id": "0", "title": "New"}
    ).get_data(as_text=True)
    assert "1 piece of input is now in this theme." in flashes(page)
    assert any("stays in its theme" in f for f in flashes(page))
    db.session.expire_all()
    assert db.session.get(Input, kept_id).theme_id == decided_id
    assert db.session.get(Input, parents).theme_id not in (None, theme_id)
    # Out of the taken theme the usual way: dated entry and the queued text cancelled.
    assert (
        db.session.scalars(
            sa.select(ThemeEvent.detail).where(ThemeEvent.theme_id == theme_id).order_by(ThemeEvent.id.desc())
        ).first()["removed"]
        == 1
    )
    assert _text_to(cast.parent, theme_id)[1].status == OutboxStatus.SKIPPED


def test_moving_from_the_input_page_follows_the_same_rules(cast, client):
    theme_id, parents, _olgas, _olga = _taken(cast)
    decided = triage.create(cast.plan_a.id, {"en": "Decided"}, topic=Topic.QUALITY)
    db.session.flush()
    triage.assign(decided, [intake.from_web(cast.parent, "k", Topic.QUALITY, anonymous=False, locale="es")])
    triage.decide(decided, Outcome.ADOPTED, {"en": "Yes"}, date(2026, 12, 1), notify=False)
    db.session.commit()
    decided_id = decided.id
    login(client, cast.coord_a)
    page = submit(client, f"/coordinator/input/{parents}/theme", {"theme_id": str(decided_id)}).get_data(as_text=True)
    assert any("The theme you chose is decided already" in f for f in flashes(page))
    db.session.expire_all()
    assert db.session.get(Input, parents).theme_id == theme_id
    # And out of a decided theme: refused too.
    kept = db.session.scalar(sa.select(Input).where(Input.theme_id == decided_id))
    page = submit(client, f"/coordinator/input/{kept.id}/theme", {"theme_id": str(theme_id)}).get_data(as_text=True)
    assert any("This input stays in this theme" in f for f in flashes(page))
    db.session.expire_all()
    assert db.session.get(Input, kept.id).theme_id == decided_id


def test_the_theme_page_makes_the_same_number_of_queries_however_much_input(cast, client, count_queries):
    theme_id = theme_a(cast)
    login(client, cast.coord_a)
    counts = []
    for extra in (1, 8):
        theme = db.session.get(Theme, theme_id)
        for i in range(extra):
            person = make_member(f"+1559888{extra:02d}{i:02d}", f"P{i}", plan=cast.plan_a)
            db.session.flush()
            triage.assign(theme, [intake.from_web(person, f"Idea {i}", Topic.QUALITY, anonymous=False, locale="en")])
        db.session.commit()
        with count_queries() as q:
            assert client.get(f"/coordinator/themes/{theme_id}").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts
