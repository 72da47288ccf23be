"""A second, lower reference point for the webhook benchmark (``--floor``): the least
any Python webhook that keeps each text before answering can do. Not engage, and not a
design for it.

No framework and no ORM: a plain WSGI callable parses the form with the standard
library, checks the signature with twilio's ``RequestValidator``, and stores the text
with ONE statement on its own autocommitted psycopg connection (one per thread): a
common table expression that upserts the conversation and inserts the message, so each
text costs one round trip to PostgreSQL and one commit. It answers fixed TwiML.

``gunicorn bench.floor_wsgi:app`` with DATABASE_URL, TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL.
"""

import os
import threading
from urllib.parse import parse_qsl

import psycopg
from twilio.request_validator import RequestValidator

from bench.bare_twiml import TWIML

URL = os.environ["PUBLIC_BASE_URL"].rstrip("/") + "/sms/inbound"
DSN = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
STORE = (
    "WITH c AS (INSERT INTO conversations (phone, needs_reply, last_inbound_at, last_message_at, created_at) "
    "VALUES (%(phone)s, true, now(), now(), now()) ON CONFLICT (phone) DO UPDATE SET needs_reply = true, "
    "last_inbound_at = now(), last_message_at = now() RETURNING id) "
    "INSERT INTO inbound_messages (message_sid, conversation_id, body, received_at) "
    "SELECT %(sid)s, c.id, %(body)s, now() FROM c ON CONFLICT (message_sid) DO NOTHING"
)
ANSWER = TWIML.encode()
local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(local, "conn", None)
    if conn is None or conn.closed:
        conn = local.conn = psycopg.connect(DSN, autocommit=True, prepare_threshold=0)
    return conn


def app(environ, start_response):
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/sms/inbound":
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    size = int(environ.get("CONTENT_LENGTH") or 0)
    form = dict(parse_qsl(environ["wsgi.input"].read(size).decode("utf-8"), keep_blank_values=True))
    if not validator.validate(URL, form, environ.get("HTTP_X_TWILIO_SIGNATURE", "")):
        start_response("403 Forbidden", [("Content-Length", "0")])
        return [b""]
    _connection().execute(STORE, {"phone": form["From"], "sid": form["MessageSid"], "body": form["Body"]})
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]
