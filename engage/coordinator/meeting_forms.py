"""Forms for committees and meetings: roster settings and seats, one meeting, a regular
schedule, cancelling, and agendas and minutes in each language."""

from __future__ import annotations

import copy
import unicodedata
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, amount_range, dollars_and_cents, max_length, optional, required, url
from engage.i18n import fmt_money, language_name
from engage.meetings.rosters import ROLE_LABELS, STATUS_LABELS
from engage.meetings.schedule import zone
from engage.members.vocab import INTERPRETER_LANGUAGES
from engage.models import MeetingFormat, RosterRole, RosterStatus
from engage.supports.stipends import MAX_AMOUNT

FORMAT_LABELS = {
    MeetingFormat.IN_PERSON: _l("In person"),
    MeetingFormat.ONLINE: _l("Online"),
    MeetingFormat.HYBRID: _l("In person and online"),
}
WEEKDAY_LABELS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]
WEEK_LABELS = {
    1: lazy_pgettext("which week of the month", "first"),
    2: lazy_pgettext("which week of the month", "second"),
    3: lazy_pgettext("which week of the month", "third"),
    4: lazy_pgettext("which week of the month", "fourth"),
    -1: lazy_pgettext("which week of the month", "last"),
}
EVERY_MONTHS = {
    1: _l("every month"),
    2: _l("every 2 months"),
    3: _l("every 3 months"),
    4: _l("every 4 months"),
    6: _l("every 6 months"),
    12: _l("every year"),
}
BODY_MAX = 20000


def number_range(low: int, high: int):
    return v.NumberRange(
        min=low, max=high, message=_l("Please enter a number from %(min)d to %(max)d.", min=low, max=high)
    )


def _no_control_characters(value):
    """Drop NUL and other control characters (PostgreSQL refuses NUL), keeping line breaks."""
    if not isinstance(value, str):
        return value
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def stipend_validators() -> list:
    """Optional, from $0 to $1,000 (the stipends' own limit), dollars and cents."""
    return [
        optional(),
        amount_range(MAX_AMOUNT),
        dollars_and_cents(_l("Please enter an amount in dollars and cents, like 12.50.")),
    ]


# Form data to and from models ---------------------------------------------------------


def per_language(form, name: str, locales: list[str]) -> dict:
    """What was typed in the ``<name>_<locale>`` fields, ``{locale: text}``, empty ones left out."""
    return {loc: form[f"{name}_{loc}"].data for loc in locales if form[f"{name}_{loc}"].data}


def per_language_data(name: str, values: dict | None, locales: list[str]) -> dict:
    """A stored ``{locale: text}`` as form data for the ``<name>_<locale>`` fields."""
    return {f"{name}_{loc}": (values or {}).get(loc, "") for loc in locales}


def apply_changes(obj, values: dict) -> dict[str, list]:
    """Set each attribute of ``obj`` whose value differs from ``values``; returns
    ``{name: [old, new]}`` for those, in the order of ``values`` (for the audit log)."""
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [old, new]
            setattr(obj, name, new)
    return changes


class Form(BaseForm):
    """engage's form base, with control characters dropped from typed text."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField | TextAreaField):
                # A copy: the unbound field belongs to the class and is bound again for every form.
                unbound_field = copy.copy(unbound_field)
                filters = [_no_control_characters, *unbound_field.kwargs.get("filters", [])]
                unbound_field.kwargs = {**unbound_field.kwargs, "filters": filters}
            return super().bind_field(form, unbound_field, options)


# Committees and seats --------------------------------------------------------------------


class CommitteeSettingsForm(Form):
    min_members = IntegerField(
        _l("Fewest members"),
        [optional(), number_range(1, 500)],
        description=_l("Leave empty if there is no lower limit."),
    )
    max_members = IntegerField(
        _l("Most members"),
        [optional(), number_range(1, 500)],
        description=_l("For example 35 for a regional group. Leave empty if there is no limit."),
    )
    consumer_majority = BooleanField(_l("More than half of the members must be consumers (parents or plan members)"))

    def validate_max_members(self, field):
        if field.data is not None and self.min_members.data is not None and field.data < self.min_members.data:
            raise v.ValidationError(_l("The most members cannot be fewer than the fewest members."))


class SearchForm(Form):
    """A GET form: no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name or phone number"),
        [optional(), max_length(80)],
        description=_l("Only people who signed up with this plan are found."),
    )


