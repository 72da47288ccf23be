"""Text-message throughput (issue 3): ``python -m bench sms [--only webhook,enqueue,worker]``.

webhook  POST /sms/inbound, signed like Twilio, served by gunicorn against a bare Flask
         app answering TwiML (bench/bare_twiml.py), same client, same run, on PostgreSQL.
         Target: engage reaches at least 50% of the bare app's requests per second.
enqueue  a 50,000-recipient bulk message through ``outbox.enqueue_many``, from the SELECT
         of the members to the commit, on PostgreSQL and SQLite. Target: under 5 s.
worker   ``worker.run(app, once=True)`` draining 20,000 queued rows through the in-memory
         transport, on PostgreSQL and SQLite. Target: at least 1,000 messages a second.

``--floor`` adds a reference row to the webhook table: bench/floor_twiml.py, the least
a signed webhook that stores the text can do. ``--profile`` profiles engage's webhook in
process (SQL statements per kind of request, cProfile top functions).

PostgreSQL is reached at ``BENCH_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); each part creates its own
database ``engage_bench_<pid>_<part>`` and drops it afterwards. gunicorn's and engage's
logs of the last webhook run are kept in build/bench/.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105 - a made-up Twilio auth token
ACCOUNT_SID = "AC" + "0" * 32
PUBLIC_BASE_URL = "https://engage.example.org"
TO_NUMBER = "+15595550100"

WEBHOOK_MEMBERS = 1_000
BULK_RECIPIENTS = 50_000
BULK_OPTED_OUT = 250  # members who said STOP: the SELECT must leave them out
WORKER_ROWS = 20_000

TARGET_RATIO = 0.5
TARGET_ENQUEUE_SECONDS = 5.0
TARGET_WORKER_RATE = 1_000.0

LOCALES = ["en"] * 6 + ["es"] * 3 + ["zh_Hant"]
FREE_TEXT = {
    "en": [
        "Can I bring my kids to the meeting on Thursday?",
        "I need a ride to the meeting, is that possible?",
        "The clinic on Blackstone never answers the phone. Can the plan fix that?",
        "Thank you! See you next week.",
        "My son's therapy was cancelled again, who do I talk to?",
    ],
    "es": [
        "¿Puedo llevar a mis hijos a la reunión del jueves?",
        "Necesito un intérprete para la reunión, por favor.",
        "La farmacia no tenía la medicina de mi hija. ¿Qué puedo hacer?",
        "Gracias, ahí estaré.",
    ],
    "zh_Hant": [
        "我可以帶孩子去參加星期四的會議嗎？",
        "我需要翻譯，謝謝。",
        "診所的等候時間太長了。",
    ],
}
HELP_WORDS = {"en": ["HELP", "help", "Help!", "INFO"], "es": ["AYUDA", "Ayuda"], "zh_Hant": ["幫助"]}
UNKNOWN_TEXT = ["Hi, who is this?", "How do I sign up?", "hola, quiero información", "你好", "What is this number?"]
BULK_BODIES = {
    "en": "Valle Central: The parent committee meets Thu 6pm at the Fresno library. Childcare and dinner provided. "
    "Reply YES to come.",
    "es": "Valle Central: El comité de padres se reúne el jueves a las 6pm en la biblioteca de Fresno. "
    "Hay cuidado de niños y cena. Responda SI para venir.",
    "zh_Hant": "Valle Central：家長委員會星期四晚上6點在弗雷斯諾圖書館開會，提供托兒和晚餐。回覆「是」報名。",
}


def member_phone(i: int) -> str:
    return f"+1559{2_000_000 + i:07d}"


def unknown_phone(i: int) -> str:
    return f"+1209{3_000_000 + i:07d}"


# Databases ------------------------------------------------------------------------------


def postgres_available() -> str | None:
    """PostgreSQL's version string, or None when it does not answer."""
    import sqlalchemy as sa

    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SHOW server_version")).scalar()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return None
    finally:
        engine.dispose()


@contextlib.contextmanager
def database(kind: str, part: str):
    """A fresh, migrated database URL; dropped afterwards."""
    import sqlalchemy as sa

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / f'{part}.db'}"
            _migrate(url)
            yield url
        return
    name = f"engage_bench_{os.getpid()}_{part}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str, **overrides):
    from engage import create_app

    return create_app(
        {
            "ENGAGE_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": url,
            "LOG_LEVEL": "WARNING",
            "SMS_BACKEND": "memory",
            **overrides,
        }
    )


