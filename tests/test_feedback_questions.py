"""Questions sent by text from the coordinator's screens: written in each language with
the segment count shown, previewed with who gets it and who is left out (stopped, no
version in their language, not confirmed), sent in each person's language, and the
answers listed. Plus input written down during a meeting, credited to the people who
were there or to the committee as a whole."""

from __future__ import annotations

import re

import sqlalchemy as sa

from engage.extensions import db
from engage.feedback import intake
from engage.models import (
    Attendance,
    CommitteeMembership,
    Input,
    InputChannel,
    OutboxMessage,
    Question,
    SmsOptOut,
    SmsStatus,
    Topic,
)
from tests.conftest import login, make_member, post_form
from tests.meeting_factories import meeting_a

TEXT = {
    "text_en": "What makes it hard to get your child to a check-up?",
    "text_es": "¿Qué le dificulta llevar a su hijo a un chequeo?",
    "text_zh_Hant": "帶孩子去做健康檢查有什麼困難?",
}


def question_a(c) -> int:
    """A question plan A sent to committee A (made once per test)."""
    found = db.session.scalar(sa.select(Question).where(Question.plan_id == c.plan_a.id).limit(1))
    if found is None:
        found = Question(
            plan_id=c.plan_a.id,
            committee_id=c.committee_a.id,
            topic=Topic.CARE_COORDINATION,
            text={"en": TEXT["text_en"], "es": TEXT["text_es"]},
        )
        db.session.add(found)
        db.session.flush()
        intake.ask(found, [c.parent])
        db.session.commit()
    return found.id


def _people(cast):
    olga = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    sam = make_member("+15105550998", "Sam", plan=cast.plan_a)
    pat = make_member("+15105550997", "Pat", plan=cast.plan_a, status=SmsStatus.PENDING)
    db.session.add(SmsOptOut(phone=sam.phone))
    db.session.flush()
    for m in (cast.parent, olga, sam, pat):
        db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member_id=m.id))
    db.session.commit()
    return olga, sam, pat


def _form(cast, **extra):
    data = {
        "plan_id": str(cast.plan_a.id),
        "topic": "care",
        "committee_id": str(cast.committee_a.id),
        "county": "",
        "days_open": "14",
        **TEXT,
        "action": "preview",
    }
    data.update(extra)
    return data


def test_preview_shows_segments_in_each_language_and_who_is_left_out(cast, client):
    _people(cast)
    login(client, cast.coord_a)
    page = post_form(client, "/coordinator/questions/new", _form(cast, text_zh_Hant="")).get_data(as_text=True)
    assert "AFH asks: What makes it hard to get your child to a check-up? Reply with your answer." in page
    assert "1 segment, GSM-7" in page  # English and Spanish (¿ and é are GSM-7)
    assert "1 person will get this question." in page  # the Spanish parent
    assert "1 has stopped texts." in page
    assert "1 reads a language with no question written." in page  # Olga reads Chinese
    assert "1 has not confirmed that they want texts." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0  # a preview sends nothing


def test_preview_says_who_has_not_answered_an_earlier_question_yet(cast, client):
    _people(cast)
    login(client, cast.coord_a)
    page = post_form(client, "/coordinator/questions/new", _form(cast)).get_data(as_text=True)
    assert "has not answered an earlier text yet" not in page
    question_a(cast)  # the Spanish parent was asked something and has not answered
    page = post_form(client, "/coordinator/questions/new", _form(cast)).get_data(as_text=True)
    assert (
        "1 of them has not answered an earlier text yet (a question, or what they need for a meeting). "
        "Their next reply will count as an answer to this question instead." in page
    )
    # Once they answer, nobody is waited for.
    client.post("/sms/inbound", data={"MessageSid": "SMq0000009", "From": cast.parent.phone, "Body": "El horario"})
    page = post_form(client, "/coordinator/questions/new", _form(cast)).get_data(as_text=True)
    assert "has not answered an earlier text yet" not in page


