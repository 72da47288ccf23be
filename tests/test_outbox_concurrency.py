"""Four workers drain 10,000 queued rows on PostgreSQL: every row delivered exactly once.
Workers booking send slots at the same time never get overlapping ones, on either database."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import OutboxKind, OutboxMessage, OutboxStatus
from engage.sms import outbox
from engage.sms.transport import get_transport

ROWS = 10_000
WORKERS = 4


@pytest.fixture
def app_config(database_url):
    return {"SMS_RATE_PER_SECOND": 100_000}


@pytest.fixture
def postgresql(app):
    if app.extensions["sqlalchemy"].engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (FOR UPDATE SKIP LOCKED and concurrent writers); set TEST_DATABASE_URL")
    return app


def test_four_workers_deliver_ten_thousand_rows_exactly_once(postgresql):
    app = postgresql
    now = datetime.now(UTC) - timedelta(minutes=1)
    outbox.enqueue_many(
        [
            {
                "phone": f"+1510{2000000 + i:07d}",
                "body": f"Reminder {i}",
                "kind": OutboxKind.BULK,
                "locale": "en",
                "segments": 1,
                "status": OutboxStatus.QUEUED,
                "attempts": 0,
                "sender": "default",
                "due_at": now,
                "quiet_hours": False,  # the test must not depend on the hour it runs at
                "priority": outbox.PRIORITY[OutboxKind.BULK],
                "created_at": now,
            }
            for i in range(ROWS)
        ]
    )
    db.session.commit()
    transport = get_transport(app)
    start = threading.Barrier(WORKERS)
    handled = [0] * WORKERS
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                while True:
                    n = outbox.deliver_due(app, f"w{i}")
                    if n == 0:
                        break
                    handled[i] += n
        except BaseException as exc:
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - started
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    ids = Counter(m["id"] for m in transport.sent)
    assert len(transport.sent) == ROWS
    assert [i for i, n in ids.items() if n > 1] == []
    all_ids = set(db.session.scalars(sa.select(OutboxMessage.id)))
    assert set(ids) == all_ids
    assert sum(handled) == ROWS
    assert all(handled), f"a worker never got a row: {handled}"  # the work was shared
    statuses = dict(
        db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    )
    assert statuses == {OutboxStatus.SENT: ROWS}
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.provider_sid.is_(None))) == 0
    print(f"{ROWS} rows, {WORKERS} workers: {elapsed:.1f} s, {handled}")


def test_two_workers_booking_send_slots_at_once_never_overlap(app, database_url):
    """Each worker books slots in its own session and connection (on SQLite, a file
    database: FOR UPDATE is ignored there, so the guarded UPDATE is what keeps them apart)."""
    rate = 100.0  # slots of 10 ms
    rounds = 150
    now = datetime.now(UTC)
    bookings: list[tuple[datetime, datetime]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def book(worker: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                for i in range(rounds):
                    count = 1 + (i + worker) % 4
                    first = outbox.reserve_slots("default", count, rate, now)
                    bookings.append((first, first + timedelta(seconds=count / rate)))
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(bookings) == 2 * rounds
    bookings.sort()
    overlaps = [(a, b) for a, b in zip(bookings, bookings[1:], strict=False) if b[0] < a[1]]
    assert overlaps == []
    # Back to back from the first slot: nothing booked twice, nothing lost.
    booked = sum(1 + (i + w) % 4 for w in range(2) for i in range(rounds)) / rate
    assert bookings[-1][1] - bookings[0][0] == timedelta(seconds=booked)
    assert bookings[0][0] == now
