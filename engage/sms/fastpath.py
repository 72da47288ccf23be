"""The incoming-text webhook's short way, on PostgreSQL.

Most texts are plain: free text from a parent whose conversation is waiting for
nothing, HELP, or free text from a number we do not know. For those, the whole answer
is known from one read, and everything the text changes can be written by one
statement, so this WSGI layer answers them without going through Flask, the ORM or a
pooled session.

Texts that arrive together are handled together (group commit): the request thread
that finds no batch running in its process takes every plain text waiting there (one
per phone number) and runs one ``SELECT`` for all of them (member, plan, STOP, sign-up,
conversation) and one autocommitted ``WITH … UPDATE … INSERT … INSERT`` (the
conversations, the texts, the replies' outbox rows) on the process's own connection;
the others wait for it and answer from what it wrote, and the oldest text still waiting
leads the next batch. A text is answered only after the statement that stored it has
committed, so a 200 to Twilio still means the text is kept. One text at a time is
simply a batch of one. Each batch writes one log line (how many texts, how many
answered, how long); texts the view answers log as any request does.

Everything else goes on to the Flask view (``engage.sms.routes``), which stays the
authority: a bad or missing signature, a text that is a word (STOP, START, YES, NO,
JOIN, a language) or an answer a part of engage is waiting for (a sign-up in progress,
``Conversation.awaiting``), a retried MessageSid, a person without a plan, SQLite, or
any database error. Nothing is written before that hand-over.

The rules are those of ``engage.sms.inbound`` — the same texts, the same "once an hour"
acknowledgement (``ACK_EVERY``), the same outbox rows (``outbox.row_values``) — and the
write only happens when the conversation is still as the read saw it: its
``last_inbound_at`` is compared in the ``UPDATE``'s ``WHERE``, which PostgreSQL
re-checks on the newest row version after waiting for its lock, so when a text from
the same number committed in between (a STOP, say), this one is not written: it is read
and decided again from what that text left (once; a second change sends it the long
way). Each write is one statement: all of its texts or none.
"""

from __future__ import annotations

import enum
import io
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from urllib.parse import unquote, urlparse

import psycopg
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql
from twilio.request_validator import RequestValidator, add_port, compare, remove_port
from twilio.twiml.messaging_response import MessagingResponse

from engage.models import Conversation, InboundMessage, OutboxKind, OutboxMessage, utcnow
from engage.security import STATIC_HEADERS
from engage.sms import inbound, keywords, outbox, texts
from engage.sms.segments import count_segments

log = logging.getLogger("engage")
PATH = "/sms/inbound"
MAX_FORM_BYTES = 64 * 1024  # Twilio's forms are about 1 KB; bigger ones take the long way
MAX_BATCH = 64  # texts written by one statement
# Reads and writes for a text whose conversation another text changed in between (from
# the same number, in another process): once more, then the long way.
ATTEMPTS = 2
# A process's batches in flight, each on its own connection. More than one overlaps the
# waits on PostgreSQL but makes each batch smaller: on the benchmark (docs/benchmarks.md),
# 2 gave fewer texts a second than 1.
BATCHES_AT_ONCE = 1
NO_REPLY = str(MessagingResponse())
_CALLBACK_MARK = 987_654_321_987_654_321  # stands for the outbox row id in a cached answer

# A batch is a handful of texts, each joined to its rows by primary or unique key: index
# lookups always. (The planner cannot know how many texts a JSON array holds and guesses
# 100, which with a young table's statistics picks hash joins over whole-table scans.)
PLANNER_OPTIONS = (
    "-c enable_hashjoin=off -c enable_mergejoin=off -c enable_seqscan=off -c plan_cache_mode=force_generic_plan"
)

READ = """
SELECT x.i, m.id AS member_id, m.locale, m.short_name, m.contact_phone,
       (SELECT true FROM sms_opt_outs o WHERE o.phone = x.phone LIMIT 1) IS NOT NULL AS stopped,
       (SELECT true FROM signup_conversations s WHERE s.phone = x.phone LIMIT 1) IS NOT NULL AS signing_up,
       (SELECT true FROM inbound_messages im WHERE im.message_sid = x.sid LIMIT 1) IS NOT NULL AS seen_sid,
       c.id AS conversation_id, c.member_id AS conversation_member_id, c.awaiting, c.last_inbound_at,
       c.last_ack_at
FROM jsonb_to_recordset(%(texts)s::jsonb) AS x(i integer, phone text, sid text)
LEFT JOIN LATERAL (
    SELECT m.id, m.locale, p.short_name, p.contact_phone
    FROM members m LEFT JOIN plans p ON p.id = m.plan_id
    WHERE m.phone = x.phone AND m.deleted_at IS NULL
    LIMIT 1
) AS m ON true
LEFT JOIN LATERAL (
    SELECT c.id, c.member_id, c.awaiting, c.last_inbound_at, c.last_ack_at
    FROM conversations c WHERE c.phone = x.phone
    LIMIT 1
) AS c ON true
"""

