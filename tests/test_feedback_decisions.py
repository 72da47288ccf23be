"""The plan's decisions on the coordinator's screens: written per language, linked to
themes and input, CSV export and import (updates by id, bad lines reported in plain
words while good lines are kept, spreadsheet formulas defused), audited, scoped."""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa

from engage.extensions import db
from engage.feedback import decisions
from engage.models import AuditEvent, Decision, DecisionBody
from tests.conftest import login, post_form
from tests.test_feedback_coordinator import input_a, input_b, theme_a, theme_b


def decision_a(c) -> int:
    """A decision of plan A (made once per test)."""
    found = db.session.scalar(sa.select(Decision).where(Decision.plan_id == c.plan_a.id).limit(1))
    if found is None:
        found = decisions.save(
            c.plan_a.id,
            body=DecisionBody.QIHEC,
            decided_on=date(2027, 1, 12),
            title={"en": "Evening clinic hours", "es": "Horario de tarde"},
        )
        db.session.commit()
    return found.id


def _form(**extra):
    data = {
        "plan_id": "",
        "body": "board",
        "decided_on": "2027-02-01",
        "title_en": "Saturday clinics",
        "title_es": "Clínicas los sábados",
        "title_zh_Hant": "",
        "summary_en": "Two clinics open on Saturdays.",
        "rationale_es": "Muchos padres trabajan entre semana.",
        "input_ids": "",
    }
    data.update(extra)
    return data


def test_a_decision_is_written_per_language_and_linked_to_themes_and_input(cast, client):
    theme_id, input_id = theme_a(cast), input_a(cast)
    login(client, cast.coord_a)
    page = client.get("/coordinator/decisions/new").get_data(as_text=True)
    assert 'lang="zh-Hant"' in page and "Clinic hours (theme" in page
    response = post_form(
        client,
        "/coordinator/decisions/new",
        _form(plan_id=str(cast.plan_a.id), theme_ids=[str(theme_id)], input_ids=f"{input_id}"),
    )
    assert response.status_code == 302
    decision = db.session.scalar(sa.select(Decision))
    assert decision.title == {"en": "Saturday clinics", "es": "Clínicas los sábados"}
    assert decision.rationale == {"es": "Muchos padres trabajan entre semana."}
    assert [t.id for t in decision.themes] == [theme_id] and [i.id for i in decision.inputs] == [input_id]
    assert decision.body == DecisionBody.BOARD and decision.created_by_id == cast.coord_a.id
    # Edit: change the date, unlink the input.
    url = f"/coordinator/decisions/{decision.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Clínicas los sábados" in page
    post_form(client, url, _form(decided_on="2027-02-03", theme_ids=[str(theme_id)]))
    db.session.expire_all()
    decision = db.session.get(Decision, decision.id)
    assert decision.decided_on == date(2027, 2, 3) and decision.inputs == []
    assert client.get("/coordinator/decisions").get_data(as_text=True).count("Saturday clinics") == 1
    assert {"feedback.decision_created", "feedback.decision_updated"} <= set(
        db.session.scalars(sa.select(AuditEvent.action))
    )


