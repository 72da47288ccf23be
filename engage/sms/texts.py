"""Every text message engage writes, one function each, in the current locale.

Call them inside ``flask_babel.force_locale(person.locale)``. Each starts with the
plan's short name, so people know who is writing. ``TEMPLATES`` lists them with
sample values: a test renders every one in every language and fails when one
needs more than two segments.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale
from flask_babel import gettext as _

TEMPLATES: dict[str, tuple[Callable[..., str], dict]] = {}
LONGEST_PLAN = "Valle Central"  # samples use a realistic long short-name


def template(**sample):
    def register(fn):
        TEMPLATES[fn.__name__] = (fn, sample)
        return fn

    return register


@template(plan=LONGEST_PLAN)
def stop_confirmation(plan: str) -> str:
    return _("%(plan)s: You will get no more texts from us. Reply START to get them again.", plan=plan)


@template(plan=LONGEST_PLAN)
def start_confirmation(plan: str) -> str:
    return _(
        "%(plan)s: You will get texts about parent advisory meetings again. About 4 a month. Reply STOP to stop.",
        plan=plan,
    )


@template(plan=LONGEST_PLAN, contact="(559) 555-0100")
def help_text(plan: str, contact: str | None) -> str:
    if contact:
        return _(
            "%(plan)s parent advisory group. Questions? Call %(contact)s. Reply STOP to stop. "
            "Msg & data rates may apply.",
            plan=plan,
            contact=contact,
        )
    return _(
        "%(plan)s parent advisory group. Questions? Reply here and a coordinator will answer. "
        "Reply STOP to stop. Msg & data rates may apply.",
        plan=plan,
    )


@template(plan=LONGEST_PLAN)
def help_text_no_contact(plan: str) -> str:
    return help_text(plan, None)


@template(plan=LONGEST_PLAN)
def received(plan: str) -> str:
    return _("%(plan)s: Thank you, we got your message. A coordinator will reply soon.", plan=plan)


@template(plan=LONGEST_PLAN)
def language_changed(plan: str) -> str:
    return _("%(plan)s: OK, we will text you in English from now on.", plan=plan)


@template(plan=LONGEST_PLAN, message="We moved Tuesday's meeting to room B. See you there!")
def signed(plan: str, message: str) -> str:
    """A coordinator's own words, signed with the plan's name."""
    return _("%(plan)s: %(message)s", plan=plan, message=message)


@template()
def join_prompt() -> str:
    """One line in the current language; ``unknown_number`` joins all of them."""
    return _("Text JOIN to sign up.")


def unknown_number(locales: list[str]) -> str:
    """The same invitation in every language, for a number we do not know."""
    lines = []
    for loc in locales:
        with force_locale(loc):
            lines.append(join_prompt())
    return "\n".join(lines)


# Joining -------------------------------------------------------------------------


@template(plan=LONGEST_PLAN, code="482913")
def signup_code(plan: str, code: str) -> str:
    return _(
        "%(plan)s: Your code is %(code)s. Enter it on the sign-up page to confirm you want our texts. "
        "It works for 10 minutes.",
        plan=plan,
        code=code,
    )


@template(plan=LONGEST_PLAN, code="482913")
def login_code(plan: str, code: str) -> str:
    return _(
        "%(plan)s: Your sign-in code is %(code)s. It works for 10 minutes. If you did not ask for it, ignore this text.",
        plan=plan,
        code=code,
    )


@template(plan=LONGEST_PLAN)
def welcome(plan: str) -> str:
    return _(
        "%(plan)s: Welcome! We will text you about parent advisory meetings, about 4 a month. "
        "Reply STOP to stop, HELP for help.",
        plan=plan,
    )


@template(plan=LONGEST_PLAN)
def ask_name(plan: str) -> str:
    return _("%(plan)s: Welcome! What name would you like us to call you? Reply with your first name.", plan=plan)


@template()
def ask_name_again() -> str:
    return _("Please reply with the name you like to be called, for example: Maria.")


@template(name="Guadalupe")
def ask_place(name: str) -> str:
    return _("Thank you, %(name)s! What county or ZIP code do you live in? For example: Fresno or 93701.", name=name)


@template()
def ask_place_again() -> str:
    return _(
        "Sorry, we did not understand. Please reply with a California county or ZIP code, for example: Fresno or 93701."
    )


@template(plan=LONGEST_PLAN)
def ask_confirm(plan: str) -> str:
    return _(
        "%(plan)s: Reply YES to get texts about parent advisory meetings, about 4 a month. "
        "Msg & data rates may apply. Reply STOP to stop.",
        plan=plan,
    )


@template()
def ask_confirm_again() -> str:
    return _("Please reply YES to sign up, or NO if you do not want to.")


@template(plan=LONGEST_PLAN)
def signup_cancelled(plan: str) -> str:
    return _("%(plan)s: OK, we did not sign you up. Text JOIN any time if you change your mind.", plan=plan)


@template(plan=LONGEST_PLAN)
def already_member(plan: str) -> str:
    return _("%(plan)s: You are already signed up. Reply HELP for help or STOP to stop.", plan=plan)
