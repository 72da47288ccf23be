"""The coordinator's supports: flagged first, the list with filters and CSV, arranging
(which texts the parent in their language, never a stopped number), confirming,
outcomes with a reason, asking on someone's behalf, fairness figures, the daily digest,
and plan scoping."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from engage.extensions import db
from engage.mail import outbox as mail_outbox
from engage.meetings.texts import sms_when
from engage.models import (
    AuditEvent,
    ConsentChannel,
    Meeting,
    OutboxMessage,
    RequestedVia,
    Role,
    Stipend,
    StipendStatus,
    SupportKind,
    SupportRequest,
    SupportStatus,
    utcnow,
)
from engage.sms import consent
from engage.supports import digest, services, texts, vocab
from tests.conftest import login, make_member, make_staff, post_form
from tests.meeting_factories import make_meeting, meeting_a


def support_a(c) -> int:
    """A childcare request by plan A's parent for plan A's upcoming meeting (made once per test)."""
    meeting = db.session.get(Meeting, meeting_a(c))
    row = db.session.scalar(sa.select(SupportRequest).where(SupportRequest.meeting_id == meeting.id).limit(1))
    if row is None:
        row = services.request(meeting, c.parent, SupportKind.CHILDCARE, {"children": 2}, via=RequestedVia.WEB)
        db.session.commit()
    return row.id


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def ask(meeting, member, kind=SupportKind.CHILDCARE, details=None, **kw) -> SupportRequest:
    row = services.request(meeting, member, kind, details or {}, via=RequestedVia.WEB, **kw)
    db.session.commit()
    return row


# Arranging --------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hant"])
def test_arranging_texts_the_parent_in_their_language(cast, client, locale):
    cast.parent.locale = locale
    meeting = make_meeting(cast.committee_a)
    row = ask(meeting, cast.parent, SupportKind.INTERPRETER, {"language": "cantonese", "mode": "in_person"})
    login(client, cast.coord_a)
    response = post_form(
        client, f"/coordinator/supports/{row.id}/arrange", {"arrangement": "R. Ortiz, interpreter agency"}
    )
    assert response.status_code == 302
    page = page_text(client.get(response.headers["Location"]))
    assert "We texted Paloma Parent that interpreter (Cantonese) is arranged." in page
    db.session.expire_all()
    row = db.session.get(SupportRequest, row.id)
    assert row.status == SupportStatus.CONFIRMED and row.arrangement == "R. Ortiz, interpreter agency"
    assert row.arranged_by_id == cast.coord_a.id
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    with force_locale(locale):
        expected = texts.support_arranged(
            plan="AFH", what=vocab.support_label(row.kind, row.details), when=sms_when(meeting.starts_at)
        )
    assert message.body == expected and message.locale == locale and message.phone == cast.parent.phone
    assert row.confirmation_id == message.id
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "support.arrange"))


def test_a_stopped_number_gets_no_text_and_the_coordinator_is_told(cast, client):
    consent.opt_out(cast.parent.phone, channel=ConsentChannel.SMS, locale="es", words_shown="ALTO", member=cast.parent)
    meeting = make_meeting(cast.committee_a)
    row = ask(meeting, cast.parent)
    login(client, cast.coord_a)
    response = post_form(client, f"/coordinator/supports/{row.id}/arrange", {"arrangement": "Kiddie Care"})
    page = page_text(client.get(response.headers["Location"]))
    assert "Paloma Parent cannot get texts: tell them another way" in page
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    db.session.expire_all()
    assert db.session.get(SupportRequest, row.id).status == SupportStatus.ARRANGED
    # Told by phone: marked confirmed.
    response = post_form(client, f"/coordinator/supports/{row.id}/confirmed", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(SupportRequest, row.id).status == SupportStatus.CONFIRMED
    # Twice: a plain message, no error page.
    response = post_form(client, f"/coordinator/supports/{row.id}/confirmed", {})
    assert response.status_code == 302
    assert "already confirmed" in page_text(client.get(response.headers["Location"]))


def test_arranging_needs_what_was_booked(cast, client):
    row = ask(make_meeting(cast.committee_a), cast.parent)
    login(client, cast.coord_a)
    response = post_form(client, f"/coordinator/supports/{row.id}/arrange", {"arrangement": "   "})
    assert response.status_code == 200
    assert "Please fill this in." in page_text(response)
    db.session.expire_all()
    assert db.session.get(SupportRequest, row.id).status == SupportStatus.REQUESTED


def test_outcome_not_provided_needs_a_reason(cast, client):
    row = ask(make_meeting(cast.committee_a), cast.parent)
    login(client, cast.coord_a)
    url = f"/coordinator/supports/{row.id}/outcome"
    response = post_form(client, f"{url}?lang=es", {"outcome": "not_provided", "reason": ""})
    assert response.status_code == 200
    with force_locale("es"):
        from flask_babel import gettext

        assert gettext("Please say why it was not provided.") in page_text(response)
    db.session.expire_all()
    assert db.session.get(SupportRequest, row.id).status == SupportStatus.REQUESTED
    post_form(client, url, {"outcome": "not_provided", "reason": "The sitter was ill"})
    db.session.expire_all()
    row = db.session.get(SupportRequest, row.id)
    assert row.status == SupportStatus.NOT_DELIVERED and row.outcome_reason == "The sitter was ill"
    post_form(client, url, {"outcome": "provided"})
    db.session.expire_all()
    assert db.session.get(SupportRequest, row.id).status == SupportStatus.DELIVERED


def test_a_withdrawn_request_cannot_be_arranged_and_says_so(cast, client):
    row = ask(make_meeting(cast.committee_a), cast.parent)
    services.withdraw(row)
    db.session.commit()
    login(client, cast.coord_a)
    response = post_form(client, f"/coordinator/supports/{row.id}/outcome", {"outcome": "provided"})
    assert response.status_code == 302
    assert "This request was withdrawn" in page_text(client.get(response.headers["Location"]))


def test_the_coordinator_asks_on_someones_behalf_and_edits_details(cast, client):
    meeting = make_meeting(cast.committee_a)
    login(client, cast.coord_a)
    url = f"/coordinator/meetings/{meeting.id}/support/{cast.parent.id}"
    assert "Supports for Paloma Parent" in page_text(client.get(url))
    response = post_form(client, url, {"transport": "y", "transport_mode": "mileage"})
    assert response.status_code == 302
    row = db.session.scalar(sa.select(SupportRequest))
    assert row.requested_via == RequestedVia.STAFF and row.requested_by_id == cast.coord_a.id
    assert row.details == {"mode": "mileage", "notes": ""}
    # Arranged, then the details change: it needs arranging again.
    services.arrange(row, "Mileage form sent", by=cast.coord_a, notify=False)
    db.session.commit()
    post_form(client, url, {"transport": "y", "transport_mode": "ride"})
    db.session.expire_all()
    row = db.session.get(SupportRequest, row.id)
    assert row.details["mode"] == "ride" and row.status == SupportStatus.REQUESTED
    # Another plan's parent at this meeting: hidden.
    assert client.get(f"/coordinator/meetings/{meeting.id}/support/{cast.parent_b.id}").status_code == 404


# Scoping ----------------------------------------------------------------------------------------


def test_plan_b_coordinator_sees_nothing_of_plan_a(cast, client):
    meeting = make_meeting(cast.committee_a, days=2)
    row = ask(meeting, cast.parent)
    login(client, cast.coord_b)
    assert client.get(f"/coordinator/supports/{row.id}").status_code == 404
    assert client.get(f"/coordinator/meetings/{meeting.id}/support/{cast.parent.id}").status_code == 404
    for action, data in (("arrange", {"arrangement": "x"}), ("outcome", {"outcome": "provided"})):
        assert (
            post_form(
                client, f"/coordinator/supports/{row.id}/{action}", data, token_from="/coordinator/supports"
            ).status_code
            == 404
        )
    page = page_text(client.get("/coordinator/supports"))
    assert "Paloma Parent" not in page
    assert "Paloma Parent" not in client.get("/coordinator/supports.csv").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SupportRequest, row.id).status == SupportStatus.REQUESTED


# The 72-hour flag -----------------------------------------------------------------------------------


def test_the_72_hour_flag(cast, client):
    soon = make_meeting(cast.committee_a, days=2)  # 48 hours away
    later = make_meeting(cast.committee_a, days=100 / 24)  # 100 hours away
    flagged = ask(soon, cast.parent, SupportKind.CHILDCARE)
    arranged = ask(soon, cast.parent, SupportKind.INTERPRETER, {"language": "spanish"})
    services.arrange(arranged, "Booked", by=cast.coord_a, notify=False)
    not_yet = ask(later, cast.parent, SupportKind.TRANSPORT)
    db.session.commit()
    assert [r.id for r in services.flagged({cast.plan_a.id})] == [flagged.id]
    login(client, cast.coord_a)
    page = page_text(client.get("/coordinator/supports"))
    box = page.split('id="flagged-heading"')[1].split("</section>")[0]
    assert f"/coordinator/supports/{flagged.id}" in box
    assert f"/coordinator/supports/{arranged.id}" not in box
    assert f"/coordinator/supports/{not_yet.id}" not in box
    assert "Not arranged yet" in box


# The list, its filters and the CSV ----------------------------------------------------------------


def test_filters_and_csv(cast, client):
    meeting = make_meeting(cast.committee_a, days=8)
    chinese = make_member("+15105550333", "Wei Chen", plan=cast.plan_a, locale="zh_Hant")
    db.session.commit()
    ask(meeting, cast.parent, SupportKind.CHILDCARE)
    ask(meeting, chinese, SupportKind.INTERPRETER, {"language": "cantonese"})
    login(client, cast.coord_a)
    page = page_text(client.get("/coordinator/supports?language=zh_Hant"))
    listed = page.split("All requests")[1]
    assert "Wei Chen" in listed and "Paloma Parent" not in listed
    page = page_text(client.get("/coordinator/supports?kind=childcare"))
    listed = page.split("All requests")[1]
    assert "Paloma Parent" in listed and "Wei Chen" not in listed
    page = page_text(client.get("/coordinator/supports?status=delivered"))
    assert "Wei Chen" not in page.split("All requests")[1]
    response = client.get("/coordinator/supports.csv?kind=interpreter")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["name"], r["language"], r["support"], r["status"]) for r in rows] == [
        ("Wei Chen", "zh_Hant", "Interpreter (Cantonese)", "requested")
    ]
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "support.export")) == 1


def test_the_list_makes_the_same_queries_however_many_requests(cast, client, count_queries):
    login(client, cast.coord_a)

    def add(n, start):
        for i in range(n):
            member = make_member(f"+1510555{start + i:04d}", f"Parent {start + i}", plan=cast.plan_a)
            for days in (2, 10):
                m = make_meeting(cast.committee_a, days=days + i, commit=False)
                db.session.flush()
                services.request(m, member, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB)
            past = make_meeting(cast.committee_a, commit=False, starts_at=utcnow() - timedelta(days=3 + i))
            db.session.flush()
            row = services.request(past, member, SupportKind.TRANSPORT, {}, via=RequestedVia.WEB)
            row.status = SupportStatus.ARRANGED
        db.session.commit()

    add(1, 1000)
    with count_queries() as few:
        assert client.get("/coordinator/supports").status_code == 200
    add(8, 2000)
    with count_queries() as many:
        assert client.get("/coordinator/supports").status_code == 200
    assert many.count == few.count


# Fairness -----------------------------------------------------------------------------------------


def test_fairness_figures_on_a_known_data_set(cast, client):
    now = utcnow()
    held = make_meeting(cast.committee_a, starts_at=(now - timedelta(days=3)).replace(microsecond=0))
    chinese = make_member("+15105550444", "Mei Lin", plan=cast.plan_a, locale="zh_Hant")
    db.session.commit()
    asked = held.starts_at - timedelta(days=10)

    def row(member, kind, arranged_after_hours):
        r = services.request(held, member, kind, {}, via=RequestedVia.WEB, now=asked)
        if arranged_after_hours is not None:
            services.arrange(r, "x", by=cast.coord_a, now=asked + timedelta(hours=arranged_after_hours), notify=False)
        return r

    row(cast.parent, SupportKind.CHILDCARE, 24)  # met
    row(cast.parent, SupportKind.INTERPRETER, 48)  # met
    row(chinese, SupportKind.CHILDCARE, 24 * 11)  # arranged after the meeting: not met
    row(chinese, SupportKind.TRANSPORT, None)  # never arranged
    # Stipends: one paid on time, one paid late.
    for member, days in ((cast.parent, 5), (chinese, 45)):
        db.session.add(
            Stipend(
                meeting_id=held.id,
                member_id=member.id,
                status=StipendStatus.PAID,
                amount_due=50,
                amount=50,
                paid_on=held.starts_at + timedelta(days=days),
            )
        )
    db.session.commit()
    figures = services.fairness({cast.plan_a.id})
    assert (figures.overall.met, figures.overall.total) == (2, 4)
    assert (figures.by_kind[SupportKind.CHILDCARE].met, figures.by_kind[SupportKind.CHILDCARE].total) == (1, 2)
    assert figures.by_language["es"].percent == 100.0 and figures.by_language["zh_Hant"].percent == 0.0
    assert figures.median_hours_to_arrange == 48.0
    login(client, cast.coord_a)
    page = page_text(client.get("/coordinator/supports/fairness"))
    assert "50%" in page  # overall and stipends on time
    assert "100%" in page and "0%" in page
    assert "Traditional Chinese" in page or "中文" in page or "Chinese" in page
    # Plan B's coordinator sees none of it.
    login(client, cast.coord_b)
    page = page_text(client.get("/coordinator/supports/fairness"))
    assert "No supports were asked for" in page


# The daily digest ---------------------------------------------------------------------------------


def test_the_digest_is_sent_once_a_day_per_plan_in_each_coordinators_language(cast):
    spanish = make_staff(
        "coord-es@example.org", "Rosa Coordinadora", Role.COORDINATOR, plans=[cast.plan_a], locale="es"
    )
    meeting = make_meeting(cast.committee_a, days=1)
    ask(meeting, cast.parent)
    ask(make_meeting(cast.committee_b, days=2), cast.parent_b)
    db.session.commit()
    morning = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)  # 09:00 or 10:00 in California
    sent = digest.send_due(now=morning)
    mails = {m["To"]: m for m in mail_outbox()}
    assert sent == 3 and set(mails) == {cast.coord_a.email, spanish.email, cast.coord_b.email}
    assert mails[cast.coord_a.email]["Subject"] == "1 support not yet arranged"
    with force_locale("es"):
        from flask_babel import ngettext

        subject = ngettext("%(num)d support not yet arranged", "%(num)d supports not yet arranged", 1)
    assert mails[spanish.email]["Subject"] == subject
    assert "Paloma Parent" in mails[cast.coord_a.email].get_content()
    assert "Paloma Parent" not in mails[cast.coord_b.email].get_content()
    assert digest.send_due(now=morning + timedelta(hours=2)) == 0
    assert len(mail_outbox()) == 3
