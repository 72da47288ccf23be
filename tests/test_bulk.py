"""Messages to many people: preview per language, queueing, progress, and scoping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.coordinator import bulk as bulk_module
from engage.coordinator.bulk import Audience, audience_counts
from engage.extensions import db
from engage.models import (
    AuditEvent,
    BulkMessage,
    CommitteeMembership,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RosterStatus,
    SmsOptOut,
    SmsStatus,
    utcnow,
)
from engage.sms import outbox
from engage.sms.segments import count_segments
from tests.conftest import csrf_token, login, make_member

NEW = "/coordinator/messages/new"
EN = "Meeting on Tuesday at 6 pm. Free childcare."
ES = "La reunión del comité es el martes a las 6 de la tarde en la sala B del centro."
ZH = "會議在星期二晚上六點。"


@pytest.fixture
def people(cast):
    """Plan A: who may get texts, who stopped, who never confirmed, in three languages."""
    m = {
        "ana": make_member("+15105550301", "Ana", plan=cast.plan_a, organisation=cast.org_a),
        "ben": make_member("+15105550302", "Ben", plan=cast.plan_a),
        "opted": make_member("+15105550303", "Otto", plan=cast.plan_a),  # in the opt-out list
        "stopped": make_member("+15105550304", "Sara", plan=cast.plan_a, locale="es", status=SmsStatus.STOPPED),
        "wei": make_member("+15105550305", "Wei", plan=cast.plan_a, locale="zh_Hant"),
        "pending": make_member("+15105550306", "Ping", plan=cast.plan_a, locale="zh_Hant", status=SmsStatus.PENDING),
        "deleted": make_member("+15105550307", "Gone", plan=cast.plan_a),
    }
    m["ben"].county = "Contra Costa"
    m["deleted"].deleted_at = utcnow()
    db.session.add(SmsOptOut(phone=m["opted"].phone))
    db.session.commit()
    m["paloma"] = cast.parent  # es, active, org A
    return m


def form(plan, **fields) -> dict:
    data = {
        "plan_id": str(plan.id),
        "committee_id": "0",
        "county": "",
        "organisation_id": "0",
        "body_en": EN,
        "body_es": ES,
        "body_zh_Hant": ZH,
        "action": "preview",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    return {k: v for k, v in data.items() if v != "__omit__"}


def compose(client, plan, **fields):
    data = form(plan, **fields)
    data["csrf_token"] = csrf_token(client, NEW)
    return client.post(NEW, data=data)


def outbox_rows() -> list[OutboxMessage]:
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.member_id)).all()


# Preview --------------------------------------------------------------------------------------


def test_the_preview_shows_each_language_side_by_side_with_segments_recipients_cost_and_who_is_left_out(
    client, cast, people
):
    login(client, cast.coord_a)
    response = compose(client, cast.plan_a)
    html = response.get_data(as_text=True)
    assert response.status_code == 200

    assert '<blockquote lang="en">AFH: Meeting on Tuesday at 6 pm. Free childcare.</blockquote>' in html
    assert f'<blockquote lang="es">AFH: {ES}</blockquote>' in html
    assert f'<blockquote lang="zh-Hant">AFH：{ZH}</blockquote>' in html  # signed the Chinese way
    en, es, zh = (count_segments(t) for t in (f"AFH: {EN}", f"AFH: {ES}", f"AFH：{ZH}"))
    assert (en.encoding, en.count) == ("GSM-7", 1)
    assert (es.encoding, es.count) == ("UCS-2", 2)  # ó and é-free accents: 70 a segment, 67 when split
    assert f"1 segment, GSM-7, {en.units} characters." in html
    assert f"2 segments, UCS-2, {es.units} characters." in html
    assert f"1 segment, UCS-2, {zh.units} characters." in html

    # en: Ana, Ben (Otto opted out); es: Paloma (Sara stopped); zh: Wei (Ping never confirmed).
    assert "4 people will get this message." in html
    assert html.count("1 person gets it.") == 2 and html.count("2 people get it.") == 1
    assert "3 people in this group are left out:" in html
    assert "2 have stopped texts." in html and "1 has not confirmed that they want texts." in html
    # 1 + 1 segments for English, 2 for Spanish, 1 for Chinese, at $0.0083 each.
    assert "Estimated cost: $0.04." in html
    assert db.session.scalar(sa.select(sa.func.count(BulkMessage.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_audience_counts_come_from_one_query_per_language_and_reason(app, cast, people, count_queries):
    audience = Audience(plan_id=cast.plan_a.id)
    with count_queries() as q:
        counts = audience_counts(audience)
    assert q.count == 1
    assert counts == {
        "en": {"ok": 2, "opted_out": 1, "unconfirmed": 0},
        "es": {"ok": 1, "opted_out": 1, "unconfirmed": 0},
        "zh_Hant": {"ok": 1, "opted_out": 0, "unconfirmed": 1},
    }


def test_the_audience_narrows_by_language_county_and_organisation(app, cast, people):
    def ok(**kw):
        counts = audience_counts(Audience(plan_id=cast.plan_a.id, **kw))
        return {loc: c["ok"] for loc, c in counts.items() if c["ok"]}

    assert ok(languages=("es", "zh_Hant")) == {"es": 1, "zh_Hant": 1}
    assert ok(county="Contra Costa") == {"en": 1}
    assert ok(organisation_id=cast.org_a.id) == {"en": 1, "es": 1}
    assert ok(languages=("en",), organisation_id=cast.org_a.id) == {"en": 1}


def test_a_language_with_recipients_but_no_text_is_an_error_that_names_it_and_keeps_what_was_typed(
    client, cast, people
):
    login(client, cast.coord_a)
    response = compose(client, cast.plan_a, body_zh_Hant="", action="send")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 person reads Chinese (Traditional), but there is no Chinese (Traditional) text." in html
    assert f"{EN}</textarea>" in html and f"{ES}</textarea>" in html
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_leaving_a_language_out_of_the_audience_means_it_needs_no_text(client, cast, people):
    login(client, cast.coord_a)
    response = compose(client, cast.plan_a, languages=["en", "es"], body_zh_Hant="", action="send")
    assert response.status_code == 302
    assert {r.locale for r in outbox_rows()} == {"en", "es"}


def test_an_audience_nobody_can_text_is_an_error(client, cast, people):
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member=people["pending"]))
    db.session.commit()
    login(client, cast.coord_a)
    response = compose(client, cast.plan_a, committee_id=str(cast.committee_a.id), action="send")
    assert response.status_code == 200
    assert "Nobody in this group can get texts right now." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(BulkMessage.id))) == 0


# Sending ------------------------------------------------------------------------------------


def test_sending_queues_one_row_per_recipient_in_their_language_and_records_what_was_skipped(client, cast, people):
    login(client, cast.coord_a)
    response = compose(client, cast.plan_a, action="send")
    assert response.status_code == 302
    bulk = db.session.scalar(sa.select(BulkMessage))
    assert response.headers["Location"] == f"/coordinator/messages/{bulk.id}"

    rows = outbox_rows()
    assert {r.member_id for r in rows} == {people[k].id for k in ("ana", "ben", "paloma", "wei")}
    bodies = {r.locale: r.body for r in rows}
    assert bodies == {"en": f"AFH: {EN}", "es": f"AFH: {ES}", "zh_Hant": f"AFH：{ZH}"}
    by_member = {r.member_id: r for r in rows}
    assert by_member[people["paloma"].id].phone == cast.parent.phone
    assert by_member[people["paloma"].id].segments == 2
    for r in rows:
        assert r.kind == OutboxKind.BULK and r.status == OutboxStatus.QUEUED
        assert r.bulk_id == bulk.id and r.created_by_id == cast.coord_a.id
        assert r.quiet_hours is True and r.priority == outbox.PRIORITY[OutboxKind.BULK] and r.attempts == 0
        assert r.due_at >= r.created_at
        assert r.conversation_id is None

    assert bulk.plan_id == cast.plan_a.id
    assert (bulk.recipient_count, bulk.skipped_count) == (4, 3)
    assert bulk.audience["skipped"] == {"opted_out": 2, "unconfirmed": 1}
    assert bulk.bodies == bodies
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="sms.bulk_queued"))
    assert event.target_id == bulk.id and event.detail == {"recipients": 4, "skipped": 3}

    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your message is queued for 4 people." in detail


def test_a_committee_audience_is_its_active_roster(client, cast, people):
    for key, status in (("ana", RosterStatus.ACTIVE), ("wei", RosterStatus.ACTIVE), ("ben", RosterStatus.LEFT)):
        db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member=people[key], status=status))
    db.session.add(
        CommitteeMembership(committee_id=cast.committee_a.id, member=people["paloma"], status=RosterStatus.ON_LEAVE)
    )
    db.session.add(CommitteeMembership(committee_id=cast.committee_a.id, member=people["pending"]))
    db.session.commit()
    login(client, cast.coord_a)
    response = compose(client, cast.plan_a, committee_id=str(cast.committee_a.id), body_es="", action="send")
    assert response.status_code == 302
    assert {r.member_id for r in outbox_rows()} == {people["ana"].id, people["wei"].id}
    bulk = db.session.scalar(sa.select(BulkMessage))
    assert bulk.audience["committee_id"] == cast.committee_a.id
    assert bulk.skipped_count == 1  # Ping has not confirmed


def test_a_bulk_message_queued_late_at_night_waits_for_the_morning(client, cast, people, monkeypatch):
    la = ZoneInfo("America/Los_Angeles")
    late = datetime(2026, 6, 2, 22, 15, tzinfo=la).astimezone(UTC)
    monkeypatch.setattr(bulk_module, "utcnow", lambda: late)
    login(client, cast.coord_a)
    assert compose(client, cast.plan_a, action="send").status_code == 302
    due = {r.due_at.astimezone(la) for r in outbox_rows()}
    assert due == {datetime(2026, 6, 3, 8, 0, tzinfo=la)}


def test_sending_takes_the_same_number_of_queries_for_ten_or_a_hundred_recipients(client, cast, count_queries):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            make_member(f"+1510556{i:04d}", f"P{i}", plan=cast.plan_a, locale=("en", "es", "zh_Hant")[i % 3])
        db.session.commit()

    def send(text: str) -> int:
        data = form(cast.plan_a, action="send", body_en=text)
        data["csrf_token"] = csrf_token(client, NEW)
        with count_queries() as q:
            assert client.post(NEW, data=data).status_code == 302
        return q.count

    login(client, cast.coord_a)
    add(9, 0)
    few = send("First message.")
    add(90, 9)
    many = send("Second message.")
    assert few == many
    counts = db.session.execute(sa.select(BulkMessage.recipient_count).order_by(BulkMessage.id)).scalars().all()
    assert counts == [10, 100]  # with Paloma


# Progress -------------------------------------------------------------------------------------


def test_the_progress_page_counts_each_status_with_one_group_by_query_and_a_plain_refresh_link(
    client, cast, people, count_queries
):
    login(client, cast.coord_a)
    location = compose(client, cast.plan_a, action="send").headers["Location"]
    rows = outbox_rows()
    rows[0].status = OutboxStatus.DELIVERED
    rows[1].status = OutboxStatus.DELIVERED
    rows[2].status = OutboxStatus.FAILED
    db.session.commit()

    with count_queries() as q:
        response = client.get(location)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert sum("GROUP BY" in s for s in q.statements) == 1

    def count(label: str) -> int:
        return int(re.search(rf'<th scope="row">{label}</th><td>(\d+)</td>', html).group(1))

    assert count("Delivered") == 2 and count("Failed") == 1 and count("Queued") == 1
    assert count("Sending") == count("Sent") == count("Skipped") == count("Dropped") == count("Not delivered") == 0
    assert "4 texts were queued." in html
    assert "3 people were left out before sending." in html
    assert f'<a class="tap" href="{location}">Refresh</a>' in html
    assert "<script" not in html and 'http-equiv="refresh"' not in html
    assert f'<blockquote lang="zh-Hant">AFH：{ZH}</blockquote>' in html


# Scoping ---------------------------------------------------------------------------------------


def test_a_coordinator_of_another_plan_neither_sees_nor_sends_plan_as_messages(client, cast, people):
    login(client, cast.coord_a)
    location = compose(client, cast.plan_a, action="send").headers["Location"]
    queued = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))

    login(client, cast.coord_b)
    assert client.get(location).status_code == 404
    listing = client.get("/coordinator/messages").get_data(as_text=True)
    assert location not in listing and "No messages have been sent" in listing
    response = compose(client, cast.plan_a, action="send")
    assert response.status_code == 200 and "Not a valid choice." in response.get_data(as_text=True)
    response = compose(client, cast.plan_b, committee_id=str(cast.committee_a.id), action="send")
    assert "Not a valid choice." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == queued

    login(client, cast.admin)
    assert client.get(location).status_code == 200
    assert location in client.get("/coordinator/messages").get_data(as_text=True)


def test_a_committee_must_belong_to_the_chosen_plan(client, cast, people):
    login(client, cast.admin)
    response = compose(client, cast.plan_b, committee_id=str(cast.committee_a.id), action="send")
    assert "This committee belongs to another plan." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_the_plan_is_only_asked_for_when_there_is_more_than_one(client, cast):
    login(client, cast.coord_a)
    html = client.get(NEW).get_data(as_text=True)
    assert f'<input type="hidden" name="plan_id" value="{cast.plan_a.id}">' in html
    assert "Plan: Alameda Family Health" in html
    assert "Bayview" not in html  # nor plan B's committees
    login(client, cast.admin)
    html = client.get(NEW).get_data(as_text=True)
    assert '<select id="plan_id"' in html
    assert "AFH: Children&#39;s Committee" in html and "Bayview: Bayview CAC" in html


def test_each_language_has_its_own_fieldset_named_in_the_readers_language_and_a_lang_textarea(client, cast):
    login(client, cast.coord_a)
    html = client.get(NEW).get_data(as_text=True)
    for loc, tag, name in (
        ("en", "en", "English"),
        ("es", "es", "Spanish"),
        ("zh_Hant", "zh-Hant", "Chinese (Traditional)"),
    ):
        assert f'<fieldset class="lang-block">\n    <legend>{name}</legend>' in html
        assert f'id="body_{loc}" lang="{tag}"' in html
    assert 'style="' not in html and "<script" not in html


def test_the_list_shows_newest_first(client, cast, people):
    login(client, cast.coord_a)
    first = compose(client, cast.plan_a, action="send").headers["Location"]
    second = compose(client, cast.plan_a, action="send", body_en="Another message.").headers["Location"]
    html = client.get("/coordinator/messages").get_data(as_text=True)
    assert html.index(second) < html.index(first)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 8


def test_a_double_click_on_send_queues_the_message_once(client, cast, people):
    login(client, cast.coord_a)
    first = compose(client, cast.plan_a, action="send").headers["Location"]
    again = compose(client, cast.plan_a, action="send")
    assert again.status_code == 302 and again.headers["Location"] == first
    assert "queued a moment ago" in client.get(first).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(BulkMessage.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 4
    # A different audience is a new message.
    assert compose(client, cast.plan_a, action="send", languages=["en"]).headers["Location"] != first
    assert db.session.scalar(sa.select(sa.func.count(BulkMessage.id))) == 2
