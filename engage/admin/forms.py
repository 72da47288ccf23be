from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField, TelField
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, add_localized_fields, colour, email, max_length, optional, required, slug, url
from engage.i18n import language_name


class PlanForm(BaseForm):
    name = StringField(_l("Plan name"), [required(), max_length(200)])
    short_name = StringField(
        _l("Short name"),
        [required(), max_length(30)],
        description=_l("Used to sign text messages, so keep it short."),
    )
    slug = StringField(_l("Web address name"), [required(), max_length(60), slug()])
    colour = StringField(_l("Colour"), [required(), colour()], default="#1f5f8b")
    contact_phone = TelField(_l("Phone number for members"), [optional(), max_length(20)])
    contact_email = EmailField(_l("Email for members"), [optional(), email(), max_length(254)])
    website = StringField(_l("Website"), [optional(), url(), max_length(300)])


def committee_form(locales: list[str]):
    class CommitteeForm(BaseForm):
        plan_id = SelectField(_l("Plan"), coerce=int, validators=[required()])
        slug = StringField(_l("Web address name"), [required(), max_length(80), slug()])
        is_public = BooleanField(_l("Show this committee on the public site"), default=True)

    add_localized_fields(CommitteeForm, "name", _l("Name"), locales, max_len=200)
    add_localized_fields(CommitteeForm, "description", _l("Description"), locales, textarea=True, required_locale=None)
    return CommitteeForm


class OrganisationForm(BaseForm):
    name = StringField(_l("Organisation name"), [required(), max_length(200)])
    slug = StringField(_l("Web address name"), [required(), max_length(60), slug()])
    contact_phone = TelField(_l("Phone number"), [optional(), max_length(20)])
    contact_email = EmailField(_l("Email"), [optional(), email(), max_length(254)])
    plan_ids = SelectMultipleField(_l("Plans it works with"), coerce=int)


ROLE_CHOICES = [
    SelectChoice("coordinator", _l("Coordinator (runs committees for one or more plans)")),
    SelectChoice("cbo", _l("Community organisation staff (sees their own families)")),
    SelectChoice("admin", _l("Administrator (sets up plans, committees and accounts)")),
]


class StaffForm(BaseForm):
    name = StringField(_l("Full name"), [required(), max_length(120)])
    email = EmailField(_l("Email"), [required(), email(), max_length(254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[required()])
    plan_ids = SelectMultipleField(_l("Plans (coordinators)"), coerce=int)
    organisation_id = SelectField(_l("Organisation (community organisation staff)"), coerce=int)
    locale = SelectField(_l("Language for emails"))

    def set_choices(self, plans, organisations, locales):
        self.plan_ids.choices = [SelectChoice(p.id, p.name) for p in plans]
        self.organisation_id.choices = [SelectChoice(0, _l("None"))] + [
            SelectChoice(o.id, o.name) for o in organisations
        ]
        self.locale.choices = [SelectChoice(loc, language_name(loc)) for loc in locales]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.role.data == "coordinator" and not self.plan_ids.data:
            self.plan_ids.errors.append(_l("Choose at least one plan for a coordinator."))
            ok = False
        if self.role.data == "cbo" and not self.organisation_id.data:
            self.organisation_id.errors.append(_l("Choose the organisation this person works for."))
            ok = False
        return ok


class ConfirmForm(BaseForm):
    """A button that changes something: CSRF only."""
