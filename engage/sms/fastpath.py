"""The incoming-text webhook's short way, on PostgreSQL.

Most texts are plain: free text from a parent whose conversation is waiting for
nothing, HELP, or free text from a number we do not know. For those, one SQL statement
can read what decides the answer and write everything the text changes, so this WSGI
layer answers them without going through Flask, the ORM or a pooled session.

Texts that arrive together are handled together (group commit): the request thread
that finds no batch running in its process takes every plain text waiting there (one
per phone number) and runs one autocommitted statement for all of them on the process's
own connection. It reads what decides each text (member, plan, STOP, sign-up,
conversation), decides, and writes (the conversations, the texts, the replies' outbox
rows). The replies' words are rendered by Python (Flask-Babel, the catalogs), once a
process for each language, plan and contact, and the statement is given those rendered
so far; a text whose reply is not among them is not written: its reply is rendered and
the text goes again. The other texts wait for the batch and answer from what it wrote,
and the oldest text still waiting leads the next batch. A text is answered only once
the statement that stored it has committed and that commit is on disk (below), so a 200
to Twilio still means the text is kept. One text at a time is simply a batch of one. Each batch writes one log line (how
many texts, how many answered, how long); texts the view answers log as any request does.

The batches' statements commit without waiting for the disk (``synchronous_commit`` off
on their connection), so a process's next batch can start while the last one's commit is
still on its way to the disk; the last batch's texts are answered only once a flush covers
their commit. A flush is a one-row transaction committed the usual way, waiting for the
disk, on the process's flush connection: PostgreSQL writes its log in order, so the disk
then holds every commit made before it. One flush serves every batch that committed before
it began. Until then, other transactions may already read what a batch wrote; were
PostgreSQL to stop before the flush, that is lost with the batch, whose texts got no
answer, so Twilio's delivery failed and nothing it was told is missing. (A transaction
that read it and committed the usual way flushed it too.)

Everything else goes on to the Flask view (``engage.sms.routes``), which stays the
authority: a bad or missing signature, a text that is a word (STOP, START, YES, NO,
JOIN, a language) or an answer a part of engage is waiting for (a sign-up in progress,
``Conversation.awaiting``), a retried MessageSid, a person without a plan, SQLite, or
any database error. Nothing is written before that hand-over.

The rules are those of ``engage.sms.inbound`` — the same texts, the same "once an hour"
acknowledgement (``ACK_EVERY``), the same outbox rows (``outbox.row_values``) — and a
conversation is written only when it is still as the statement's snapshot saw it: its
``last_inbound_at`` is compared in the ``UPDATE``'s ``WHERE``, which PostgreSQL
re-checks on the newest row version after waiting for its lock, so when a text from the
same number committed in between (a STOP, say), this one is not written: it goes again
and is decided from what that text left (once; a second change sends it the long way).
Each statement writes all of a text or none of it.
"""

from __future__ import annotations

import enum
import io
import json
import logging
import re
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

from engage.i18n import locales
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
# 2 gave fewer texts a second than 1, also when the second only ran once 4 texts waited.
# The wait for the disk is overlapped by the flush instead (see the module's docstring).
BATCHES_AT_ONCE = 1
# A flush: a transaction id makes a commit record, which a usual commit waits to be on disk.
FLUSH = "SELECT pg_current_xact_id()"
NO_REPLY = str(MessagingResponse())
# Replies rendered and kept a process: the statement is given them all, so it stays small
# (a plan has 6 and there is one for unknown numbers); past this, they are rendered anew.
MAX_REPLIES = 200
_CALLBACK_MARK = 987_654_321_987_654_321  # stands for the outbox row id in a cached answer

