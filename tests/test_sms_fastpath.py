"""The incoming-text webhook's short way (engage.sms.fastpath), on PostgreSQL: it must
give exactly the answers and leave exactly the rows the Flask view would, and hand
everything else to the view without writing anything."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.extensions import db
from engage.models import Conversation, InboundMessage, Member, OutboxMessage, SignupConversation, SmsOptOut
from engage.sms import fastpath, texts
from engage.sms.segments import count_segments
from tests.conftest import make_member
from tests.test_sms_webhooks import BASE, OUR_NUMBER, TOKEN, FakeTwilio, new_sid, rendered, reply_texts

FAST, SLOW = "+15105550401", "+15105550402"  # two parents alike: one texts each way
STRANGER_FAST, STRANGER_SLOW = "+15105550491", "+15105550492"


@pytest.fixture
def app_config(database_url):
    return {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE}


@pytest.fixture
def fast(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the short way is PostgreSQL's")
    return app.extensions["engage.sms_fast_path"]


@pytest.fixture
def twilio(app):
    return FakeTwilio(app)


class Way:
    """Sends texts through the short way or straight to the Flask view."""

    def __init__(self, app, twilio, fast, *, short: bool):
        self.app, self.twilio, self.fast, self.short = app, twilio, fast, short

    def text(self, body: str, phone: str) -> list[str]:
        saved = self.app.wsgi_app
        if not self.short:
            self.app.wsgi_app = self.fast.wsgi_app
        try:
            return reply_texts(self.twilio.text(body, phone=phone))
        finally:
            self.app.wsgi_app = saved


def rewind_ack(phone: str, minutes: int = 61) -> None:
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
    if conv.last_ack_at is not None:
        conv.last_ack_at = conv.last_ack_at - timedelta(minutes=minutes)
        db.session.commit()


def state(phone: str) -> dict:
    """What a run of texts left behind for one number, without ids and times."""
    db.session.expire_all()
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
    member = db.session.scalar(sa.select(Member).where(Member.phone == phone))
    outbox = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id)
    ).all()
    texts = db.session.scalars(
        sa.select(InboundMessage).where(InboundMessage.conversation_id == conv.id).order_by(InboundMessage.id)
    ).all()
    return {
        "conversation": (
            conv.member_id == (member.id if member else None),
            conv.needs_reply,
            conv.handled_at is None,
            conv.last_ack_at is not None,
            conv.awaiting,
            conv.last_message_at >= conv.last_inbound_at,
        ),
        "texts": [(t.body, t.intent) for t in texts],
        "outbox": [
            (
                r.body,
                r.kind,
                r.locale,
                r.status,
                r.via,
                r.attempts,
                r.segments,
                r.priority,
                r.quiet_hours,
                r.sender,
                r.member_id == (member.id if member else None),
                r.conversation_id == conv.id,
                r.sent_at is not None,
                r.due_at is not None,
                r.expires_at,
                r.provider_sid,
            )
            for r in outbox
        ],
    }


def run(way: Way, phone: str, steps) -> list:
    answers = []
    for step in steps:
        if step == "rewind":
            rewind_ack(phone)
        else:
            answers.append(way.text(step, phone))
    return answers


@pytest.mark.parametrize(
    ("members", "steps"),
    [
        pytest.param(True, ["Hola", "¿A qué hora?", "rewind", "¿Hay comida?", "HELP", "ayuda"], id="parent"),
        pytest.param(True, ["STOP", "¿sigo aquí?", "AYUDA", "START", "gracias"], id="parent who stopped"),
        pytest.param(False, ["hello?", "anyone?", "rewind", "hello again"], id="unknown number"),
        pytest.param(False, ["STOP", "hello?", "rewind", "hello again"], id="unknown number that stopped"),
    ],
)
def test_the_short_way_answers_and_stores_exactly_what_the_view_would(app, cast, twilio, fast, members, steps):
    if members:
        make_member(FAST, "Fátima", plan=cast.plan_a, locale="es")
        make_member(SLOW, "Sofía", plan=cast.plan_a, locale="es")
        db.session.commit()
        numbers = (FAST, SLOW)
    else:
        numbers = (STRANGER_FAST, STRANGER_SLOW)
    before = fast.handled
    short = run(Way(app, twilio, fast, short=True), numbers[0], steps)
    taken = fast.handled - before
    long = run(Way(app, twilio, fast, short=False), numbers[1], steps)
    assert fast.handled - before == taken  # the long way really was the long way
    assert short == long
    assert state(numbers[0]) == state(numbers[1])
    # Every text but STOP and START (which always take the long way) went the short
    # way, a number's very first text included.
    plain = [s for s in steps if s not in ("rewind", "STOP", "START")]
    assert taken == len(plain), (taken, plain)
    if not members:
        return
    # The steps produced replies in Spanish (the parents' language), not nothing.
    assert any(short), short


def test_each_reply_is_in_the_parents_language_with_their_plans_name_and_contact(app, cast, twilio, fast):
    cast.plan_b.contact_phone = "(415) 555-0100"
    parents = [
        ("+15105550601", cast.plan_a, "en"),
        ("+15105550602", cast.plan_b, "en"),
        ("+15105550603", cast.plan_b, "zh"),
        ("+15105550604", cast.plan_a, "es"),
    ]
    for k, (phone, plan, locale) in enumerate(parents):
        make_member(phone, f"Parent {k}", plan=plan, locale=locale)
    db.session.commit()
    before = fast.handled
    for phone, plan, locale in parents:
        contact = plan.contact_phone
        assert reply_texts(twilio.text("hello", phone=phone)) == [
            rendered(app, locale, texts.received, plan=plan.short_name)
        ]
        assert reply_texts(twilio.text("HELP", phone=phone)) == [
            rendered(app, locale, texts.help_text, plan=plan.short_name, contact=contact)
        ]
    stranger = reply_texts(twilio.text("hello", phone=STRANGER_FAST))
    assert stranger == [rendered(app, "en", texts.unknown_number, locales=app.config["ENGAGE_LOCALES"])]
    assert fast.handled == before + 2 * len(parents) + 1
    # The plan's contact changes: HELP says the new one.
    cast.plan_b.contact_phone = None
    db.session.commit()
    assert reply_texts(twilio.text("HELP", phone=parents[2][0])) == [
        rendered(app, "zh", texts.help_text, plan="Bayview", contact=None)
    ]
    replies = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.phone.in_([p for p, _, _ in parents])).order_by(OutboxMessage.id)
    ).all()
    assert [r.locale for r in replies] == ["en", "en", "en", "en", "zh", "zh", "es", "es", "zh"]
    assert all(r.segments == count_segments(r.body).count for r in replies)


def test_a_reply_is_rendered_once_a_process_and_then_a_batch_is_one_statement(app, cast, twilio, fast, monkeypatch):
    calls = []
    real_write = fast._write

    def counted(conn, batch):
        again = real_write(conn, batch)
        calls.append(len(again))
        return again

    monkeypatch.setattr(fast, "_write", counted)
    fast._replies.clear()
    twilio.text("hola", phone=cast.parent.phone)
    assert calls == [1, 0]  # its reply was not rendered yet: rendered, and the text went again
    rewind_ack(cast.parent.phone)
    calls.clear()
    twilio.text("otra vez", phone=cast.parent.phone)
    assert calls == [0]
    monkeypatch.setattr(fastpath, "MAX_REPLIES", 1)  # a full store starts again
    calls.clear()
    twilio.text("HELP", phone=cast.parent.phone)
    assert calls == [1, 0]
    assert len(fast._replies) == 1


def test_a_text_the_short_way_is_stored_once_with_its_reply_recorded_as_sent(app, cast, twilio, fast):
    twilio.text("Hola", phone=cast.parent.phone)  # the conversation exists from here on
    rewind_ack(cast.parent.phone)
    before = fast.handled
    sid = new_sid()
    answer = reply_texts(twilio.text("¿Dónde es la reunión?", phone=cast.parent.phone, sid=sid))
    assert fast.handled == before + 1
    assert answer == [rendered(app, "es", texts.received, plan="AFH")]
    stored = db.session.scalar(sa.select(InboundMessage).where(InboundMessage.message_sid == sid))
    assert stored.body == "¿Dónde es la reunión?" and stored.intent is None
    reply = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert (reply.status, reply.via, reply.attempts, reply.kind) == ("sent", "twiml", 1, "reply")
    assert reply.body == answer[0]
    # Twilio retries the same MessageSid: the view answers it as a duplicate, nothing more is stored.
    again = twilio.text("¿Dónde es la reunión?", phone=cast.parent.phone, sid=sid)
    assert reply_texts(again) == []
    assert fast.handled == before + 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 2


@pytest.mark.parametrize(
    "setup",
    ["awaiting an answer", "signing up", "a word", "no plan", "number changed hands"],
)
def test_what_the_short_way_does_not_know_goes_to_the_view(app, cast, twilio, fast, setup):
    phone = cast.parent.phone
    body = "Hola"
    twilio.text("primero", phone=phone)
    if setup == "awaiting an answer":
        conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
        conv.awaiting = "question:999"
        db.session.commit()
    elif setup == "signing up":
        db.session.add(SignupConversation(phone=phone, step="name", locale="es", data={}))
        db.session.commit()
    elif setup == "a word":
        body = "SÍ"
    elif setup == "number changed hands":
        # The conversation was with someone else who held the number before.
        conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
        conv.member_id = cast.parent_b.id
        db.session.commit()
    elif setup == "no plan":
        member = db.session.get(Member, cast.parent.id)
        member.plan_id = None
        db.session.commit()
    before = fast.handled
    twilio.text(body, phone=phone)
    assert fast.handled == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage).where(InboundMessage.body == body))


def before_each_statement(monkeypatch, times: int, action) -> list:
    """Run ``action`` just before each of the short way's next ``times`` statements (when
    it takes the time for them); what it returns is collected in the list returned."""
    real_now = fastpath.utcnow
    done: list = []

    def now_after_action():
        if len(done) < times:
            done.append(action())
        return real_now()

    monkeypatch.setattr(fastpath, "utcnow", now_after_action)
    return done


def lock_waits(conn) -> int:
    return conn.execute(
        sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    ).scalar()


def committed_while_the_statement_waits(app, change):
    """An action for ``before_each_statement``: another delivery's transaction makes
    ``change`` (holding the conversation's row, as the view's upsert does) and commits
    only once the short way's statement, whose snapshot is older, waits for that row."""

    def action():
        with app.app_context():
            other, watcher = db.engine.connect(), db.engine.connect()
        change(other)

        def commit_when_waited_for():
            try:
                _wait_for(lambda: lock_waits(watcher) > 0)
                other.commit()
            finally:
                other.close()
                watcher.close()

        threading.Thread(target=commit_when_waited_for).start()
        return True

    return action


