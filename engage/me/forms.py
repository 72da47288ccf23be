"""Forms of a parent's own page: sign-in by texted code, settings, demographics,
a new number, and deleting the account."""

from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, max_length, optional, required
from engage.i18n import language_name, locales
from engage.members import vocab


def parse_phone(raw: str | None) -> str | None:
    """A US mobile number typed any usual way, as E.164; or None."""
    try:
        parsed = phonenumbers.parse(raw or "", "US")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 1 or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(StringField):
    """A phone number; ``.e164`` holds the parsed number once the form validates."""

    e164: str | None = None

    def pre_validate(self, form):
        self.e164 = None
        if self.data:
            self.e164 = parse_phone(self.data)
            if self.e164 is None:
                raise v.StopValidation(_l("Please enter a US mobile number with its area code, like 510-555-0123."))


class PhoneForm(BaseForm):
    phone = PhoneField(
        _l("Your mobile number"),
        [required(), max_length(30)],
        description=_l("The number you signed up with. We will text a code to it."),
    )


class NewPhoneForm(BaseForm):
    phone = PhoneField(
        _l("Your new mobile number"),
        [required(), max_length(30)],
        description=_l("We will text a code to the new number to make sure it is yours."),
    )


class CodeForm(BaseForm):
    code = StringField(
        _l("The code we texted you"),
        [required(), max_length(12)],
        description=_l("6 numbers. It works for 10 minutes."),
    )


class ConfirmForm(BaseForm):
    """A button that changes something: CSRF only."""


class SettingsForm(BaseForm):
    locale = SelectField(_l("Language for texts and this website"), validators=[required()])
    display_name = StringField(
        _l("The name you like to be called"),
        [optional(), max_length(80)],
        description=_l("Only the people who run your parent advisory group see it."),
    )
    county = SelectField(_l("County"), validators=[optional()], default="")
    zip_code = StringField(
        _l("ZIP code"),
        [
            optional(),
            v.Regexp(r"^\d{5}$", message=_l("Please enter 5 numbers, like 94601.")),
        ],
    )
    child_age_groups = SelectMultipleField(_l("How old are your children?"), validators=[optional()])
    participation = SelectMultipleField(_l("How would you like to take part?"), validators=[optional()])
    needs = SelectMultipleField(_l("What helps you come to meetings?"), validators=[optional()])
    interpreter_language = SelectField(
        _l("Which language should the interpreter speak?"),
        validators=[optional()],
        default="",
        description=_l("Only needed if you ticked “An interpreter”."),
    )
    accessibility = StringField(
        _l("Anything else you need to take part"),
        [optional(), max_length(200)],
        description=_l("For example: wheelchair access, large print, a quiet room."),
    )

    def set_choices(self) -> None:
        self.locale.choices = [SelectChoice(loc, language_name(loc, loc)) for loc in locales()]
        self.county.choices = [SelectChoice("", _l("Choose your county"))] + [
            SelectChoice(name, vocab.county_label(name)) for name in vocab.COUNTY_NAMES
        ]
        self.child_age_groups.choices = [SelectChoice(k, label) for k, label in vocab.AGE_GROUPS.items()]
        self.participation.choices = [SelectChoice(k, label) for k, label in vocab.PARTICIPATION.items()]
        self.needs.choices = [SelectChoice(k, label) for k, label in vocab.NEEDS.items()]
        self.interpreter_language.choices = [SelectChoice("", _l("Choose a language"))] + [
            SelectChoice(k, label) for k, label in vocab.INTERPRETER_LANGUAGES.items()
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Checked here: an empty optional field skips its own validators.
        if "interpreter" in (self.needs.data or []) and not self.interpreter_language.data:
            self.interpreter_language.errors = [
                *self.interpreter_language.errors,
                _l("Please choose the language the interpreter should speak."),
            ]
            ok = False
        return ok


def _race_choices() -> list[SelectChoice]:
    choices = []
    for top, (label, subgroups) in vocab.RACE_ETHNICITY.items():
        choices.append(SelectChoice(top, label))
        choices += [SelectChoice(code, sub) for code, sub in subgroups.items()]
    choices.append(SelectChoice(vocab.RACE_DECLINE, _l("I prefer not to say")))
    return choices


class AboutForm(BaseForm):
    """Optional self-identification: every question may be left blank."""

    race_ethnicity = SelectMultipleField(
        _l("What is your race or ethnicity? Choose all that apply."), validators=[optional()]
    )

    def set_choices(self) -> None:
        self.race_ethnicity.choices = _race_choices()

    def validate_race_ethnicity(self, field):
        if vocab.RACE_DECLINE in (field.data or []) and len(field.data) > 1:
            raise v.ValidationError(_l("Choose “I prefer not to say” on its own, or untick it."))


DISABILITY_CHOICES = [SelectChoice("", _l("No answer"))] + [
    SelectChoice(k, label) for k, label in vocab.DISABILITY_ANSWERS.items()
]

for _code, _question in vocab.DISABILITY_QUESTIONS.items():
    setattr(
        AboutForm,
        f"disability_{_code}",
        RadioField(_question, choices=DISABILITY_CHOICES, validators=[optional()], default=""),
    )


class DeleteForm(BaseForm):
    confirm = BooleanField(
        _l("Yes, delete my account and stop all texts."),
        [v.InputRequired(message=_l("Please tick the box to confirm."))],
    )
