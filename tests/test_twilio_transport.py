"""The real twilio ``Client`` talking to a fake Twilio REST API served on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    SmsOptOut,
    SmsStatus,
)
from engage.sms import outbox
from engage.sms.transport import TwilioTransport, get_transport

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "x"
FROM_NUMBER = "+15005550006"
SERVICE_SID = "MG" + "1" * 32
BASE = "https://engage.example.org"
PARENT = "+15105550111"
NOON = datetime(2025, 6, 3, 19, 0, tzinfo=UTC)  # 12:00 in Los Angeles
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def twilio_error(status: int, code: int, message: str) -> tuple[int, dict]:
    """An error the way Twilio's Messages API words it."""
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilioApi:
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio, one thread per request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.created_sids: list[str] = []
        self.answers: list[tuple[int, dict | str]] = []  # next answers; then 201 Created
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                api.requests.append(
                    {
                        "path": self.path,
                        "form": form,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                if self.path != MESSAGES_PATH:
                    status, payload = twilio_error(404, 20404, "The requested resource was not found")
                elif api.answers:
                    status, payload = api.answers.pop(0)
                else:
                    status, payload = 201, api.created(form)
                    api.created_sids.append(payload["sid"])
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()
        self.running = True

    @staticmethod
    def created(form: dict) -> dict:
        sid = "SM" + uuid.uuid4().hex
        return {
            "account_sid": ACCOUNT_SID,
            "api_version": "2010-04-01",
            "body": form.get("Body"),
            "date_created": "Tue, 03 Jun 2025 19:00:00 +0000",
            "date_sent": None,
            "date_updated": "Tue, 03 Jun 2025 19:00:00 +0000",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"},
            "to": form.get("To"),
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
        }

    def stop(self):
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.running = False


@pytest.fixture
def fake_twilio():
    api = FakeTwilioApi()
    yield api
    api.stop()


@pytest.fixture
def app_config(database_url, fake_twilio):
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": None,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "PUBLIC_BASE_URL": BASE,
    }


def queue(phone: str = PARENT, body: str = "Reunión el martes a las 6 — 會議", member: Member | None = None):
    row = outbox.enqueue(phone, body, kind=OutboxKind.REMINDER, locale="es", member=member, due_at=NOON)
    db.session.commit()
    return row


def deliver(app, at: datetime = NOON) -> int:
    return outbox.deliver_due(app, "w1", now=lambda: at, sleep=lambda seconds: None)


def fresh(row: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row.id)


def test_the_app_uses_the_real_twilio_client(app):
    transport = get_transport(app)
    assert isinstance(transport, TwilioTransport)
    assert type(transport.client).__module__.startswith("twilio.")


def test_a_message_goes_to_twilio_with_from_and_a_status_callback(app, cast, fake_twilio):
    row = queue(member=cast.parent)
    assert deliver(app) == 1

    [request] = fake_twilio.requests
    assert request["path"] == MESSAGES_PATH
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    assert request["authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    form = request["form"]
    assert form["To"] == PARENT
    assert form["Body"] == "Reunión el martes a las 6 — 會議"
    assert form["From"] == FROM_NUMBER
    assert "MessagingServiceSid" not in form
    assert form["StatusCallback"] == f"{BASE}/sms/status?o={row.id}"

    row = fresh(row)
    assert row.status == OutboxStatus.SENT
    assert row.via == "twilio"
    assert [row.provider_sid] == fake_twilio.created_sids
    assert row.sent_at is not None
    assert row.attempts == 1


def test_a_messaging_service_is_used_instead_of_a_number_when_set(app, cast, fake_twilio):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = SERVICE_SID
    row = queue()
    deliver(app)
    form = fake_twilio.requests[0]["form"]
    assert form["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in form
    assert form["StatusCallback"] == f"{BASE}/sms/status?o={row.id}"
    assert fresh(row).status == OutboxStatus.SENT


def test_each_message_is_one_request_with_its_own_callback(app, cast, fake_twilio):
    app.config["SMS_RATE_PER_SECOND"] = 50
    rows = [queue(body=f"Mensaje {i}") for i in range(5)]
    assert deliver(app) == 5
    assert [r["form"]["Body"] for r in fake_twilio.requests] == [f"Mensaje {i}" for i in range(5)]
    assert [r["form"]["StatusCallback"] for r in fake_twilio.requests] == [f"{BASE}/sms/status?o={r.id}" for r in rows]
    assert [fresh(r).provider_sid for r in rows] == fake_twilio.created_sids


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (twilio_error(400, 21211, "Invalid 'To' Phone Number: +15105550111"), "21211"),
        (twilio_error(400, 21614, "'To' number is not a valid mobile number"), "21614"),
        (twilio_error(400, 21408, "Permission to send an SMS has not been enabled for the region"), "21408"),
        # RFC 9457 problem details, which newer Twilio APIs answer with.
        (
            (
                400,
                {
                    "type": "https://www.twilio.com/docs/errors/21211",
                    "title": "Invalid 'To' Phone Number",
                    "status": 400,
                    "code": 21211,
                    "detail": "The 'To' number is not a valid phone number.",
                },
            ),
            "21211",
        ),
    ],
)
def test_a_permanent_refusal_fails_the_row_at_once(app, cast, fake_twilio, answer, code):
    fake_twilio.answers.append(answer)
    row = queue(member=cast.parent)
    deliver(app)
    row = fresh(row)
    assert (row.status, row.error_code, row.attempts) == (OutboxStatus.FAILED, code, 1)
    assert row.error_message
    assert db.session.get(SmsOptOut, PARENT) is None
    assert deliver(app, NOON + timedelta(days=1)) == 0
    assert len(fake_twilio.requests) == 1


def test_error_21610_fails_the_row_and_records_the_opt_out(app, cast, fake_twilio):
    fake_twilio.answers.append(twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"))
    row = queue(member=cast.parent)
    later = outbox.enqueue(PARENT, "Later", kind=OutboxKind.BULK, locale="es", due_at=NOON + timedelta(hours=1))
    db.session.commit()
    deliver(app)
    assert (fresh(row).status, fresh(row).error_code) == (OutboxStatus.FAILED, "21610")
    assert fresh(later).status == OutboxStatus.SKIPPED
    assert db.session.get(SmsOptOut, PARENT) is not None
    [event] = db.session.scalars(sa.select(ConsentEvent)).all()
    assert (event.action, event.channel, event.member_id) == (
        ConsentAction.OPT_OUT,
        ConsentChannel.CARRIER,
        cast.parent.id,
    )
    assert db.session.get(Member, cast.parent.id).sms_status == SmsStatus.STOPPED
    assert deliver(app, NOON + timedelta(hours=2)) == 0
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (twilio_error(429, 20429, "Too Many Requests"), "20429"),
        (twilio_error(500, 20500, "Internal Server Error"), "20500"),
        ((500, "Internal Server Error"), "500"),  # not even JSON
        ((502, "<html>Bad Gateway</html>"), "502"),
        (twilio_error(503, 20503, "Service Unavailable"), "20503"),
        (twilio_error(400, 30001, "Queue overflow"), "30001"),
        (
            (
                503,
                {
                    "type": "https://www.twilio.com/docs/errors/20503",
                    "title": "Unavailable",
                    "status": 503,
                    "code": 20503,
                },
            ),
            "20503",
        ),
    ],
)
def test_a_transient_refusal_is_retried_later(app, cast, fake_twilio, answer, code):
    fake_twilio.answers.append(answer)
    row = queue()
    deliver(app)
    row = fresh(row)
    assert (row.status, row.error_code, row.attempts) == (OutboxStatus.QUEUED, code, 1)
    assert row.due_at == NOON + timedelta(seconds=app.config["SMS_RETRY_BASE_SECONDS"])
    # The next attempt goes through.
    assert deliver(app, row.due_at) == 1
    row = fresh(row)
    assert (row.status, row.attempts, row.error_code) == (OutboxStatus.SENT, 2, None)
    assert len(fake_twilio.requests) == 2


def test_twilio_out_of_reach_is_retried_later(app, cast, fake_twilio):
    fake_twilio.stop()  # connection refused from now on
    row = queue()
    deliver(app)
    row = fresh(row)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
    assert row.error_message.startswith("network")
    assert row.due_at > NOON


def test_a_status_callback_for_a_twilio_sid_finds_the_row(app, cast, fake_twilio):
    row = queue()
    deliver(app)
    sid = fresh(row).provider_sid
    with app.test_request_context():
        assert outbox.record_status(None, sid, "delivered", None) is True
    assert fresh(row).status == OutboxStatus.DELIVERED
