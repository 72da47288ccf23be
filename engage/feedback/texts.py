"""Text messages about input and what became of it (registered for the segment test)."""

from __future__ import annotations

from flask_babel import gettext as _

from engage.sms.texts import LONGEST_PLAN, template

SAMPLE_LINK = "https://engage.example.org/o/1234"


def question(plan: str, question: str) -> str:
    """A coordinator's own question; its length is checked when it is written."""
    return _("%(plan)s asks: %(question)s Reply with your answer.", plan=plan, question=question)


@template(plan=LONGEST_PLAN)
def question_frame(plan: str) -> str:
    return question(plan, "")


@template(plan=LONGEST_PLAN)
def answer_received(plan: str) -> str:
    return _("%(plan)s: Thank you! We will tell you what the plan does with your answer.", plan=plan)


@template(plan=LONGEST_PLAN, body="QI & Health Equity Committee", date="Dec 8, 2026", link=SAMPLE_LINK)
def loop_taken(plan: str, body: str, date: str, link: str) -> str:
    return _(
        "%(plan)s: What you told us went to the %(body)s on %(date)s. We will text you their decision. %(link)s",
        plan=plan,
        body=body,
        date=date,
        link=link,
    )


@template(plan=LONGEST_PLAN, outcome="Not adopted", reason="There is no money for it this year.", link=SAMPLE_LINK)
def loop_decided(plan: str, outcome: str, reason: str, link: str) -> str:
    return _(
        "%(plan)s: Decision on what you told us: %(outcome)s. Why: %(reason)s %(link)s",
        plan=plan,
        outcome=outcome,
        reason=reason,
        link=link,
    )


@template(plan=LONGEST_PLAN, outcome="Not adopted", link=SAMPLE_LINK)
def loop_decided_see_why(plan: str, outcome: str, link: str) -> str:
    return _(
        "%(plan)s: Decision on what you told us: %(outcome)s. See why: %(link)s",
        plan=plan,
        outcome=outcome,
        link=link,
    )
