"""Forms for asking for supports (the same form for a parent, a CBO and a coordinator)
and for arranging them."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, max_length, optional
from engage.i18n import language_name
from engage.members.vocab import AGE_GROUPS, INTERPRETER_LANGUAGES
from engage.models import SupportKind, SupportStatus
from engage.supports import vocab

MAX_CHILDREN = 12
# Childcare is for children; 18 to 20 year olds do not need a sitter.
CHILDCARE_AGES = [a for a in AGE_GROUPS if a != "18-20"]
NOTES_MAX = 1000


class SupportForm(BaseForm):
    """Every support is a tick box ("I need this") with its details under it."""

    childcare = BooleanField(_l("I need childcare during the meeting"))
    children = IntegerField(
        _l("How many children need care?"),
        [optional()],
        description=_l("A number from 1 to 12."),
        render_kw={"min": 1, "max": MAX_CHILDREN, "inputmode": "numeric"},
    )
    age_groups = SelectMultipleField(
        _l("How old are they?"),
        [optional()],
        choices=[SelectChoice(a, AGE_GROUPS[a]) for a in CHILDCARE_AGES],
        description=_l("Choose all that apply."),
    )
    childcare_notes = TextAreaField(
        _l("Anything the childcare staff should know?"),
        [optional(), max_length(NOTES_MAX)],
        description=_l("For example: allergies, or a child who needs extra help."),
    )

    interpreter = BooleanField(_l("I need an interpreter"))
    language = SelectField(_l("Which language do you speak?"), [optional()], choices=[])
    language_other = StringField(_l("If another language: which one?"), [optional(), max_length(60)])
    interpreter_mode = RadioField(
        _l("How should the interpreter help you?"),
        [optional()],
        choices=[SelectChoice(k, label) for k, label in vocab.INTERPRETER_MODES.items()],
        default="in_person",
    )

    transport = BooleanField(_l("I need help getting to the meeting"))
    transport_mode = RadioField(
        _l("What would help most?"),
        [optional()],
        choices=[SelectChoice(k, label) for k, label in vocab.TRANSPORT_MODES.items()],
        default="ride",
    )
    transport_notes = TextAreaField(
        _l("Anything else about getting there?"),
        [optional(), max_length(NOTES_MAX)],
        description=_l("For example: the city you are coming from, or a car seat for a child."),
    )

    access = BooleanField(_l("I need something else to take part"))
    access_notes = TextAreaField(
        _l("What do you need?"),
        [optional(), max_length(NOTES_MAX)],
        description=_l("For example: a wheelchair space, large print, a quiet room, or captions."),
    )

    meals = BooleanField(_l("I have a food or diet need"))
    meals_notes = TextAreaField(
        _l("Tell us about it"),
        [optional(), max_length(NOTES_MAX)],
        description=_l("For example: vegetarian, halal, or no peanuts."),
    )

    def set_choices(self, offered: list[str] | None = None) -> None:
        """Languages this meeting offers first, then the rest; "another language" last."""
        codes = [c for c in offered or [] if c in INTERPRETER_LANGUAGES and c != "other"]
        codes += [c for c in INTERPRETER_LANGUAGES if c not in codes and c != "other"]
        self.language.choices = [SelectChoice("", _l("Choose a language"))] + [
            SelectChoice(c, INTERPRETER_LANGUAGES[c]) for c in [*codes, "other"]
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        problems = []
        if self.childcare.data and not self.children.errors:
            if self.children.data is None:
                problems.append((self.children, _l("Please say how many children need care.")))
            elif not 1 <= self.children.data <= MAX_CHILDREN:
                problems.append((self.children, _l("Please enter a number from 1 to 12.")))
        if self.interpreter.data:
            if not self.language.data:
                problems.append((self.language, _l("Please choose the language you speak.")))
            elif self.language.data == "other" and not self.language_other.data:
                problems.append((self.language_other, _l("Please tell us which language you speak.")))
        if self.access.data and not self.access_notes.data:
            problems.append((self.access_notes, _l("Please tell us what you need.")))
        for field, message in problems:
            field.errors = [*field.errors, message]
        return ok and not problems

    # Between the form and {kind: details} ------------------------------------------------

    def wanted(self) -> dict[SupportKind, dict | None]:
        """What was ticked, with its details; ``None`` for what was not."""
        return {
            SupportKind.CHILDCARE: {
                "children": self.children.data,
                "age_groups": list(self.age_groups.data or []),
                "notes": self.childcare_notes.data or "",
            }
            if self.childcare.data
            else None,
            SupportKind.INTERPRETER: {
                "language": self.language.data,
                "other": self.language_other.data if self.language.data == "other" else "",
                "mode": self.interpreter_mode.data,
            }
            if self.interpreter.data
            else None,
            SupportKind.TRANSPORT: {"mode": self.transport_mode.data, "notes": self.transport_notes.data or ""}
            if self.transport.data
            else None,
            SupportKind.ACCESSIBILITY: {"notes": self.access_notes.data} if self.access.data else None,
            SupportKind.MEALS: {"notes": self.meals_notes.data or ""} if self.meals.data else None,
        }

    def load(self, details: dict[SupportKind, dict], ticked: set[SupportKind]) -> None:
        """Fill the form from saved details (which may include kinds not ticked)."""
        self.childcare.data = SupportKind.CHILDCARE in ticked
        self.interpreter.data = SupportKind.INTERPRETER in ticked
        self.transport.data = SupportKind.TRANSPORT in ticked
        self.access.data = SupportKind.ACCESSIBILITY in ticked
        self.meals.data = SupportKind.MEALS in ticked
        care = details.get(SupportKind.CHILDCARE) or {}
        if care.get("children"):
            self.children.data = care["children"]
        self.age_groups.data = [a for a in care.get("age_groups") or [] if a in CHILDCARE_AGES]
        self.childcare_notes.data = care.get("notes") or ""
        spoken = details.get(SupportKind.INTERPRETER) or {}
        self.language.data = spoken.get("language") or ""
        self.language_other.data = spoken.get("other") or ""
        self.interpreter_mode.data = spoken.get("mode") or "in_person"
        ride = details.get(SupportKind.TRANSPORT) or {}
        self.transport_mode.data = ride.get("mode") or "ride"
        self.transport_notes.data = ride.get("notes") or ""
        self.access_notes.data = (details.get(SupportKind.ACCESSIBILITY) or {}).get("notes") or ""
        self.meals_notes.data = (details.get(SupportKind.MEALS) or {}).get("notes") or ""


class ArrangeForm(BaseForm):
    arrangement = TextAreaField(
        _l("What was booked"),
        [v.DataRequired(message=_l("Please fill this in.")), max_length(500)],
        description=_l(
            "For example: Kiddie Care, 2 sitters. Only staff see this. "
            "The parent gets a text in their language saying it is arranged."
        ),
    )


OUTCOMES = {"provided": _l("Provided at the meeting"), "not_provided": _l("Not provided")}


class OutcomeForm(BaseForm):
    outcome = RadioField(
        _l("What happened?"),
        [v.InputRequired(message=_l("Please choose one."))],
        choices=[SelectChoice(k, label) for k, label in OUTCOMES.items()],
    )
    reason = TextAreaField(
        _l("Why was it not provided?"),
        [optional(), max_length(NOTES_MAX)],
        description=_l("Needed when it was not provided. For example: the interpreter cancelled that morning."),
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.outcome.data == "not_provided" and not self.reason.data:
            self.reason.errors = [*self.reason.errors, _l("Please say why it was not provided.")]
            return False
        return ok


# Filters of the coordinator's list -------------------------------------------------------

OPEN = "open"
ALL = "all"


class SupportFilterForm(BaseForm):
    """A GET form: no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    committee = SelectField(_l("Committee"), coerce=int, validators=[optional()], default=0)
    kind = SelectField(_l("Support"), validators=[optional()], default="")
    status = SelectField(_l("Status"), validators=[optional()], default=OPEN)
    language = SelectField(_l("Parent's language"), validators=[optional()], default="")

    def set_choices(self, committees, committee_label, locales: list[str]) -> None:
        self.committee.choices = [SelectChoice(0, _l("All committees"))] + [
            SelectChoice(c.id, committee_label(c)) for c in committees
        ]
        self.kind.choices = [SelectChoice("", _l("All supports"))] + [
            SelectChoice(k.value, label) for k, label in vocab.KINDS.items()
        ]
        self.status.choices = [
            SelectChoice(OPEN, _l("Still to do (requested, arranged or confirmed)")),
            SelectChoice(ALL, _l("Any status")),
        ] + [SelectChoice(s.value, label) for s, label in vocab.STATUSES.items()]
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(loc, language_name(loc)) for loc in locales
        ]

    def statuses(self) -> list[SupportStatus] | None:
        """The statuses asked for; ``None`` for any."""
        if self.status.data == ALL:
            return None
        if self.status.data in SupportStatus._value2member_map_:
            return [SupportStatus(self.status.data)]
        return [SupportStatus.REQUESTED, SupportStatus.ARRANGED, SupportStatus.CONFIRMED]