# A batch is a handful of texts, each joined to its rows by primary or unique key: index
# lookups always. (The planner cannot know how many texts a JSON array holds and guesses
# 100, which with a young table's statistics picks hash joins over whole-table scans.)
# No JIT: compiling would take longer than the statement, which such guesses can trigger.
PLANNER_OPTIONS = (
    "-c enable_hashjoin=off -c enable_mergejoin=off -c enable_seqscan=off -c plan_cache_mode=force_generic_plan "
    "-c jit=off"
)
# The batches' connections: their commits do not wait for the disk, a flush does (see the
# module's docstring).
BATCH_OPTIONS = PLANNER_OPTIONS + " -c synchronous_commit=off"

# One statement a batch, autocommitted: it reads what decides each text (member, plan,
# STOP, sign-up, conversation), decides as engage.sms.inbound does, and writes what the
# decision says (the conversations, the texts, the replies' outbox rows).
#
# x: the texts. t: the replies rendered so far in this process (kind, language, plan name,
# contact -> text and segments). b: the batch's outbox values shared by every reply.
# r: what the statement's snapshot holds for each text. d: the decision — ``long_way``
# (left to the view, nothing written), ``kind`` (the reply, if any), ``keep`` (the
# conversation waits for a coordinator), ``ack``. e: the reply's text, or ``missing``
# when this process has not rendered it yet (not written: rendered, then sent again).
#
# A conversation is changed only when it is as the snapshot saw it: its last_inbound_at
# moves with every text (and only texts move last_ack_at), and the MessageSid was not
# stored meanwhile. PostgreSQL checks the UPDATE's WHERE again on the newest row version
# after waiting for its lock, so a text from the same number that committed after the
# snapshot (a STOP, say) leaves this one unwritten: it goes again, decided from what that
# text left. A number's first text creates its conversation (another delivery creating
# it at the same moment wins, and this text goes again). The text is stored only with
# its conversation, the reply only with its text.
_STATEMENT = """
WITH x AS (
    SELECT * FROM jsonb_to_recordset(%(texts)s::jsonb) AS x({text_columns})
), t AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(%(replies)s::jsonb)
        AS t(kind text, locale text, plan text, contact text, body text, segments integer)
), b AS (
    SELECT * FROM jsonb_to_record(%(shared)s::jsonb) AS b({shared_columns})
), r AS MATERIALIZED (  -- each text's lookups once
    SELECT x.*, m.id AS member_id, m.locale, m.short_name AS plan, m.contact_phone AS contact,
           (SELECT true FROM sms_opt_outs o WHERE o.phone = x.phone LIMIT 1) IS NOT NULL AS stopped,
           (SELECT true FROM signup_conversations s WHERE s.phone = x.phone LIMIT 1) IS NOT NULL AS signing_up,
           (SELECT true FROM inbound_messages im WHERE im.message_sid = x.sid LIMIT 1) IS NOT NULL AS seen_sid,
           c.id AS conversation_id, c.member_id AS conversation_member_id, c.awaiting,
           c.last_inbound_at AS seen, c.last_ack_at
    FROM x
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
), d AS (
    SELECT r.*,
           (r.seen_sid OR r.signing_up OR r.awaiting IS NOT NULL
            OR (r.conversation_id IS NOT NULL AND r.conversation_member_id IS DISTINCT FROM r.member_id)
            OR (r.member_id IS NOT NULL AND r.plan IS NULL)  -- a parent without a plan: the view finds one
            OR (r.intent IS NOT DISTINCT FROM %(help)s AND r.member_id IS NULL)) AS long_way,
           CASE
               WHEN r.intent IS NOT DISTINCT FROM %(help)s THEN 'help'  -- HELP always answers, even after STOP
               WHEN r.stopped THEN NULL  -- kept for the record, no answer
               -- acknowledged at most once an hour (so two robots never loop)
               WHEN r.last_ack_at IS NOT NULL AND r.last_ack_at >= %(ack_before)s THEN NULL
               WHEN r.member_id IS NULL THEN 'unknown'
               ELSE 'received'
           END AS kind,
           (r.intent IS DISTINCT FROM %(help)s AND NOT r.stopped AND r.member_id IS NOT NULL) AS keep
    FROM r
), e AS (
    SELECT d.*, coalesce(d.kind IN ('unknown', 'received'), false) AS ack,
           t.body AS reply_body, t.segments AS reply_segments,
           CASE d.kind WHEN 'unknown' THEN %(unknown_locale)s ELSE d.locale END AS reply_locale,
           d.kind IS NOT NULL AND t.body IS NULL AS missing
    FROM d LEFT JOIN t
      ON t.kind = d.kind
     AND t.locale IS NOT DISTINCT FROM (CASE WHEN d.kind <> 'unknown' THEN d.locale END)
     AND t.plan IS NOT DISTINCT FROM (CASE WHEN d.kind <> 'unknown' THEN d.plan END)
     AND t.contact IS NOT DISTINCT FROM (CASE WHEN d.kind = 'help' THEN d.contact END)
), go AS (
    SELECT * FROM e WHERE NOT e.long_way AND NOT e.missing
), upd AS (
    UPDATE conversations AS c SET
        last_inbound_at = %(now)s,
        last_message_at = %(now)s,
        needs_reply = c.needs_reply OR go.keep,
        handled_at = CASE WHEN go.keep THEN NULL ELSE c.handled_at END,
        last_ack_at = CASE WHEN go.ack THEN %(now)s ELSE c.last_ack_at END
    FROM go
    WHERE c.id = go.conversation_id
      AND c.awaiting IS NULL
      AND c.member_id IS NOT DISTINCT FROM go.member_id
      AND c.last_inbound_at IS NOT DISTINCT FROM go.seen
      AND (SELECT true FROM inbound_messages im WHERE im.message_sid = go.sid LIMIT 1) IS NULL
    RETURNING go.i, c.id
), ins AS (
    INSERT INTO conversations (phone, member_id, needs_reply, last_inbound_at, last_message_at, last_ack_at,
                               created_at)
    SELECT go.phone, go.member_id, go.keep, %(now)s, %(now)s, CASE WHEN go.ack THEN %(now)s END, %(now)s
    FROM go
    WHERE go.conversation_id IS NULL
    ON CONFLICT (phone) DO NOTHING
    RETURNING phone, id
), c AS (
    SELECT i, id FROM upd
    UNION ALL
    SELECT go.i, ins.id FROM ins JOIN go ON go.phone = ins.phone AND go.conversation_id IS NULL
), msg AS (
    INSERT INTO inbound_messages (message_sid, conversation_id, body, intent, received_at)
    SELECT go.sid, c.id, go.body, go.intent, %(now)s FROM c JOIN go ON go.i = c.i
    ON CONFLICT (message_sid) DO NOTHING
    RETURNING message_sid, id
), reply AS (
    INSERT INTO outbox_messages ({reply_columns})
    SELECT {reply_values} FROM c JOIN go ON go.i = c.i JOIN msg ON msg.message_sid = go.sid CROSS JOIN b
    WHERE go.kind IS NOT NULL
    RETURNING conversation_id, id
)
SELECT e.i, e.long_way, e.missing, c.id IS NOT NULL AS touched, msg.id AS message_id, reply.id AS reply_id,
       e.kind, e.locale, e.plan, e.contact
FROM e
LEFT JOIN c ON c.i = e.i
LEFT JOIN msg ON msg.message_sid = e.sid
LEFT JOIN reply ON reply.conversation_id = c.id
"""