def test_a_stop_committed_just_before_the_statement_is_seen(app, cast, twilio, fast, monkeypatch):
    phone = cast.parent.phone
    twilio.text("primero", phone=phone)
    rewind_ack(phone)

    def stop():
        # Another delivery (a STOP from the same phone) commits just before the statement.
        with app.app_context():
            return reply_texts(FakeTwilio(app).text("STOP", phone=phone))

    done = before_each_statement(monkeypatch, 1, stop)
    before = fast.handled
    answer = reply_texts(twilio.text("¿sigue en pie?", phone=phone))
    assert len(done[0]) == 1  # the STOP confirmation
    assert answer == []  # nothing goes to a number that said STOP
    assert fast.handled == before + 1
    assert db.session.get(SmsOptOut, phone) is not None
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(InboundMessage).where(InboundMessage.body == "¿sigue en pie?")
        )
        == 1
    )


def test_a_stop_committed_while_the_statement_waits_for_the_conversation_has_the_text_decided_again(
    app, cast, twilio, fast, monkeypatch
):
    phone = cast.parent.phone
    twilio.text("primero", phone=phone)
    rewind_ack(phone)

    def stop(other):
        other.execute(sa.update(Conversation).where(Conversation.phone == phone).values(last_inbound_at=sa.func.now()))
        other.execute(sa.insert(SmsOptOut).values(phone=phone))

    done = before_each_statement(monkeypatch, 1, committed_while_the_statement_waits(app, stop))
    before = fast.handled
    answer = reply_texts(twilio.text("¿sigue en pie?", phone=phone))
    assert done == [True]
    assert answer == []  # nothing goes to a number that said STOP
    assert fast.handled == before + 1  # the conversation had changed: decided again, STOP seen
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(InboundMessage).where(InboundMessage.body == "¿sigue en pie?")
        )
        == 1
    )
    replies = sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.phone == phone)
    assert db.session.scalar(replies) == 1  # the first text's acknowledgement only


