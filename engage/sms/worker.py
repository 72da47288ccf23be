"""The delivery worker: ``flask --app engage worker [--once]``."""

from __future__ import annotations

import os
import signal
import socket
import time

from flask import Flask

from engage.extensions import db
from engage.logs import log
from engage.models import utcnow
from engage.sms.outbox import deliver_due, recover_stale

STALE_CHECK_SECONDS = 30
IDLE_SLEEP_SECONDS = 1.0
# Other parts of engage schedule texts (meeting reminders, waiting-list offers): each
# job is called with the time, in the app context, before delivery and then every
# JOB_EVERY_SECONDS; it commits its own work.
JOBS: list = []
JOB_EVERY_SECONDS = 60


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def run_jobs() -> None:
    for job in JOBS:
        try:
            job(utcnow())
        except Exception:  # one failing job must not stop delivery
            db.session.rollback()
            log.exception("scheduled job failed", extra={"job": getattr(job, "__name__", str(job))})


def run(app: Flask, *, once: bool = False) -> int:
    """Deliver due messages. With ``once``, deliver what is due now and return."""
    me = worker_id()
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    total = 0
    last_stale_check = 0.0
    last_jobs = float("-inf")  # run the jobs at once, then every JOB_EVERY_SECONDS
    log.info("worker started", extra={"worker": me, "once": once})
    with app.app_context():
        while not stopping:
            if time.monotonic() - last_stale_check > STALE_CHECK_SECONDS:
                recover_stale(utcnow())
                last_stale_check = time.monotonic()
            if time.monotonic() - last_jobs > JOB_EVERY_SECONDS:
                run_jobs()
                last_jobs = time.monotonic()
            handled = deliver_due(app, me)
            total += handled
            if handled == 0:
                if once:
                    break
                time.sleep(IDLE_SLEEP_SECONDS)
    log.info("worker stopped", extra={"worker": me, "handled": total})
    return total
