"""The incoming-text webhook's short way, on PostgreSQL.

Most texts are plain: free text from a parent whose conversation is waiting for
nothing, HELP, or free text from a number we do not know. For those, the whole answer
is known from one read, and everything the text changes can be written by one
statement, so this WSGI layer answers them without going through Flask, the ORM or a
pooled session: one ``SELECT`` (member, plan, STOP, sign-up, conversation) and one
autocommitted ``WITH … UPDATE … INSERT … INSERT`` (the conversation, the text, the
reply's outbox row), on a connection of its own per thread.

Everything else goes on to the Flask view (``engage.sms.routes``), which stays the
authority: a bad or missing signature, a text that is a word (STOP, START, YES, NO,
JOIN, a language) or an answer a part of engage is waiting for (a sign-up in progress,
``Conversation.awaiting``), a new number, a retried MessageSid, a person without a
plan, SQLite, or any database error. Nothing is written before that hand-over.

The rules are those of ``engage.sms.inbound`` — the same texts, the same "once an hour"
acknowledgement (``ACK_EVERY``), the same outbox rows (``outbox.row_values``) — and the
write only happens when the conversation is still as the read saw it: its
``last_inbound_at`` is compared in the ``UPDATE``'s ``WHERE``, which PostgreSQL
re-checks on the newest row version after waiting for its lock, so a text from the
same number that committed in between (a STOP, say) sends this one the long way. The
three writes are one statement: all or nothing.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

import psycopg
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from engage.models import OutboxKind, utcnow
from engage.security import STATIC_HEADERS
from engage.sms import inbound, keywords, outbox, texts
from engage.sms.segments import count_segments

log = logging.getLogger("engage")
PATH = "/sms/inbound"
MAX_FORM_BYTES = 64 * 1024  # Twilio's forms are about 1 KB; bigger ones take the long way
_local = threading.local()
NO_REPLY = str(MessagingResponse())

READ = """
SELECT m.id AS member_id, m.locale, p.short_name, p.contact_phone,
       EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.phone = %(phone)s) AS stopped,
       EXISTS (SELECT 1 FROM signup_conversations s WHERE s.phone = %(phone)s) AS signing_up,
       EXISTS (SELECT 1 FROM inbound_messages i WHERE i.message_sid = %(sid)s) AS seen_sid,
       c.id AS conversation_id, c.member_id AS conversation_member_id, c.awaiting, c.last_inbound_at,
       c.last_ack_at
FROM (SELECT 1) AS one
LEFT JOIN members m ON m.phone = %(phone)s AND m.deleted_at IS NULL
LEFT JOIN plans p ON p.id = m.plan_id
LEFT JOIN conversations c ON c.phone = %(phone)s
"""

# The conversation as the read saw it, changed; nothing when it changed in between (its
# last_inbound_at moves with every text, and only texts move last_ack_at) or when the
# MessageSid was stored meanwhile.
_UPDATE = """
    UPDATE conversations SET
        last_inbound_at = %(now)s,
        last_message_at = %(now)s,
        needs_reply = needs_reply OR %(keep)s,
        handled_at = CASE WHEN %(keep)s THEN NULL ELSE handled_at END,
        last_ack_at = CASE WHEN %(ack)s THEN %(now)s ELSE last_ack_at END
    WHERE id = %(conversation_id)s
      AND awaiting IS NULL
      AND member_id IS NOT DISTINCT FROM %(member_id)s
      AND last_inbound_at IS NOT DISTINCT FROM %(seen)s
      AND NOT EXISTS (SELECT 1 FROM inbound_messages i WHERE i.message_sid = %(sid)s)
    RETURNING id
"""
# A number's first text: the conversation is new (another delivery creating it at the
# same moment wins, and this one takes the long way).
_INSERT = """
    INSERT INTO conversations (phone, member_id, needs_reply, last_inbound_at, last_message_at, last_ack_at,
                               created_at)
    SELECT %(phone)s, %(member_id)s, %(keep)s, %(now)s, %(now)s, CASE WHEN %(ack)s THEN %(now)s END, %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM inbound_messages i WHERE i.message_sid = %(sid)s)
    ON CONFLICT (phone) DO NOTHING
    RETURNING id