def quiet_upgrade() -> None:
    """``flask_migrate.upgrade()`` without alembic's line per migration (migrations/env.py
    sets its logging up on every run)."""
    import logging
    from unittest import mock

    from flask_migrate import upgrade

    logging.getLogger("alembic").setLevel(logging.WARNING)
    with mock.patch("logging.config.fileConfig"):
        upgrade()


def _migrate(url: str) -> None:
    from engage.extensions import db

    app = make_app(url)
    with app.app_context():
        quiet_upgrade()
        db.engine.dispose()


def bulk_audience(plan_id: int) -> list:
    """Who gets a bulk message to the whole plan: members we may text who have not said STOP."""
    import sqlalchemy as sa

    from engage.models import Member, SmsOptOut, SmsStatus

    return [
        Member.plan_id == plan_id,
        Member.deleted_at.is_(None),
        Member.phone.is_not(None),
        Member.sms_status == SmsStatus.ACTIVE,
        ~sa.exists().where(SmsOptOut.phone == Member.phone),
    ]


def seed(url: str, members: int, *, opted_out: int = 0, top_up: bool = False) -> None:
    """The demo data, then ``members`` active members with numbers ``member_phone(0..)``
    (and ``opted_out`` more who said STOP). With ``top_up``, ``members`` counts the
    demo's own active members too, so the plan has exactly that many."""
    import sqlalchemy as sa

    from engage.demo import PLAN, load_demo
    from engage.extensions import db
    from engage.models import ConsentAction, ConsentChannel, ConsentEvent, Member, Plan, SmsOptOut, SmsStatus, utcnow

    app = make_app(url)
    with app.app_context():
        load_demo()
        db.session.commit()
        plan_id = db.session.scalar(sa.select(Plan.id).where(Plan.slug == PLAN["slug"]))
        if top_up:
            members -= db.session.scalar(sa.select(sa.func.count()).where(*bulk_audience(plan_id)))
        now = utcnow()
        total = members + opted_out
        rows = [
            {
                "display_name": f"Parent {i}",
                "phone": member_phone(i),
                "locale": LOCALES[i % len(LOCALES)],
                "county": "Fresno",
                "zip_code": "93721",
                "child_age_groups": ["0-5"],
                "source": "web",
                "plan_id": plan_id,
                "sms_status": SmsStatus.ACTIVE if i < members else SmsStatus.STOPPED,
                "confirmed_at": now,
                "created_at": now,
            }
            for i in range(total)
        ]
        for start in range(0, total, 10_000):
            db.session.execute(sa.insert(Member), rows[start : start + 10_000])
        if opted_out:
            db.session.execute(sa.insert(SmsOptOut), [{"phone": member_phone(i)} for i in range(members, total)])
            db.session.execute(
                sa.insert(ConsentEvent),
                [
                    {
                        "phone": member_phone(i),
                        "action": ConsentAction.OPT_OUT,
                        "channel": ConsentChannel.SMS,
                        "locale": "en",
                        "words_shown": "You will get no more texts from us.",
                        "keyword": "STOP",
                    }
                    for i in range(members, total)
                ],
            )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        db.engine.dispose()


