"""The text messages about meetings. Registered with engage.sms.texts so the segment
test renders every one in every language."""

from __future__ import annotations

from datetime import datetime

from babel import dates as babel_dates
from flask_babel import gettext as _

from engage.i18n import _local, current_locale, format_locale
from engage.sms.texts import LONGEST_PLAN, template

SAMPLE_WHEN = "Tue, Dec 8, 6:00 PM"
SAMPLE_PLACE = "Centro Comunitario Fresno"


def sms_when(value: datetime) -> str:
    """A short day, date and time for a text: "Tue, Dec 8, 6:00 PM", "mar, 8 dic, 6:00 p.m.",
    "12月8日 週二 下午6:00"."""
    loc = format_locale(current_locale())
    local = _local(value)
    day = babel_dates.format_skeleton("MMMEd", local, locale=loc)
    time = babel_dates.format_time(local, "short", locale=loc)
    text = str(loc.datetime_formats["medium"]).format(time, day)
    # CLDR puts no-break spaces in times ("6:00\u202fPM"); they are outside GSM-7 and
    # would make every English text UCS-2 (70 characters a segment instead of 160).
    return text.replace("\u202f", " ").replace("\xa0", " ")


@template(plan=LONGEST_PLAN, when=SAMPLE_WHEN)
def invitation(plan: str, when: str) -> str:
    return _(
        "%(plan)s: You are invited to the parent advisory group on %(when)s. Reply 1 for yes, 2 for no.",
        plan=plan,
        when=when,
    )


@template(plan=LONGEST_PLAN, when=SAMPLE_WHEN, place=SAMPLE_PLACE)
def reply_yes(plan: str, when: str, place: str) -> str:
    return _(
        "%(plan)s: Thank you! Your place is saved for %(when)s at %(place)s. We will text you a reminder.",
        plan=plan,
        when=when,
        place=place,
    )


@template()
def needs_question() -> str:
    return _(
        "Do you need help to come? Reply 1 childcare, 2 interpreter, 3 ride, 4 access, 5 food, 0 nothing. Example: 13"
    )


@template(needs="Childcare, Interpreter, Ride")
def needs_noted(needs: str) -> str:
    return _("Thank you. You asked for: %(needs)s. We will text you when it is arranged.", needs=needs)


@template()
def needs_none() -> str:
    return _("Thank you. See you there!")


@template()
def needs_again() -> str:
    return _("Please reply with numbers: 1 childcare, 2 interpreter, 3 ride, 4 access, 5 food, or 0 for nothing.")


@template(plan=LONGEST_PLAN, when=SAMPLE_WHEN)
def waitlisted(plan: str, when: str) -> str:
    return _(
        "%(plan)s: The meeting on %(when)s is full. You are on the waiting list. We will text you if a place opens.",
        plan=plan,
        when=when,
    )


@template(plan=LONGEST_PLAN)
def reply_no(plan: str) -> str:
    return _("%(plan)s: Thank you for letting us know. We hope to see you next time.", plan=plan)


@template(plan=LONGEST_PLAN, when=SAMPLE_WHEN)
def place_offered(plan: str, when: str) -> str:
    return _(
        "%(plan)s: A place opened up for the meeting on %(when)s. Reply 1 to take it, 2 if you cannot come.",
        plan=plan,
        when=when,
    )


@template(plan=LONGEST_PLAN)
def place_gone(plan: str) -> str:
    return _("%(plan)s: Sorry, someone else took that place. You are still on the waiting list.", plan=plan)


@template(plan=LONGEST_PLAN, when=SAMPLE_WHEN, place=SAMPLE_PLACE, supports="Childcare: arranged.")
def reminder(plan: str, when: str, place: str, supports: str) -> str:
    return _(
        "%(plan)s reminder: parent advisory group %(when)s at %(place)s. %(supports)s Reply 2 if you cannot come.",
        plan=plan,
        when=when,
        place=place,
        supports=supports,
    )


@template(plan=LONGEST_PLAN, old=SAMPLE_WHEN, new=SAMPLE_WHEN)
def rescheduled(plan: str, old: str, new: str) -> str:
    return _(
        "%(plan)s: The meeting on %(old)s has moved to %(new)s. Reply 2 if you can no longer come.",
        plan=plan,
        old=old,
        new=new,
    )


@template(plan=LONGEST_PLAN, when=SAMPLE_WHEN)
def cancelled(plan: str, when: str) -> str:
    return _(
        "%(plan)s: The meeting on %(when)s is cancelled. We are sorry. We will text you the new date.",
        plan=plan,
        when=when,
    )
