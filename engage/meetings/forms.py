"""A parent's answer to a meeting on the web: coming or not, then what they need to come."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice

from engage.forms import BaseForm, optional, required
from engage.members import vocab


class ReplyForm(BaseForm):
    answer = RadioField(
        _l("Can you come?"),
        [required()],
        choices=[SelectChoice("yes", _l("I'll come")), SelectChoice("no", _l("I can't come"))],
    )


class NeedsForm(BaseForm):
    needs = SelectMultipleField(
        _l("I need"),
        [optional()],
        choices=[
            SelectChoice("childcare", _l("Childcare for my children")),
            SelectChoice("interpreter", _l("An interpreter")),
            SelectChoice("transport", _l("A ride, or help paying for the bus or gas")),
        ],
        description=_l("All of these are free. Choose all that help, or none."),
    )
    interpreter_language = SelectField(
        _l("If you want an interpreter: which language?"),
        [optional()],
        choices=[],
        validate_choice=True,
    )

    def set_choices(self, offered: list[str]) -> None:
        """Languages this meeting offers first, then the rest."""
        codes = [c for c in offered if c in vocab.INTERPRETER_LANGUAGES]
        codes += [c for c in vocab.INTERPRETER_LANGUAGES if c not in codes]
        self.interpreter_language.choices = [SelectChoice("", _l("Choose a language"))] + [
            SelectChoice(c, vocab.INTERPRETER_LANGUAGES[c]) for c in codes
        ]