# (a) the webhook under gunicorn ---------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequests:
    """Builds signed, unique Twilio-style webhook requests (picklable, for the client processes).

    Mix: 80% free text from a known member, 10% HELP (in the member's language) from a
    known member, 10% free text from a number that is not a member. Every MessageSid is new.
    """

    host: str
    members: int = WEBHOOK_MEMBERS
    unknown_numbers: int = 2_000
    tag: str = ""

    def __call__(self, index: int, count: int) -> list[bytes]:
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(TOKEN)
        url = PUBLIC_BASE_URL + "/sms/inbound"
        rnd = random.Random(f"{self.tag}-{index}")
        out = []
        for _ in range(count):
            roll = rnd.random()
            if roll < 0.9:
                i = rnd.randrange(self.members)
                phone, locale = member_phone(i), LOCALES[i % len(LOCALES)]
                body = rnd.choice(FREE_TEXT[locale] if roll < 0.8 else HELP_WORDS[locale])
            else:
                phone, body = unknown_phone(rnd.randrange(self.unknown_numbers)), rnd.choice(UNKNOWN_TEXT)
            sid = "SM" + uuid.uuid4().hex
            # The fields Twilio sends with an incoming SMS.
            params = {
                "ToCountry": "US",
                "ToState": "CA",
                "SmsMessageSid": sid,
                "NumMedia": "0",
                "ToCity": "FRESNO",
                "FromZip": "",
                "SmsSid": sid,
                "FromState": "CA",
                "SmsStatus": "received",
                "FromCity": "",
                "Body": body,
                "FromCountry": "US",
                "To": TO_NUMBER,
                "ToZip": "",
                "NumSegments": "1",
                "MessageSid": sid,
                "AccountSid": ACCOUNT_SID,
                "From": phone,
                "ApiVersion": "2010-04-01",
            }
            data = urlencode(params).encode()
            signature = validator.compute_signature(url, params)
            head = (
                f"POST /sms/inbound HTTP/1.1\r\nHost: {self.host}\r\n"
                "User-Agent: TwilioProxy/1.1\r\nAccept: */*\r\n"
                "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
                f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            out.append(head.encode() + data)
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _cpu_of(pids) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each process."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _backend_pids(url: str) -> list[int]:
    """PostgreSQL server processes serving ``url``'s database."""
    import sqlalchemy as sa

    engine = sa.create_engine(ADMIN_URL, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                    {"db": sa.make_url(url).database},
                ).scalars()
            )
    finally:
        engine.dispose()


def _machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


IDLE_CORES = 0.15  # "idle": fewer cores than this busy
IDLE_FOR = 10.0  # seconds in a row


def wait_for_idle(limit: float) -> str:
    """Wait until the machine has been nearly idle (under IDLE_CORES cores busy) for
    IDLE_FOR seconds in a row, at most ``limit`` seconds. Other people's test runs share
    the machine; a run started while they work measures them as much as the app."""
    if limit <= 0:
        return ""
    started = time.monotonic()
    quiet_since = started
    last = _machine_cpu_seconds()
    while True:
        time.sleep(1.0)
        now, busy = time.monotonic(), _machine_cpu_seconds()
        if busy - last > IDLE_CORES * 1.0:
            quiet_since = now
        last = busy
        if now - quiet_since >= IDLE_FOR:
            return f"waited {now - started:.0f} s for an idle machine"
        if now - started >= limit:
            return f"the machine was not idle after {limit:.0f} s; measured anyway"


class CpuProbe:
    """Cores kept busy by the gunicorn workers, by the PostgreSQL backends serving the
    benchmark's database, by the load generator, and by everything else on the machine
    (PostgreSQL's own background processes, the kernel, other jobs)."""

    def __init__(self, master_pid: int, url: str | None):
        self.master_pid = master_pid
        self.url = url
        self.marks: list[tuple[float, dict, dict, dict, float]] = []

    def __call__(self) -> None:
        pg = _cpu_of(_backend_pids(self.url)) if self.url else {}
        clients = [pid for pid in _children(os.getpid()) if pid != self.master_pid]
        self.marks.append(
            (
                time.monotonic(),
                _cpu_of(_children(self.master_pid)),
                pg,
                _cpu_of(clients),
                _machine_cpu_seconds(),
            )
        )

    def summary(self) -> str:
        if len(self.marks) < 2:
            return ""
        (t0, w0, p0, c0, m0), (t1, w1, p1, c1, m1) = self.marks[0], self.marks[-1]
        wall = t1 - t0

        def used(before: dict, after: dict) -> float:
            return sum(v - before.get(pid, 0.0) for pid, v in after.items()) / wall

        app, pg, client, machine = used(w0, w1), used(p0, p1), used(c0, c1), (m1 - m0) / wall
        per_worker = ", ".join(f"{v - w0.get(pid, 0.0):.1f}" for pid, v in sorted(w1.items()))
        return (
            f"cores busy: gunicorn workers {app:.2f} (CPU s per worker: {per_worker}), "
            f"postgres backends {pg:.2f}, load generator {client:.2f}, "
            f"everything else {max(0.0, machine - app - pg - client):.2f}; machine {machine:.2f} of {os.cpu_count()}"
        )