def test_another_plans_themes_and_input_cannot_be_linked(cast, client):
    login(client, cast.coord_a)
    other_input = input_b(cast)
    response = post_form(
        client, "/coordinator/decisions/new", _form(plan_id=str(cast.plan_a.id), input_ids=f"{other_input} abc")
    )
    assert response.status_code == 200
    assert "Write only numbers" in response.get_data(as_text=True)
    response = post_form(
        client, "/coordinator/decisions/new", _form(plan_id=str(cast.plan_a.id), input_ids=f"{other_input}")
    )
    assert "There is no input with these numbers in this plan" in response.get_data(as_text=True)
    response = post_form(
        client, "/coordinator/decisions/new", _form(plan_id=str(cast.plan_a.id), theme_ids=[str(theme_b(cast))])
    )
    assert "this decision" in response.get_data(as_text=True)
    # A plan that is not theirs.
    response = post_form(client, "/coordinator/decisions/new", _form(plan_id=str(cast.plan_b.id)))
    assert response.status_code in (200, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0
    response = post_form(
        client, "/coordinator/decisions/new", _form(plan_id=str(cast.plan_a.id), title_en="", title_es="")
    )
    assert "Write a title in at least one language." in response.get_data(as_text=True)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _upload(client, text: str, plan_id: int):
    return post_form(
        client,
        "/coordinator/decisions/import",
        {"plan_id": str(plan_id), "file": (io.BytesIO(text.encode("utf-8")), "decisions.csv")},
        content_type="multipart/form-data",
    )


def test_csv_round_trip_updates_reports_bad_lines_and_keeps_good_ones(cast, client):
    decision_id = decision_a(cast)
    decision = db.session.get(Decision, decision_id)
    decision.summary = {"en": '=HYPERLINK("http://evil")'}
    db.session.commit()
    login(client, cast.coord_a)
    exported = client.get("/coordinator/decisions.csv")
    assert exported.mimetype == "text/csv"
    rows = _rows(exported.get_data(as_text=True))
    assert len(rows) == 1 and rows[0]["id"] == str(decision_id)
    assert rows[0]["summary_en"].startswith("'=")  # a spreadsheet will not run it
    # Change the exported line, add a good new line and two bad ones.
    rows[0]["title_es"] = "Horario de tarde (cambiado)"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=decisions.columns())
    writer.writeheader()
    writer.writerow(rows[0])
    writer.writerow(
        {"body": "program", "decided_on": "2027-03-01", "title_en": "New flyer", "theme_ids": str(theme_a(cast))}
    )
    writer.writerow({"body": "mayor", "decided_on": "2027-03-01", "title_en": "Bad body"})
    writer.writerow({"body": "board", "decided_on": "March 1", "title_en": "Bad date"})
    response = _upload(client, out.getvalue(), cast.plan_a.id)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 decision added." in page and "1 decision changed." in page
    assert "Line 4: Who decided is not one of" in page
    assert "Line 5: The date must be written like 2026-12-08." in page
    db.session.expire_all()
    updated = db.session.get(Decision, decision_id)
    assert updated.title["es"] == "Horario de tarde (cambiado)"
    assert updated.summary["en"] == '=HYPERLINK("http://evil")'  # the quote added on export is taken off
    new = db.session.scalar(sa.select(Decision).where(Decision.id != decision_id))
    assert new.title == {"en": "New flyer"} and [t.id for t in new.themes] == [theme_a(cast)]
    actions = list(db.session.scalars(sa.select(AuditEvent.action)))
    assert "feedback.decisions_exported" in actions and "feedback.decisions_imported" in actions


def test_an_import_cannot_change_another_plans_decision(cast, client):
    other = decisions.save(cast.plan_b.id, body=DecisionBody.BOARD, decided_on=date(2027, 1, 1), title={"en": "B's"})
    db.session.commit()
    other_id = other.id
    login(client, cast.coord_a)
    text = f"id,body,decided_on,title_en\n{other_id},board,2027-01-02,Taken over\n"
    page = _upload(client, text, cast.plan_a.id).get_data(as_text=True)
    assert "Line 2: There is no decision with this number in this plan." in page
    db.session.expire_all()
    assert db.session.get(Decision, other_id).title == {"en": "B's"}
    # Nor upload into another plan.
    assert _upload(client, text, cast.plan_b.id).status_code in (200, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 1
    # A file that is not CSV text is explained.
    response = post_form(
        client,
        "/coordinator/decisions/import",
        {"plan_id": str(cast.plan_a.id), "file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert "UTF-8" in response.get_data(as_text=True)


def test_export_holds_only_the_coordinators_plans(cast, client):
    decision_a(cast)
    decisions.save(cast.plan_b.id, body=DecisionBody.BOARD, decided_on=date(2027, 1, 1), title={"en": "B's"})
    db.session.commit()
    login(client, cast.coord_b)
    rows = _rows(client.get("/coordinator/decisions.csv").get_data(as_text=True))
    assert [r["title_en"] for r in rows] == ["B's"]
    assert client.get(f"/coordinator/decisions/{decision_a(cast)}").status_code == 404
    assert (
        post_form(
            client, f"/coordinator/decisions/{decision_a(cast)}", _form(), token_from="/coordinator/decisions"
        ).status_code
        == 404
    )
    assert "Evening clinic hours" not in client.get("/coordinator/decisions").get_data(as_text=True)


def test_decision_pages_render_in_each_language(cast, client):
    decision_id = decision_a(cast)
    login(client, cast.coord_a)
    for locale in ("en", "es", "zh_Hant"):
        for url in (
            "/coordinator/decisions",
            "/coordinator/decisions/new",
            f"/coordinator/decisions/{decision_id}",
            "/coordinator/decisions/import",
        ):
            response = client.get(f"{url}?lang={locale}")
            assert response.status_code == 200, url
