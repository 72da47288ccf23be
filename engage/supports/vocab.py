"""Words for supports and payments, translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from engage.models import (
    PaymentMethod,
    ReimbursementKind,
    ReimbursementStatus,
    StipendStatus,
    SupportKind,
    SupportStatus,
)

KINDS = {
    SupportKind.CHILDCARE: _l("Childcare"),
    SupportKind.INTERPRETER: _l("Interpreter"),
    SupportKind.TRANSPORT: _l("Transport"),
    SupportKind.ACCESSIBILITY: _l("Accessibility"),
    SupportKind.MEALS: _l("Meals and diet"),
}

STATUSES = {
    SupportStatus.REQUESTED: _l("Requested"),
    SupportStatus.ARRANGED: _l("Arranged"),
    SupportStatus.CONFIRMED: _l("Confirmed to the parent"),
    SupportStatus.DELIVERED: _l("Provided"),
    SupportStatus.NOT_DELIVERED: _l("Not provided"),
    SupportStatus.CANCELLED: _l("No longer needed"),
}

# What a parent sees about their own request.
PARENT_STATUSES = {
    SupportStatus.REQUESTED: _l("requested, we will confirm by text"),
    SupportStatus.ARRANGED: _l("arranged"),
    SupportStatus.CONFIRMED: _l("arranged"),
    SupportStatus.DELIVERED: _l("provided"),
    SupportStatus.NOT_DELIVERED: _l("not provided"),
    SupportStatus.CANCELLED: _l("cancelled"),
}

INTERPRETER_MODES = {
    "in_person": _l("In person"),
    "remote": _l("By phone or video"),
}

TRANSPORT_MODES = {
    "ride": _l("A ride to and from the meeting"),
    "transit": _l("A bus or train pass"),
    "mileage": _l("Money for gas (mileage)"),
}

PAYMENT_METHODS = {
    PaymentMethod.GIFT_CARD: lazy_pgettext("payment method", "gift card"),
    PaymentMethod.CHECK: lazy_pgettext("payment method", "check"),
    PaymentMethod.DIRECT_DEPOSIT: lazy_pgettext("payment method", "direct deposit"),
    PaymentMethod.PREPAID_CARD: lazy_pgettext("payment method", "prepaid card"),
    PaymentMethod.CASH_CARD: lazy_pgettext("payment method", "cash card"),
}

STIPEND_STATUSES = {
    StipendStatus.ELIGIBLE: _l("Waiting for approval"),
    StipendStatus.APPROVED: _l("Approved, not yet paid"),
    StipendStatus.PAID: _l("Paid"),
    StipendStatus.DECLINED: _l("Declined"),
}

REIMBURSEMENT_KINDS = {
    ReimbursementKind.MILEAGE: _l("Mileage"),
    ReimbursementKind.TRANSIT: _l("Bus or train fare"),
    ReimbursementKind.CHILDCARE: _l("Childcare I paid for"),
}

REIMBURSEMENT_STATUSES = {
    ReimbursementStatus.SUBMITTED: _l("Waiting for approval"),
    ReimbursementStatus.APPROVED: _l("Approved, not yet paid"),
    ReimbursementStatus.PAID: _l("Paid"),
    ReimbursementStatus.REJECTED: _l("Not approved"),
}


def support_label(kind: SupportKind, details: dict | None = None) -> str:
    """ "Interpreter (Mixteco)", "Childcare (2 children)": short, for texts and lists."""
    from engage.members.vocab import INTERPRETER_LANGUAGES  # noqa: PLC0415

    details = details or {}
    base = str(KINDS[SupportKind(kind)])
    if kind == SupportKind.INTERPRETER and details.get("language") in INTERPRETER_LANGUAGES:
        if details["language"] == "other" and details.get("other"):
            return f"{base} ({details['other']})"
        return f"{base} ({INTERPRETER_LANGUAGES[details['language']]})"
    return base