@contextlib.contextmanager
def gunicorn(app_spec: str, env: dict, *, workers: int, threads: int, log_path: Path, worker_class: str = "gthread"):
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        worker_class,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "30",
        app_spec,
    ]
    if os.environ.get("BENCH_APP_CPUS"):
        # e.g. BENCH_APP_CPUS=0: the servers under test on core 0 only, so that PostgreSQL and
        # the load generator (started with ``taskset -c 1``) do not share their cores.
        cmd = ["taskset", "-c", os.environ["BENCH_APP_CPUS"], *cmd]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn {app_spec} exited; see {log_path}")
            booted = log_path.read_text(errors="replace").count("Booting worker")
            if booted >= workers and _answers(port):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app_spec} did not start; see {log_path}")
            time.sleep(0.2)
        time.sleep(1.0)  # let every worker finish importing the app
        yield port, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /sms/inbound HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


def _load_row(name: str, result, cpu: str) -> dict:
    return {
        "name": name,
        "rps": result.rps,
        "p50": result.percentile(0.50) * 1000,
        "p95": result.percentile(0.95) * 1000,
        "p99": result.percentile(0.99) * 1000,
        "requests": result.requests,
        "non_2xx": result.non_2xx,
        "errors": result.errors + result.bad_body,
        "exhausted": result.exhausted,
        "statuses": dict(result.statuses),
        "cpu": cpu,
        "ok_total": result.ok_total,
    }


def bench_webhook(opts) -> bool | None:
    import sqlalchemy as sa

    from bench.loadgen import run_load

    version = postgres_available()
    if version is None:
        print(f"webhook: SKIP, PostgreSQL does not answer at {ADMIN_URL}")
        return None
    print(
        f"\nwebhook: POST /sms/inbound, signed; gunicorn {opts.worker_class} {opts.workers} workers x {opts.threads} "
        "threads; "
        f"{opts.connections} keep-alive connections from {opts.client_processes} client processes; "
        f"{opts.warmup:g} s warm-up + {opts.seconds:g} s; PostgreSQL {version}; {WEBHOOK_MEMBERS:,} members"
    )
    rows: list[dict] = []
    ratios: list[float] = []
    failed_checks: list[str] = []
    logs = ROOT / "build" / "bench"  # gunicorn's and engage's logs of the last run
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("webhook-*.log"):
        old.unlink()
    with database("postgresql", "webhook") as url:
        seed(url, WEBHOOK_MEMBERS)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("ENGAGE_", "TWILIO_", "SMS_"))}
        engage_env = {
            **base_env,
            "ENGAGE_ENV": "production",
            "SECRET_KEY": "bench-secret-key-" + uuid.uuid4().hex,
            "DATABASE_URL": url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "SMS_BACKEND": "console",
            "LOG_LEVEL": "INFO",
        }
        servers = [
            ("bare Flask", "bench.bare_twiml:app", base_env, True),
            ("engage", "engage:create_app()", engage_env, False),
        ]
        if opts.floor:
            servers.append(("minimal stored", "bench.floor_twiml:app", {**engage_env, "DATABASE_URL": url}, False))
            servers.append(("minimal WSGI", "bench.floor_wsgi:app", {**engage_env, "DATABASE_URL": url}, False))
        for rnd in range(opts.rounds):
            by_name = {}
            stored_before = _count(url, "inbound_messages")
            # Every other round measures engage first (bare, engage, engage, bare, …), so a
            # machine that slows down or speeds up during the run favours neither.
            order = servers if rnd % 2 == 0 else [servers[1], servers[0], *servers[2:]]
            for name, spec, env, cycle in order:
                waited = wait_for_idle(opts.wait_idle)
                if waited:
                    print(f"  {name}: {waited}", flush=True)
                log_path = logs / f"webhook-{spec.split(':')[0].split('.')[-1]}.log"
                with gunicorn(
                    spec,
                    env,
                    workers=opts.workers,
                    threads=opts.threads,
                    worker_class=opts.worker_class,
                    log_path=log_path,
                ) as (
                    port,
                    master,
                ):
                    probe = CpuProbe(master, None if cycle else url)
                    per_connection = (
                        2_000 if cycle else int(6_000 * (opts.warmup + opts.seconds) / opts.connections) + 1
                    )
                    result = run_load(
                        "127.0.0.1",
                        port,
                        WebhookRequests(host=f"127.0.0.1:{port}", tag=f"{os.getpid()}-{rnd}-{name}"),
                        connections=opts.connections,
                        processes=opts.client_processes,
                        warmup=opts.warmup,
                        seconds=opts.seconds,
                        per_connection=per_connection,
                        cycle=cycle,
                        probe=probe,
                    )
                row = _load_row(name if opts.rounds == 1 else f"{name} #{rnd + 1}", result, probe.summary())
                rows.append(row)
                by_name[name] = row
                if result.exhausted:
                    failed_checks.append(f"{name}: the client ran out of pre-built requests")
                if result.non_2xx or result.errors or result.bad_body:
                    failed_checks.append(
                        f"{name}: {result.non_2xx} non-2xx, {result.errors} errors, {result.bad_body} not TwiML "
                        f"(statuses {dict(result.statuses)}; log {log_path})"
                    )
                if not cycle:
                    stored = _count(url, "inbound_messages") - stored_before
                    stored_before += stored
                    # Every 2xx answer stands for a new MessageSid: each must be stored once.
                    if stored != result.ok_total:
                        failed_checks.append(
                            f"{name} stored {stored} inbound messages for {result.ok_total} 2xx answers"
                        )
            ratios.append(by_name["engage"]["rps"] / by_name["bare Flask"]["rps"])
        with contextlib.suppress(Exception):
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                replies = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE via = 'twiml'")).scalar()
                convs = conn.execute(sa.text("SELECT count(*) FROM conversations")).scalar()
            engine.dispose()
            print(f"engage's database now holds {replies:,} replies sent in TwiML and {convs:,} conversations")

    print(
        f"{'app':<16} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8} {'errors':>7}"
    )
    for r in rows:
        print(
            f"{r['name']:<16} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
            f"{r['requests']:>9,} {r['non_2xx']:>8} {r['errors']:>7}"
        )
    for r in rows:
        if r["cpu"]:
            print(f"  {r['name']}: {r['cpu']}")
    bare = sum(r["rps"] for r in rows if r["name"].startswith("bare"))
    for prefix, what in (
        ("minimal stored", "Flask, signature check, 2 SQL statements and a commit per request; bench/floor_twiml.py"),
        ("minimal WSGI", "no framework, signature check, 1 autocommitted statement per request; bench/floor_wsgi.py"),
    ):
        floor = [r["rps"] for r in rows if r["name"].startswith(prefix)]
        if floor:
            print(f"{prefix} / bare = {sum(floor) / max(1e-9, bare):.0%} (reference only: {what})")
    ratio = sum(r["rps"] for r in rows if r["name"].startswith("engage")) / max(
        1e-9, sum(r["rps"] for r in rows if r["name"].startswith("bare"))
    )
    for problem in failed_checks:
        print(f"  problem: {problem}")
    ok = ratio >= TARGET_RATIO and not failed_checks
    each = "" if len(ratios) == 1 else " (rounds: " + ", ".join(f"{x:.0%}" for x in ratios) + ")"
    print(f"engage / bare = {ratio:.0%}{each}; target >= {TARGET_RATIO:.0%}: {'PASS' if ok else 'FAIL'}")
    return ok


