"""The web sign-up's forms: one small form per step, so a phone shows one
question group at a time. Every message is translated (engage.forms)."""

from __future__ import annotations

import phonenumbers
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, max_length, optional, required
from engage.i18n import html_lang, language_name, locales
from engage.members.vocab import (
    AGE_GROUPS,
    COUNTY_NAMES,
    DISABILITY_ANSWERS,
    DISABILITY_QUESTIONS,
    INTERPRETER_LANGUAGES,
    NEEDS,
    PARTICIPATION,
    RACE_DECLINE,
    RACE_ETHNICITY,
    all_race_codes,
    county_label,
)

# California's ZIP codes run from 90001 to 96162.
CA_ZIP_RANGE = (90001, 96162)
MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class CheckboxesField(SelectMultipleField):
    """Several choices. WTForms' own message for a value not offered goes through
    ngettext with a placeholder engage's translation shim cannot fill (a KeyError,
    so a 500), so this field says it in engage's words instead."""

    def pre_validate(self, form):
        offered = {str(c.value) for c in self.iter_choices()}
        if any(str(value) not in offered for value in self.data or []):
            raise v.ValidationError(gettext("Not a valid choice."))


def choose_one():
    return v.InputRequired(message=_l("Please choose one."))


def choose_some():
    return v.InputRequired(message=_l("Please choose at least one."))


