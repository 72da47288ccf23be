"""A parent answers a meeting on the web: the same rules as by text (places, waiting
list), then what they need to come, then what happens next."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.extensions import db
from engage.meetings import replies
from engage.models import Meeting, MeetingReply, Member, OutboxMessage, ReplyChannel, ReplyStatus, utcnow
from tests.conftest import csrf_token, login, make_member, post_form
from tests.meeting_factories import make_meeting
from tests.test_me import sign_in


def reply_of(meeting: Meeting, member: Member) -> MeetingReply | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(MeetingReply).where(MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == member.id)
    )


def seats(meeting: Meeting) -> int:
    db.session.expire_all()
    return db.session.get(Meeting, meeting.id).seats_taken


def answer(client, meeting: Meeting, value: str, *, follow: bool = False):
    response = post_form(
        client, f"/meetings/{meeting.id}/reply", {"answer": value}, token_from=f"/meetings/{meeting.id}"
    )
    if follow and response.status_code == 302:
        return client.get(
            response.headers["Location"] + "&lang=en"
            if "?" in response.headers["Location"]
            else response.headers["Location"].replace("#", "?lang=en#")
        )
    return response


@pytest.fixture
def meeting(app, cast):
    return make_meeting(cast.committee_a, days=10)


@pytest.fixture
def parent_client(client, cast):
    login(client, cast.parent)
    return client


def test_signed_out_parent_is_told_how_to_answer_and_comes_back_after_signing_in(client, cast, meeting):
    html = client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "reply to the text we sent you: 1 for yes, 2 for no" in html
    assert f'href="/me/login?next=/meetings/{meeting.id}"' in html
    assert f'action="/meetings/{meeting.id}/reply"' not in html
    # Through the sign-in page, and back to the meeting.
    client.get(f"/me/login?next=/meetings/{meeting.id}")
    response = sign_in(client, cast.parent)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}")


def test_a_post_while_signed_out_leads_back_to_the_meeting(client, cast, meeting):
    response = client.post(f"/meetings/{meeting.id}/reply", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert "/me/login" in response.headers["Location"]
    client.get(response.headers["Location"])
    response = sign_in(client, cast.parent)
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}")
    assert reply_of(meeting, cast.parent) is None


def test_only_sites_own_meeting_and_me_pages_are_returned_to(client, cast, meeting):
    client.get("/me/login?next=//evil.example.org/x")
    assert sign_in(client, cast.parent).headers["Location"].endswith("/me")


def test_yes_takes_a_place_then_asks_what_is_needed(parent_client, cast, meeting):
    response = answer(parent_client, meeting, "yes")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/needs")
    row = reply_of(meeting, cast.parent)
    assert row.status == ReplyStatus.YES and row.channel == ReplyChannel.WEB
    assert seats(meeting) == 1
    html = parent_client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "You are coming. Your place is saved." in html
    # Saying yes twice keeps one place.
    answer(parent_client, meeting, "yes")
    assert seats(meeting) == 1


def test_a_full_meeting_puts_the_parent_on_the_waiting_list(parent_client, cast, meeting):
    meeting.capacity = 1
    db.session.commit()
    replies.answer(replies.reply_for(meeting, cast.parent_b), True, channel=ReplyChannel.SMS, notify_member=False)
    db.session.commit()
    html = parent_client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "This meeting is full. If you say you will come, you join the waiting list." in html
    response = answer(parent_client, meeting, "yes", follow=True)
    assert "You are on the waiting list" in response.get_data(as_text=True)
    assert reply_of(meeting, cast.parent).status == ReplyStatus.WAITLISTED
    assert seats(meeting) == 1
    # The other parent cannot come after all: the place is offered to the waiting list.
    other = reply_of(meeting, cast.parent_b)
    replies.answer(other, False, channel=ReplyChannel.SMS, notify_member=False)
    db.session.commit()
    assert reply_of(meeting, cast.parent).status == ReplyStatus.OFFERED
    html = parent_client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "A place opened up for you." in html
    response = answer(parent_client, meeting, "yes")
    assert response.headers["Location"].endswith("/needs")
    assert reply_of(meeting, cast.parent).status == ReplyStatus.YES


def test_web_answers_respect_capacity_for_many_parents(app, cast, meeting):
    meeting.capacity = 2
    db.session.commit()
    parents = [make_member(f"+1510555{i:04d}", f"P{i}", plan=cast.plan_a) for i in range(4)]
    db.session.commit()
    for p in parents:
        c = app.test_client()
        login(c, p)
        answer(c, meeting, "yes")
    statuses = sorted(str(reply_of(meeting, p).status) for p in parents)
    assert statuses == ["waitlisted", "waitlisted", "yes", "yes"]
    assert seats(meeting) == 2


def test_a_parent_can_change_their_answer(parent_client, cast, meeting):
    answer(parent_client, meeting, "yes")
    response = answer(parent_client, meeting, "no", follow=True)
    assert "Gracias por avisarnos." in response.get_data(as_text=True)  # the parent reads Spanish
    assert reply_of(meeting, cast.parent).status == ReplyStatus.NO
    assert seats(meeting) == 0
    html = parent_client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "You said you can&#39;t come." in html or "You said you can't come." in html
    assert "I can come after all" in html
    answer(parent_client, meeting, "yes")
    assert reply_of(meeting, cast.parent).status == ReplyStatus.YES


def test_web_answers_are_not_texted_back(parent_client, cast, meeting):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    answer(parent_client, meeting, "yes")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before


def test_closed_meetings_take_no_answer(parent_client, cast):
    started = make_meeting(cast.committee_a, starts_at=utcnow() - timedelta(minutes=10))
    cancelled = make_meeting(cast.committee_a)
    replies.cancel(cancelled)
    db.session.commit()
    for m in (started, cancelled):
        html = parent_client.get(f"/meetings/{m.id}?lang=en").get_data(as_text=True)
        assert f'action="/meetings/{m.id}/reply"' not in html
        response = answer(parent_client, m, "yes", follow=True)
        assert "This meeting is no longer taking answers." in response.get_data(as_text=True)
        assert reply_of(m, cast.parent) is None
        assert parent_client.get(f"/meetings/{m.id}/needs").status_code == 302


def test_bad_answers_change_nothing(parent_client, cast, meeting):
    for value in ("maybe", "", "YES", "yes\x00"):
        response = answer(parent_client, meeting, value, follow=True)
        assert response.status_code == 200
        assert reply_of(meeting, cast.parent) is None
    assert parent_client.post(f"/meetings/{meeting.id + 999}/reply", data={"answer": "yes"}).status_code in (400, 404)


def test_a_parent_of_another_plan_cannot_answer(client, cast, meeting):
    login(client, cast.parent_b)
    html = client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "This group belongs to another health plan." in html
    assert f'action="/meetings/{meeting.id}/reply"' not in html
    answer(client, meeting, "yes")
    assert reply_of(meeting, cast.parent_b) is None


def test_staff_cannot_answer_for_themselves(client, cast, meeting):
    login(client, cast.coord_a)
    response = client.post(
        f"/meetings/{meeting.id}/reply", data={"answer": "yes", "csrf_token": csrf_token(client, "/coordinator/")}
    )
    assert response.status_code == 403


# Needs -------------------------------------------------------------------------------------------


def test_needs_are_asked_and_next_steps_are_said(parent_client, cast, meeting):
    answer(parent_client, meeting, "yes")
    html = parent_client.get(f"/meetings/{meeting.id}/needs?lang=en").get_data(as_text=True)
    assert "What do you need to come?" in html
    response = post_form(
        parent_client,
        f"/meetings/{meeting.id}/needs",
        {"needs": ["childcare", "interpreter"], "interpreter_language": "spanish"},
    )
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/next")
    row = reply_of(meeting, cast.parent)
    assert row.needs == ["childcare", "interpreter"] and row.needs_answered_at is not None
    assert db.session.get(Member, cast.parent.id).needs["interpreter_language"] == "spanish"
    html = parent_client.get(f"/meetings/{meeting.id}/next?lang=en").get_data(as_text=True)
    assert "We will text you a reminder the day before." in html
    assert "Childcare: requested, we will confirm by text." in html
    assert "Interpreter (Spanish): requested, we will confirm by text." in html
    assert "Ride:" not in html
    # The meeting page and its form now show what was asked for.
    html = parent_client.get(f"/meetings/{meeting.id}?lang=en").get_data(as_text=True)
    assert "Childcare: requested" in html
    html = parent_client.get(f"/meetings/{meeting.id}/needs?lang=en").get_data(as_text=True)
    assert 'value="childcare" checked' in html and 'value="transport" checked' not in html


def test_needs_are_prefilled_with_the_same_as_last_time(parent_client, cast, meeting):
    earlier = make_meeting(cast.committee_a, days=-20)
    row = replies.reply_for(earlier, cast.parent)
    row.status = ReplyStatus.YES
    replies.record_needs(row, ["transport", "interpreter"], now=utcnow() - timedelta(days=21))
    cast.parent.needs = {"childcare": True}
    db.session.commit()
    answer(parent_client, meeting, "yes")
    html = parent_client.get(f"/meetings/{meeting.id}/needs?lang=en").get_data(as_text=True)
    assert "We checked the same as last time." in html
    assert 'value="transport" checked' in html and 'value="interpreter" checked' in html
    assert 'value="childcare" checked' not in html


def test_needs_are_prefilled_from_what_the_parent_usually_needs(parent_client, cast, meeting):
    cast.parent.needs = {"childcare": True, "transport": False}
    db.session.commit()
    answer(parent_client, meeting, "yes")
    html = parent_client.get(f"/meetings/{meeting.id}/needs?lang=en").get_data(as_text=True)
    assert "what you told us you usually need" in html
    assert 'value="childcare" checked' in html and 'value="transport" checked' not in html


def test_nothing_needed_is_an_answer_too(parent_client, cast, meeting):
    answer(parent_client, meeting, "yes")
    post_form(parent_client, f"/meetings/{meeting.id}/needs", {})
    row = reply_of(meeting, cast.parent)
    assert row.needs == [] and row.needs_answered_at is not None
    html = parent_client.get(f"/meetings/{meeting.id}/next?lang=en").get_data(as_text=True)
    assert "You did not ask for childcare, an interpreter or a ride." in html


def test_needs_and_next_need_a_yes(parent_client, cast, meeting):
    assert parent_client.get(f"/meetings/{meeting.id}/needs").status_code == 302
    assert parent_client.get(f"/meetings/{meeting.id}/next").status_code == 302
    answer(parent_client, meeting, "no")
    response = post_form(
        parent_client, f"/meetings/{meeting.id}/needs", {"needs": ["childcare"]}, token_from=f"/meetings/{meeting.id}"
    )
    assert response.status_code == 302
    assert reply_of(meeting, cast.parent).needs == []


def test_bad_needs_get_a_message_not_a_crash(parent_client, cast, meeting):
    answer(parent_client, meeting, "yes")
    response = post_form(
        parent_client, f"/meetings/{meeting.id}/needs", {"needs": ["pony"], "interpreter_language": "klingon"}
    )
    assert response.status_code == 200
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert reply_of(meeting, cast.parent).needs_answered_at is None


FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
text = st.text(max_size=60)


@FUZZ
@given(data=st.data())
def test_answer_and_needs_forms_take_any_input(app, cast, data):
    meeting = db.session.scalar(sa.select(Meeting).limit(1)) or make_meeting(cast.committee_a, capacity=1)
    client = app.test_client()
    login(client, cast.parent)
    token = csrf_token(client, f"/meetings/{meeting.id}")
    url = data.draw(st.sampled_from([f"/meetings/{meeting.id}/reply", f"/meetings/{meeting.id}/needs"]))
    fields = {
        name: data.draw(st.one_of(text, st.lists(text, max_size=3)))
        for name in ("answer", "needs", "interpreter_language")
        if data.draw(st.booleans())
    }
    fields["csrf_token"] = token
    response = client.post(url, data=fields)
    assert response.status_code in (200, 302, 400), (url, fields)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).seats_taken <= 1
