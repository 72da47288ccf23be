"""Input to decision, end to end in the services: a question by text, the reply kept as
input, a theme taken to decision-makers and decided "no" with the reason, each person
told in their language, the loop closed only when the text is delivered."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.feedback import intake, measures, outcomes, triage
from engage.models import (
    DecisionBody,
    Input,
    InputChannel,
    LoopMessage,
    LoopStage,
    OutboxMessage,
    Outcome,
    Question,
    SmsOptOut,
    ThemeStatus,
    Topic,
    utcnow,
)
from engage.sms import outbox
from tests.conftest import make_member


@pytest.fixture
def text(client):
    counter = iter(range(1, 10_000))

    def _text(phone: str, body: str) -> list[str]:
        response = client.post(
            "/sms/inbound", data={"MessageSid": f"SMfb{next(counter):08d}", "From": phone, "Body": body}
        )
        assert response.status_code == 200
        return [html.unescape(m) for m in re.findall(r"<Message[^>]*>(.*?)</Message>", response.get_data(as_text=True))]

    return _text


def ask(cast, members):
    question = Question(
        plan_id=cast.plan_a.id,
        committee_id=cast.committee_a.id,
        topic=Topic.CARE_COORDINATION,
        text={
            "en": "What makes it hard to get your child to a check-up?",
            "es": "¿Qué le dificulta llevar a su hijo a un chequeo?",
            "zh_Hant": "帶孩子去做健康檢查有什麼困難?",
        },
    )
    db.session.add(question)
    db.session.flush()
    texted, skipped = intake.ask(question, members)
    db.session.commit()
    return question, texted, skipped


def test_a_texted_question_and_its_answers_become_input(cast, text):
    other = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    stopped = make_member("+15105550998", "Sam", plan=cast.plan_a)
    db.session.add(SmsOptOut(phone=stopped.phone))
    db.session.commit()
    question, texted, skipped = ask(cast, [cast.parent, other, stopped, cast.parent_b])
    assert (texted, skipped) == (2, 1)  # parent_b is another plan's: not asked at all
    sent = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.phone == cast.parent.phone)).all()
    assert "¿Qué le dificulta" in sent[-1].body and sent[-1].locale == "es"
    answer = text(cast.parent.phone, "El horario de la clínica choca con mi trabajo.")
    from engage.feedback import texts  # noqa: PLC0415

    with force_locale("es"):
        assert answer == [texts.answer_received(plan="AFH")]
    row = db.session.scalar(sa.select(Input).where(Input.question_id == question.id))
    assert row.body == "El horario de la clínica choca con mi trabajo."
    assert row.locale == "es" and row.channel == InputChannel.SMS and row.topic == Topic.CARE_COORDINATION
    assert [p.id for p in row.people] == [cast.parent.id]
    assert row.inbound_message_id is not None
    # Only the first reply answers the question; the next text goes to the coordinator.
    text(cast.parent.phone, "Gracias")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Input)) == 1


def test_yes_and_stop_words_do_not_become_input(cast, text):
    ask(cast, [cast.parent])
    text(cast.parent.phone, "ALTO")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Input)) == 0


def _theme_with_input(cast, people, *, anonymous=False):
    theme = triage.create(
        cast.plan_a.id,
        {"en": "Clinic hours", "es": "Horario de la clínica"},
        topic=Topic.CARE_COORDINATION,
        committee_id=cast.committee_a.id,
        by=cast.coord_a,
    )
    rows = [
        intake.from_web(p, "Evening hours please", Topic.CARE_COORDINATION, anonymous=anonymous, locale=p.locale)
        for p in people
    ]
    db.session.flush()
    triage.assign(theme, rows, by=cast.coord_a)
    db.session.commit()
    return theme, rows


def deliver(app, row_id):
    with app.test_request_context():
        outbox.record_status(row_id, None, "delivered", None)


def test_the_full_timeline_tells_everyone_and_the_loop_closes_on_delivery(app, cast):
    other = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    stopped = make_member("+15105550998", "Sam", plan=cast.plan_a)
    db.session.add(SmsOptOut(phone=stopped.phone))
    db.session.commit()
    theme, _rows = _theme_with_input(cast, [cast.parent, other, stopped])
    anon, _ = _theme_with_input(cast, [cast.parent], anonymous=True)
    triage.review(theme, by=cast.coord_a)
    assert triage.take(theme, DecisionBody.QIHEC, date(2026, 12, 8), by=cast.coord_a) == 2
    db.session.commit()
    reason = {"en": "There is no money for it this year.", "es": "Este año no hay dinero para eso."}
    assert triage.decide(theme, Outcome.NOT_ADOPTED, reason, date(2027, 1, 12), by=cast.coord_a) == 2
    db.session.commit()
    assert [e.status for e in theme.events] == [
        ThemeStatus.RECEIVED,
        ThemeStatus.RECEIVED,
        ThemeStatus.UNDER_REVIEW,
        ThemeStatus.TAKEN,
        ThemeStatus.DECIDED,
    ]
    messages = db.session.scalars(sa.select(LoopMessage).where(LoopMessage.theme_id == theme.id)).all()
    assert {(m.member_id, m.stage, m.skipped) for m in messages} == {
        (cast.parent.id, LoopStage.TAKEN, None),
        (other.id, LoopStage.TAKEN, None),
        (stopped.id, LoopStage.TAKEN, "stopped"),
        (cast.parent.id, LoopStage.DECIDED, None),
        (other.id, LoopStage.DECIDED, None),
        (stopped.id, LoopStage.DECIDED, "stopped"),
    }
    assert not db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.phone == stopped.phone)).all()
    decided = {
        m.member_id: db.session.get(OutboxMessage, m.outbox_id)
        for m in messages
        if m.stage == LoopStage.DECIDED and m.outbox_id
    }
    es_text = decided[cast.parent.id]
    assert es_text.locale == "es" and "Este año no hay dinero para eso." in es_text.body and "/o/" in es_text.body
    assert decided[other.id].locale == "zh_Hant" and "/o/" in decided[other.id].body
    # The Chinese reason was not written: the text links to the page instead of showing English.
    assert "money" not in decided[other.id].body
    # Anonymous input is never answered.
    triage.take(anon, DecisionBody.BOARD, date(2026, 12, 8))
    assert db.session.scalar(sa.select(sa.func.count()).where(LoopMessage.theme_id == anon.id)) == 0
    # Sent is not enough; delivered closes the loop, person by person.
    assert theme.status == ThemeStatus.DECIDED
    deliver(app, decided[cast.parent.id].id)
    db.session.expire_all()
    assert theme.status == ThemeStatus.DECIDED
    deliver(app, decided[other.id].id)
    db.session.expire_all()
    assert theme.status == ThemeStatus.CLOSED and theme.closed_at is not None


def test_a_decision_needs_a_reason(cast):
    theme, _ = _theme_with_input(cast, [cast.parent])
    with pytest.raises(triage.TriageError):
        triage.decide(theme, Outcome.NOT_ADOPTED, {"en": "  "}, date(2027, 1, 1))


def test_outcomes_hide_groups_smaller_than_eleven(cast):
    small, _ = _theme_with_input(cast, [cast.parent])
    many = [make_member(f"+1559555{i:04d}", f"P{i}", plan=cast.plan_a) for i in range(12)]
    db.session.commit()
    big, _ = _theme_with_input(cast, many)
    rows = {r.theme.id: r for r in outcomes.rows_for(cast.committee_a)}
    assert rows[small.id].people.hidden and rows[small.id].people.shown is None
    assert rows[big.id].people.shown == 12
    assert {r.theme.id for r in outcomes.standing_items(cast.committee_a)} == {small.id, big.id}
    triage.decide(big, Outcome.ADOPTED, {"en": "Done"}, date(2027, 1, 1), notify=False)
    db.session.commit()
    assert {r.theme.id for r in outcomes.standing_items(cast.committee_a)} == {small.id}


def test_measures_on_a_known_data_set(cast):
    now = utcnow()
    a, b = cast.parent, make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    b.county = "Fresno"
    b.race_ethnicity = ["asian"]
    db.session.commit()
    theme, rows = _theme_with_input(cast, [a, b])
    for row in rows:
        row.received_at = now - timedelta(days=20)
    old = intake.from_web(a, "Old idea", Topic.QUALITY, anonymous=False, locale="es")
    old.received_at = now - timedelta(days=100)
    db.session.commit()
    triage.decide(theme, Outcome.ADOPTED, {"en": "Yes"}, (now - timedelta(days=10)).date(), notify=False)
    db.session.commit()
    m = measures.compute({cast.plan_a.id}, now=now)
    assert m.overall.total == 3 and m.overall.decided == 2 and m.overall.open_90 == 1
    assert m.overall.share_decided == pytest.approx(66.7)
    assert 9 <= m.overall.median_days_to_decision <= 11
    assert m.by["language"]["es"].total == 2 and m.by["language"]["zh_Hant"].decided == 1
    assert m.by["county"]["Fresno"].total == 1 and m.by["county"]["Alameda"].total == 2
    assert m.by["race_ethnicity"]["asian"].total == 1
    assert m.by["topic"]["quality"].open_90 == 1
    assert measures.to_csv(m).splitlines()[1].startswith("all,all,3,2,66.7,")
