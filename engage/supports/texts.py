"""Text messages about supports and payments (registered for the segment test)."""

from __future__ import annotations

from flask_babel import gettext as _

from engage.meetings.texts import SAMPLE_WHEN
from engage.sms.texts import LONGEST_PLAN, template


@template(plan=LONGEST_PLAN, what="Interpreter (Cantonese)", when=SAMPLE_WHEN)
def support_arranged(plan: str, what: str, when: str) -> str:
    return _(
        "%(plan)s: %(what)s is arranged for you for the meeting on %(when)s. See you there!",
        plan=plan,
        what=what,
        when=when,
    )


@template(plan=LONGEST_PLAN, amount="$100.00", when=SAMPLE_WHEN, method="prepaid card")
def stipend_paid(plan: str, amount: str, when: str, method: str) -> str:
    return _(
        "%(plan)s: We sent your %(amount)s for the meeting on %(when)s by %(method)s. Thank you for your time!",
        plan=plan,
        amount=amount,
        when=when,
        method=method,
    )


@template(plan=LONGEST_PLAN, amount="$100.00", old="$100.00", when=SAMPLE_WHEN)
def stipend_changed(plan: str, amount: str, old: str, when: str) -> str:
    return _(
        "%(plan)s: Your stipend for the meeting on %(when)s is now %(amount)s (it was %(old)s). "
        "The reason is on your stipends page.",
        plan=plan,
        amount=amount,
        old=old,
        when=when,
    )


@template(plan=LONGEST_PLAN, amount="$100.00", method="prepaid card")
def reimbursement_paid(plan: str, amount: str, method: str) -> str:
    return _("%(plan)s: We paid you back %(amount)s by %(method)s. Thank you!", plan=plan, amount=amount, method=method)
