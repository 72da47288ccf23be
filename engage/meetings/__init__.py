"""Committees' meetings: public meeting pages, calendar files, and replies on the web.
The rules live in ``replies`` (places, waiting list), ``schedule``, ``documents``,
``reminders`` and ``calendar``; ``sms`` answers YES / NO by text."""

from flask import Blueprint

bp = Blueprint("meetings", __name__)


def init_app(app) -> None:
    """Answer YES / NO by text and let the worker send reminders."""
    from engage.meetings import reminders, replies, sms
    from engage.sms import worker

    sms.register()
    for job in (reminders.send_due, replies.expire_offers_job):
        if job not in worker.JOBS:
            worker.JOBS.append(job)


from engage.meetings import routes  # noqa: E402,F401