def test_a_conversation_changed_during_each_of_two_statements_sends_the_text_the_long_way(
    app, cast, twilio, fast, monkeypatch
):
    phone = cast.parent.phone
    twilio.text("primero", phone=phone)
    rewind_ack(phone)

    def another_text(other):
        # Another text from the same number, handled in another process, moves the
        # conversation on: each statement finds it no longer as its snapshot saw it.
        other.execute(
            sa.update(Conversation).where(Conversation.phone == phone).values(last_inbound_at=sa.func.clock_timestamp())
        )

    changes = before_each_statement(
        monkeypatch, fastpath.ATTEMPTS, committed_while_the_statement_waits(app, another_text)
    )
    before = fast.handled
    answer = reply_texts(twilio.text("¿sigue en pie?", phone=phone))
    assert len(changes) == fastpath.ATTEMPTS
    assert fast.handled == before  # the view answered it, as it answers any text
    assert answer == [rendered(app, "es", texts.received, plan="AFH")]
    assert db.session.scalars(sa.select(InboundMessage.body).order_by(InboundMessage.id)).all() == [
        "primero",
        "¿sigue en pie?",
    ]


def test_a_lost_database_connection_sends_the_text_the_long_way_and_the_next_reconnects(
    app, cast, twilio, fast, database_url
):
    phone = cast.parent.phone
    twilio.text("primero", phone=phone)
    conn = fast._connection()
    pid = conn.info.backend_pid
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    before = fast.handled
    twilio.text("segundo", phone=phone)
    assert fast.handled == before  # answered by the view
    twilio.text("tercero", phone=phone)
    assert fast.handled == before + 1  # a new connection
    bodies = db.session.scalars(sa.select(InboundMessage.body).order_by(InboundMessage.id)).all()
    assert bodies == ["primero", "segundo", "tercero"]