# One row of ``x`` a text. A conversation is changed only when it is as the read saw it:
# its last_inbound_at moves with every text (and only texts move last_ack_at), and the
# MessageSid was not stored meanwhile. A number's first text creates its conversation
# (another delivery creating it at the same moment wins, and this text takes the long
# way). The text is stored only with its conversation, the reply only with its text.
_WRITE = """
WITH x AS (
    SELECT * FROM jsonb_to_recordset(%(texts)s::jsonb) AS x({columns})
), upd AS (
    UPDATE conversations AS c SET
        last_inbound_at = %(now)s,
        last_message_at = %(now)s,
        needs_reply = c.needs_reply OR x.keep,
        handled_at = CASE WHEN x.keep THEN NULL ELSE c.handled_at END,
        last_ack_at = CASE WHEN x.ack THEN %(now)s ELSE c.last_ack_at END
    FROM x
    WHERE c.id = ANY(string_to_array(%(conversation_ids)s, ',')::integer[])
      AND c.id = x.conversation_id
      AND c.awaiting IS NULL
      AND c.member_id IS NOT DISTINCT FROM x.member_id
      AND c.last_inbound_at IS NOT DISTINCT FROM x.seen
      AND (SELECT true FROM inbound_messages im WHERE im.message_sid = x.sid LIMIT 1) IS NULL
    RETURNING x.i, c.id
), ins AS (
    INSERT INTO conversations (phone, member_id, needs_reply, last_inbound_at, last_message_at, last_ack_at,
                               created_at)
    SELECT x.phone, x.member_id, x.keep, %(now)s, %(now)s, CASE WHEN x.ack THEN %(now)s END, %(now)s
    FROM x
    WHERE x.conversation_id IS NULL
      AND (SELECT true FROM inbound_messages im WHERE im.message_sid = x.sid LIMIT 1) IS NULL
    ON CONFLICT (phone) DO NOTHING
    RETURNING phone, id
), c AS (
    SELECT i, id FROM upd
    UNION ALL
    SELECT x.i, ins.id FROM ins JOIN x ON x.phone = ins.phone AND x.conversation_id IS NULL
), msg AS (
    INSERT INTO inbound_messages (message_sid, conversation_id, body, intent, received_at)
    SELECT x.sid, c.id, x.body, x.intent, %(now)s FROM c JOIN x ON x.i = c.i
    ON CONFLICT (message_sid) DO NOTHING
    RETURNING message_sid, id
), reply AS (
    INSERT INTO outbox_messages ({reply_columns})
    SELECT {reply_values} FROM c JOIN x ON x.i = c.i JOIN msg ON msg.message_sid = x.sid
    WHERE x.reply
    RETURNING conversation_id, id
)
SELECT x.i, c.id IS NOT NULL AS touched, msg.id AS message_id, reply.id AS reply_id
FROM x
LEFT JOIN c ON c.i = x.i
LEFT JOIN msg ON msg.message_sid = x.sid
LEFT JOIN reply ON reply.conversation_id = c.id
"""


def _sql_type(table: sa.Table, column: str) -> str:
    return table.c[column].type.compile(dialect=postgresql.dialect())