def test_sending_texts_each_person_in_their_language(cast, client):
    olga, sam, pat = _people(cast)
    login(client, cast.coord_a)
    page = post_form(client, "/coordinator/questions/new", _form(cast)).get_data(as_text=True)
    assert "UCS-2" in page  # the Chinese version
    response = post_form(client, "/coordinator/questions/new", _form(cast, action="send"))
    assert response.status_code == 302
    question = db.session.scalar(sa.select(Question))
    assert response.headers["Location"].endswith(f"/coordinator/questions/{question.id}")
    assert question.recipient_count == 2 and question.committee_id == cast.committee_a.id
    sent = {m.phone: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert set(sent) == {cast.parent.phone, olga.phone}
    assert sent[cast.parent.phone].locale == "es" and "¿Qué le dificulta" in sent[cast.parent.phone].body
    assert sent[olga.phone].locale == "zh_Hant" and "帶孩子" in sent[olga.phone].body
    assert sam.phone not in sent and pat.phone not in sent
    # The answer by text becomes input tied to the question, and shows on its page.
    client.post("/sms/inbound", data={"MessageSid": "SMq0000001", "From": olga.phone, "Body": "診所太遠了"})
    row = db.session.scalar(sa.select(Input).where(Input.question_id == question.id))
    assert row.locale == "zh_Hant" and row.channel == InputChannel.SMS
    page = client.get(f"/coordinator/questions/{question.id}").get_data(as_text=True)
    assert '<blockquote lang="zh-Hant" class="original">診所太遠了</blockquote>' in page
    assert "Olga" in page
    listing = client.get("/coordinator/questions").get_data(as_text=True)
    assert re.search(r"<td>\s*1\s*</td>\s*</tr>", listing)  # one answer


def test_a_long_question_is_warned_about_and_a_too_long_one_refused(cast, client):
    _people(cast)
    login(client, cast.coord_a)
    page = post_form(client, "/coordinator/questions/new", _form(cast, text_zh_Hant="問" * 150)).get_data(as_text=True)
    assert "3 segments, UCS-2" in page and "Try to keep it within 2 segments." in page
    page = post_form(
        client, "/coordinator/questions/new", _form(cast, text_zh_Hant="問" * 250, action="send")
    ).get_data(as_text=True)
    assert "Make it shorter: at most 3." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0


def test_plan_members_filtered_by_language_and_county(cast, client):
    olga, _sam, _pat = _people(cast)
    olga.county = "Fresno"
    db.session.commit()
    login(client, cast.coord_a)
    page = post_form(
        client, "/coordinator/questions/new", _form(cast, committee_id="0", languages=["zh_Hant"], county="Fresno")
    ).get_data(as_text=True)
    assert "1 person will get this question." in page
    page = post_form(
        client, "/coordinator/questions/new", _form(cast, committee_id="0", county="Fresno", text_zh_Hant="")
    )
    assert "Nobody in this group can get this question." in page.get_data(as_text=True)


def test_questions_are_scoped_to_the_plan(cast, client):
    question_id = question_a(cast)
    login(client, cast.coord_b)
    assert client.get(f"/coordinator/questions/{question_id}").status_code == 404
    assert f"/coordinator/questions/{question_id}" not in client.get("/coordinator/questions").get_data(as_text=True)
    response = post_form(
        client, "/coordinator/questions/new", _form(cast, action="send"), token_from="/coordinator/questions/new"
    )
    assert response.status_code == 200  # plan A is not a choice for plan B's coordinator
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 1
    for locale in ("en", "es", "zh_Hant"):
        login(client, cast.coord_a)
        for url in ("/coordinator/questions", "/coordinator/questions/new", f"/coordinator/questions/{question_id}"):
            assert client.get(f"{url}?lang={locale}").status_code == 200


# Input written down during a meeting -------------------------------------------------------------


def test_meeting_input_is_credited_to_people_checked_in_or_to_the_committee(cast, client):
    meeting_id = meeting_a(cast)
    olga = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    db.session.flush()
    db.session.add_all(
        [
            Attendance(meeting_id=meeting_id, member_id=cast.parent.id),
            Attendance(meeting_id=meeting_id, member_id=olga.id),
        ]
    )
    db.session.commit()
    url = f"/coordinator/meetings/{meeting_id}/input"
    login(client, cast.coord_a)
    page = client.get(url).get_data(as_text=True)
    assert "Paloma Parent" in page and "Olga" in page
    response = post_form(
        client,
        url,
        {
            "body": "La clínica necesita intérpretes.",
            "locale": "es",
            "topic": "culture",
            "people": [str(cast.parent.id)],
        },
    )
    assert response.status_code == 302
    response = post_form(
        client, url, {"body": "We want evening meetings.", "locale": "en", "topic": "other", "whole_committee": "y"}
    )
    assert response.status_code == 302
    rows = db.session.scalars(sa.select(Input).order_by(Input.id)).all()
    assert [p.id for p in rows[0].people] == [cast.parent.id] and not rows[0].from_committee
    assert rows[0].locale == "es" and rows[0].channel == InputChannel.MEETING and rows[0].meeting_id == meeting_id
    assert rows[0].recorded_by_id == cast.coord_a.id and rows[0].topic == Topic.LANGUAGE_CULTURE
    assert rows[1].people == [] and rows[1].from_committee
    page = client.get(url).get_data(as_text=True)
    assert "The committee as a whole" in page and '<blockquote lang="es" class="original">' in page
    # Neither people nor the committee: asked to choose, nothing saved.
    response = post_form(client, url, {"body": "Something", "locale": "en", "topic": "other"})
    assert response.status_code == 200 and "Tick who said it" in response.get_data(as_text=True)
    # Someone not checked in cannot be credited.
    stranger = make_member("+15105550900", "Stranger", plan=cast.plan_a)
    db.session.commit()
    response = post_form(client, url, {"body": "x", "locale": "en", "topic": "other", "people": [str(stranger.id)]})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Input)) == 2


def test_meeting_input_is_scoped_to_the_plan(cast, client):
    meeting_id = meeting_a(cast)
    login(client, cast.coord_b)
    url = f"/coordinator/meetings/{meeting_id}/input"
    assert client.get(url).status_code == 404
    response = post_form(
        client,
        url,
        {"body": "x", "locale": "en", "topic": "other", "whole_committee": "y"},
        token_from="/coordinator/questions",
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Input)) == 0
    login(client, cast.coord_a)
    for locale in ("en", "es", "zh_Hant"):
        assert client.get(f"{url}?lang={locale}").status_code == 200
