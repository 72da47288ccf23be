"""Forms of the coordinator's area: the inbox filters, a reply, a bulk message."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, max_length, optional, required
from engage.i18n import any_version, language_name

# Twilio takes at most 1,600 characters; a friendly text is far shorter (UX: two segments).
REPLY_MAX = 1000


def not_blank():
    """Like ``required()``, but text that is only spaces counts as empty."""
    return v.DataRequired(message=_l("Please fill this in."))


class ConfirmForm(BaseForm):
    """A button that changes something: CSRF only."""


class InboxFilterForm(BaseForm):
    """The inbox filters: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    language = SelectField(_l("Language"), validators=[optional()], default="")
    committee = SelectField(_l("Committee"), coerce=int, validators=[optional()], default=0)

    def set_choices(self, locales: list[str], committees, several_plans: bool) -> None:
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(loc, language_name(loc)) for loc in locales
        ]
        self.committee.choices = [SelectChoice(0, _l("All committees"))] + [
            SelectChoice(c.id, committee_label(c, several_plans)) for c in committees
        ]


class ReplyForm(BaseForm):
    body = TextAreaField(
        _l("Your reply"),
        [not_blank(), max_length(REPLY_MAX)],
        description=_l("Your plan's short name is added at the start, so they know who is writing."),
    )


class BulkForm(BaseForm):
    plan_id = SelectField(_l("Plan"), coerce=int, validators=[required()])
    committee_id = SelectField(_l("Send to"), coerce=int, default=0)
    languages = SelectMultipleField(
        _l("Only people who read these languages"),
        description=_l("Leave all unticked to send to every language."),
    )
    county = SelectField(_l("County"), default="")
    organisation_id = SelectField(_l("Community organisation"), coerce=int, default=0)

    def set_choices(self, plans, committees, counties: list[str], organisations, locales: list[str]) -> None:
        several = len(plans) > 1
        self.plan_id.choices = [SelectChoice(p.id, p.name) for p in plans]
        self.committee_id.choices = [SelectChoice(0, _l("Everyone who signed up with the plan"))] + [
            SelectChoice(c.id, committee_label(c, several)) for c in committees
        ]
        self.languages.choices = [SelectChoice(loc, language_name(loc)) for loc in locales]
        self.county.choices = [SelectChoice("", _l("Any county"))] + [SelectChoice(c, c) for c in counties]
        self.organisation_id.choices = [SelectChoice(0, _l("Any community organisation"))] + [
            SelectChoice(o.id, o.name) for o in organisations
        ]


def bulk_form(locales: list[str]):
    """A ``BulkForm`` with one text box per language (``body_en``, ``body_es``, ...)."""

    class Form(BulkForm):
        pass

    for loc in locales:
        setattr(
            Form,
            f"body_{loc}",
            TextAreaField(
                _l("Message in %(language)s", language=language_name(loc)),
                [optional(), max_length(REPLY_MAX)],
            ),
        )
    return Form


def committee_label(committee, several_plans: bool) -> str:
    name = any_version(committee.name)
    if several_plans:
        # TRANSLATORS: a committee in a list that mixes plans, e.g. "AFH: Children's Committee".
        return gettext("%(plan)s: %(committee)s", plan=committee.plan.short_name, committee=name)
    return name
