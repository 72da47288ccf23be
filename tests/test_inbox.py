"""The coordinator's inbox: texts that wait for a reply, and each conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    AuditEvent,
    CommitteeMembership,
    ConsentChannel,
    Conversation,
    InboundMessage,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RosterStatus,
    SmsOptOut,
    SmsStatus,
    utcnow,
)
from engage.sms import consent, outbox
from tests.conftest import login, make_member, post_form

_sids = iter(range(1, 1_000_000))


def texted(phone: str, body: str, *, member=None, ago: timedelta = timedelta(minutes=5), needs_reply=True):
    """Someone texted ``body`` ``ago`` ago; returns their conversation."""
    conv = db.session.scalar(sa.select(Conversation).filter_by(phone=phone))
    at = utcnow() - ago
    if conv is None:
        conv = Conversation(phone=phone, member_id=getattr(member, "id", None))
        db.session.add(conv)
        db.session.flush()
    db.session.add(
        InboundMessage(message_sid=f"SM{next(_sids):032d}", conversation_id=conv.id, body=body, received_at=at)
    )
    conv.last_inbound_at = at
    conv.last_message_at = at
    conv.needs_reply = needs_reply
    db.session.commit()
    return conv


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# The list -------------------------------------------------------------------------------


def test_each_coordinator_sees_only_their_own_plans_conversations_and_admins_see_every_one(client, cast):
    texted(cast.parent.phone, "¿A qué hora es la reunión?", member=cast.parent)
    texted(cast.parent_b.phone, "Is there childcare?", member=cast.parent_b)
    texted("+12095550199", "hello?")

    login(client, cast.coord_a)
    mine = page(client, "/coordinator/inbox")
    assert "Paloma Parent" in mine and "¿A qué hora es la reunión?" in mine
    assert "Bernard Parent" not in mine and "Is there childcare?" not in mine
    assert "Unknown number" not in mine and "hello?" not in mine

    login(client, cast.coord_b)
    theirs = page(client, "/coordinator/inbox")
    assert "Bernard Parent" in theirs and "Paloma Parent" not in theirs

    login(client, cast.admin)
    everything = page(client, "/coordinator/inbox")
    assert "Paloma Parent" in everything and "Bernard Parent" in everything
    assert "Unknown number" in everything and "hello?" in everything


def test_unanswered_conversations_come_first_newest_first_and_say_so_in_words(client, cast):
    older = make_member("+15105550201", "Olga Older", plan=cast.plan_a)
    handled = make_member("+15105550202", "Hana Handled", plan=cast.plan_a)
    newer = make_member("+15105550203", "Nina Newer", plan=cast.plan_a)
    db.session.commit()
    texted(older.phone, "first", member=older, ago=timedelta(hours=3))
    texted(handled.phone, "thanks!", member=handled, ago=timedelta(minutes=1), needs_reply=False)
    texted(newer.phone, "second", member=newer, ago=timedelta(hours=1))

    login(client, cast.coord_a)
    html = page(client, "/coordinator/inbox")
    assert html.index("Nina Newer") < html.index("Olga Older") < html.index("Hana Handled")
    assert html.count("Needs a reply") == 2  # a word, not only a colour
    assert "2 conversations need a reply." in html
    assert "español" in html  # the member's language, named in itself


def test_the_inbox_filters_by_language_and_by_committee(client, cast):
    english = make_member("+15105550211", "Eve English", plan=cast.plan_a, locale="en")
    chinese = make_member("+15105550212", "Chen Chinese", plan=cast.plan_a, locale="zh_Hant")
    gone = make_member("+15105550213", "Lee Left", plan=cast.plan_a, locale="zh_Hant")
    db.session.add_all(
        [
            CommitteeMembership(committee_id=cast.committee_a.id, member=english),
            CommitteeMembership(committee_id=cast.committee_a.id, member=gone, status=RosterStatus.LEFT),
        ]
    )
    db.session.commit()
    for m in (cast.parent, english, chinese, gone):
        texted(m.phone, f"hi from {m.display_name}", member=m)

    login(client, cast.coord_a)
    by_language = page(client, "/coordinator/inbox?language=zh_Hant")
    assert "Chen Chinese" in by_language and "Lee Left" in by_language
    assert "Eve English" not in by_language and "Paloma Parent" not in by_language

    by_committee = page(client, f"/coordinator/inbox?committee={cast.committee_a.id}")
    assert "Eve English" in by_committee
    assert "Lee Left" not in by_committee and "Chen Chinese" not in by_committee

    both = page(client, f"/coordinator/inbox?committee={cast.committee_a.id}&language=zh_Hant")
    assert "No conversations match these filters." in both
    assert '<option selected value="zh_Hant">' in both  # the form shows what was chosen


def test_a_coordinator_cannot_filter_by_another_plans_committee(client, cast):
    texted(cast.parent.phone, "hola", member=cast.parent)
    login(client, cast.coord_a)
    html = page(client, f"/coordinator/inbox?committee={cast.committee_b.id}")
    assert "Not a valid choice." in html
    assert "Bayview CAC" not in html


def test_the_inbox_pages_fifty_conversations_at_a_time(client, cast):
    for i in range(52):
        m = make_member(f"+1510555{3000 + i:04d}", f"Parent {i:02d}", plan=cast.plan_a)
        db.session.flush()
        db.session.add(
            Conversation(
                phone=m.phone, member_id=m.id, needs_reply=True, last_inbound_at=utcnow() - timedelta(minutes=i)
            )
        )
    db.session.commit()
    login(client, cast.coord_a)
    first = page(client, "/coordinator/inbox")
    assert first.count('class="needs-reply"') == 50
    assert "Page 1 of 2" in first and "page=2" in first
    second = page(client, "/coordinator/inbox?page=2")
    assert second.count('class="needs-reply"') == 2
    assert "Parent 51" in second and "Parent 00" not in second


def test_the_inbox_needs_the_same_number_of_queries_however_many_conversations(client, cast, count_queries):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            m = make_member(f"+1510555{4000 + i:04d}", f"Parent {i}", plan=cast.plan_a)
            db.session.commit()
            texted(m.phone, f"message {i}", member=m)
            texted(m.phone, f"another {i}", member=m)

    login(client, cast.coord_a)
    add(2, 0)
    with count_queries() as few:
        page(client, "/coordinator/inbox")
    add(20, 2)
    with count_queries() as many:
        html = page(client, "/coordinator/inbox")
    assert "another 21" in html
    assert many.count == few.count


def test_the_coordinator_home_counts_unanswered_texts_and_links_the_inbox_and_messages(client, cast):
    texted(cast.parent.phone, "hola", member=cast.parent)
    texted(cast.parent_b.phone, "hi", member=cast.parent_b)
    login(client, cast.coord_a)
    html = page(client, "/coordinator/")
    assert "<strong>1</strong> <span>conversation waiting for a reply</span>" in html
    assert 'href="/coordinator/inbox"' in html and 'href="/coordinator/messages"' in html


# One conversation -------------------------------------------------------------------------


def test_a_coordinator_of_another_plan_gets_404_for_a_conversation_and_cannot_reply(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    login(client, cast.coord_b)
    assert client.get(f"/coordinator/inbox/{conv.id}").status_code == 404
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "hi", "action": "send"}, token_from="/coordinator/")
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_conversation_with_an_unknown_number_is_for_admins_only(client, cast):
    conv = texted("+12095550199", "who is this?")
    login(client, cast.coord_a)
    assert client.get(f"/coordinator/inbox/{conv.id}").status_code == 404
    login(client, cast.admin)
    html = page(client, f"/coordinator/inbox/{conv.id}")
    assert "who is this?" in html and "Unknown number" in html
    response = post_form(client, f"/coordinator/inbox/{conv.id}/reply", {"body": "Hi", "action": "send"})
    assert response.status_code == 200
    assert "has not signed up" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_the_thread_shows_both_directions_in_order_with_delivery_status_and_consent_history(client, cast):
    parent = cast.parent
    consent.opt_in(
        parent.phone,
        channel=ConsentChannel.CBO,
        locale="es",
        words_shown="Acepto mensajes.",
        member=parent,
        assisted_by=cast.cbo_a,
    )
    db.session.commit()
    conv = texted(parent.phone, "¿Hay cuidado de niños?", member=parent, ago=timedelta(hours=2))
    delivered = outbox.enqueue(
        parent.phone,
        "AFH: Sí, hay.",
        kind=OutboxKind.DIRECT,
        locale="es",
        member=parent,
        conversation=conv,
        created_by=cast.coord_a,
    )
    failed = outbox.enqueue(parent.phone, "AFH: Recordatorio", kind=OutboxKind.REMINDER, locale="es", member=parent)
    db.session.flush()
    delivered.status = OutboxStatus.DELIVERED
    delivered.created_at = utcnow() - timedelta(hours=1)
    failed.status = OutboxStatus.FAILED
    failed.error_code = "30006"
    failed.error_message = "Landline or unreachable carrier"
    db.session.commit()
    texted(parent.phone, "¡Gracias!", member=parent, ago=timedelta(minutes=30))

    login(client, cast.coord_a)
    html = page(client, f"/coordinator/inbox/{conv.id}")
    order = [html.index(s) for s in ("¿Hay cuidado de niños?", "AFH: Sí, hay.", "¡Gracias!", "AFH: Recordatorio")]
    assert order == sorted(order)
    assert "Carmen Coordinator wrote" in html
    assert "Delivered" in html and "Failed" in html
    assert "30006 Landline or unreachable carrier" in html
    assert 'lang="es">AFH: Sí, hay.' in html
    # The consent ledger: when, what, how, and who helped.
    assert "Agreed to texts" in html
    assert "With a community organisation" in html
    assert "Chris Outreach" in html


def test_preview_shows_the_signed_text_its_segments_and_cost_and_sends_nothing(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "La reunión es el martes.", "action": "preview"}, token_from=url[:-6])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "AFH: La reunión es el martes." in html
    assert "1 segment, UCS-2, 29 characters." in html  # ó is not in GSM-7
    assert "Estimated cost: $0.01." in html
    assert "La reunión es el martes.</textarea>" in html
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    assert db.session.get(Conversation, conv.id).needs_reply


def test_a_reply_is_queued_signed_in_the_members_language_and_marks_the_conversation_handled(client, cast):
    cast.parent.locale = "zh_Hant"
    db.session.commit()
    conv = texted(cast.parent.phone, "會議幾點？", member=cast.parent)
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "晚上六點。", "action": "send"}, token_from=url[:-6])
    assert response.status_code == 302
    assert response.headers["Location"] == f"/coordinator/inbox/{conv.id}"

    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.DIRECT))
    assert row.body == "AFH：晚上六點。"  # signed with the plan's short name, the Chinese way
    assert row.locale == "zh_Hant"
    assert row.phone == cast.parent.phone
    assert (row.member_id, row.conversation_id, row.created_by_id) == (cast.parent.id, conv.id, cast.coord_a.id)
    assert row.status == OutboxStatus.QUEUED
    assert row.quiet_hours is False  # it answers a text the person just sent

    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.needs_reply is False
    assert conv.handled_by_id == cast.coord_a.id and conv.handled_at is not None
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="sms.reply_queued"))
    assert event.target_id == conv.id and event.actor_id == cast.coord_a.id
    assert "晚上" not in str(event.detail)  # the words stay out of the audit log

    html = page(client, response.headers["Location"])
    assert "Your reply is on its way." in html
    assert "AFH：晚上六點。" in html and "Queued" in html


def test_a_late_reply_to_an_old_text_waits_for_the_morning(client, cast, monkeypatch):
    conv = texted(cast.parent.phone, "hola", member=cast.parent, ago=timedelta(days=1))
    la = ZoneInfo("America/Los_Angeles")
    tomorrow = datetime.now(la).date() + timedelta(days=1)
    late = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 23, 30, tzinfo=la).astimezone(UTC)
    monkeypatch.setattr(outbox, "utcnow", lambda: late)
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "Hola", "action": "send"}, token_from=url[:-6])
    assert response.status_code == 302
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.quiet_hours is True
    morning = tomorrow + timedelta(days=1)
    assert row.due_at.astimezone(la) == datetime(morning.year, morning.month, morning.day, 8, 0, tzinfo=la)
    assert "after quiet hours" in page(client, response.headers["Location"])


def test_a_reply_to_someone_who_stopped_texts_is_refused_and_the_typed_text_is_kept(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    consent.opt_out(cast.parent.phone, channel=ConsentChannel.SMS, locale="es", words_shown="...", member=cast.parent)
    db.session.commit()
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "¿Sigue ahí?", "action": "send"}, token_from=url[:-6])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "has stopped texts" in html
    assert "¿Sigue ahí?</textarea>" in html
    assert (
        db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.kind == OutboxKind.DIRECT))
        == 0
    )
    assert db.session.get(Conversation, conv.id).needs_reply


def test_a_number_in_the_opt_out_list_is_refused_even_if_the_member_looks_active(client, cast):
    from engage.models import SmsOptOut

    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    db.session.add(SmsOptOut(phone=cast.parent.phone))
    db.session.commit()
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "Hola", "action": "send"}, token_from=url[:-6])
    assert "has stopped texts" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_reply_to_someone_who_has_not_confirmed_is_refused(client, cast):
    pending = make_member("+15105550231", "Pat Pending", plan=cast.plan_a, status=SmsStatus.PENDING)
    db.session.commit()
    conv = texted(pending.phone, "hello", member=pending)
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "Welcome!", "action": "send"}, token_from=url[:-6])
    html = response.get_data(as_text=True)
    assert "has not confirmed" in html and "Welcome!</textarea>" in html
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_an_empty_reply_says_what_to_fix(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    login(client, cast.coord_a)
    url = f"/coordinator/inbox/{conv.id}/reply"
    response = post_form(client, url, {"body": "   ", "action": "send"}, token_from=url[:-6])
    assert "Please fill this in." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_mark_handled_and_mark_unanswered(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    login(client, cast.coord_a)
    thread = f"/coordinator/inbox/{conv.id}"
    assert "Mark handled" in page(client, thread)
    response = post_form(client, f"{thread}/handled", token_from=thread)
    assert response.status_code == 302 and response.headers["Location"] == "/coordinator/inbox"
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.needs_reply is False and conv.handled_by_id == cast.coord_a.id

    assert "Mark unanswered" in page(client, thread)
    response = post_form(client, f"{thread}/unanswered", token_from=thread)
    assert response.status_code == 302
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.needs_reply is True and conv.handled_at is None
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["conversation.handled", "conversation.unanswered"]


def test_the_thread_page_needs_the_same_number_of_queries_however_long_the_conversation(client, cast, count_queries):
    conv = texted(cast.parent.phone, "uno", member=cast.parent)
    outbox.enqueue(
        cast.parent.phone,
        "AFH: a",
        kind=OutboxKind.DIRECT,
        locale="es",
        member=cast.parent,
        conversation=conv,
        created_by=cast.coord_a,
    )
    db.session.commit()
    login(client, cast.coord_a)
    with count_queries() as few:
        page(client, f"/coordinator/inbox/{conv.id}")
    for i in range(15):
        texted(cast.parent.phone, f"mensaje {i}", member=cast.parent)
        outbox.enqueue(
            cast.parent.phone,
            f"AFH: {i}",
            kind=OutboxKind.DIRECT,
            locale="es",
            member=cast.parent,
            conversation=conv,
            created_by=cast.admin if i % 2 else cast.coord_a,
        )
    db.session.commit()
    with count_queries() as many:
        page(client, f"/coordinator/inbox/{conv.id}")
    assert many.count == few.count


# Sending again a text whose sending was interrupted ------------------------------------------


def unknown_row(conv, *, body="AFH: La reunión es el jueves a las 6 p.m.", locale="es", **values) -> OutboxMessage:
    """A text to ``conv``'s number that a worker stopped in the middle of sending."""
    row = outbox.enqueue(conv.phone, body, kind=OutboxKind.NOTICE, locale=locale, member=conv.member, conversation=conv)
    row.status = OutboxStatus.UNKNOWN
    row.error_message = "the worker stopped while sending; it may not have gone out"
    for key, value in values.items():
        setattr(row, key, value)
    db.session.commit()
    return row