def _role_choices():
    return [SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]


def _status_choices():
    return [SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()]


class SeatForm(Form):
    role = SelectField(_l("Role"), choices=_role_choices, default=RosterRole.MEMBER.value, validators=[required()])
    is_consumer = BooleanField(
        _l("Consumer: a parent or caregiver of a plan member, or a plan member"),
        default=True,
    )
    term_start = DateField(_l("Term starts"), [optional()])
    term_end = DateField(_l("Term ends"), [optional()])

    def validate_term_end(self, field):
        if field.data and self.term_start.data and field.data < self.term_start.data:
            raise v.ValidationError(_l("The term cannot end before it starts."))


class AddSeatForm(SeatForm):
    q = HiddenField()
    member_id = RadioField(_l("Who"), coerce=int, validators=[v.InputRequired(message=_l("Please choose a person."))])


class EditSeatForm(SeatForm):
    status = RadioField(_l("Status"), choices=_status_choices, default=RosterStatus.ACTIVE.value)


# Meetings ----------------------------------------------------------------------------------


class MeetingDetailsForm(Form):
    """What a meeting is like. Shared by one meeting, a regular schedule and editing."""

    duration_minutes = IntegerField(_l("How long (minutes)"), [required(), number_range(15, 600)], default=90)
    format = RadioField(
        _l("Where it happens"),
        choices=lambda: [SelectChoice(f.value, label) for f, label in FORMAT_LABELS.items()],
        default=MeetingFormat.IN_PERSON.value,
        validators=[required()],
    )
    location_name = StringField(
        _l("Place name"), [optional(), max_length(200)], description=_l("For example: Fresno Community Center")
    )
    address = StringField(_l("Address"), [optional(), max_length(300)])
    online_url = StringField(
        _l("Online meeting link"),
        [optional(), url(), max_length(500)],
        description=_l("Only people who said yes see the link."),
    )
    capacity = IntegerField(
        _l("Places"),
        [optional(), number_range(1, 5000)],
        description=_l("How many people can come. Leave empty if there is no limit."),
    )
    childcare = BooleanField(_l("Free childcare"))
    interpretation = SelectMultipleField(
        _l("Interpreters for these spoken languages"),
        choices=lambda: [SelectChoice(code, label) for code, label in INTERPRETER_LANGUAGES.items()],
        validators=[optional()],
    )
    transport = BooleanField(_l("Help with transport"))
    meals = BooleanField(_l("A meal or snacks"))
    stipend_amount = DecimalField(
        _l("Payment for each parent's time (US dollars)"),
        stipend_validators(),
        places=2,
        description=_l("For example 50. Leave empty if there is none."),
    )
    stipend_prep_amount = DecimalField(
        _l("Preparation-time stipend for this meeting (US dollars)"),
        stipend_validators(),
        places=2,
        # Its hint names the committee's own amount: the views call set_prep_hint.
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Checks across fields run here: an empty optional field stops its own validators.
        fmt = self.format.data
        in_person = fmt in (MeetingFormat.IN_PERSON.value, MeetingFormat.HYBRID.value)
        online = fmt in (MeetingFormat.ONLINE.value, MeetingFormat.HYBRID.value)
        if in_person and not (self.location_name.data or self.address.data or self.location_name.errors):
            self.location_name.errors.append(_l("Please give the place name or the address."))
            ok = False
        if online and not (self.online_url.data or self.online_url.errors):
            self.online_url.errors.append(_l("Please give the link for joining online."))
            ok = False
        return ok

    def set_prep_hint(self, committee) -> None:
        """Show the committee's preparation-time amount, used when the field is left empty."""
        if committee.stipend_prep_amount is None:
            self.stipend_prep_amount.description = _l(
                "Leave empty to use the committee's amount. The committee has none set."
            )
        else:
            self.stipend_prep_amount.description = _l(
                "Leave empty to use the committee's amount: %(amount)s.",
                amount=fmt_money(committee.stipend_prep_amount),
            )

    def fields(self, locales: list[str]) -> dict:
        """What engage.meetings.schedule.create_meeting copies onto a meeting."""
        return {
            "duration_minutes": self.duration_minutes.data,
            "format": MeetingFormat(self.format.data),
            "title": per_language(self, "title", locales),
            "location_name": self.location_name.data or None,
            "address": self.address.data or None,
            "accessibility_notes": per_language(self, "accessibility_notes", locales),
            "online_url": self.online_url.data or None,
            "capacity": self.capacity.data,
            "childcare": bool(self.childcare.data),
            "interpretation": [c for c in INTERPRETER_LANGUAGES if c in (self.interpretation.data or [])],
            "transport": bool(self.transport.data),
            "meals": bool(self.meals.data),
            "stipend_amount": self.stipend_amount.data,
            "stipend_prep_amount": self.stipend_prep_amount.data,
        }

    @staticmethod
    def data_from(meeting, locales: list[str]) -> dict:
        return {
            "duration_minutes": meeting.duration_minutes,
            "format": meeting.format.value,
            "location_name": meeting.location_name,
            "address": meeting.address,
            "online_url": meeting.online_url,
            "capacity": meeting.capacity,
            "childcare": meeting.childcare,
            "interpretation": list(meeting.interpretation or []),
            "transport": meeting.transport,
            "meals": meeting.meals,
            "stipend_amount": meeting.stipend_amount,
            "stipend_prep_amount": meeting.stipend_prep_amount,
            **per_language_data("title", meeting.title, locales),
            **per_language_data("accessibility_notes", meeting.accessibility_notes, locales),
        }


YEARS_AHEAD = 5  # meetings are planned at most this far ahead


def not_too_far(form, field):
    if field.data and field.data > today_local() + timedelta(days=366 * YEARS_AHEAD):
        raise v.ValidationError(_l("Please choose a day within the next %(years)d years.", years=YEARS_AHEAD))


class OneMeetingForm(MeetingDetailsForm):
    day = DateField(_l("Day"), [required(), not_too_far])
    at = TimeField(_l("Start time"), [required()])


class ScheduleForm(MeetingDetailsForm):
    week = SelectField(
        _l("Which week"),
        coerce=int,
        choices=lambda: [SelectChoice(k, lab) for k, lab in WEEK_LABELS.items()],
        default=2,
    )
    weekday = SelectField(
        _l("Day of the week"),
        coerce=int,
        choices=lambda: [SelectChoice(i, lab) for i, lab in enumerate(WEEKDAY_LABELS)],
        default=1,
    )
    every_months = SelectField(
        _l("How often"),
        coerce=int,
        choices=lambda: [SelectChoice(k, lab) for k, lab in EVERY_MONTHS.items()],
        default=3,
    )
    at = TimeField(_l("Start time"), [required()])
    start = DateField(_l("Starting from"), [required(), not_too_far])
    count = IntegerField(
        _l("How many meetings"),
        [optional(), number_range(1, 60)],
        default=4,
        description=_l("Or leave empty and give a last day below."),
    )
    until = DateField(_l("Until (last day)"), [optional(), not_too_far])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.count.data is None and self.until.data is None and not (self.count.errors or self.until.errors):
            self.count.errors.append(_l("Please say how many meetings, or give a last day."))
            ok = False
        return ok

    def validate_until(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise v.ValidationError(_l("The last day cannot be before the first day."))


def with_languages(base: type, locales: list[str]) -> type:
    """``base`` with a title and accessibility notes per language."""

    class Localized(base):
        pass

    for loc in locales:
        name = language_name(loc)
        setattr(
            Localized,
            f"title_{loc}",
            StringField(_l("Title in %(language)s (optional)", language=name), [optional(), max_length(200)]),
        )
        setattr(
            Localized,
            f"accessibility_notes_{loc}",
            TextAreaField(
                _l("Access notes in %(language)s", language=name),
                [optional(), max_length(1000)],
                description=_l("Step-free entrance, parking, elevator, quiet room..."),
            ),
        )
    return Localized


def cancel_form(locales: list[str]) -> type:
    class Localized(Form):
        pass

    for loc in locales:
        setattr(
            Localized,
            f"reason_{loc}",
            TextAreaField(
                _l("Reason in %(language)s (optional)", language=language_name(loc)), [optional(), max_length(500)]
            ),
        )
    return Localized


def document_form(locales: list[str]) -> type:
    class Localized(Form):
        pass

    for loc in locales:
        setattr(
            Localized,
            f"body_{loc}",
            TextAreaField(_l("Text in %(language)s", language=language_name(loc)), [optional(), max_length(BODY_MAX)]),
        )
    return Localized


def today_local() -> date:
    return datetime.now(zone()).date()
