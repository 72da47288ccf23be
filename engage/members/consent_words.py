"""The consent words: one wording, shown on the web sign-up, read to a family by a
CBO worker, and stored word for word in the consent ledger when the code confirms it."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _


def consent_paragraphs(plan: str) -> list[str]:
    """What a person agrees to, in the current language. Shown on the last step and
    stored, word for word, in the consent ledger when the code confirms it."""
    return [
        _(
            "When you tap “Text me a code”, you agree that %(plan)s may send you text messages about its "
            "parent advisory group: invitations to meetings, reminders, questions about what you need to "
            "come, and news about what the plan did with parents’ ideas.",
            plan=plan,
        ),
        # TRANSLATORS: write STOP and HELP as the words a person texts in your language (ALTO / AYUDA, 停止 / 幫助).
        _(
            "We text about 4 times a month. Message and data rates may apply. Reply STOP at any time to stop, "
            "or HELP for help."
        ),
        _(
            "We keep your information private. We never sell it and never show your name on public pages. "
            "You can see, change or delete it at any time."
        ),
    ]


def consent_text(plan: str, locale: str) -> str:
    with force_locale(locale):
        return "\n\n".join(consent_paragraphs(plan))