def unknown_row_a(c) -> int:
    """An interrupted text to plan A's parent (for the route table)."""
    conv = db.session.scalar(sa.select(Conversation).filter_by(phone=c.parent.phone)) or texted(
        c.parent.phone, "hola", member=c.parent
    )
    return unknown_row(conv).id


def resend(client, row: OutboxMessage, conv: Conversation):
    return post_form(client, f"/coordinator/outbox/{row.id}/resend", token_from=f"/coordinator/inbox/{conv.id}")


def direct_rows() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.DIRECT)))


def test_an_interrupted_text_can_be_sent_again_once_as_a_new_text(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    row = unknown_row(conv)
    login(client, cast.coord_a)
    html = page(client, f"/coordinator/inbox/{conv.id}")
    assert "Send again" in html and f"/coordinator/outbox/{row.id}/resend" in html

    response = resend(client, row, conv)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/coordinator/inbox/{conv.id}#outbox-{row.id}"
    [new] = direct_rows()
    assert (new.body, new.locale, new.phone) == (row.body, "es", cast.parent.phone)
    assert (new.member_id, new.conversation_id, new.created_by_id) == (cast.parent.id, conv.id, cast.coord_a.id)
    assert new.status == OutboxStatus.QUEUED and new.id != row.id
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == OutboxStatus.UNKNOWN  # a late report still counts
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="sms.resent"))
    assert (event.actor_id, event.target_type, event.target_id) == (cast.coord_a.id, "outboxmessage", row.id)
    assert event.detail["outbox_id"] == new.id
    assert "reunión" not in str(event.detail)  # the words stay out of the audit log

    html = page(client, f"/coordinator/inbox/{conv.id}")
    assert "The text is being sent again." in html
    assert "Sent again" in html and "by Carmen Coordinator" in html
    assert f"/coordinator/outbox/{row.id}/resend" not in html

    # A second time (another tab, or an admin) is refused: still one copy.
    login(client, cast.admin)
    response = resend(client, row, conv)
    assert response.status_code == 302
    assert "This text has been sent again already." in page(client, response.headers["Location"])
    assert len(direct_rows()) == 1


