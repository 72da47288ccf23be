"""Forms of the coordinator's input-to-decision screens: filters, grouping input into
themes, moving a theme along, decisions and their CSV, texted questions, input recorded
in a meeting."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.feedback import vocab
from engage.forms import BaseForm, max_length, optional, required
from engage.i18n import language_name

TITLE_MAX = 200
TEXT_MAX = 4000
QUESTION_MAX = 400


def _topic_choices(blank=None):
    choices = [SelectChoice("", blank)] if blank else []
    return choices + [SelectChoice(t.value, label) for t, label in vocab.TOPICS.items()]


def _language_choices(locales, blank=None):
    choices = [SelectChoice("", blank)] if blank else []
    return choices + [SelectChoice(loc, language_name(loc)) for loc in locales]


def _per_language(form_cls, name: str, label, locales, *, textarea=True, max_len=TEXT_MAX):
    """``name_en``, ``name_es``, ... all optional; the view checks that one is written."""
    for loc in locales:
        cls = TextAreaField if textarea else StringField
        setattr(
            form_cls,
            f"{name}_{loc}",
            cls(
                _l("%(label)s (%(language)s)", label=label, language=language_name(loc)),
                [optional(), max_length(max_len)],
            ),
        )
    return form_cls


class ConfirmForm(BaseForm):
    """A button that changes something: CSRF only."""


# Input ------------------------------------------------------------------------------------


class InputFilterForm(BaseForm):
    class Meta:
        csrf = False

    committee = SelectField(_l("Committee"), coerce=int, validators=[optional()], default=0)
    topic = SelectField(_l("Topic"), validators=[optional()], default="")
    language = SelectField(_l("Language"), validators=[optional()], default="")
    channel = SelectField(_l("How it came in"), validators=[optional()], default="")
    unthemed = BooleanField(_l("Only input not in a theme yet"))

    def set_choices(self, committees, locales) -> None:
        self.committee.choices = [SelectChoice(0, _l("All committees"))] + [(c.id, c.label) for c in committees]
        self.topic.choices = _topic_choices(_l("All topics"))
        self.language.choices = _language_choices(locales, _l("All languages"))
        self.channel.choices = [SelectChoice("", _l("Every way"))] + [
            SelectChoice(c.value, label) for c, label in vocab.CHANNELS.items()
        ]


class GroupForm(BaseForm):
    """Put the ticked input in a theme: one already there, or a new one."""

    input_ids = SelectMultipleField(_l("Input"), coerce=int, validate_choice=False)
    # Checked by the view (another plan's theme is a 404, not a form error).
    theme_id = SelectField(_l("Add to"), coerce=int, default=0, validate_choice=False)
    title = StringField(
        _l("Name of the new theme"),
        [optional(), max_length(TITLE_MAX)],
        description=_l("Only for a new theme. You can add the other languages on the theme's page."),
    )
    topic = SelectField(_l("Topic of the new theme"), default="")

    def set_choices(self, themes) -> None:
        self.theme_id.choices = [SelectChoice(0, _l("A new theme"))] + [(t.id, t.label) for t in themes]
        self.topic.choices = _topic_choices(_l("The same as the input"))


class MoveForm(BaseForm):
    theme_id = SelectField(_l("Theme"), coerce=int, validators=[required()])

    def set_choices(self, themes) -> None:
        self.theme_id.choices = [(t.id, t.label) for t in themes]


class RemoveForm(BaseForm):
    """Take one piece of input out of its theme, and maybe put it in another of the plan's
    themes that is not decided yet (the view sets the choices)."""

    theme_id = SelectField(
        _l("Move it to"),
        coerce=int,
        default=0,
        validators=[optional()],
        description=_l("Optional: another theme of this plan that is not decided yet."),
    )

    def set_choices(self, themes) -> None:
        self.theme_id.choices = [SelectChoice(0, _l("No theme for now"))] + [(t.id, t.label) for t in themes]


class TranslationForm(BaseForm):
    translation = TextAreaField(
        _l("Translation"),
        [optional(), max_length(TEXT_MAX)],
        description=_l("Leave it empty to remove the translation."),
    )
    translation_locale = SelectField(_l("Language of the translation"), validators=[required()])

    def set_choices(self, locales) -> None:
        self.translation_locale.choices = _language_choices(locales)


# Themes ----------------------------------------------------------------------------------


class ThemeFilterForm(BaseForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Where it is"), validators=[optional()], default="")
    committee = SelectField(_l("Committee"), coerce=int, validators=[optional()], default=0)
    owner = SelectField(_l("Who looks after it"), coerce=int, validators=[optional()], default=0)
    topic = SelectField(_l("Topic"), validators=[optional()], default="")

    def set_choices(self, committees, owners) -> None:
        self.status.choices = [SelectChoice("", _l("Any step")), SelectChoice("open", _l("Still open"))] + [
            SelectChoice(s.value, label) for s, label in vocab.STATUSES.items()
        ]
        self.committee.choices = [SelectChoice(0, _l("All committees"))] + [(c.id, c.label) for c in committees]
        self.owner.choices = [SelectChoice(0, _l("Anyone"))] + [(u.id, u.name) for u in owners]
        self.topic.choices = _topic_choices(_l("All topics"))


def theme_form(locales):
    class ThemeForm(BaseForm):
        topic = SelectField(_l("Topic"), validators=[required()])
        owner_id = SelectField(_l("Who looks after it"), coerce=int, default=0)

        def set_choices(self, owners) -> None:
            self.topic.choices = _topic_choices()
            self.owner_id.choices = [SelectChoice(0, _l("Nobody yet"))] + [(u.id, u.name) for u in owners]

    _per_language(ThemeForm, "title", _l("Name"), locales, textarea=False, max_len=TITLE_MAX)
    _per_language(ThemeForm, "summary", _l("Summary"), locales)
    return ThemeForm


class TakeForm(BaseForm):
    body = SelectField(_l("Taken to"), validators=[required()])
    taken_on = DateField(_l("On"), [required()])
    note = TextAreaField(_l("Note for the timeline (staff only)"), [optional(), max_length(TEXT_MAX)])

    def set_choices(self) -> None:
        self.body.choices = [SelectChoice(b.value, label) for b, label in vocab.BODIES.items()]


def decide_form(locales):
    class DecideForm(BaseForm):
        outcome = SelectField(_l("What was decided"), validators=[required()])
        decided_on = DateField(_l("Decided on"), [required()])

        def set_choices(self) -> None:
            self.outcome.choices = [SelectChoice(o.value, label) for o, label in vocab.OUTCOMES.items()]

    _per_language(DecideForm, "reason", _l("Why"), locales, max_len=1000)
    return DecideForm


class NoteForm(BaseForm):
    note = TextAreaField(_l("Note"), [required(), max_length(TEXT_MAX)])


# Decisions -------------------------------------------------------------------------------


def decision_form(locales):
    class DecisionForm(BaseForm):
        plan_id = SelectField(_l("Plan"), coerce=int, validators=[required()])
        body = SelectField(_l("Who decided"), validators=[required()])
        decided_on = DateField(_l("Date of the decision"), [required()])
        theme_ids = SelectMultipleField(_l("Themes it answers"), coerce=int, validate_choice=False)
        input_ids = StringField(
            _l("Input it answers"),
            [optional(), max_length(2000)],
            description=_l("The numbers of the input, with spaces between them, like 12 15 40."),
        )

        def set_choices(self, plans, themes) -> None:
            self.plan_id.choices = [(p.id, p.name) for p in plans]
            self.body.choices = [SelectChoice(b.value, label) for b, label in vocab.BODIES.items()]
            self.theme_ids.choices = [(t.id, t.label) for t in themes]

    _per_language(DecisionForm, "title", _l("Title"), locales, textarea=False, max_len=TITLE_MAX)
    _per_language(DecisionForm, "summary", _l("What was decided"), locales)
    _per_language(DecisionForm, "rationale", _l("Why"), locales)
    return DecisionForm


class ImportForm(BaseForm):
    plan_id = SelectField(_l("Plan"), coerce=int, validators=[required()])
    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Please choose a file."))])

    def set_choices(self, plans) -> None:
        self.plan_id.choices = [(p.id, p.name) for p in plans]


# Questions -------------------------------------------------------------------------------


def question_form(locales):
    class QuestionForm(BaseForm):
        plan_id = SelectField(_l("Plan"), coerce=int, validators=[required()])
        topic = SelectField(_l("Topic"), validators=[required()])
        committee_id = SelectField(_l("Ask"), coerce=int, default=0)
        languages = SelectMultipleField(
            _l("Only people who read these languages"),
            description=_l("Leave all unticked to ask every language."),
        )
        county = SelectField(_l("County"), default="")
        days_open = IntegerField(
            _l("Days to answer"),
            [required(), v.NumberRange(min=1, max=60, message=_l("Please enter a number from %(min)d to %(max)d."))],
            default=14,
            description=_l("A reply within this many days becomes input tied to this question."),
        )

        def set_choices(self, plans, committees, counties, locales) -> None:
            self.plan_id.choices = [(p.id, p.name) for p in plans]
            self.topic.choices = _topic_choices()
            self.committee_id.choices = [SelectChoice(0, _l("Everyone who signed up with the plan"))] + [
                SelectChoice(c.id, _l("The active members of %(committee)s", committee=c.label)) for c in committees
            ]
            self.languages.choices = _language_choices(locales)
            self.county.choices = [SelectChoice("", _l("Any county"))] + [SelectChoice(c, lbl) for c, lbl in counties]

    _per_language(QuestionForm, "text", _l("Question"), locales, max_len=QUESTION_MAX)
    return QuestionForm


# Meetings --------------------------------------------------------------------------------


class MeetingInputForm(BaseForm):
    body = TextAreaField(_l("What was said"), [required(), max_length(TEXT_MAX)])
    locale = SelectField(_l("Language it was said in"), validators=[required()])
    topic = SelectField(_l("Topic"), validators=[required()], default="other")
    people = SelectMultipleField(_l("Who said it"), coerce=int)
    whole_committee = BooleanField(_l("The committee as a whole"))

    def set_choices(self, locales, attendees) -> None:
        self.locale.choices = _language_choices(locales)
        self.topic.choices = _topic_choices()
        self.people.choices = [(m.id, m.display_name or str(_l("Name not given"))) for m in attendees]


# Measures --------------------------------------------------------------------------------

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def _a_day_we_can_count(form, field) -> None:
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise v.ValidationError(
            _l("Please choose a day in the years %(first)d to %(last)d.", first=FIRST_DAY.year, last=LAST_DAY.year)
        )


class MeasuresFilterForm(BaseForm):
    """Which input the measures count: a GET form, so no CSRF token. Every field may be
    left empty (everything); the view drops the plan field for people who see one plan."""

    class Meta:
        csrf = False

    plan = SelectField(_l("Plan"), coerce=int, validators=[optional()], default=0)
    received_from = DateField(
        _l("Received from"),
        [optional(), _a_day_we_can_count],
        description=_l("The first day, like 2026-01-31. Leave it empty to start with the first input."),
    )
    received_to = DateField(
        _l("Received until"),
        [optional(), _a_day_we_can_count],
        description=_l("The last day, counted in full. Leave it empty to count up to today."),
    )

    def set_choices(self, plans) -> None:
        self.plan.choices = [SelectChoice(0, _l("All plans"))] + [(p.id, p.name) for p in plans]

    def validate_received_to(self, field) -> None:
        start = self.received_from.data
        if field.data is not None and start is not None and not self.received_from.errors and field.data < start:
            raise v.ValidationError(_l("The last day is before the first day."))