def parse_mobile(raw: str | None) -> str | None:
    """E.164 for a valid mobile-capable number (US unless it starts with +), else None."""
    text = (raw or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def pretty_phone(e164: str) -> str:
    """(510) 555-0123 for US numbers, +44 7911 123456 for others."""
    number = phonenumbers.parse(e164, None)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


class MobileNumber:
    def __call__(self, form, field):
        if field.data and parse_mobile(field.data) is None:
            raise v.ValidationError(_l("Please enter a mobile phone number that can get texts, like (510) 555-0123."))


class CaliforniaZip:
    def __call__(self, form, field):
        value = field.data or ""
        if not value:
            return
        if not (len(value) == 5 and value.isascii() and value.isdigit()) or not (
            CA_ZIP_RANGE[0] <= int(value) <= CA_ZIP_RANGE[1]
        ):
            raise v.ValidationError(_l("Please enter a California ZIP code with 5 numbers, like 94601."))


# Step 1 -----------------------------------------------------------------------------


class AboutYouBasicsForm(BaseForm):
    display_name = StringField(
        _l("What name do you like to be called?"),
        [required(), max_length(80)],
        description=_l("Only your first name is fine."),
    )
    phone = StringField(
        _l("Mobile phone number"),
        [required(), max_length(40), MobileNumber()],
        description=_l("We text you a code to check it. Example: (510) 555-0123"),
    )
    locale = RadioField(
        _l("Which language do you prefer?"),
        [choose_one()],
        description=_l("We will use it on the next pages and in our text messages."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each language named in itself, marked with its own lang attribute.
        self.locale.choices = [
            SelectChoice(loc, language_name(loc, loc), render_kw={"lang": html_lang(loc)}) for loc in locales()
        ]


# Step 2 -----------------------------------------------------------------------------


class PlaceForm(BaseForm):
    county = SelectField(_l("County"), [optional()])
    zip_code = StringField(
        _l("Or your ZIP code"),
        [optional(), max_length(10), CaliforniaZip()],
        description=_l("5 numbers, like 94601."),
    )
    plan_id = RadioField(_l("Which Medi-Cal health plan does your family have?"), [choose_one()], coerce=int)

    def __init__(self, *args, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.county.choices = [SelectChoice("", _l("Choose your county"))] + [
            SelectChoice(name, county_label(name)) for name in COUNTY_NAMES
        ]
        if len(plans) > 1:
            self.plan_id.choices = [SelectChoice(p.id, p.name) for p in plans]
        else:
            del self.plan_id

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.county.data and not self.zip_code.data:
            self.county.errors.append(_l("Please choose your county or enter your ZIP code."))
            return False
        return ok


# Steps 3 and 4 ------------------------------------------------------------------------


class ChildrenForm(BaseForm):
    child_age_groups = CheckboxesField(
        _l("How old are your children?"),
        [choose_some()],
        description=_l("Choose all that fit."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.child_age_groups.choices = [SelectChoice(code, label) for code, label in AGE_GROUPS.items()]


class ParticipationForm(BaseForm):
    participation = CheckboxesField(
        _l("How would you like to take part?"),
        [choose_some()],
        description=_l("Choose all that fit. You can change this later."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.participation.choices = [SelectChoice(code, label) for code, label in PARTICIPATION.items()]


# Step 5 -----------------------------------------------------------------------------


class NeedsForm(BaseForm):
    needs = CheckboxesField(
        _l("What do you usually need to come to a meeting?"),
        [optional()],
        description=_l("Choose any that fit, or none. It is free."),
    )
    interpreter_language = SelectField(
        _l("If you need an interpreter: which spoken language?"),
        [optional()],
    )
    accessibility = TextAreaField(
        _l("Anything else that would help you take part? (optional)"),
        [optional(), max_length(500)],
        description=_l("For example: a wheelchair-accessible room, large print, or sign language."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs.choices = [SelectChoice(code, label) for code, label in NEEDS.items()]
        self.interpreter_language.choices = [SelectChoice("", _l("Choose a language"))] + [
            SelectChoice(code, label) for code, label in INTERPRETER_LANGUAGES.items()
        ]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and "interpreter" in (self.needs.data or []) and not self.interpreter_language.data:
            self.interpreter_language.errors.append(_l("Please choose the language you need an interpreter for."))
            return False
        return ok

    def as_needs(self) -> dict:
        chosen = set(self.needs.data or [])
        needs = {code: code in chosen for code in NEEDS}
        if needs.get("interpreter"):
            needs["interpreter_language"] = self.interpreter_language.data
        if self.accessibility.data:
            needs["accessibility"] = self.accessibility.data
        return needs


# Step 6 -----------------------------------------------------------------------------

RACE_CODES = all_race_codes()
PARENT_OF = {sub: top for top, (_label, subs) in RACE_ETHNICITY.items() for sub in subs}


class IdentityForm(BaseForm):
    race_ethnicity = CheckboxesField(
        _l("What is your race or ethnicity?"),
        [optional()],
        description=_l("Select all that apply."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.race_ethnicity.choices = [SelectChoice(code, code) for code in sorted(RACE_CODES)]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        chosen = set(self.race_ethnicity.data or [])
        if ok and RACE_DECLINE in chosen and len(chosen) > 1:
            self.race_ethnicity.errors.append(_l("Please choose your groups or “I prefer not to say”, not both."))
            return False
        return ok

    def as_race(self) -> list | None:
        chosen = set(self.race_ethnicity.data or [])
        if not chosen:
            return None
        # A detailed group counts for its category too, as the federal standard asks.
        chosen |= {PARENT_OF[code] for code in chosen if code in PARENT_OF}
        return sorted(chosen)

    def as_disability(self) -> dict | None:
        answers = {key: self[f"disability_{key}"].data for key in DISABILITY_QUESTIONS}
        answers = {key: value for key, value in answers.items() if value}
        return answers or None

    def disability_fields(self):
        return [self[f"disability_{key}"] for key in DISABILITY_QUESTIONS]


for _key, _question in DISABILITY_QUESTIONS.items():
    setattr(
        IdentityForm,
        f"disability_{_key}",
        RadioField(
            _question,
            [optional()],
            choices=[SelectChoice(code, label) for code, label in DISABILITY_ANSWERS.items()],
            validate_choice=True,
        ),
    )


# Step 7 and the code ------------------------------------------------------------------


class ConsentForm(BaseForm):
    """Only the button: the consent words are shown above it."""


class CodeForm(BaseForm):
    code = StringField(
        _l("The 6-digit code we texted you"),
        [required(), max_length(20)],
    )

    def validate_code(self, field):
        digits = "".join(ch for ch in field.data or "" if ch.isascii() and ch.isdigit())
        if len(digits) != 6:
            raise v.ValidationError(_l("The code has 6 numbers, like 482913."))
        field.data = digits


class ResendForm(BaseForm):
    """Only the button."""
