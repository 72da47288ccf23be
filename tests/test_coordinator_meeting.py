"""The coordinator's meetings: the list, one meeting's page, invitations, recording an
answer on someone's behalf, the replies' CSV, and check-in with walk-ins."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.meetings import texts
from engage.models import (
    Attendance,
    AuditEvent,
    CommitteeMembership,
    ConsentChannel,
    Meeting,
    MeetingReply,
    Member,
    MemberSource,
    OutboxMessage,
    ReplyStatus,
    RosterStatus,
    SmsStatus,
    utcnow,
)
from engage.sms import consent
from tests.conftest import csrf_token, login, make_member, post_form
from tests.meeting_factories import make_meeting


def person(cast, n, *, locale="en", status=SmsStatus.ACTIVE, plan=None, name=None, **fields):
    member = make_member(
        f"+1559555{n:04d}", name or f"Parent {n}", plan=plan or cast.plan_a, locale=locale, status=status
    )
    for key, value in fields.items():
        setattr(member, key, value)
    db.session.commit()
    return member


def reply(meeting, member, status=ReplyStatus.YES, needs=(), **fields):
    row = MeetingReply(
        meeting_id=meeting.id,
        member_id=member.id,
        status=status,
        needs=list(needs),
        invited_at=utcnow(),
        **fields,
    )
    db.session.add(row)
    if status == ReplyStatus.YES:
        meeting.seats_taken += 1
    db.session.commit()
    return row


def seat(committee, member, status=RosterStatus.ACTIVE):
    db.session.add(CommitteeMembership(committee_id=committee.id, member_id=member.id, status=status))
    db.session.commit()


def texts_to(member) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.phone == member.phone).order_by(OutboxMessage.id)
    ).all()


def audits(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def urls(meeting_id: int, member_id: int) -> tuple[list[str], list[tuple[str, dict]]]:
    base = f"/coordinator/meetings/{meeting_id}"
    pages = [base, f"{base}/replies.csv", f"{base}/invite", f"{base}/check-in"]
    posts = [
        (f"{base}/answer", {"member_id": member_id, "answer": "yes"}),
        (f"{base}/invite", {"audience": "roster", "action": "send"}),
        (f"{base}/check-in/{member_id}", {}),
        (f"{base}/check-in/{member_id}/undo", {}),
        (f"{base}/walk-in", {"name": "X", "language": "en"}),
    ]
    return pages, posts


# Who may see what ---------------------------------------------------------------------


def test_another_plans_coordinator_gets_404_everywhere_and_nothing_changes(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.1)
    seat(cast.committee_a, cast.parent)
    pages, posts = urls(meeting.id, cast.parent.id)
    login(client, cast.coord_b)
    for url in pages:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/coordinator/")
    for url, data in posts:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(MeetingReply.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2
    # Their own list does not show plan A's meeting.
    page = client.get("/coordinator/meetings").get_data(as_text=True)
    assert f"/coordinator/meetings/{meeting.id}" not in page


@pytest.mark.parametrize("role", ["cbo_a", "parent"])
def test_cbo_staff_and_parents_are_refused(app, cast, client, role):
    meeting = make_meeting(cast.committee_a, days=0.1)
    pages, posts = urls(meeting.id, cast.parent.id)
    login(client, getattr(cast, role))
    for url in ["/coordinator/meetings", *pages]:
        assert client.get(url).status_code == 403, url
    token = csrf_token(client)
    for url, data in posts:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url


def test_a_member_of_another_plan_cannot_be_acted_for(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.1)
    login(client, cast.coord_a)
    base = f"/coordinator/meetings/{meeting.id}"
    other = cast.parent_b.id
    assert (
        post_form(client, f"{base}/answer", {"member_id": other, "answer": "yes"}, token_from=base).status_code == 404
    )
    assert post_form(client, f"{base}/check-in/{other}", token_from=base).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(MeetingReply.id))) == 0


@pytest.mark.parametrize("lang,html", [("en", "en"), ("es", "es"), ("zh_Hant", "zh-Hant")])
def test_every_page_renders_in_each_language(app, cast, client, lang, html):
    meeting = make_meeting(cast.committee_a, days=0.1, stipend_amount=Decimal("50.00"))
    zh = person(cast, 1, locale="zh_Hant", name="陳美玲", child_age_groups=["0-5"])
    reply(meeting, cast.parent, needs=["interpreter", "childcare"])
    reply(meeting, zh, needs=["interpreter"])
    login(client, cast.coord_a)
    client.post(f"/coordinator/meetings/{meeting.id}/check-in/{zh.id}", data={"csrf_token": csrf_token(client)})
    base = f"/coordinator/meetings/{meeting.id}"
    for url in ["/coordinator/meetings", base, f"{base}/invite", f"{base}/check-in", f"{base}/check-in?q=pal"]:
        response = client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert f'<html lang="{html}">' in page, url
        assert 'action="/logout"' in page, url  # the header knows who is signed in
    page = client.get(f"{base}?lang={lang}").get_data(as_text=True)
    assert "陳美玲" in page and "Paloma Parent" in page
    # The stipend, formatted for the reader: one person checked in at $50.
    assert "$50.00" in page


# The list ------------------------------------------------------------------------------


def test_the_list_shows_upcoming_first_then_past_with_counts_and_a_flag(app, cast, client):
    later = make_meeting(cast.committee_a, days=20, capacity=10)
    soon = make_meeting(cast.committee_a, days=3, capacity=2)
    past = make_meeting(cast.committee_a, days=-30)
    make_meeting(cast.committee_b, days=4)  # plan B's: not shown
    a, b, c = person(cast, 1), person(cast, 2), person(cast, 3)
    reply(soon, a, needs=["childcare"])
    reply(soon, b, status=ReplyStatus.WAITLISTED, waitlisted_at=utcnow())
    reply(soon, c, status=ReplyStatus.NO)
    reply(soon, cast.parent, status=ReplyStatus.INVITED)
    reply(past, a)
    db.session.add(Attendance(meeting_id=past.id, member_id=a.id))
    db.session.commit()
    login(client, cast.coord_a)
    page = client.get("/coordinator/meetings").get_data(as_text=True)
    order = [page.index(f'/coordinator/meetings/{m.id}"') for m in (soon, later, past)]
    assert order == sorted(order)
    assert page.index("Coming up") < page.index("Past meetings")
    soon_card = page[order[0] : order[1]]
    assert "<strong>1</strong> coming" in soon_card
    assert "<strong>1</strong> waiting" in soon_card
    assert "<strong>1</strong> said no" in soon_card
    assert "<strong>1</strong> not answered" in soon_card
    assert "1 place left." in soon_card
    assert "1 need is not arranged yet." in soon_card
    assert "1 person came." in page[order[2] :]
    assert "Bayview" not in page


def test_the_list_filters_by_committee(app, cast, client):
    from engage.models import Committee

    other = Committee(plan_id=cast.plan_a.id, slug="alameda-county", name={"en": "County Committee"})
    db.session.add(other)
    db.session.commit()
    mine = make_meeting(cast.committee_a, days=3)
    theirs = make_meeting(other, days=4)
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/meetings?committee={other.id}").get_data(as_text=True)
    assert f'/coordinator/meetings/{theirs.id}"' in page
    assert f'/coordinator/meetings/{mine.id}"' not in page
    # Plan B's committee is not a choice: the filter is ignored, not obeyed.
    page = client.get(f"/coordinator/meetings?committee={cast.committee_b.id}").get_data(as_text=True)
    assert f'/coordinator/meetings/{mine.id}"' in page


def test_the_list_makes_the_same_number_of_queries_however_many_meetings(app, cast, client, count_queries):
    login(client, cast.coord_a)

    def add(n, start):
        for i in range(n):
            m = make_meeting(cast.committee_a, days=i - n // 2)
            member = person(cast, start + i)
            reply(m, member, needs=["childcare"])
            db.session.add(Attendance(meeting_id=m.id, member_id=member.id))
        db.session.commit()

    add(2, 100)
    client.get("/coordinator/meetings")
    with count_queries() as few:
        assert client.get("/coordinator/meetings").status_code == 200
    add(12, 200)
    with count_queries() as many:
        assert client.get("/coordinator/meetings").status_code == 200
    assert many.count == few.count


# One meeting -----------------------------------------------------------------------------


def test_the_meeting_page_groups_replies_and_tallies_needs(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.1, capacity=5, stipend_amount=Decimal("75.00"))
    es = person(cast, 1, locale="es", name="Rosa Díaz", child_age_groups=["0-5", "6-12"], county="Fresno")
    zh = person(cast, 2, locale="zh_Hant", name="陳美玲")
    cant = person(
        cast, 3, locale="zh_Hant", name="黃志明", needs={"interpreter": True, "interpreter_language": "cantonese"}
    )
    first = person(cast, 4, name="First Waiting")
    second = person(cast, 5, name="Second Waiting")
    reply(meeting, es, needs=["childcare", "interpreter"])
    reply(meeting, zh, needs=["interpreter", "transport"])
    reply(meeting, cant, needs=["interpreter"])
    reply(meeting, second, status=ReplyStatus.WAITLISTED, waitlisted_at=utcnow())
    reply(meeting, first, status=ReplyStatus.WAITLISTED, waitlisted_at=utcnow() - timedelta(hours=1))
    reply(meeting, cast.parent, status=ReplyStatus.NO)
    db.session.add_all([Attendance(meeting_id=meeting.id, member_id=m.id) for m in (es, zh)])
    db.session.commit()
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/meetings/{meeting.id}").get_data(as_text=True)
    assert page.index("First Waiting") < page.index("Second Waiting")
    assert "Fresno" in page and "Spanish" in page
    assert "1 family asked for childcare." in page
    assert "Under 6 years old: 1" in page and "6 to 12 years old: 1" in page
    assert "Spanish: 1 person" in page
    assert "Cantonese or Mandarin (ask): 1 person" in page
    assert "Cantonese: 1 person" in page
    assert "1 person asked for a ride." in page
    assert page.count("Requested, not arranged yet") == 5
    # Two checked in at $75.
    assert "2 people checked in × $75.00 = $150.00" in page
    for link in ("/edit", "/cancel", "/documents/agenda", "/documents/minutes", "/check-in", "/invite", "/replies.csv"):
        assert f"/coordinator/meetings/{meeting.id}{link}" in page


def test_the_meeting_page_shows_the_preparation_time_stipend(app, cast, client):
    cast.committee_a.stipend_prep_amount = Decimal("15")
    own = make_meeting(cast.committee_a, days=3, stipend_amount=Decimal("50"), stipend_prep_amount=Decimal("25.50"))
    policy = make_meeting(cast.committee_a, days=4)
    neither = make_meeting(cast.committee_b, days=4)
    login(client, cast.coord_a)
    page = client.get(f"/coordinator/meetings/{own.id}").get_data(as_text=True)
    assert "Preparation-time stipend for this meeting: $25.50 for each parent." in page
    page = client.get(f"/coordinator/meetings/{policy.id}").get_data(as_text=True)
    assert "Preparation-time stipend: $15.00 for each parent, from the committee's policy." in unescape(page)
    login(client, cast.coord_b)
    page = client.get(f"/coordinator/meetings/{neither.id}").get_data(as_text=True)
    assert "Preparation-time stipend" not in page


def test_the_meeting_page_makes_the_same_number_of_queries_however_many_replies(app, cast, client, count_queries):
    meeting = make_meeting(cast.committee_a, days=0.1)
    login(client, cast.coord_a)

    def add(start, n):
        for i in range(n):
            m = person(cast, start + i, child_age_groups=["0-5"])
            reply(meeting, m, status=list(ReplyStatus)[i % 5], needs=["childcare", "interpreter"])
            if i % 2:
                db.session.add(Attendance(meeting_id=meeting.id, member_id=m.id))
        db.session.commit()

    add(100, 3)
    client.get(f"/coordinator/meetings/{meeting.id}")
    with count_queries() as few:
        assert client.get(f"/coordinator/meetings/{meeting.id}").status_code == 200
    with count_queries() as few_check_in:
        assert client.get(f"/coordinator/meetings/{meeting.id}/check-in").status_code == 200
    add(200, 25)
    with count_queries() as many:
        assert client.get(f"/coordinator/meetings/{meeting.id}").status_code == 200
    with count_queries() as many_check_in:
        assert client.get(f"/coordinator/meetings/{meeting.id}/check-in").status_code == 200
    assert many.count == few.count
    assert many_check_in.count == few_check_in.count


def test_the_replies_csv(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.1)
    evil = person(cast, 1, name="=HYPERLINK(1)")
    reply(meeting, cast.parent, needs=["childcare"], channel="sms", responded_at=utcnow())
    reply(meeting, evil, status=ReplyStatus.INVITED)
    db.session.add(Attendance(meeting_id=meeting.id, member_id=cast.parent.id))
    db.session.commit()
    login(client, cast.coord_a)
    response = client.get(f"/coordinator/meetings/{meeting.id}/replies.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Name", "Mobile number", "Language", "County", "Answer"]
    assert rows[1][:5] == ["Paloma Parent", "+15105550111", "Spanish", "Alameda", "Coming"]
    assert rows[1][7:] == ["By text", "Childcare", "Yes"]
    assert rows[2][0] == "'=HYPERLINK(1)" and rows[2][4] == "Not answered yet"
    (event,) = audits("meeting.replies_export")
    assert event.detail == {"rows": 2}


# Answers on someone's behalf ----------------------------------------------------------------


def test_a_coordinator_records_a_yes_and_a_full_meeting_puts_them_on_the_waiting_list(app, cast, client):
    meeting = make_meeting(cast.committee_a, capacity=1)
    caller, late = person(cast, 1, name="Ana Caller"), person(cast, 2, locale="zh_Hant", name="Late Caller")
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}"
    response = post_form(client, f"{url}/answer", {"member_id": caller.id, "answer": "yes"}, token_from=url)
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Ana Caller has a place at the meeting." in page
    response = post_form(client, f"{url}/answer", {"member_id": late.id, "answer": "yes"}, token_from=url)
    page = client.get(url).get_data(as_text=True)
    assert "The meeting is full: Late Caller is on the waiting list, number 1." in page
    db.session.expire_all()
    rows = {r.member_id: r for r in db.session.scalars(sa.select(MeetingReply))}
    assert rows[caller.id].status == ReplyStatus.YES and rows[caller.id].channel == "staff"
    assert rows[caller.id].recorded_by_id == cast.coord_a.id
    assert rows[late.id].status == ReplyStatus.WAITLISTED
    assert db.session.get(Meeting, meeting.id).seats_taken == 1
    # They were told by text, in their language.
    assert [t.locale for t in texts_to(late)] == ["zh_Hant"]
    # A no frees the place; it is offered to the waiting list.
    post_form(client, f"{url}/answer", {"member_id": caller.id, "answer": "no"}, token_from=url)
    db.session.expire_all()
    assert db.session.get(MeetingReply, rows[late.id].id).status == ReplyStatus.OFFERED
    assert len(audits("meeting.reply_recorded")) == 3


def test_recording_an_answer_after_the_meeting_started_changes_nothing(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=-0.01)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}"
    post_form(client, f"{url}/answer", {"member_id": cast.parent.id, "answer": "yes"}, token_from=url)
    assert "Replies are closed" in client.get(url).get_data(as_text=True)
    assert db.session.scalar(sa.select(MeetingReply.status)) == ReplyStatus.INVITED


def test_an_answer_without_a_person_is_refused_politely(app, cast, client):
    meeting = make_meeting(cast.committee_a)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}"
    assert post_form(client, f"{url}/answer", {"answer": "yes"}, token_from=url).status_code == 302
    assert "Choose a person" in client.get(url).get_data(as_text=True)


# Invitations --------------------------------------------------------------------------------


def test_inviting_the_roster_texts_each_person_in_their_language_and_skips_stopped_numbers(app, cast, client):
    meeting = make_meeting(cast.committee_a)
    en, es, zh = person(cast, 1), person(cast, 2, locale="es"), person(cast, 3, locale="zh_Hant")
    stopped, pending = person(cast, 4, locale="es"), person(cast, 5, status=SmsStatus.PENDING)
    no_phone = person(cast, 6)
    no_phone.phone = None
    left = person(cast, 7)
    consent.opt_out(stopped.phone, channel=ConsentChannel.SMS, locale="es", words_shown="ALTO", member=stopped)
    db.session.commit()
    for m in (en, es, zh, stopped, pending, no_phone):
        seat(cast.committee_a, m)
    seat(cast.committee_a, left, RosterStatus.LEFT)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/invite"

    page = post_form(client, url, {"audience": "roster", "action": "preview"}).get_data(as_text=True)
    assert "6 people will be invited." in page
    assert "3 get a text." in page
    assert "Stopped texts: 1." in page and "No mobile number: 1." in page and "Has not confirmed texts: 1." in page
    assert "Parent 7" not in page  # left the committee
    assert db.session.scalar(sa.select(sa.func.count(MeetingReply.id))) == 0  # a preview sends nothing

    response = post_form(client, url, {"audience": "roster", "action": "send"})
    assert response.status_code == 302
    db.session.expire_all()
    invited = set(db.session.scalars(sa.select(MeetingReply.member_id)))
    assert invited == {en.id, es.id, zh.id, stopped.id, pending.id, no_phone.id}
    m = db.session.get(Meeting, meeting.id)
    for member in (en, es, zh):
        (row,) = texts_to(member)
        assert row.locale == member.locale
        with force_locale(member.locale):
            assert row.body == texts.invitation(plan="AFH", when=texts.sms_when(m.starts_at))
    assert [t for t in texts_to(stopped) if "invited" in t.body] == []
    assert texts_to(pending) == []
    (event,) = audits("meeting.invited")
    assert event.detail["invited"] == 6 and event.detail["not_texted"] == 3

    # Nobody is invited twice.
    page = post_form(client, url, {"audience": "roster", "action": "preview"}).get_data(as_text=True)
    assert "Already invited: 6." in page
    response = post_form(client, url, {"audience": "roster", "action": "send"})
    assert "Nobody new to invite" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(MeetingReply.id))) == 6
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.body.contains("1"))) == 3


def test_inviting_a_filtered_list_of_the_plans_members(app, cast, client):
    meeting = make_meeting(cast.committee_a)
    es_fresno = person(cast, 1, locale="es", county="Fresno")
    person(cast, 2, locale="es", county="Alameda")
    person(cast, 3, locale="en", county="Fresno")
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/invite"
    page = client.get(url).get_data(as_text=True)
    assert "Oakland Families Together" in page and "Bayview Parent Network" not in page
    data = {"audience": "list", "language": "es", "county": "Fresno", "action": "send"}
    response = post_form(client, url, data)
    assert response.status_code == 302
    assert set(db.session.scalars(sa.select(MeetingReply.member_id))) == {es_fresno.id}
    data = {"audience": "list", "language": "es", "organisation": cast.org_a.id, "action": "send"}
    post_form(client, url, data)
    assert set(db.session.scalars(sa.select(MeetingReply.member_id))) == {es_fresno.id, cast.parent.id}
    page = client.get(f"/coordinator/meetings/{meeting.id}").get_data(as_text=True)
    assert "Not answered yet (2)" in page


def test_a_cancelled_meeting_invites_nobody(app, cast, client):
    from engage.models import MeetingStatus

    meeting = make_meeting(cast.committee_a, status=MeetingStatus.CANCELLED)
    seat(cast.committee_a, cast.parent)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/invite"
    post_form(client, url, {"audience": "roster", "action": "send"})
    assert db.session.scalar(sa.select(sa.func.count(MeetingReply.id))) == 0


# Check-in -------------------------------------------------------------------------------------


def test_check_in_search_undo_and_the_count(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.05, stipend_amount=Decimal("50"))
    rosa = person(cast, 1, locale="es", name="Rosa Díaz")
    wei = person(cast, 2, locale="zh_Hant", name="陳偉")
    maybe = person(cast, 3, name="Maybe Later")
    reply(meeting, rosa)
    reply(meeting, wei)
    reply(meeting, maybe, status=ReplyStatus.INVITED)
    person(cast, 4, name="Rosalind Notinvited")
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/check-in"
    page = client.get(url).get_data(as_text=True)
    assert "0 here of 2 expected" in page
    assert "Rosa Díaz" in page and "陳偉" in page and "Maybe Later" in page
    assert "Rosalind" not in page

    # Accents do not matter; people not invited are found too.
    page = client.get(f"{url}?q=rosa%20diaz").get_data(as_text=True)
    assert "Rosa Díaz" in page and "陳偉" not in page
    page = client.get(f"{url}?q=ros").get_data(as_text=True)
    assert "Rosalind Notinvited" in page
    page = client.get(f"{url}?q=陳").get_data(as_text=True)
    assert "陳偉" in page and "Rosa Díaz" not in page

    response = post_form(client, f"{url}/{rosa.id}", {"q": "rosa"}, token_from=url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"check-in?q=rosa#p{rosa.id}")
    page = client.get(url).get_data(as_text=True)
    assert "Rosa Díaz is checked in." in page
    assert "1 here of 2 expected" in page
    post_form(client, f"{url}/{rosa.id}", token_from=url)
    assert "already checked in" in client.get(url).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1
    (event,) = audits("meeting.check_in")
    assert event.detail == {"member_id": rosa.id}

    # Someone who said nothing can still come.
    post_form(client, f"{url}/{maybe.id}", token_from=url)
    page = client.get(f"/coordinator/meetings/{meeting.id}").get_data(as_text=True)
    assert "2 people checked in × $50.00 = $100.00" in page

    post_form(client, f"{url}/{rosa.id}/undo", token_from=url)
    page = client.get(url).get_data(as_text=True)
    assert "Rosa Díaz is no longer checked in." in page
    assert "1 here of 2 expected" in page
    assert len(audits("meeting.check_in_undone")) == 1


@pytest.mark.parametrize(
    "typed, found",
    [
        ("diaz", ["Rosa Díaz"]),
        ("DÍAZ", ["Rosa Díaz"]),
        ("MARIA", ["María López", "Ana_María Cruz"]),
        ("jose", ["José Pérez", "Josefina Ávila"]),
        ("jose perez", ["José Pérez"]),
        ("perez, jose", ["José Pérez"]),
        ("ＡＶＩＬＡ", ["Josefina Ávila"]),  # full-width letters, as some phones type them
        ("ana_m", ["Ana_María Cruz"]),  # _ is a letter here, not "any character"
        ("a%z", []),  # % too
        ("r_sa", []),
        ("陳偉", ["陳偉"]),
        ("陳", ["陳偉"]),  # one Chinese character is a whole surname
        ("r", []),  # one Latin letter would match nearly everyone: not searched
        ("bernard", []),  # another plan's member
        ("borrado", []),  # a deleted member
    ],
)
def test_check_in_finds_people_not_invited_whatever_the_accents_and_case(app, cast, client, typed, found):
    meeting = make_meeting(cast.committee_a, days=0.05)
    for n, name in enumerate(["Rosa Díaz", "María López", "José Pérez", "Josefina Ávila", "Ana_María Cruz", "陳偉"]):
        person(cast, 10 + n, name=name)
    person(cast, 20, name="Bernard Díaz", plan=cast.plan_b)
    person(cast, 21, name="Borrado Díaz", deleted_at=utcnow())
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/check-in"
    page = client.get(url, query_string={"q": typed}).get_data(as_text=True)
    names = ["Rosa Díaz", "María López", "José Pérez", "Josefina Ávila", "Ana_María Cruz", "陳偉"]
    names += ["Bernard Díaz", "Borrado Díaz"]
    assert [n for n in names if n in page] == found


def test_the_search_of_people_not_invited_is_one_query_however_many_match(app, cast, client, count_queries):
    meeting = make_meeting(cast.committee_a, days=0.05)
    person(cast, 1, name="Rosa Díaz")
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/check-in?q=diaz"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for n in range(2, 30):
        person(cast, n, name=f"Díaz {n}")
    with count_queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert many.count == few.count
    assert page.count("Díaz") >= 10


def test_a_walk_in_is_added_and_checked_in(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.05)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/check-in"
    data = {"name": "Marta Walk-in", "phone": "(559) 555-0177", "language": "es"}
    response = post_form(client, f"/coordinator/meetings/{meeting.id}/walk-in", data, token_from=url)
    assert response.status_code == 302
    member = db.session.scalar(sa.select(Member).where(Member.display_name == "Marta Walk-in"))
    assert member.phone == "+15595550177"
    assert member.source == MemberSource.STAFF and member.sms_status == SmsStatus.PENDING
    assert member.plan_id == cast.plan_a.id and member.locale == "es"
    assert texts_to(member) == []  # not opted in: nothing is texted
    page = client.get(url).get_data(as_text=True)
    assert "Marta Walk-in is added and checked in." in page
    assert "1 here of 0 expected" in page
    assert "Walk-in" in page

    # The same number again is the same person.
    data = {"name": "Marta W", "phone": "559-555-0177", "language": "es"}
    post_form(client, f"/coordinator/meetings/{meeting.id}/walk-in", data, token_from=url)
    assert db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.phone == "+15595550177")) == 1
    assert "already checked in" in client.get(url).get_data(as_text=True)
    # A known member walking in is checked in as themselves.
    data = {"name": "Paloma", "phone": "510.555.0111", "language": "es"}
    post_form(client, f"/coordinator/meetings/{meeting.id}/walk-in", data, token_from=url)
    assert "This phone number is already signed up. Paloma Parent is checked in." in client.get(url).get_data(
        as_text=True
    )
    walk_ins = audits("meeting.walk_in")
    assert [e.detail["new_member"] for e in walk_ins] == [True, False, False]


def test_a_bad_phone_gives_a_translated_error_and_keeps_what_was_typed(app, cast, client):
    meeting = make_meeting(cast.committee_a, days=0.05)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/check-in"
    client.get(f"{url}?lang=zh_Hant")
    data = {"name": "黃小姐", "phone": "555-12", "language": "zh_Hant", "q": "黃"}
    response = post_form(client, f"/coordinator/meetings/{meeting.id}/walk-in", data, token_from=url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "請輸入含區碼的美國手機號碼" in page
    assert 'value="黃小姐"' in page and 'value="555-12"' in page
    assert '<option selected value="zh_Hant">' in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    # A name is needed.
    response = post_form(client, f"/coordinator/meetings/{meeting.id}/walk-in", {"language": "en"}, token_from=url)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2


def test_nobody_is_checked_in_to_a_cancelled_meeting(app, cast, client):
    from engage.models import MeetingStatus

    meeting = make_meeting(cast.committee_a, days=0.05, status=MeetingStatus.CANCELLED)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/check-in"
    post_form(client, f"{url}/{cast.parent.id}", token_from=f"/coordinator/meetings/{meeting.id}")
    data = {"name": "Marta", "language": "es"}
    post_form(
        client, f"/coordinator/meetings/{meeting.id}/walk-in", data, token_from=f"/coordinator/meetings/{meeting.id}"
    )
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    assert "cancelled" in client.get(url).get_data(as_text=True)
