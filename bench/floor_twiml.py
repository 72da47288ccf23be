"""A reference point for the webhook benchmark (``python -m bench sms --floor``): the
least a signed webhook that keeps the text can do. Not engage, and not a design for it.

It checks the signature with twilio's ``RequestValidator``, upserts the conversation
and inserts the message in one transaction (two statements, one commit) on engage's
own tables, and answers fixed TwiML.

``gunicorn bench.floor_twiml:app`` with DATABASE_URL, TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL.
"""

import os

import sqlalchemy as sa
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

from bench.bare_twiml import TWIML

app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"])
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
URL = os.environ["PUBLIC_BASE_URL"].rstrip("/") + "/sms/inbound"
UPSERT = sa.text(
    "INSERT INTO conversations (phone, needs_reply, last_inbound_at, last_message_at, created_at) "
    "VALUES (:phone, true, now(), now(), now()) "
    "ON CONFLICT (phone) DO UPDATE SET needs_reply = true, last_inbound_at = now(), last_message_at = now() "
    "RETURNING id"
)
INSERT = sa.text(
    "INSERT INTO inbound_messages (message_sid, conversation_id, body, received_at) "
    "VALUES (:sid, :conversation, :body, now()) ON CONFLICT (message_sid) DO NOTHING"
)


@app.post("/sms/inbound")
def inbound():
    if not validator.validate(URL, request.form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    with engine.begin() as conn:
        conversation = conn.execute(UPSERT, {"phone": request.form["From"]}).scalar_one()
        conn.execute(
            INSERT, {"sid": request.form["MessageSid"], "conversation": conversation, "body": request.form["Body"]}
        )
    return Response(TWIML, mimetype="text/xml")
