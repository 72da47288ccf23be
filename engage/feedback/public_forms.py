"""Forms for input: a parent's own words on the web, and what a CBO passes on for a
family. Whatever is typed comes back on an error; text is cleaned of characters that
cannot be stored (control characters), never otherwise changed."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms import validators as v
from wtforms.fields.choices import SelectChoice

from engage.feedback import vocab
from engage.feedback.intake import MAX_BODY
from engage.forms import BaseForm, max_length, optional
from engage.models import Topic

KEEP = {"\n", "\t"}


def clean_text(value):
    """Drop control characters (NUL and the like, which a database refuses) but keep
    line breaks, tabs and every letter, emoji and joiner."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in value if ch in KEEP or unicodedata.category(ch) not in ("Cc", "Cs"))


def has_words(form, field):
    """Something other than spaces and invisible characters was written."""
    text = field.data or ""
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
        field.errors[:] = []
        raise v.StopValidation(_l("Please write what you want to tell the plan."))


def _topic_choices() -> list[SelectChoice]:
    return [SelectChoice(topic.value, label) for topic, label in vocab.TOPICS.items()]


def _words_field(label, description):
    return TextAreaField(
        label,
        [has_words, max_length(MAX_BODY)],
        filters=[clean_text],
        description=description,
        render_kw={"rows": 6},
    )


class InputForm(BaseForm):
    """A parent's own words: what about, what they want to say, and whether to keep
    their name off it."""

    topic = RadioField(
        _l("What is it about?"),
        [v.InputRequired(message=_l("Please choose what it is about."))],
        choices=_topic_choices(),
        description=_l("Choose the one that fits best. If none fits, choose “Something else”."),
    )
    body = _words_field(
        _l("Your words"),
        _l("Write in any language. Tell us what works, what does not, and what would help."),
    )
    anonymous = BooleanField(
        _l("Don't show my name with this (keep it anonymous)"),
        description=_l(
            "If you tick this, nobody will know it came from you. "
            "But we cannot text you what became of it: look for it on the “You said, we did” page."
        ),
    )
    committee_id = SelectField(_l("Which parent advisory group should hear this?"), [optional()], choices=[])

    def set_committees(self, committees: list[tuple[int, str]]) -> None:
        self.committee_id.choices = [SelectChoice(str(cid), label) for cid, label in committees]


class CboInputForm(BaseForm):
    """What a family said, passed on by a CBO worker with the family's agreement."""

    topic = RadioField(
        _l("What is it about?"),
        [v.InputRequired(message=_l("Please choose what it is about."))],
        choices=_topic_choices(),
    )
    body = _words_field(
        _l("What the family said"),
        _l("Write their words as they said them, in their language if you can."),
    )
    locale = SelectField(_l("Language of these words"), [v.InputRequired(message=_l("Please fill this in."))])
    anonymous = BooleanField(_l("The family does not want their name with this"))
    consent = BooleanField(
        _l("The family agreed that we share this"),
        [v.InputRequired(message=_l("Please ask the family first, then tick this box."))],
    )

    def set_locales(self, codes, name_of) -> None:
        self.locale.choices = [SelectChoice(code, name_of(code)) for code in codes]


def topic_of(value: str) -> Topic:
    try:
        return Topic(value)
    except ValueError:
        return Topic.OTHER