# The outbox columns whose values differ from one reply to the next (the rest come from
# outbox.row_values once a batch), and where the statement takes them from.
_REPLY_OWN = {
    "phone": "go.phone",
    "body": "go.reply_body",
    "locale": "go.reply_locale",
    "member_id": "go.member_id",
    "segments": "go.reply_segments",
    "conversation_id": "c.id",
}


def _sql_type(table: sa.Table, column: str) -> str:
    return table.c[column].type.compile(dialect=postgresql.dialect())


def _statement(reply_columns: list[str]) -> tuple[bytes, tuple[str, ...]]:
    """The batch's statement, with PostgreSQL's own placeholders ($1, $2, …), and the
    names of its parameters in their order. Its texts come as one JSON array of objects,
    the shared outbox values as one JSON object. Column names and types are the models'
    own, never input; values are parameters.

    Written here once, and run with a raw cursor: psycopg would otherwise rewrite a
    statement this long (over ``MAX_CACHED_STATEMENT_LENGTH``) at every execution."""
    conversations, texts_, replies = Conversation.__table__, InboundMessage.__table__, OutboxMessage.__table__
    text_columns = [
        ("i", "integer"),
        ("phone", _sql_type(conversations, "phone")),
        ("sid", _sql_type(texts_, "message_sid")),
        ("body", _sql_type(texts_, "body")),
        ("intent", _sql_type(texts_, "intent")),
    ]
    shared = [name for name in reply_columns if name not in _REPLY_OWN]
    sql = _STATEMENT.format(
        text_columns=", ".join(f"{name} {kind}" for name, kind in text_columns),
        shared_columns=", ".join(f"{name} {_sql_type(replies, name)}" for name in shared),
        reply_columns=", ".join(reply_columns),
        reply_values=", ".join(_REPLY_OWN.get(name, f"b.{name}") for name in reply_columns),
    )
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql).encode(), tuple(names)


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
        fields hold neither) and not on a phone number's "%2B"."""
        form = cls()
        for field in raw.decode("utf-8").split("&"):
            if not field:
                continue
            name, _, value = field.partition("=")
            if "+" in name or "%" in name:
                name = unquote(name.replace("+", " "))
            if "+" in value or "%" in value:
                if value.startswith("%2B") and value[3:].isalnum():
                    value = "+" + value[3:]  # a phone number (From, To): what unquote gives
                else:
                    value = unquote(value.replace("+", " "))
            values = dict.get(form, name)
            if values is None:
                form[name] = [value]
            else:
                values.append(value)
        return form