class _FlushSpy:
    """Stands for the short way's flush connection and notes each flush."""

    def __init__(self, conn, events: list):
        self.conn, self.events = conn, events

    def execute(self, statement, *args):
        self.events.append("flush")
        return self.conn.execute(statement, *args)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def _spy_on_flushes(fast, monkeypatch, events: list) -> None:
    real_connection, real_write = fast._connection, fast._write

    def connection(slot=0):
        conn = real_connection(slot)
        return _FlushSpy(conn, events) if slot == fast.flush_slot else conn

    def write(conn, batch):
        again = real_write(conn, batch)
        events.append("write")
        return again

    monkeypatch.setattr(fast, "_connection", connection)
    monkeypatch.setattr(fast, "_write", write)


def test_a_batch_commits_without_waiting_for_the_disk_and_is_answered_after_a_flush(
    app, cast, twilio, fast, monkeypatch
):
    twilio.text("primero", phone=cast.parent.phone)  # the reply rendered, the connections open
    assert fast._connection().execute(b"SHOW synchronous_commit").fetchone() == ("off",)
    flush_setting = fast._connection(fast.flush_slot).execute("SHOW synchronous_commit").fetchone()[0]
    with db.engine.connect() as conn:
        assert flush_setting == conn.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"  # as the view's
    events: list[str] = []
    _spy_on_flushes(fast, monkeypatch, events)
    for body in ["segundo", "tercero"]:
        rewind_ack(cast.parent.phone)
        assert reply_texts(twilio.text(body, phone=cast.parent.phone)) == [
            rendered(app, "es", texts.received, plan="AFH")
        ]
        events.append("answer")
    assert events == ["write", "flush", "answer", "write", "flush", "answer"]


def test_one_flush_serves_every_batch_committed_before_it_began(fast, cast, monkeypatch):
    phones = [f"+1510555{800 + k:04d}" for k in range(2)]
    for k, phone in enumerate(phones):
        make_member(phone, f"Padre {k}", plan=cast.plan_a, locale="es")
    db.session.commit()
    events: list[str] = []
    _spy_on_flushes(fast, monkeypatch, events)
    batches = [[fastpath._Text(phone, new_sid(), "hola", None)] for phone in phones]
    committed = [fast._run(batch, 0) for batch in batches]  # both committed, neither flushed yet
    assert committed[1] == committed[0] + 1
    fast._flush(batches[0], committed[0])  # flushes both
    fast._flush(batches[1], committed[1])  # nothing left to flush
    assert events.count("flush") == 1 and events[-1] == "flush"
    assert all(batch[0].answer for batch in batches)