"""


def _write_statement(conversation: str, reply_columns: list[str] | None) -> str:
    """The conversation, the text and (with ``reply_columns``) the reply's outbox row, in one
    statement: the text only with its conversation, the reply only with its text."""
    reply = ""
    reply_id = "NULL::integer"
    if reply_columns:
        columns = ", ".join(reply_columns)
        values = ", ".join("c.id" if name == "conversation_id" else f"%(r_{name})s" for name in reply_columns)
        # Column names are the outbox's own (outbox.row_values), never input; values are parameters.
        reply = f"""
, reply AS (
    INSERT INTO outbox_messages ({columns})
    SELECT {values} FROM c, msg
    RETURNING id
)"""  # noqa: S608
        reply_id = "(SELECT id FROM reply)"
    return f"""
WITH c AS ({conversation}), msg AS (
    INSERT INTO inbound_messages (message_sid, conversation_id, body, intent, received_at)
    SELECT %(sid)s, c.id, %(body)s, %(intent)s, %(now)s FROM c
    ON CONFLICT (message_sid) DO NOTHING
    RETURNING id
){reply}
SELECT (SELECT count(*) FROM c) AS touched, (SELECT id FROM msg) AS message_id, {reply_id} AS reply_id
"""  # noqa: S608


def _plain(value):
    """Enum members as the strings the ORM stores (psycopg would write the name)."""
    return value.value if hasattr(value, "value") else value


class InboundFastPath:
    """WSGI middleware in front of the Flask app; see the module's docstring."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app
        url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.base_url = app.config["PUBLIC_BASE_URL"].rstrip("/")
        self.url = self.base_url + PATH
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
        self._texts: dict[tuple, tuple[str, int]] = {}
        sample = outbox.row_values("+1", "x", kind=OutboxKind.REPLY, locale="en", now=utcnow(), quiet=False)
        self.reply_columns = sorted({**sample, **outbox.sent_in_twiml(utcnow())})
        # (new conversation, with a reply) -> statement
        self.writes = {
            (new, with_reply): _write_statement(_INSERT if new else _UPDATE, self.reply_columns if with_reply else None)
            for new in (False, True)
            for with_reply in (False, True)
        }
        self.handled = 0  # texts answered here (for tests and the benchmark)

    @classmethod
    def install(cls, app: Flask) -> None:
        """Put the short way in front of ``app`` when it can be used: PostgreSQL, a Twilio
        token to check signatures with, and ``SMS_FAST_PATH`` not turned off."""
        uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
        if (
            app.config.get("SMS_FAST_PATH", True)
            and uri.startswith("postgresql")
            and app.config.get("TWILIO_AUTH_TOKEN")
        ):
            app.wsgi_app = app.extensions["engage.sms_fast_path"] = cls(app, app.wsgi_app)

    # WSGI ----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        raw = self._read_form(environ)
        if raw is None:
            return self.wsgi_app(environ, start_response)
        try:
            answer = self._answer(raw, environ.get("HTTP_X_TWILIO_SIGNATURE", ""))
        except psycopg.Error as exc:
            # The Flask view answers instead; nothing was written here.
            log.warning("sms fast path: database error, taking the long way", extra={"error": type(exc).__name__})
            self._drop_connection()
            answer = None
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(raw)
            return self.wsgi_app(environ, start_response)
        self.handled += 1
        body = answer.encode()
        headers = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))]
        headers += list(STATIC_HEADERS.items()) + [("Cache-Control", "no-store")]
        start_response("200 OK", headers)
        log.info(
            "request",
            extra={
                "method": "POST",
                "path": PATH,
                "endpoint": "sms.inbound_sms",
                "status": 200,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "who": "anonymous",
                "via": "short",
            },
        )
        return [body]

    @staticmethod
    def _read_form(environ) -> bytes | None:
        """The request body, when it is a form of a sensible size (else None, unread)."""
        if not (environ.get("CONTENT_TYPE") or "").startswith("application/x-www-form-urlencoded"):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= MAX_FORM_BYTES:
            return None
        raw = environ["wsgi.input"].read(length)
        return raw if len(raw) == length else None

    # The rules ---------------------------------------------------------------------

    def _answer(self, raw: bytes, signature: str) -> str | None:
        """The TwiML answer, or None to let the Flask view handle this request."""
        try:
            form = MultiDict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            return None
        if not signature or not self.validator.validate(self.url, form, signature):
            return None  # the view refuses it, and logs why
        from engage.sms.routes import message_fields  # noqa: PLC0415 (routes imports the blueprint)

        sid, phone, body = message_fields(form)
        found = keywords.match(body)
        if not sid or phone is None or found.intent not in (None, keywords.HELP):
            return None
        conn = self._connection()
        row = conn.execute(READ, {"phone": phone, "sid": sid}).fetchone()
        (
            member_id,
            locale,
            plan,
            contact,
            stopped,
            signing_up,
            seen_sid,
            conversation_id,
            conv_member,
            awaiting,
            seen,
            last_ack_at,
        ) = row
        if seen_sid or signing_up or awaiting is not None or (conversation_id is not None and conv_member != member_id):
            return None
        if member_id is not None and plan is None:
            return None  # a parent without a plan: the view finds one

        # What engage.sms.inbound.handle decides for these texts, in the same order.
        now = utcnow()
        ack_due = last_ack_at is None or now - last_ack_at > inbound.ACK_EVERY
        keep = ack = False
        reply: tuple[str, int] | None = None
        reply_locale = locale
        if found.intent == keywords.HELP:  # HELP always answers, even after STOP
            if member_id is None:
                return None
            reply = self._text(texts.help_text, locale, plan=plan, contact=contact)
        elif stopped:
            pass  # free text from a number that said STOP: kept for the record, no answer
        elif member_id is None:
            if ack_due:  # at most once an hour, so two robots never loop
                ack = True
                locales = tuple(self.app.config["ENGAGE_LOCALES"])
                reply, reply_locale = self._text(texts.unknown_number, None, locales=locales), "en"
        else:
            keep = True  # kept for a coordinator, acknowledged at most once an hour
            if ack_due:
                ack = True
                reply = self._text(texts.received, locale, plan=plan)

        params = {
            "phone": phone,
            "sid": sid,
            "body": body,
            "intent": found.intent,
            "now": now,
            "seen": seen,
            "conversation_id": conversation_id,
            "member_id": member_id,
            "keep": keep,
            "ack": ack,
        }
        text = ""
        if reply is not None:
            text, segments = reply
            values = outbox.row_values(
                phone,
                text,
                kind=OutboxKind.REPLY,
                locale=reply_locale,
                now=now,
                quiet=False,
                member_id=member_id,
                segments=segments,
            )
            values.update(outbox.sent_in_twiml(now))
            params.update({f"r_{name}": _plain(values.get(name)) for name in self.reply_columns})
        write = self.writes[(conversation_id is None, reply is not None)]
        touched, message_id, reply_id = conn.execute(write, params).fetchone()
        if not touched:
            return None  # the conversation changed since the read: the long way
        if message_id is None or reply_id is None:
            return NO_REPLY
        answer = MessagingResponse()
        answer.message(text, action=outbox.status_callback_url(reply_id, self.base_url), method="POST")
        return str(answer)

    def _text(self, render, locale: str | None, **params) -> tuple[str, int]:
        """A reply rendered in ``locale`` (None: the function picks its languages) and its
        number of segments, kept for the next text that needs the same."""
        key = (render.__name__, locale, *params.items())
        text = self._texts.get(key)
        if text is None:
            with self.app.app_context():
                if locale is None:
                    text = render(**params)
                else:
                    with force_locale(locale):
                        text = render(**params)
            if len(self._texts) > 4096:
                self._texts.clear()
            text = self._texts[key] = (text, count_segments(text).count)
        return text

    # The connection ----------------------------------------------------------------

    def _connection(self) -> psycopg.Connection:
        connections = getattr(_local, "connections", None)
        if connections is None:
            connections = _local.connections = {}
        held = connections.get(self.conninfo)
        if held is None or held.conn.closed or held.conn.broken:
            held = connections[self.conninfo] = _Held(psycopg.connect(self.conninfo, autocommit=True))
        return held.conn

    def _drop_connection(self) -> None:
        held = getattr(_local, "connections", {}).pop(self.conninfo, None)
        if held is not None:
            held.conn.close()


class _Held:
    """A thread's connection, closed when the thread ends (its locals are dropped)."""

    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def __del__(self):
        self.conn.close()