class _Text:
    """A plain text waiting for its batch, and what became of it."""

    __slots__ = ("phone", "sid", "body", "intent", "answer", "lead", "changes", "_ready")

    def __init__(self, phone: str, sid: str, body: str, intent: str | None):
        self.phone, self.sid, self.body, self.intent = phone, sid, body, intent
        self.changes = 0  # times another text from the number committed first
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
    a time, in the order they came: a text whose number is in a running batch waits.

    ``run(batch, slot)`` returns what ``durable(batch, done)`` needs to make the batch's
    writes durable (None: nothing to do). The leader calls ``durable`` after it has handed
    the slot on, so the next batch runs meanwhile, and before the batch's texts are answered."""

    def __init__(
        self,
        run: Callable[[list[_Text], int], object],
        *,
        slots: int = 1,
        limit: int = MAX_BATCH,
        durable: Callable[[list[_Text], object], None] | None = None,
    ):
        self.run = run
        self.durable = durable
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
        done = None
        try:
            done = self.run(batch, slot)
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
            if following is not None:
                following.wake()
            if done is not None and self.durable is not None:
                self.durable(batch, done)
            for other in batch[1:]:
                other.wake()
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
        # The replies rendered so far: (kind, language, plan, contact) -> (text, segments, TwiML)
        self._replies: dict[tuple, tuple[str, int, tuple[str, str]]] = {}
        self._replies_json = "[]"  # the same, as the statement is given them
        sample = outbox.row_values("+1", "x", kind=OutboxKind.REPLY, locale="en", now=utcnow(), quiet=False)
        self.reply_columns = sorted({**sample, **outbox.sent_in_twiml(utcnow())})
        other = outbox.row_values(
            "+2",
            "yy",
            kind=OutboxKind.REPLY,
            locale="es",
            now=utcnow(),
            quiet=False,
            member_id=1,
            conversation_id=1,
            segments=2,
        )
        varying = {name for name in self.reply_columns if sample.get(name) != other.get(name)} - {
            "due_at",
            "created_at",
        }
        if not varying <= _REPLY_OWN.keys():  # outbox.row_values grew a value of its own per text
            raise RuntimeError(f"the short way does not know where to take {sorted(varying - _REPLY_OWN.keys())} from")
        self.statement, self.parameters = _statement(self.reply_columns)
        self.headers = [("Content-Type", "text/xml; charset=utf-8"), *STATIC_HEADERS.items()]
        self.headers.append(("Cache-Control", "no-store"))
        self.group = GroupCommit(self._run, slots=BATCHES_AT_ONCE, durable=self._flush)
        # The statements this process's batches committed, counted; a flush covers the
        # first ``_flushed`` of them. One flush at a time.
        self._committed = self._flushed = 0
        self._count_lock, self._flush_lock = threading.Lock(), threading.Lock()
        # A connection a slot, then the flush connection.
        self.flush_slot = BATCHES_AT_ONCE
        self._held: list[psycopg.Connection | None] = [None] * (BATCHES_AT_ONCE + 1)
        # Each connection is closed when the short way goes (the app and it refer to each other,
        # so they go together, in a garbage collection): a finalizer, not __del__, whose order
        # in a collection would not be known.
        self._closers: list[weakref.finalize | None] = [None] * (BATCHES_AT_ONCE + 1)
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

    def _run(self, batch: list[_Text], slot: int) -> int | None:
        """Decide and write a batch; each text's ``answer`` stays None for the long way.
        Returns the number of the batch's last commit, for ``_flush`` (None: none made).
        One log line a batch (the texts the view answers have theirs)."""
        started = time.perf_counter()
        conn = committed = None
        try:
            conn = self._connection(slot)
            texts = batch
            # A text goes again when its reply was not rendered yet (once: it is now) or
            # when another text from its number committed first (ATTEMPTS in all).
            for _ in range(ATTEMPTS + 1):
                texts = self._write(conn, texts)
                committed = self._count_commit()
                if not texts:
                    break
        except psycopg.Error as exc:
            # The Flask view answers instead. The statement wrote nothing, unless the
            # connection went after its commit: so it is flushed too before the view
            # (which would then find its MessageSids) answers.
            log.warning("sms fast path: database error, taking the long way", extra={"error": type(exc).__name__})
            if conn is not None:
                committed = self._count_commit()
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
        return committed

    def _count_commit(self) -> int:
        with self._count_lock:
            self._committed += 1
            return self._committed

    def _flush(self, batch: list[_Text], committed: int) -> None:
        """Return once the disk holds this process's commit number ``committed`` (and all
        before it). A flush that began after that commit was counted serves; else this one
        flushes every commit counted so far. Without a flush, the texts go the long way."""
        with self._flush_lock:
            if self._flushed >= committed:
                return
            with self._count_lock:
                covered = self._committed
            error = None
            for _ in range(2):  # a connection lost since the last flush: once more on a new one
                try:
                    self._connection(self.flush_slot).execute(FLUSH)
                except psycopg.Error as exc:
                    error = exc
                    self._drop_connection(self.flush_slot)
                else:
                    self._flushed = covered
                    return
        log.warning("sms fast path: no flush, taking the long way", extra={"error": type(error).__name__})
        for text in batch:
            text.answer = None

    def _write(self, conn: psycopg.Connection, batch: list[_Text]) -> list[_Text]:
        """Run the statement for ``batch``; the texts to send again. The others are
        answered, or left to the long way (``answer`` None)."""
        now = utcnow()
        shared = outbox.row_values("", "", kind=OutboxKind.REPLY, locale="", now=now, quiet=False)
        shared.update(outbox.sent_in_twiml(now))
        params = {
            # One JSON text each, not arrays: psycopg passes a str as it is.
            "texts": json.dumps(
                [
                    {"i": i, "phone": t.phone, "sid": t.sid, "body": t.body, "intent": t.intent}
                    for i, t in enumerate(batch)
                ],
                ensure_ascii=False,
            ),
            "replies": self._replies_json,
            "shared": json.dumps({k: v for k, v in shared.items() if k not in _REPLY_OWN}, default=_json_value),
            "now": now,
            "ack_before": now - inbound.ACK_EVERY,
            "unknown_locale": inbound.UNKNOWN_NUMBER_LOCALE,
            "help": keywords.HELP,
        }
        again = []
        for i, long_way, missing, touched, message_id, reply_id, kind, locale, plan, contact in conn.execute(
            self.statement, [params[name] for name in self.parameters]
        ).fetchall():
            text = batch[i]
            if long_way:
                text.answer = None
            elif missing:
                self._reply(kind, locale, plan, contact)  # rendered now, for this text and the next
                again.append(text)
            elif not touched:  # another text from this number came first
                text.changes += 1
                if text.changes < ATTEMPTS:
                    again.append(text)
                else:
                    text.answer = None
            elif message_id is None or reply_id is None:
                text.answer = NO_REPLY
            else:
                head, tail = self._reply(kind, locale, plan, contact)[2]
                text.answer = f"{head}{reply_id}{tail}"
        return again

    def _reply(self, kind: str, locale: str | None, plan: str | None, contact: str | None) -> tuple:
        """A reply's text, its number of segments and its TwiML answer split where the
        outbox row's id goes, rendered once a process (the statement is given them all)."""
        if kind == "unknown":
            locale = plan = contact = None
        elif kind == "received":
            contact = None
        key = (kind, locale, plan, contact)
        found = self._replies.get(key)
        if found is None:
            with self.app.app_context():
                if kind == "unknown":
                    text = texts.unknown_number(locales())
                else:
                    with force_locale(locale):
                        text = texts.help_text(plan, contact) if kind == "help" else texts.received(plan)
            answer = MessagingResponse()
            answer.message(text, action=outbox.status_callback_url(_CALLBACK_MARK, self.base_url), method="POST")
            head, tail = str(answer).split(str(_CALLBACK_MARK))
            if len(self._replies) >= MAX_REPLIES:
                self._replies.clear()
            found = self._replies[key] = (text, count_segments(text).count, (head, tail))
            self._replies_json = json.dumps(
                [
                    {"kind": k, "locale": lo, "plan": p, "contact": c, "body": body, "segments": segments}
                    for (k, lo, p, c), (body, segments, _) in self._replies.items()
                ],
                ensure_ascii=False,
            )
        return found

    # The connections: one a slot, used by one batch at a time, and one to flush --------

    def _connection(self, slot: int = 0) -> psycopg.Connection:
        """The slot's connection (only the batch running in that slot uses it), or the
        flush connection (``flush_slot``, used under the flush lock)."""
        conn = self._held[slot]
        if conn is None or conn.closed or conn.broken:
            self._drop_connection(slot)
            if slot == self.flush_slot:
                conn = psycopg.connect(self.conninfo, autocommit=True)  # commits as the view's do
            else:
                conn = psycopg.connect(
                    self.conninfo, autocommit=True, options=BATCH_OPTIONS, cursor_factory=psycopg.RawCursor
                )
                conn.prepare_threshold = 0  # the statement is prepared on first use
            self._held[slot] = conn
            self._closers[slot] = weakref.finalize(self, conn.close)
        return conn

    def _drop_connection(self, slot: int = 0) -> None:
        self._held[slot] = None
        closer, self._closers[slot] = self._closers[slot], None
        if closer is not None:
            closer()  # closes the connection (once)
