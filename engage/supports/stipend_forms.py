"""Forms for stipends and reimbursements: a committee's policy, a payment, a parent's
"pay me less", their benefits limit and asking to be paid back."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, amount_range, dollars_and_cents, max_length, optional, required
from engage.models import PaymentMethod, ReimbursementKind
from engage.supports import vocab
from engage.supports.stipends import MAX_AMOUNT, REASON_MAX

MAX_REIMBURSEMENT = Decimal(5000)


def method_choices(methods=None) -> list[SelectChoice]:
    wanted = methods or [m.value for m in PaymentMethod]
    return [SelectChoice(m.value, vocab.PAYMENT_METHODS[m]) for m in PaymentMethod if m.value in wanted]


class ConfirmForm(BaseForm):
    """A button that changes something: CSRF only."""


class PolicyForm(BaseForm):
    stipend_amount = DecimalField(
        _l("Amount for attending a meeting (US dollars)"),
        [optional(), amount_range(MAX_AMOUNT)],
        places=2,
        description=_l("For example 50. Leave empty if there is none."),
    )
    stipend_prep_amount = DecimalField(
        _l("Amount for preparation time (US dollars)"),
        [optional(), amount_range(MAX_AMOUNT)],
        places=2,
        description=_l("Added for reading and preparing before the meeting. For example 25."),
    )
    stipend_methods = SelectMultipleField(
        _l("Ways of paying that parents can choose"),
        choices=method_choices,
        description=_l("Tick every way your plan can pay."),
    )

    def validate_stipend_methods(self, field):
        if not field.data:
            raise v.ValidationError(_l("Please tick at least one way of paying."))


class StipendFilterForm(BaseForm):
    """Filters of the stipends list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    committee = SelectField(_l("Committee"), coerce=int, validators=[optional()], default=0)
    status = SelectField(_l("Status"), validators=[optional()], default="")

    def set_choices(self, committees, label) -> None:
        self.committee.choices = [SelectChoice(0, _l("All committees"))] + [
            SelectChoice(c.id, label(c)) for c in committees
        ]
        self.status.choices = [SelectChoice("", _l("Any status"))] + [
            SelectChoice(s.value, text) for s, text in vocab.STIPEND_STATUSES.items()
        ]


class PayForm(BaseForm):
    method = SelectField(_l("How it was paid"), [required()])
    reference = StringField(
        _l("Reference (optional)"),
        [optional(), max_length(120)],
        description=_l("A gift card number, check number or transfer reference, so finance can find it."),
    )
    paid_on = DateField(_l("Date paid"), [required()])


class AmountForm(BaseForm):
    """A coordinator changes what a stipend pays, saying why."""

    amount = DecimalField(
        _l("New amount (US dollars)"),
        [
            required(),
            amount_range(MAX_AMOUNT),
            dollars_and_cents(_l("Please enter dollars and cents only, for example 25.50.")),
        ],
        places=2,
        description=_l("For example 25. Enter 0 if nothing should be paid."),
    )
    reason = TextAreaField(
        _l("Why the amount changed"),
        [v.DataRequired(message=_l("Please fill this in.")), max_length(REASON_MAX)],
        description=_l("The parent sees this on their stipends page. Be kind and clear."),
    )
    # The amount whose warnings the coordinator has seen (set by the page, not typed).
    checked = HiddenField()


class RejectForm(BaseForm):
    reason = TextAreaField(
        _l("Why it is not approved"),
        [v.DataRequired(message=_l("Please fill this in.")), max_length(500)],
        description=_l("The parent may see this. Be kind and clear."),
    )


class ReduceForm(BaseForm):
    amount = DecimalField(
        _l("How much should we pay you? (US dollars)"),
        [required(), v.NumberRange(min=Decimal(0), message=_l("Please enter 0 or more."))],
        places=2,
    )


class BenefitsForm(BaseForm):
    has_limit = RadioField(
        _l("Does a limit on income apply to you (for example SSI)?"),
        choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))],
        default="no",
    )
    benefit_quarterly_limit = DecimalField(
        _l("How much a quarter? (US dollars)"),
        [optional(), amount_range(Decimal(100000))],
        places=2,
        description=_l("A quarter is 3 months. For SSI it is usually $60."),
    )
    benefits_note = StringField(
        _l("Which benefit? (optional)"),
        [optional(), max_length(200)],
        description=_l("For example SSI. Only the people who pay you see this."),
    )
    preferred_payment = SelectField(_l("How would you like to be paid?"), [optional()], default="")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Here, not inline: an empty optional field stops its own validators.
        field = self.benefit_quarterly_limit
        if self.has_limit.data == "yes" and field.data is None and not field.errors:
            field.errors.append(_l("Please tell us how much a quarter."))
            ok = False
        return ok


class ReimbursementForm(BaseForm):
    kind = SelectField(
        _l("What should we pay you back for?"),
        [required()],
        choices=lambda: [SelectChoice(k.value, text) for k, text in vocab.REIMBURSEMENT_KINDS.items()],
    )
    miles = DecimalField(
        _l("Miles you drove (there and back)"),
        [optional(), v.NumberRange(min=Decimal("0.1"), max=Decimal(1000), message=_l("Please enter 0.1 to 1,000."))],
        places=1,
    )
    amount = DecimalField(
        _l("How much you paid (US dollars)"),
        [optional(), amount_range(MAX_REIMBURSEMENT, Decimal("0.01"))],
        places=2,
        description=_l("For bus or train fare, or childcare you paid for."),
    )
    meeting_id = SelectField(_l("Which meeting?"), coerce=int, validators=[optional()], default=0)
    receipt_note = TextAreaField(
        _l("About the receipt (optional)"),
        [optional(), max_length(500)],
        description=_l("For example: I have the bus receipt, I can bring it next time."),
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.kind.data == ReimbursementKind.MILEAGE.value:
            if self.miles.data is None and not self.miles.errors:
                self.miles.errors.append(_l("Please say how many miles."))
                ok = False
        elif self.kind.data and self.amount.data is None and not self.amount.errors:
            self.amount.errors.append(_l("Please say how much you paid."))
            ok = False
        return ok