def test_a_lost_flush_connection_is_replaced_and_a_flush_that_fails_sends_the_texts_the_long_way(
    app, cast, twilio, fast, monkeypatch
):
    phone = cast.parent.phone
    twilio.text("primero", phone=phone)
    pid = fast._connection(fast.flush_slot).info.backend_pid
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    before = fast.handled
    twilio.text("segundo", phone=phone)
    assert fast.handled == before + 1  # flushed on a new connection
    assert fast._connection(fast.flush_slot).info.backend_pid != pid
    monkeypatch.setattr(fastpath, "FLUSH", "SELECT no_such_function()")  # every flush fails
    rewind_ack(phone)
    answer = twilio.text("tercero", phone=phone)
    assert fast.handled == before + 1  # the view answered it: the text is stored once, as a retry finds it
    assert answer.status_code == 200
    bodies = db.session.scalars(sa.select(InboundMessage.body).order_by(InboundMessage.id)).all()
    assert bodies == ["primero", "segundo", "tercero"]


def test_a_bad_signature_is_refused_by_the_view_and_nothing_is_stored(app, cast, twilio, fast):
    twilio.text("primero", phone=cast.parent.phone)
    params = {"MessageSid": new_sid(), "From": cast.parent.phone, "To": OUR_NUMBER, "Body": "hola"}
    response = twilio.client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": "bm8="})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 1


