"""Forms of the community organisation's area: referral codes, enrolling a family
with them in the room, the code the family reads from their phone, roster filters."""

from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, ValidationError
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, max_length, optional, required
from engage.i18n import language_name
from engage.members.vocab import AGE_GROUPS, COUNTY_NAMES, INTERPRETER_LANGUAGES, NEEDS, PARTICIPATION, county_label
from engage.models import MemberSource

SOURCE_LABELS = {
    MemberSource.WEB: _l("Web sign-up"),
    MemberSource.SMS: _l("Text message"),
    MemberSource.CBO: _l("With a community organisation"),
    MemberSource.STAFF: _l("Added by staff"),
}


def parse_phone(raw: str | None) -> str | None:
    """A US mobile number in E.164, or None when it is not a real number."""
    try:
        parsed = phonenumbers.parse(raw or "", "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def county_choices(blank_label) -> list[SelectChoice]:
    return [SelectChoice("", blank_label)] + [SelectChoice(c, county_label(c)) for c in COUNTY_NAMES]


class ConfirmForm(BaseForm):
    """A button that changes something: CSRF only."""


class CodeForm(BaseForm):
    label = StringField(
        _l("A name for this code (optional)"),
        [optional(), max_length(120)],
        description=_l('Only your organisation sees it, for example "Health fair, March".'),
    )
    plan_id = SelectField(_l("Health plan"), coerce=int, validators=[optional()], default=0)

    def set_plans(self, plans) -> None:
        if len(plans) > 1:
            self.plan_id.choices = [SelectChoice(p.id, p.name) for p in plans]
        else:  # one plan (or none): nothing to choose
            del self.plan_id


class EnrolForm(BaseForm):
    display_name = StringField(
        _l("The name they like to be called"), [required(), max_length(80)], description=_l("A first name is enough.")
    )
    phone = StringField(
        _l("Their mobile number"),
        [required(), max_length(30)],
        description=_l("We text a code to this phone. The family reads it to you to confirm."),
    )
    locale = SelectField(_l("The language they want texts in"), validators=[required()])
    county = SelectField(_l("County"), validators=[optional()], default="")
    zip_code = StringField(_l("ZIP code"), [optional(), v.Regexp(r"^\d{5}$", message=_l("Please enter 5 digits."))])
    plan_id = SelectField(_l("Health plan"), coerce=int, validators=[optional()], default=0)
    child_age_groups = SelectMultipleField(_l("How old are their children?"), validators=[optional()])
    participation = SelectMultipleField(_l("How would they like to take part?"), validators=[optional()])
    needs = SelectMultipleField(_l("What do they usually need to come to a meeting?"), validators=[optional()])
    interpreter_language = SelectField(_l("Language for the interpreter"), validators=[optional()], default="")
    accessibility = StringField(
        _l("Anything else that would help them take part (optional)"),
        [optional(), max_length(200)],
        description=_l("For example a wheelchair-accessible room or large print."),
    )

    def set_choices(self, locales: list[str], plans) -> None:
        self.locale.choices = [SelectChoice(loc, language_name(loc)) for loc in locales]
        self.county.choices = county_choices(_l("Choose a county"))
        if len(plans) > 1:
            self.plan_id.choices = [SelectChoice(p.id, p.name) for p in plans]
        else:  # one plan (or none): nothing to choose
            del self.plan_id
        self.child_age_groups.choices = [SelectChoice(k, label) for k, label in AGE_GROUPS.items()]
        self.participation.choices = [SelectChoice(k, label) for k, label in PARTICIPATION.items()]
        self.needs.choices = [SelectChoice(k, label) for k, label in NEEDS.items()]
        self.interpreter_language.choices = [SelectChoice("", _l("Not needed"))] + [
            SelectChoice(k, label) for k, label in INTERPRETER_LANGUAGES.items()
        ]

    def validate_phone(self, field) -> None:
        phone = parse_phone(field.data)
        if phone is None:
            raise ValidationError(_l("Please enter a US mobile number with its area code, like 510-555-0123."))
        self.e164 = phone

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.county.data and not self.zip_code.data and not self.zip_code.errors:
            self.zip_code.errors = [*self.zip_code.errors, _l("Please choose a county or enter a ZIP code.")]
            ok = False
        return ok

    def needs_dict(self) -> dict:
        chosen = set(self.needs.data or [])
        needs: dict = {key: key in chosen for key in NEEDS}
        if "interpreter" in chosen and self.interpreter_language.data:
            needs["interpreter_language"] = self.interpreter_language.data
        if self.accessibility.data:
            needs["accessibility"] = self.accessibility.data
        return needs


class CodeCheckForm(BaseForm):
    code = StringField(
        _l("The code on the family's phone"),
        [required(), max_length(12)],
        description=_l("Six numbers, in the text we just sent them."),
    )


class RosterFilterForm(BaseForm):
    """The roster filters: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    language = SelectField(_l("Language"), validators=[optional()], default="")
    county = SelectField(_l("County"), validators=[optional()], default="")
    source = SelectField(_l("How they signed up"), validators=[optional()], default="")
    need = SelectField(_l("Needs"), validators=[optional()], default="")
    organisation = SelectField(_l("Community organisation"), coerce=int, validators=[optional()], default=0)

    def set_choices(self, locales: list[str], organisations=None) -> None:
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(loc, language_name(loc)) for loc in locales
        ]
        self.county.choices = county_choices(_l("Any county"))
        self.source.choices = [SelectChoice("", _l("Any way"))] + [
            SelectChoice(s.value, label) for s, label in SOURCE_LABELS.items()
        ]
        self.need.choices = [SelectChoice("", _l("Any needs"))] + [SelectChoice(k, label) for k, label in NEEDS.items()]
        if organisations is None:
            del self.organisation
        else:
            self.organisation.choices = [SelectChoice(0, _l("Any community organisation"))] + [
                SelectChoice(o.id, o.name) for o in organisations
            ]

    def values(self) -> dict:
        """The filters in use, as they go in a link or the audit log."""
        names = ("language", "county", "source", "need", "organisation")
        return {n: self[n].data for n in names if n in self and self[n].data}
