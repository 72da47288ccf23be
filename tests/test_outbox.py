"""The outbox: written with the change that caused it, delivered by workers with quiet
hours, retries, opt-out checks at delivery time, stale-claim recovery and pacing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage import create_app
from engage.extensions import db
from engage.models import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Conversation,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    SmsOptOut,
    SmsStatus,
)
from engage.sms import outbox
from engage.sms.transport import Sent, TransportError, get_transport

LA = ZoneInfo("America/Los_Angeles")
LOS_ANGELES = {"ENGAGE_TIMEZONE": "America/Los_Angeles"}  # whatever the environment says
PARENT = "+15105550111"
PARENT_B = "+14155550122"


def local(*args, fold: int = 0) -> datetime:
    """A wall-clock time in Los Angeles, as an aware UTC datetime."""
    return datetime(*args, tzinfo=LA, fold=fold).astimezone(UTC)


NOON = local(2025, 6, 3, 12, 0)


def add_row(
    phone: str = PARENT,
    *,
    kind: OutboxKind = OutboxKind.REMINDER,
    due_at: datetime = NOON,
    expires_at: datetime | None = None,
    body: str = "Reminder: meeting tomorrow at 6pm.",
    member: Member | None = None,
) -> OutboxMessage:
    """A queued row exactly as given (``enqueue`` would already move it out of quiet hours)."""
    row = OutboxMessage(
        phone=phone,
        body=body,
        kind=kind,
        locale="en",
        segments=1,
        status=OutboxStatus.QUEUED,
        attempts=0,
        sender="default",
        due_at=due_at,
        expires_at=expires_at,
        quiet_hours=kind not in (OutboxKind.REPLY, OutboxKind.CONSENT),
        priority=outbox.PRIORITY[kind],
        member_id=getattr(member, "id", None),
        created_at=due_at - timedelta(hours=1),
    )
    db.session.add(row)
    db.session.commit()
    return row


def deliver(app, at: datetime, worker: str = "w1") -> int:
    return outbox.deliver_due(app, worker, now=lambda: at, sleep=lambda seconds: None)


def fresh(row: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row.id)


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture(scope="module")
def app_without_db():
    """For rules that only read settings: no database, so nothing to empty afterwards."""
    app = create_app({"ENGAGE_ENV": "test", **LOS_ANGELES})
    with app.app_context():
        yield app


@pytest.fixture
def app_config(database_url):
    return LOS_ANGELES


@pytest.fixture
def sent(app):
    return get_transport(app).sent


# In the caller's transaction ----------------------------------------------------------------


def test_enqueue_is_rolled_back_with_the_change_that_caused_it(app, cast):
    cast.parent.display_name = "Renamed"
    row = outbox.enqueue(PARENT, "Your name changed.", kind=OutboxKind.NOTICE, locale="es", member=cast.parent)
    db.session.flush()
    assert row.id is not None
    assert count(OutboxMessage) == 1
    with db.engine.connect() as other:  # nobody else sees it before the commit
        assert other.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    db.session.rollback()
    assert count(OutboxMessage) == 0
    assert db.session.get(Member, cast.parent.id).display_name == "Paloma Parent"


def test_enqueue_is_committed_with_the_change_that_caused_it(app, cast):
    cast.parent.display_name = "Renamed"
    outbox.enqueue(PARENT, "Your name changed.", kind=OutboxKind.NOTICE, locale="es", member=cast.parent)
    db.session.commit()
    with db.engine.connect() as other:
        assert other.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    row = db.session.scalar(sa.select(OutboxMessage))
    assert (row.status, row.member_id, row.segments, row.attempts) == (OutboxStatus.QUEUED, cast.parent.id, 1, 0)


# Quiet hours ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (local(2025, 6, 3, 22, 30), local(2025, 6, 4, 8, 0)),
        (local(2025, 6, 3, 21, 0), local(2025, 6, 4, 8, 0)),
        (local(2025, 6, 4, 2, 0), local(2025, 6, 4, 8, 0)),
        (local(2025, 6, 4, 7, 59, 59), local(2025, 6, 4, 8, 0)),
        (local(2025, 6, 3, 20, 59, 59), local(2025, 6, 3, 20, 59, 59)),
        (local(2025, 6, 3, 8, 0), local(2025, 6, 3, 8, 0)),
    ],
)
def test_enqueue_moves_a_held_kind_out_of_quiet_hours(app, cast, due, expected):
    kinds = [OutboxKind.REMINDER, OutboxKind.BULK, OutboxKind.NOTICE]
    rows = [outbox.enqueue(PARENT, "Hi", kind=kind, locale="en", due_at=due) for kind in kinds]
    db.session.commit()
    for row in rows:
        assert (fresh(row).due_at, row.quiet_hours) == (expected, True), row.kind


@pytest.mark.parametrize("kind", [OutboxKind.REPLY, OutboxKind.CONSENT])
def test_enqueue_never_holds_a_reply_or_a_consent_text(app, cast, kind):
    due = local(2025, 6, 3, 23, 15)
    row = outbox.enqueue(PARENT, "Hi", kind=kind, locale="en", due_at=due)
    db.session.commit()
    assert (fresh(row).due_at, row.quiet_hours) == (due, False)


@pytest.mark.parametrize(
    ("wrote_ago", "held"), [(timedelta(minutes=10), False), (timedelta(hours=2), True), (None, True)]
)
def test_a_coordinators_message_is_held_unless_it_answers_a_text_just_sent(app, cast, wrote_ago, held):
    now = datetime.now(UTC)
    conv = Conversation(phone=PARENT, member_id=cast.parent.id, last_inbound_at=now - wrote_ago if wrote_ago else None)
    db.session.add(conv)
    db.session.flush()
    row = outbox.enqueue(PARENT, "Yes, there is childcare.", kind=OutboxKind.DIRECT, locale="es", conversation=conv)
    assert row.quiet_hours is held


@pytest.mark.parametrize(
    ("kind", "at", "morning"),
    [
        (OutboxKind.REMINDER, local(2025, 6, 3, 22, 30), local(2025, 6, 4, 8, 0)),
        (OutboxKind.BULK, local(2025, 6, 3, 22, 30), local(2025, 6, 4, 8, 0)),
        (OutboxKind.BULK, local(2025, 6, 3, 21, 0), local(2025, 6, 4, 8, 0)),
        (OutboxKind.REMINDER, local(2025, 6, 4, 0, 5), local(2025, 6, 4, 8, 0)),
        (OutboxKind.NOTICE, local(2025, 6, 4, 7, 59), local(2025, 6, 4, 8, 0)),
    ],
)
def test_a_row_that_comes_due_in_quiet_hours_waits_until_8am(app, cast, sent, kind, at, morning):
    row = add_row(kind=kind, due_at=at)
    assert deliver(app, at) == 1
    row = fresh(row)
    assert (row.status, row.due_at, row.attempts, row.locked_by) == (OutboxStatus.QUEUED, morning, 0, None)
    assert sent == []
    assert deliver(app, morning - timedelta(seconds=1)) == 0
    assert deliver(app, morning) == 1
    assert fresh(row).status == OutboxStatus.SENT
    assert [m["id"] for m in sent] == [row.id]


@pytest.mark.parametrize(
    ("expires", "status"),
    [
        (local(2025, 6, 4, 7, 0), OutboxStatus.DROPPED),  # the meeting starts at 7:00
        (local(2025, 6, 4, 7, 59, 59), OutboxStatus.DROPPED),
        (local(2025, 6, 4, 8, 0), OutboxStatus.QUEUED),  # just in time
        (local(2025, 6, 4, 18, 0), OutboxStatus.QUEUED),
    ],
)
def test_a_row_that_would_be_too_late_at_8am_is_dropped_with_a_reason(app, cast, sent, expires, status):
    at = local(2025, 6, 3, 22, 30)
    row = add_row(due_at=at, expires_at=expires)
    deliver(app, at)
    row = fresh(row)
    assert row.status == status
    if status == OutboxStatus.DROPPED:
        assert "too late" in row.error_message
    assert sent == []


def test_enqueue_drops_at_once_what_would_be_too_late(app, cast):
    row = outbox.enqueue(
        PARENT,
        "Meeting at 7:00",
        kind=OutboxKind.REMINDER,
        locale="en",
        due_at=local(2025, 6, 3, 22, 30),
        expires_at=local(2025, 6, 4, 7, 0),
    )
    assert row.status == OutboxStatus.DROPPED
    assert "too late" in row.error_message


def test_an_expired_row_is_dropped_even_in_the_daytime(app, cast, sent):
    """A worker that was down, or retries, can make a row late outside quiet hours too."""
    row = add_row(due_at=NOON - timedelta(hours=3), expires_at=NOON - timedelta(hours=1))
    deliver(app, NOON)
    row = fresh(row)
    assert row.status == OutboxStatus.DROPPED
    assert row.error_message
    assert sent == []


@pytest.mark.parametrize(
    ("kind", "at"),
    [
        (OutboxKind.REPLY, local(2025, 6, 3, 23, 0)),
        (OutboxKind.REPLY, local(2025, 3, 9, 3, 30)),  # the night clocks spring forward
        (OutboxKind.CONSENT, local(2025, 6, 4, 3, 0)),
    ],
)
def test_a_reply_is_never_held(app, cast, sent, kind, at):
    row = add_row(kind=kind, due_at=at)
    deliver(app, at)
    assert fresh(row).status == OutboxStatus.SENT
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Spring forward: 2025-03-09 02:00 PST -> 03:00 PDT. 08:00 PDT is 15:00 UTC.
        (local(2025, 3, 8, 22, 30), datetime(2025, 3, 9, 15, 0, tzinfo=UTC)),
        (datetime(2025, 3, 9, 9, 30, tzinfo=UTC), datetime(2025, 3, 9, 15, 0, tzinfo=UTC)),  # 01:30 PST
        (datetime(2025, 3, 9, 10, 30, tzinfo=UTC), datetime(2025, 3, 9, 15, 0, tzinfo=UTC)),  # 03:30 PDT
        (local(2025, 3, 9, 7, 59), datetime(2025, 3, 9, 15, 0, tzinfo=UTC)),
        (local(2025, 3, 9, 8, 0), local(2025, 3, 9, 8, 0)),
        # Fall back: 2025-11-02 02:00 PDT -> 01:00 PST. 08:00 PST is 16:00 UTC.
        (local(2025, 11, 1, 22, 30), datetime(2025, 11, 2, 16, 0, tzinfo=UTC)),
        (datetime(2025, 11, 2, 8, 30, tzinfo=UTC), datetime(2025, 11, 2, 16, 0, tzinfo=UTC)),  # 01:30 PDT
        (datetime(2025, 11, 2, 9, 30, tzinfo=UTC), datetime(2025, 11, 2, 16, 0, tzinfo=UTC)),  # 01:30 PST
        (local(2025, 11, 2, 7, 59), datetime(2025, 11, 2, 16, 0, tzinfo=UTC)),
        (local(2025, 11, 2, 20, 59), local(2025, 11, 2, 20, 59)),
        (local(2025, 11, 2, 21, 0), datetime(2025, 11, 3, 16, 0, tzinfo=UTC)),
        # New Year's Eve.
        (local(2025, 12, 31, 23, 59), local(2026, 1, 1, 8, 0)),
    ],
)
def test_next_send_time_across_daylight_saving_changes(app_without_db, moment, expected):
    assert outbox.next_send_time(moment) == expected
    assert outbox.in_quiet_hours(expected) is False


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(2025, 6, 3, 20, 59, 59), False),
        (local(2025, 6, 3, 21, 0), True),
        (local(2025, 6, 4, 7, 59, 59), True),
        (local(2025, 6, 4, 8, 0), False),
        (local(2025, 6, 4, 12, 0), False),
    ],
)
def test_quiet_hours_run_from_21_to_8(app_without_db, moment, quiet):
    assert outbox.in_quiet_hours(moment) is quiet


def test_quiet_hours_are_held_across_spring_forward_at_delivery(app, cast, sent):
    at = local(2025, 3, 8, 22, 30)  # PST
    row = add_row(due_at=at)
    deliver(app, at)
    row = fresh(row)
    assert row.due_at == datetime(2025, 3, 9, 15, 0, tzinfo=UTC)
    assert row.due_at - at == timedelta(hours=8, minutes=30)  # an hour shorter than usual


def test_quiet_hours_follow_engage_timezone():
    with create_app({"ENGAGE_ENV": "test", "ENGAGE_TIMEZONE": "America/New_York"}).app_context():
        ny = ZoneInfo("America/New_York")
        at = datetime(2025, 6, 3, 22, 30, tzinfo=ny)
        assert outbox.next_send_time(at) == datetime(2025, 6, 4, 8, 0, tzinfo=ny)
        assert outbox.in_quiet_hours(datetime(2025, 6, 3, 19, 30, tzinfo=LA)) is True  # 22:30 in New York


# Retries and failures -----------------------------------------------------------------------------


def test_a_transient_failure_is_retried_with_growing_back_off_then_fails(app, cast, sent):
    transport = get_transport(app)
    transport.fail_with = TransportError("x")
    row = add_row()
    at = NOON
    delays = []
    for attempt in range(1, app.config["SMS_MAX_ATTEMPTS"]):
        assert deliver(app, at) == 1
        row = fresh(row)
        assert (row.status, row.attempts, row.error_message) == (OutboxStatus.QUEUED, attempt, "x")
        delays.append((row.due_at - at).total_seconds())
        assert deliver(app, row.due_at - timedelta(seconds=1)) == 0  # not before its time
        at = row.due_at
    assert delays == [30, 60, 120, 240, 480]
    assert deliver(app, at) == 1
    row = fresh(row)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, app.config["SMS_MAX_ATTEMPTS"])
    assert row.error_message == "x"
    assert deliver(app, at + timedelta(days=1)) == 0
    assert sent == []


def test_a_retry_that_succeeds_clears_the_error(app, cast, sent):
    transport = get_transport(app)
    transport.fail_with = TransportError("twilio 503", code=20503)
    row = add_row()
    deliver(app, NOON)
    transport.fail_with = None
    deliver(app, fresh(row).due_at)
    row = fresh(row)
    assert (row.status, row.attempts, row.error_code, row.error_message) == (OutboxStatus.SENT, 2, None, None)
    assert row.provider_sid == f"SM{row.id:032d}"
    assert [m["id"] for m in sent] == [row.id]


@pytest.mark.parametrize("code", [21211, 21614, 30007, None])
def test_a_permanent_failure_fails_at_once_and_keeps_the_code(app, cast, sent, code):
    get_transport(app).fail_with = TransportError(f"twilio 400 ({code})", code=code, permanent=True)
    row = add_row(member=cast.parent)
    deliver(app, NOON)
    row = fresh(row)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.error_code == (str(code) if code else None)
    assert row.error_message == f"twilio 400 ({code})"
    assert count(SmsOptOut) == 0
    assert db.session.get(Member, cast.parent.id).sms_status == SmsStatus.ACTIVE


def test_error_21610_fails_the_row_and_records_a_carrier_opt_out(app, cast, sent):
    get_transport(app).fail_with = TransportError("twilio 400", code=21610, permanent=True)
    row = add_row(member=cast.parent)
    same_batch = add_row(member=cast.parent, body="Second in the same batch")
    later = add_row(due_at=NOON + timedelta(hours=2), body="Later today")
    other = add_row(PARENT_B, due_at=NOON + timedelta(hours=2))
    app.config["SMS_RATE_PER_SECOND"] = 10  # both of the first two in one batch
    deliver(app, NOON)
    assert (fresh(row).status, fresh(row).error_code) == (OutboxStatus.FAILED, "21610")
    assert fresh(same_batch).status == OutboxStatus.FAILED
    assert fresh(later).status == OutboxStatus.SKIPPED
    assert fresh(other).status == OutboxStatus.QUEUED
    assert db.session.get(SmsOptOut, PARENT) is not None
    events = list(db.session.scalars(sa.select(ConsentEvent)))
    assert [(e.phone, e.action, e.channel, e.member_id) for e in events] == [
        (PARENT, ConsentAction.OPT_OUT, ConsentChannel.CARRIER, cast.parent.id)
    ]
    assert db.session.get(Member, cast.parent.id).sms_status == SmsStatus.STOPPED


def test_the_opt_out_is_checked_at_delivery_time(app, cast, sent):
    row = add_row()
    db.session.add(SmsOptOut(phone=PARENT))  # recorded by something that did not touch the outbox
    db.session.commit()
    deliver(app, NOON)
    row = fresh(row)
    assert (row.status, row.error_message) == (OutboxStatus.SKIPPED, "opted out")
    assert sent == []


# A worker that died mid-send ---------------------------------------------------------------------------


def test_rows_left_sending_by_a_dead_worker_become_unknown_and_are_never_resent(app, cast, sent):
    row = add_row()
    fresh_claim = add_row(PARENT_B)
    claimed = outbox.claim("dead-worker", 1, NOON)
    assert [r.id for r in claimed] == [row.id]
    assert fresh(row).status == OutboxStatus.SENDING
    lease = app.config["SMS_LEASE_SECONDS"]

    assert outbox.recover_stale(NOON + timedelta(seconds=lease - 1)) == 0
    assert fresh(row).status == OutboxStatus.SENDING
    assert outbox.recover_stale(NOON + timedelta(seconds=lease + 1)) == 1
    row = fresh(row)
    assert row.status == OutboxStatus.UNKNOWN
    assert row.error_message

    assert deliver(app, NOON + timedelta(hours=1)) == 1  # only the other row
    assert deliver(app, NOON + timedelta(days=2)) == 0
    assert [m["id"] for m in sent] == [fresh_claim.id]
    assert fresh(row).status == OutboxStatus.UNKNOWN

    # Twilio did take it after all: its callback still counts.
    with app.test_request_context():
        assert outbox.record_status(row.id, "SM" + "5" * 32, "delivered", None) is True
    assert fresh(row).status == OutboxStatus.DELIVERED


def test_a_row_is_claimed_by_one_worker_only(app, cast):
    add_row()
    assert len(outbox.claim("w1", 10, NOON)) == 1
    assert outbox.claim("w2", 10, NOON) == []


def test_replies_are_claimed_before_bulk_messages(app, cast):
    bulk = add_row(kind=OutboxKind.BULK, due_at=NOON - timedelta(hours=1))
    reply = add_row(PARENT_B, kind=OutboxKind.REPLY, due_at=NOON)
    assert [r.id for r in outbox.claim("w1", 1, NOON)] == [reply.id]
    assert [r.id for r in outbox.claim("w1", 1, NOON)] == [bulk.id]


class CallbackFirstTransport:
    """Twilio's status callback arrives (in another request) before the worker has
    recorded the result of its batch."""

    via = "memory"

    def __init__(self, app, status: str):
        self.app = app
        self.status = status
        self.sent = []

    def send(self, *, to, body, row_id, status_callback):
        sid = f"SM{row_id:032d}"
        self.sent.append(row_id)
        with self.app.app_context():  # its own session and connection, as a web request has
            assert outbox.record_status(row_id, sid, self.status, None)
        return Sent(sid=sid, via=self.via)


@pytest.mark.parametrize("status", ["delivered", "undelivered", "failed"])
def test_a_callback_that_overtakes_the_worker_is_not_undone(app, cast, status):
    app.extensions["engage_sms_transport"] = CallbackFirstTransport(app, status)
    row = add_row()
    deliver(app, NOON)
    row = fresh(row)
    assert row.status == OutboxStatus(status)
    assert row.provider_sid == f"SM{row.id:032d}"


# Pacing ----------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now += timedelta(seconds=seconds)


@pytest.mark.parametrize("app_config", [{"SMS_RATE_PER_SECOND": 2, **LOS_ANGELES}])
def test_messages_are_spaced_by_the_sender_rate(app, cast, sent):
    rows = [add_row(body=f"Message {i}") for i in range(4)]
    clock = FakeClock(NOON)
    assert outbox.deliver_due(app, "w1", now=clock, sleep=clock.sleep) == 4
    assert clock.waits == [0.5, 0.5, 0.5]
    sent_at = [fresh(r).sent_at for r in rows]
    assert [(t - NOON).total_seconds() for t in sent_at] == [0, 0.5, 1.0, 1.5]
    assert [m["id"] for m in sent] == [r.id for r in rows]


@pytest.mark.parametrize("app_config", [{"SMS_RATE_PER_SECOND": 2, **LOS_ANGELES}])
def test_workers_share_one_senders_rate(app, cast, sent):
    for i in range(6):
        add_row(body=f"Message {i}")
    first = FakeClock(NOON)
    assert outbox.deliver_due(app, "w1", now=first, sleep=first.sleep) == 4  # two seconds' worth
    second = FakeClock(NOON)  # another worker, at the same moment
    assert outbox.deliver_due(app, "w2", now=second, sleep=second.sleep) == 2
    assert second.waits == [2.0, 0.5]  # after the slots the first worker booked


# The console backend ------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"SMS_BACKEND": "console", **LOS_ANGELES}])
def test_the_console_backend_prints_one_json_line_per_message(app, cast, capsys):
    row = add_row(body="Reunión mañana a las 6 — 會議")
    capsys.readouterr()
    deliver(app, NOON)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    printed = json.loads(lines[0])
    assert printed["to"] == PARENT
    assert printed["body"] == "Reunión mañana a las 6 — 會議"
    row = fresh(row)
    assert (row.status, row.via) == (OutboxStatus.SENT, "console")