def test_the_short_way_is_not_installed_without_postgresql_or_when_turned_off(database_url):
    from engage import create_app

    base = {"ENGAGE_ENV": "test", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE}
    sqlite = create_app({**base, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "engage.sms_fast_path" not in sqlite.extensions
    if database_url.startswith("postgresql"):
        off = create_app({**base, "SQLALCHEMY_DATABASE_URI": database_url, "SMS_FAST_PATH": False})
        assert "engage.sms_fast_path" not in off.extensions
        no_token = create_app({**base, "SQLALCHEMY_DATABASE_URI": database_url, "TWILIO_AUTH_TOKEN": None})
        assert "engage.sms_fast_path" not in no_token.extensions


def test_the_connections_are_closed_when_the_app_goes(fast, database_url):
    import gc
    import warnings

    from engage import create_app

    assert fast._connection() is fast._connection()  # one a slot, whichever thread leads its batch
    other = create_app(
        {
            "ENGAGE_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_BASE_URL": BASE,
        }
    )
    short_way = other.extensions["engage.sms_fast_path"]
    conns = [short_way._connection(), short_way._connection(short_way.flush_slot)]
    del other, short_way  # the app and its short way refer to each other: a garbage collection takes both
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # psycopg warns about a connection dropped while open
        gc.collect()
    assert all(conn.closed for conn in conns)


def test_the_short_way_knows_every_hook_that_may_take_a_plain_text(app):
    """The short way answers free text and HELP itself when no sign-up is in progress and
    the conversation awaits nothing. A new hook or handler that could take such a text
    must be taught to it (engage.sms.fastpath) before it is added to this list."""
    from engage.feedback.intake import question_hook
    from engage.join.sms import carry_on
    from engage.meetings.sms import needs_hook
    from engage.sms import inbound, keywords

    assert set(inbound.CONVERSATION_HOOKS) == {question_hook, needs_hook, carry_on}
    assert None not in inbound.INTENT_HANDLERS and keywords.HELP not in inbound.INTENT_HANDLERS


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_group_commit_runs_waiting_texts_together_one_per_number_in_order():
    seen: list[list[str]] = []
    release = threading.Event()

    def run(batch, slot):
        assert slot == 0
        seen.append([t.sid for t in batch])
        if len(seen) == 1:
            release.wait(5)
        if len(seen) == 2:
            raise RuntimeError("the second batch fails")
        for t in batch:
            t.answer = f"ok:{t.sid}"

    group = fastpath.GroupCommit(run, slots=1)
    texts_ = [fastpath._Text(phone, sid, "hola", None) for phone, sid in [("a", "s1"), ("b", "s2"), ("c", "s3")]]
    texts_.append(fastpath._Text("b", "s4", "hola", None))  # a second text from b
    results: dict[str, object] = {}

    def submit(text):
        try:
            results[text.sid] = group.submit(text)
        except RuntimeError as exc:
            results[text.sid] = exc

    first = threading.Thread(target=submit, args=(texts_[0],))
    first.start()
    _wait_for(lambda: seen)
    others = [threading.Thread(target=submit, args=(t,)) for t in texts_[1:]]
    for n, thread in enumerate(others, start=1):
        thread.start()
        _wait_for(lambda n=n: len(group._waiting) == n)  # queued in this order
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    # s1 alone; then s2 leads s3 (s4 is b's second text: it waits for the next batch).
    assert seen == [["s1"], ["s2", "s3"], ["s4"]]
    assert results["s1"] == "ok:s1" and results["s4"] == "ok:s4"
    assert isinstance(results["s2"], RuntimeError)  # the leader of a failed batch sees why
    assert results["s3"] is None  # the others take the long way
    assert (group.batches, group.texts, group._free, group._waiting, group._running) == (3, 4, [0], [], set())


def test_group_commit_runs_two_batches_at_once_but_never_two_texts_of_one_number():
    started: list[tuple[int, list[str]]] = []
    release = {0: threading.Event(), 1: threading.Event()}

    def run(batch, slot):
        started.append((slot, [t.sid for t in batch]))
        if len(started) <= 2:
            release[slot].wait(5)
        for t in batch:
            t.answer = f"ok:{t.sid}"

    group = fastpath.GroupCommit(run, slots=2)
    results: dict[str, object] = {}
    threads = []

    def submit(phone, sid):
        thread = threading.Thread(
            target=lambda: results.__setitem__(sid, group.submit(fastpath._Text(phone, sid, "x", None)))
        )
        thread.start()
        threads.append(thread)

    submit("a", "s1")
    _wait_for(lambda: len(started) == 1)
    submit("b", "s2")  # the second slot: it runs at once beside s1
    _wait_for(lambda: len(started) == 2)
    submit("a", "s3")  # a's first text is still running: s3 waits, though no slot is free anyway
    submit("c", "s4")
    _wait_for(lambda: len(group._waiting) == 2)
    release[1].set()  # b's batch ends first: its slot takes c (a is still running), not s3
    _wait_for(lambda: len(started) == 3)
    assert started[2] == (1, ["s4"])
    release[0].set()
    for thread in threads:
        thread.join(5)
    assert started[3] in ((0, ["s3"]), (1, ["s3"]))
    assert results == {"s1": "ok:s1", "s2": "ok:s2", "s3": "ok:s3", "s4": "ok:s4"}
    assert (group._free, group._waiting, group._running) == ([0, 1], [], set())


def test_group_commit_makes_a_batch_durable_while_the_next_runs_and_before_its_texts_are_answered():
    events: list[tuple] = []
    hold = threading.Event()
    results: dict[str, str | None] = {}

    def run(batch, slot):
        sids = [t.sid for t in batch]
        events.append(("run", sids))
        if sids == ["s1"]:
            hold.wait(5)
        for t in batch:
            t.answer = f"ok:{t.sid}"
        return None if sids == ["s4"] else f"commit {len(events)}"  # what durable is given (None: nothing)

    def durable(batch, done):
        sids = [t.sid for t in batch]
        if sids == ["s1"]:
            _wait_for(lambda: ("run", ["s2", "s3"]) in events)  # the next batch runs meanwhile
        events.append(("durable", sids, done, set(results)))  # what was answered by then

    group = fastpath.GroupCommit(run, slots=1, durable=durable)
    threads = []

    def submit(phone, sid):
        text = fastpath._Text(phone, sid, "x", None)
        thread = threading.Thread(target=lambda: results.__setitem__(sid, group.submit(text)))
        thread.start()
        threads.append(thread)

    submit("a", "s1")
    _wait_for(lambda: events)
    submit("b", "s2")
    submit("c", "s3")
    _wait_for(lambda: len(group._waiting) == 2)
    hold.set()
    for thread in threads:
        thread.join(5)
    submit("d", "s4")  # a run that returns None is not made durable
    threads[-1].join(5)
    durable_s1 = next(i for i, e in enumerate(events) if e[:2] == ("durable", ["s1"]))
    assert events.index(("run", ["s2", "s3"])) < durable_s1
    assert events[durable_s1][2] == "commit 1" and "s1" not in events[durable_s1][3]
    (after_s2,) = [e for e in events if e[:2] == ("durable", ["s2", "s3"])]
    assert after_s2[2] == "commit 2" and not after_s2[3] & {"s2", "s3"}
    assert [e for e in events if e[1] == ["s4"]] == [("run", ["s4"])]
    assert results == {"s1": "ok:s1", "s2": "ok:s2", "s3": "ok:s3", "s4": "ok:s4"}


def test_texts_that_arrive_together_are_stored_together_each_with_its_own_answer(app, cast, twilio, fast, monkeypatch):
    phones = [f"+1510555{700 + k:04d}" for k in range(6)]
    for k, phone in enumerate(phones):
        make_member(phone, f"Madre {k}", plan=cast.plan_a, locale="es")
    db.session.commit()
    for phone in phones:
        twilio.text("primero", phone=phone)
    for phone in phones[:3]:
        rewind_ack(phone)  # these three are due an acknowledgement, the rest not
    real_write = fast._write
    first = threading.Event()

    def slow_first_write(conn, batch):
        if not first.is_set():  # hold the first batch so that the others queue behind it
            first.set()
            time.sleep(0.3)
        return real_write(conn, batch)

    monkeypatch.setattr(fast, "_write", slow_first_write)
    before, batches, grouped = fast.handled, fast.group.batches, fast.group.texts
    answers: dict[tuple[str, str], list[str]] = {}

    def send(phone, body):
        with app.app_context():
            answers[(phone, body)] = reply_texts(FakeTwilio(app).text(body, phone=phone))

    sends = [(phone, "¿Hay cuidado de niños?") for phone in phones] + [(phones[0], "otra pregunta")]
    threads = [threading.Thread(target=send, args=s) for s in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(answers) == len(sends)
    assert fast.handled == before + len(sends)
    assert fast.group.texts - grouped == len(sends)
    assert fast.group.batches - batches < len(sends)  # some were written by one statement
    received = rendered(app, "es", texts.received, plan="AFH")
    db.session.expire_all()
    for phone in phones:
        conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
        bodies = db.session.scalars(
            sa.select(InboundMessage.body).where(InboundMessage.conversation_id == conv.id).order_by(InboundMessage.id)
        ).all()
        replies = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id)
        ).all()
        assert all(r.conversation_id == conv.id and r.member_id == conv.member_id for r in replies)
        if phone == phones[0]:
            assert sorted(bodies[1:]) == sorted(["¿Hay cuidado de niños?", "otra pregunta"])
            got = answers[(phone, "¿Hay cuidado de niños?")] + answers[(phone, "otra pregunta")]
            assert got == [received]  # one acknowledgement for the two, whichever came first
        else:
            assert bodies == ["primero", "¿Hay cuidado de niños?"]
            assert answers[(phone, "¿Hay cuidado de niños?")] == ([received] if phone in phones[:3] else [])
        assert len(replies) == (2 if phone in phones[:3] else 1)  # "primero"'s acknowledgement, and this one's
        assert replies[-1].body == received and replies[-1].via == "twiml"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=12),
            st.one_of(st.text(max_size=30), st.from_regex(r"\+\w{0,14}", fullmatch=True)),  # phone-like too
        ),
        max_size=8,
    ),
    st.sampled_from(["&", "&&", "&=&"]),
    st.booleans(),
)
def test_the_short_way_reads_a_form_as_urllib_does(pairs, glue, raw_spaces):
    """Any names and values (phone numbers among them), encoded or written as they are (a "+", a bare "%", an "="),
    come out of the short way's parser as out of ``parse_qsl(…, keep_blank_values=True)``."""
    from urllib.parse import parse_qsl, quote, quote_plus

    encode = (lambda v: quote(v, safe=" +%=")) if raw_spaces else quote_plus
    text = glue.join(f"{encode(name)}={encode(value)}" for name, value in pairs)
    expected: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        expected.setdefault(name, []).append(value)
    assert dict(fastpath._Form.parse(text.encode())) == expected
