"""Shared form pieces. Every validator message comes from engage's catalogs."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms import validators as v

from engage.i18n import language_name


def required():
    return v.InputRequired(message=_l("Please fill this in."))


def optional():
    return v.Optional()


def max_length(n: int):
    return v.Length(max=n, message=_l("Please use %(max)d characters or fewer.", max=n))


def length(min_: int, max_: int):
    return v.Length(
        min=min_,
        max=max_,
        message=_l("Please use between %(min)d and %(max)d characters.", min=min_, max=max_),
    )


def email():
    return v.Email(message=_l("Please enter an email address like name@example.org."), check_deliverability=False)


def slug():
    return v.Regexp(
        r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        message=_l("Use lower-case letters, numbers and dashes, like children-cac."),
    )


def colour():
    return v.Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Use a colour like #1f5f8b."))


def amount_range(top: Decimal, bottom: Decimal = Decimal(0)):
    """From ``bottom`` to ``top`` dollars; "NaN" and "Infinity" (which Decimal reads) are refused
    with the same message instead of failing the comparison."""
    in_range = v.NumberRange(
        min=bottom,
        max=top,
        message=_l("Please enter an amount from %(min)s to %(max)s.", min=f"${bottom:,.0f}", max=f"${top:,.0f}"),
    )

    def check(form, field):
        if isinstance(field.data, Decimal) and not field.data.is_finite():
            raise v.StopValidation(in_range.message)
        in_range(form, field)

    return check


def dollars_and_cents(message):
    """At most two decimals ("12.50", not "12.345"); runs after ``amount_range``."""

    def check(form, field):
        value = field.data
        if isinstance(value, Decimal) and value.is_finite() and value.normalize().as_tuple().exponent < -2:
            raise v.StopValidation(message)

    return check


def url():
    return v.URL(require_tld=False, message=_l("Please enter a web address starting with https://."))


# Messages WTForms produces itself; listed here so they are extracted into our
# catalogs and translated like everything else.
WTFORMS_MESSAGES = (
    _l("Not a valid choice."),
    _l("'%(value)s' is not a valid choice for this field."),
    _l("Invalid Choice: could not coerce."),
    _l("Choices cannot be None."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Invalid CSRF Token."),
    _l("The CSRF token is missing."),
    _l("The CSRF token has expired."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
)


class _Translations:
    """Route WTForms' own messages through engage's catalogs."""

    # WTForms fills in its own placeholders (%(value)s), so hand it the raw
    # translated string rather than flask_babel's already-formatted one.
    def gettext(self, string):
        return get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ngettext(singular, plural, n)


class BaseForm(FlaskForm):
    """All engage forms: CSRF on, whitespace trimmed, messages translated."""

    class Meta:
        def get_translations(self, form):
            return _Translations()

        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            cls = unbound_field.field_class
            if issubclass(cls, StringField | TextAreaField) and not issubclass(cls, PasswordField):
                filters = [*filters, _strip]
            return unbound_field.bind(form=form, filters=filters, **options)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def add_localized_fields(
    form_cls, name: str, label, locales: list[str], *, textarea=False, required_locale="en", max_len=2000
):
    """Add one field per language (``name_en``, ``name_es``, ...) to a form class."""
    for loc in locales:
        field_cls = TextAreaField if textarea else StringField
        checks = [required() if loc == required_locale else optional(), max_length(max_len)]
        setattr(
            form_cls,
            f"{name}_{loc}",
            field_cls(_l("%(label)s (%(language)s)", label=label, language=language_name(loc)), checks),
        )
    return form_cls