def _count(url: str, table: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608 - our own name
    finally:
        engine.dispose()


# (b) enqueuing a bulk message -------------------------------------------------------------


def bench_enqueue(kinds: list[str]) -> bool | None:
    print(f"\nenqueue: a {BULK_RECIPIENTS:,}-recipient bulk message through outbox.enqueue_many (seconds)")
    print(f"{'database':<12} {'select':>7} {'build':>7} {'insert':>7} {'commit':>7} {'total':>7} {'rows':>8}")
    results = []
    for kind in kinds:
        with database(kind, "enqueue") as url:
            seed(url, BULK_RECIPIENTS, opted_out=BULK_OPTED_OUT, top_up=True)
            t, rows = _time_enqueue(url)
        total = sum(t)
        ok = total < TARGET_ENQUEUE_SECONDS and rows == BULK_RECIPIENTS
        results.append(ok)
        print(f"{_label(kind):<12} {t[0]:>7.2f} {t[1]:>7.2f} {t[2]:>7.2f} {t[3]:>7.2f} {total:>7.2f} {rows:>8,}")
    if not results:
        return None
    ok = all(results)
    print(f"target: under {TARGET_ENQUEUE_SECONDS:g} s on each: {'PASS' if ok else 'FAIL'}")
    return ok


def _time_enqueue(url: str) -> tuple[tuple[float, float, float, float], int]:
    import sqlalchemy as sa

    from engage.extensions import db
    from engage.models import (
        BulkMessage,
        Member,
        OutboxKind,
        OutboxMessage,
        OutboxStatus,
        Plan,
        utcnow,
    )
    from engage.sms.outbox import PRIORITY, enqueue_many, next_send_time
    from engage.sms.segments import count_segments

    app = make_app(url)
    with app.app_context():
        plan_id = db.session.scalar(sa.select(Plan.id))
        db.session.commit()
        t0 = time.perf_counter()
        bulk = BulkMessage(plan_id=plan_id, bodies=BULK_BODIES, audience={"plan": plan_id})
        db.session.add(bulk)
        db.session.flush()
        recipients = db.session.execute(
            sa.select(Member.id, Member.phone, Member.locale).where(*bulk_audience(plan_id))
        ).all()
        t1 = time.perf_counter()
        now = utcnow()
        due = next_send_time(now)
        segments = {loc: count_segments(text).count for loc, text in BULK_BODIES.items()}
        rows = [
            {
                "phone": r.phone,
                "body": BULK_BODIES[r.locale],
                "kind": OutboxKind.BULK,
                "locale": r.locale,
                "member_id": r.id,
                "bulk_id": bulk.id,
                "segments": segments[r.locale],
                "status": OutboxStatus.QUEUED,
                "due_at": due,
                "quiet_hours": True,
                "priority": PRIORITY[OutboxKind.BULK],
                "attempts": 0,
                "sender": "default",
                "created_at": now,
            }
            for r in recipients
        ]
        bulk.recipient_count = len(rows)
        t2 = time.perf_counter()
        enqueue_many(rows)
        t3 = time.perf_counter()
        db.session.commit()
        t4 = time.perf_counter()
        stored = db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.bulk_id == bulk.id)
        )
        db.session.remove()
        db.engine.dispose()
    return (t1 - t0, t2 - t1, t3 - t2, t4 - t3), stored