# Filters of the fairness figures ---------------------------------------------------------


def a_year_before(day: date) -> date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


# Dates a person could mean (and that stay dates when a day is added).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


class FairnessFilterForm(BaseForm):
    """A GET form: no CSRF token (it changes nothing). The plan is offered only to
    someone who sees several plans."""

    class Meta:
        csrf = False

    plan = SelectField(_l("Plan"), coerce=int, validators=[optional()], default=0)
    start = DateField(_l("Meetings from"), [optional()])
    end = DateField(_l("Meetings to (last day)"), [optional()])

    def set_choices(self, plans) -> None:
        self.plan.choices = [SelectChoice(0, _l("All plans"))] + [SelectChoice(p.id, p.name) for p in plans]

    def meeting_range(self, today: date) -> tuple[date, date]:
        """The days asked for, or the last 12 months. An empty box takes its default; a
        date that is not one (or a start after the end) is an error under its box, and
        then the whole default range is used."""
        first, last = a_year_before(today), today
        for box in (self.start, self.end):
            if box.data is not None and not box.errors and not EARLIEST_DAY <= box.data <= LATEST_DAY:
                box.errors = [
                    *box.errors,
                    _l("Please enter a date from %(first)s to %(last)s.", first="2000-01-01", last="2100-12-31"),
                ]
        if self.start.errors or self.end.errors:
            for box, default in ((self.start, first), (self.end, last)):
                if not box.errors and box.data is None:
                    box.data = default
            return first, last
        start, end = self.start.data or first, self.end.data or last
        if start > end:
            self.end.errors = [*self.end.errors, _l("The last day must be on or after the first day.")]
            return first, last
        self.start.data, self.end.data = start, end  # the boxes show the days counted
        return start, end