def _write_statement(reply_columns: list[str]) -> str:
    """The batch write: its texts come as one JSON array of objects. Column names and
    types are the models' own, never input; values are parameters."""
    conversations, texts_, replies = Conversation.__table__, InboundMessage.__table__, OutboxMessage.__table__
    columns = [
        ("i", "integer"),
        ("phone", _sql_type(conversations, "phone")),
        ("sid", _sql_type(texts_, "message_sid")),
        ("body", _sql_type(texts_, "body")),
        ("intent", _sql_type(texts_, "intent")),
        ("conversation_id", "integer"),
        ("member_id", "integer"),
        ("seen", _sql_type(conversations, "last_inbound_at")),
        ("keep", "boolean"),
        ("ack", "boolean"),
        ("reply", "boolean"),
    ]
    own = [name for name in reply_columns if name != "conversation_id"]
    columns += [(f"r_{name}", _sql_type(replies, name)) for name in own]
    values = ", ".join("c.id" if name == "conversation_id" else f"x.r_{name}" for name in reply_columns)
    return _WRITE.format(
        columns=", ".join(f"{name} {kind}" for name, kind in columns),
        reply_columns=", ".join(reply_columns),
        reply_values=values,
    )


def _json_value(value):
    """json.dumps's fallback for a batch's values: times as ISO 8601 (PostgreSQL reads
    them back to the microsecond), enum members as the values the ORM stores (string
    enums need none: JSON writes them as the strings they are)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not a value the short way writes")


class _Form(dict):
    """A parsed form, name -> its values: ``get`` gives the first, ``getall`` all of them
    (what twilio's RequestValidator asks a multi-valued form for)."""

    __slots__ = ()

    def get(self, name, default=None):
        values = dict.get(self, name)
        return values[0] if values else default

    getall = dict.__getitem__

    @classmethod
    def parse(cls, raw: bytes) -> _Form:
        """What ``urllib.parse.parse_qsl(text, keep_blank_values=True)`` gives, with
        ``unquote`` called only on the parts that hold a "+" or a "%" (most of Twilio's
        fields hold neither)."""
        form = cls()
        for field in raw.decode("utf-8").split("&"):
            if not field:
                continue
            name, _, value = field.partition("=")
            if "+" in name or "%" in name:
                name = unquote(name.replace("+", " "))
            if "+" in value or "%" in value:
                value = unquote(value.replace("+", " "))
            values = dict.get(form, name)
            if values is None:
                form[name] = [value]
            else:
                values.append(value)
        return form


class _Text:
    """A plain text waiting for its batch, and what became of it."""

    __slots__ = ("phone", "sid", "body", "intent", "answer", "lead", "_ready")

    def __init__(self, phone: str, sid: str, body: str, intent: str | None):
        self.phone, self.sid, self.body, self.intent = phone, sid, body, intent
        self.answer: str | None = None  # TwiML, or None: the long way
        self.lead: tuple[int, list[_Text]] | None = None  # (slot, batch) when woken to lead one
        self._ready = threading.Lock()  # held until the text is answered or asked to lead
        self._ready.acquire()

    def wait(self) -> None:
        self._ready.acquire()

    def wake(self) -> None:
        self._ready.release()


class GroupCommit:
    """Runs texts in batches, at most ``slots`` batches at a time per process, with no
    thread of its own: a text that finds a slot free leads — it runs a batch of itself
    and every text waiting — and the others wait to be answered. When a batch ends, the
    oldest text that may go leads the next in its slot. A number's texts go one batch at
    a time, in the order they came: a text whose number is in a running batch waits."""

    def __init__(self, run: Callable[[list[_Text], int], None], *, slots: int = 1, limit: int = MAX_BATCH):
        self.run = run
        self.limit = limit
        self._lock = threading.Lock()
        self._free = list(range(slots))
        self._waiting: list[_Text] = []
        self._running: set[str] = set()  # the numbers in running batches
        self.batches = self.texts = 0  # for tests and the benchmark

    def submit(self, text: _Text) -> str | None:
        with self._lock:
            lead = bool(self._free) and text.phone not in self._running
            if lead:
                slot, batch = self._free.pop(0), self._take(text)
            else:
                self._waiting.append(text)
        if not lead:
            text.wait()
            if not text.lead:
                return text.answer
            slot, batch = text.lead
        try:
            self.run(batch, slot)
        finally:
            with self._lock:
                self.batches += 1
                self.texts += len(batch)
                self._running.difference_update(t.phone for t in batch)
                following = next((t for t in self._waiting if t.phone not in self._running), None)
                if following is None:
                    self._free.append(slot)
                    self._free.sort()
                else:
                    self._waiting.remove(following)
                    following.lead = (slot, self._take(following))
            for other in batch[1:]:
                other.wake()
            if following is not None:
                following.wake()
        return text.answer

    def _take(self, leader: _Text) -> list[_Text]:
        """The leader's batch: it, then the texts waiting that may go (under the lock)."""
        batch, rest = [leader], []
        self._running.add(leader.phone)
        for other in self._waiting:
            if other.phone in self._running or len(batch) >= self.limit:
                rest.append(other)
            else:
                batch.append(other)
                self._running.add(other.phone)
        self._waiting = rest
        return batch


class InboundFastPath:
    """WSGI middleware in front of the Flask app; see the module's docstring."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app
        url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.base_url = app.config["PUBLIC_BASE_URL"].rstrip("/")
        # RequestValidator.validate's two spellings of our address (with and without the
        # port), the one Twilio uses first.
        parsed = urlparse(self.base_url + PATH)
        self.signed_urls = tuple(dict.fromkeys((remove_port(parsed), add_port(parsed))))
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
        self._texts: dict[tuple, tuple[str, int, tuple[str, str]]] = {}
        sample = outbox.row_values("+1", "x", kind=OutboxKind.REPLY, locale="en", now=utcnow(), quiet=False)
        self.reply_columns = sorted({**sample, **outbox.sent_in_twiml(utcnow())})
        self.write = _write_statement(self.reply_columns)
        self.headers = [("Content-Type", "text/xml; charset=utf-8"), *STATIC_HEADERS.items()]
        self.headers.append(("Cache-Control", "no-store"))
        self.group = GroupCommit(self._run, slots=BATCHES_AT_ONCE)
        self._held: list[psycopg.Connection | None] = [None] * BATCHES_AT_ONCE  # a connection a slot
        # Each connection is closed when the short way goes (the app and it refer to each other,
        # so they go together, in a garbage collection): a finalizer, not __del__, whose order
        # in a collection would not be known.
        self._closers: list[weakref.finalize | None] = [None] * BATCHES_AT_ONCE
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
        raw = self._read_form(environ)
        if raw is None:
            return self.wsgi_app(environ, start_response)
        answer = self._answer(raw, environ.get("HTTP_X_TWILIO_SIGNATURE", ""))
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(raw)
            return self.wsgi_app(environ, start_response)
        self.handled += 1
        body = answer.encode()
        start_response("200 OK", [*self.headers, ("Content-Length", str(len(body)))])
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

    def _signed(self, form: _Form, signature: str) -> bool:
        """RequestValidator.validate for our address (it has no query string), trying the
        address as Twilio usually signs it first."""
        return bool(signature) and any(
            compare(self.validator.compute_signature(url, form), signature) for url in self.signed_urls
        )

    # The rules ---------------------------------------------------------------------

    def _answer(self, raw: bytes, signature: str) -> str | None:
        """The TwiML answer, or None to let the Flask view handle this request."""
        try:
            form = _Form.parse(raw)
        except UnicodeDecodeError:
            return None
        if not self._signed(form, signature):
            return None  # the view refuses it, and logs why
        from engage.sms.routes import message_fields  # noqa: PLC0415 (routes imports the blueprint)

        sid, phone, body = message_fields(form)
        found = keywords.match(body)
        if not sid or phone is None or found.intent not in (None, keywords.HELP):
            return None
        return self.group.submit(_Text(phone, sid, body, found.intent))

    def _run(self, batch: list[_Text], slot: int) -> None:
        """Read, decide and write a batch; each text's ``answer`` stays None for the long
        way. One log line a batch (the texts the view answers have theirs)."""
        started = time.perf_counter()
        try:
            conn = self._connection(slot)
            texts = batch
            for _ in range(ATTEMPTS):
                texts = self._write(conn, texts, self._read(conn, texts))
                if not texts:
                    break
        except psycopg.Error as exc:
            # The Flask view answers instead; nothing was written here.
            log.warning("sms fast path: database error, taking the long way", extra={"error": type(exc).__name__})
            self._drop_connection(slot)
            for text in batch:
                text.answer = None
        except Exception:
            log.exception("sms fast path failed, taking the long way")
            for text in batch:
                text.answer = None
        log.info(
            "sms texts answered",
            extra={
                "path": PATH,
                "via": "short",
                "texts": len(batch),
                "answered": sum(text.answer is not None for text in batch),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    def _read(self, conn: psycopg.Connection, batch: list[_Text]) -> dict[int, tuple]:
        # One JSON text, not arrays: psycopg passes a str as it is.
        param = json.dumps([{"i": i, "phone": t.phone, "sid": t.sid} for i, t in enumerate(batch)], ensure_ascii=False)
        found: dict[int, tuple] = {}
        for row in conn.execute(READ, {"texts": param}).fetchall():
            found.setdefault(row[0], row[1:])
        return found

    def _write(self, conn: psycopg.Connection, batch: list[_Text], found: dict[int, tuple]) -> list[_Text]:
        """Decide and write; the texts whose conversation changed since the read (to be
        read again). The others are answered, or left to the long way."""
        now = utcnow()
        rows: list[dict] = []
        replies: dict[int, tuple[str, int, tuple[str, str]]] = {}
        for i, text in enumerate(batch):
            decided = self._decide(text, found[i], now)
            if decided is None:
                continue
            values, reply = decided
            if reply is not None:
                replies[i] = reply
            values["i"] = i
            rows.append(values)
        if not rows:
            return []
        param = json.dumps(rows, default=_json_value, ensure_ascii=False)
        ids = ",".join(str(row["conversation_id"]) for row in rows if row["conversation_id"] is not None)
        rows = conn.execute(self.write, {"texts": param, "conversation_ids": ids, "now": now}).fetchall()
        changed = []
        for i, touched, message_id, reply_id in rows:
            if not touched:
                changed.append(batch[i])  # another text from this number came first
                continue
            if message_id is None or i not in replies or reply_id is None:
                batch[i].answer = NO_REPLY
            else:
                head, tail = replies[i][2]
                batch[i].answer = f"{head}{reply_id}{tail}"
        return changed

    def _decide(self, text: _Text, row: tuple, now: datetime) -> tuple[dict, tuple | None] | None:
        """What engage.sms.inbound.handle decides for this text, in the same order: the
        write's values and the reply, or None for the long way."""
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
        ack_due = last_ack_at is None or now - last_ack_at > inbound.ACK_EVERY
        keep = ack = False
        reply = None
        reply_locale = locale
        if text.intent == keywords.HELP:  # HELP always answers, even after STOP
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
        values = {
            "phone": text.phone,
            "sid": text.sid,
            "body": text.body,
            "intent": text.intent,
            "conversation_id": conversation_id,
            "member_id": member_id,
            "seen": seen,
            "keep": keep,
            "ack": ack,
            "reply": reply is not None,
        }
        if reply is not None:
            row_values = outbox.row_values(
                text.phone,
                reply[0],
                kind=OutboxKind.REPLY,
                locale=reply_locale,
                now=now,
                quiet=False,
                member_id=member_id,
                segments=reply[1],
            )
            row_values.update(outbox.sent_in_twiml(now))
            values.update({f"r_{name}": value for name, value in row_values.items()})  # JSON: _json_value
        return values, reply

    def _text(self, render, locale: str | None, **params) -> tuple[str, int, tuple[str, str]]:
        """A reply rendered in ``locale`` (None: the function picks its languages), its
        number of segments and its TwiML answer split where the outbox row's id goes;
        kept for the next text that needs the same."""
        key = (render.__name__, locale, *params.items())
        found = self._texts.get(key)
        if found is None:
            with self.app.app_context():
                if locale is None:
                    text = render(**params)
                else:
                    with force_locale(locale):
                        text = render(**params)
            answer = MessagingResponse()
            answer.message(text, action=outbox.status_callback_url(_CALLBACK_MARK, self.base_url), method="POST")
            head, tail = str(answer).split(str(_CALLBACK_MARK))
            if len(self._texts) > 4096:
                self._texts.clear()
            found = self._texts[key] = (text, count_segments(text).count, (head, tail))
        return found

    # The connections: one a slot, used by one batch at a time ------------------------

    def _connection(self, slot: int = 0) -> psycopg.Connection:
        """The slot's connection (only the batch running in that slot uses it)."""
        conn = self._held[slot]
        if conn is None or conn.closed or conn.broken:
            self._drop_connection(slot)
            conn = psycopg.connect(self.conninfo, autocommit=True, options=PLANNER_OPTIONS)
            conn.prepare_threshold = 0  # the two statements are prepared on first use
            self._held[slot] = conn
            self._closers[slot] = weakref.finalize(self, conn.close)
        return conn

    def _drop_connection(self, slot: int = 0) -> None:
        self._held[slot] = None
        closer, self._closers[slot] = self._closers[slot], None
        if closer is not None:
            closer()  # closes the connection (once)