def test_only_an_interrupted_text_can_be_sent_again(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    row = unknown_row(conv, status=OutboxStatus.SENT, error_message=None)
    login(client, cast.coord_a)
    assert "Send again" not in page(client, f"/coordinator/inbox/{conv.id}")
    response = resend(client, row, conv)
    assert response.status_code == 302
    html = page(client, response.headers["Location"])
    assert "Only a text whose sending was interrupted can be sent again." in html
    assert direct_rows() == []


def test_a_text_to_someone_who_stopped_is_not_sent_again(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    row = unknown_row(conv)
    # In the opt-out list, though the member row still looks active.
    db.session.add(SmsOptOut(phone=cast.parent.phone))
    db.session.commit()
    login(client, cast.coord_a)
    assert "Send again" not in page(client, f"/coordinator/inbox/{conv.id}")
    response = resend(client, row, conv)
    assert "has stopped texts" in page(client, response.headers["Location"])
    assert direct_rows() == []
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).filter_by(action="sms.resent")) == 0


def test_a_text_past_its_use_is_not_sent_again(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    row = unknown_row(conv, expires_at=utcnow() - timedelta(minutes=1))
    login(client, cast.coord_a)
    response = resend(client, row, conv)
    assert "It is too late to send this text again." in page(client, response.headers["Location"])
    assert direct_rows() == []


def test_a_coordinator_of_another_plan_gets_404_and_sends_nothing_again(client, cast):
    conv = texted(cast.parent.phone, "hola", member=cast.parent)
    row = unknown_row(conv)
    login(client, cast.coord_b)
    response = post_form(client, f"/coordinator/outbox/{row.id}/resend", token_from="/coordinator/")
    assert response.status_code == 404
    response = post_form(client, "/coordinator/outbox/999999/resend", token_from="/coordinator/")
    assert response.status_code == 404
    assert direct_rows() == []
