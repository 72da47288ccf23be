"""What parents need in order to come (support requests) and what they are paid
(stipends, reimbursements). Rules in ``services`` and ``stipends``; the daily digest in
``digest``.

Two blueprints: ``support`` (asking for and arranging supports: parents, CBO staff,
coordinators) and ``stipends`` (stipends and reimbursements)."""

from flask import Blueprint

bp = Blueprint("support", __name__)
stipends_bp = Blueprint("stipends", __name__)


def init_app(app) -> None:
    """Reminders say what is arranged; the worker sends the daily digest."""
    from engage.meetings import reminders
    from engage.sms import worker
    from engage.supports import digest, services, stipends

    if services.reminder_line not in reminders.SUPPORTS_LINE:
        reminders.SUPPORTS_LINE.append(services.reminder_line)
    for job in (digest.send_due, stipends.make_eligible_job):
        if job not in worker.JOBS:
            worker.JOBS.append(job)


from engage.supports import routes, stipend_routes  # noqa: E402,F401