# (c) the delivery worker ------------------------------------------------------------------


def bench_worker(kinds: list[str]) -> bool | None:
    print(f"\nworker: worker.run(app, once=True) draining {WORKER_ROWS:,} queued rows, memory transport")
    print(f"{'database':<12} {'seconds':>8} {'msgs/s':>8} {'sent':>8}")
    results = []
    for kind in kinds:
        with database(kind, "worker") as url:
            seed(url, 1_000)
            seconds, sent = _time_worker(url)
        rate = sent / seconds
        ok = rate >= TARGET_WORKER_RATE and sent == WORKER_ROWS
        results.append(ok)
        print(f"{_label(kind):<12} {seconds:>8.2f} {rate:>8.0f} {sent:>8,}")
    if not results:
        return None
    ok = all(results)
    print(f"target: at least {TARGET_WORKER_RATE:,.0f} messages/s on each: {'PASS' if ok else 'FAIL'}")
    return ok


BATCH_SIZES = (1, 2, 5, 10, 20)


def bench_batches() -> None:
    """What one batch of the webhook's short way costs by its number of texts, in one
    process and without HTTP: Python's CPU and the PostgreSQL backends' CPU (the
    statement's and the flush's). No target: it shows how much of a text's cost is per
    statement. Texts from members whose conversation was acknowledged within the hour
    (no reply)."""
    import uuid

    from engage.sms import fastpath

    if not postgres_available():
        print("\nbatches: PostgreSQL does not answer: skipped")
        return
    print("\nbatches: the short way's batch function, texts from members with a conversation, no reply")
    print(f"{'texts':>5} {'batches':>8} {'ms wall':>8} {'ms Python':>10} {'ms PostgreSQL':>14} {'PG ms a text':>13}")
    with database("postgresql", "batches") as url:
        seed(url, WEBHOOK_MEMBERS, top_up=True)
        app = make_app(url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=PUBLIC_BASE_URL)
        fast = app.extensions["engage.sms_fast_path"]

        def texts(members) -> list:
            return [fastpath._Text(member_phone(i), "SM" + uuid.uuid4().hex, "Hola", None) for i in members]

        for start in range(0, WEBHOOK_MEMBERS, 50):  # every member's conversation, acknowledged
            fast._run(texts(range(start, min(start + 50, WEBHOOK_MEMBERS))), 0)
        backend = [fast._connection().info.backend_pid, fast._connection(fast.flush_slot).info.backend_pid]
        rnd = random.Random(7)
        for size in BATCH_SIZES:
            batches = [texts(rnd.sample(range(WEBHOOK_MEMBERS), size)) for _ in range(max(200, 2_000 // size))]
            cpu, python, wall = _cpu_of(backend), time.process_time(), time.perf_counter()
            for batch in batches:  # each written, then flushed, as the webhook's are
                fast._flush(batch, fast._run(batch, 0))
            wall, python = time.perf_counter() - wall, time.process_time() - python
            pg = sum(_cpu_of(backend).values()) - sum(cpu.values())
            if not all(text.answer for batch in batches for text in batch):
                raise RuntimeError("a text took the long way")
            n = len(batches)
            print(
                f"{size:>5} {n:>8,} {wall / n * 1000:>8.2f} {python / n * 1000:>10.2f} {pg / n * 1000:>14.2f}"
                f" {pg / n / size * 1000:>13.3f}"
            )


def _time_worker(url: str) -> tuple[float, int]:
    from datetime import timedelta

    import sqlalchemy as sa

    from engage.extensions import db
    from engage.models import OutboxKind, OutboxMessage, OutboxStatus, utcnow
    from engage.sms.outbox import PRIORITY, enqueue_many
    from engage.sms.segments import count_segments
    from engage.sms.transport import get_transport
    from engage.sms.worker import run

    app = make_app(url, SMS_RATE_PER_SECOND=1e6)
    with app.app_context():
        now = utcnow()
        due = now - timedelta(minutes=1)
        rows = [
            {
                "phone": member_phone(i % 1_000),
                "body": BULK_BODIES[LOCALES[i % len(LOCALES)]],
                "kind": OutboxKind.BULK,
                "locale": LOCALES[i % len(LOCALES)],
                "member_id": None,
                "segments": count_segments(BULK_BODIES[LOCALES[i % len(LOCALES)]]).count,
                "status": OutboxStatus.QUEUED,
                "due_at": due,
                # Not held for quiet hours, so the figure does not depend on the time of day.
                "quiet_hours": False,
                "priority": PRIORITY[OutboxKind.BULK],
                "attempts": 0,
                "sender": "default",
                "created_at": now,
            }
            for i in range(WORKER_ROWS)
        ]
        enqueue_many(rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE outbox_messages"))
        db.session.remove()
    t0 = time.perf_counter()
    handled = run(app, once=True)
    seconds = time.perf_counter() - t0
    with app.app_context():
        sent = db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        transport = get_transport(app)
        ids = [m["id"] for m in transport.sent]
        if handled != WORKER_ROWS or len(ids) != len(set(ids)) or len(ids) != sent:
            print(f"  problem: handled {handled}, {len(ids)} sends ({len(set(ids))} distinct), {sent} rows sent")
            sent = min(sent, len(set(ids)))
        db.session.remove()
        db.engine.dispose()
    return seconds, sent


# Profile of the webhook, in process ---------------------------------------------------------


def profile_webhook(requests: int = 4_000, top: int = 25) -> None:
    """cProfile of the webhook through Flask's test client on PostgreSQL, with the
    SQL statements each kind of request runs."""
    import sqlalchemy as sa
    from twilio.request_validator import RequestValidator

    from engage.extensions import db

    version = postgres_available()
    if version is None:
        print(f"profile: SKIP, PostgreSQL does not answer at {ADMIN_URL}")
        return
    with database("postgresql", "profile") as url:
        seed(url, WEBHOOK_MEMBERS)
        app = make_app(
            url,
            TWILIO_AUTH_TOKEN=TOKEN,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            LOG_LEVEL="INFO",
        )
        raw = WebhookRequests(host="bench", tag=f"profile-{os.getpid()}")(0, requests)
        from urllib.parse import parse_qsl

        forms = []
        for r in raw:
            head, _, body = r.partition(b"\r\n\r\n")
            sig = next(
                line.split(": ", 1)[1] for line in head.decode().split("\r\n") if line.startswith("X-Twilio-Signature")
            )
            forms.append((dict(parse_qsl(body.decode(), keep_blank_values=True)), sig))
        import logging

        devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
        for h in logging.getLogger("engage").handlers:
            h.setStream(devnull)
        client = app.test_client()
        statements: list[str] = []
        engine = None
        with app.app_context():
            engine = db.engine

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        validator = RequestValidator(TOKEN)
        assert validator  # the forms were signed with the same token
        # Statements per kind of request, after a warm-up.
        for form, sig in forms[:200]:
            client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        per_kind: dict[str, list[int]] = {}
        examples: dict[str, list[str]] = {}
        for form, sig in forms[200:400]:
            statements.clear()
            resp = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
            assert resp.status_code == 200, resp.status_code
            body = form["Body"]
            kind = (
                "unknown number"
                if form["From"].startswith("+1209")
                else ("HELP" if any(body in words for words in HELP_WORDS.values()) else "free text")
            )
            if kind == "free text":
                kind += ", acknowledged" if b"<Message" in resp.data else ", no reply"
            per_kind.setdefault(kind, []).append(len(statements))
            examples.setdefault(kind, list(statements))
        sa.event.remove(engine, "before_cursor_execute", count)
        print("SQL statements per request (after warm-up):")
        for kind, counts in sorted(per_kind.items()):
            print(f"  {kind:<26} {sum(counts) / len(counts):>5.1f}  ({len(counts)} requests)")
        for kind, stmts in sorted(examples.items()):
            print(f"  -- {kind}:")
            for s in stmts:
                print("     " + " ".join(s.split())[:150])

        # CPU per request without the profiler's overhead (process time: this process only,
        # so other jobs on the machine matter less than to the wall clock).
        timed, rest = forms[400:1400], forms[1400:]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for form, sig in timed:
            client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            f"\nin process, no profiler: {len(timed)} requests, CPU {cpu / len(timed) * 1000:.2f} ms a request, "
            f"wall {wall / len(timed) * 1000:.2f} ms (one thread, test client, PostgreSQL, logs to /dev/null)"
        )
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        for form, sig in rest:
            client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        profiler.disable()
        elapsed = time.perf_counter() - t0
        devnull.close()
        print(
            f"\nin-process profile: {len(rest)} requests in {elapsed:.2f} s "
            f"({len(rest) / elapsed:.0f}/s, one thread, test client, logs to /dev/null)"
        )
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
            print(f"top {top} by {order}:")
            print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# Command line ----------------------------------------------------------------------------------


def _label(kind: str) -> str:
    return {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[kind]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--only",
        default="webhook,enqueue,worker",
        help="comma-separated: webhook, enqueue, worker, batches (default: the first three)",
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per app (webhook)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per app (webhook)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bare/engage pairs to run (webhook); the target is judged on their sums",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: cores)")
    parser.add_argument(
        "--threads", type=int, default=16, help="threads per gunicorn worker (the same for every app measured)"
    )
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class: gthread or sync")
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent keep-alive client connections (Twilio's deliveries)"
    )
    parser.add_argument("--client-processes", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--floor", action="store_true", help="also measure a minimal signed webhook that stores the text (reference)"
    )
    parser.add_argument("--profile", action="store_true", help="also profile the webhook in process")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"before each webhook app, wait (at most SECONDS) until under {IDLE_CORES:g} cores "
        f"have been busy for {IDLE_FOR:g} s",
    )


def main(opts=None) -> bool:
    """Run the benchmarks; True unless one missed its target."""
    if opts is None:
        import argparse

        parser = argparse.ArgumentParser(prog="python -m bench sms")
        add_arguments(parser)
        opts = parser.parse_args([])
    parts = {p.strip() for p in opts.only.split(",") if p.strip()}
    unknown = parts - {"webhook", "enqueue", "worker", "batches"}
    if unknown:
        raise SystemExit(f"unknown part(s): {', '.join(sorted(unknown))}")
    kinds = (["postgresql"] if postgres_available() else []) + ["sqlite"]
    if "postgresql" not in kinds:
        print(f"PostgreSQL does not answer at {ADMIN_URL}: its figures are skipped")
    outcomes = []
    if "webhook" in parts:
        outcomes.append(bench_webhook(opts))
    if "enqueue" in parts:
        outcomes.append(bench_enqueue(kinds))
    if "worker" in parts:
        outcomes.append(bench_worker(kinds))
    if "batches" in parts:
        bench_batches()
    if opts.profile:
        profile_webhook()
    summary = Counter("PASS" if o else "SKIP" if o is None else "FAIL" for o in outcomes)
    if outcomes:
        print("\nsms: " + ", ".join(f"{n} {k}" for k, n in sorted(summary.items())))
    return summary["FAIL"] == 0
