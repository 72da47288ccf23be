"""What the people coming to a meeting asked for, added up for the coordinator:
childcare (with the ages of the children), interpreters per spoken language, rides.

Each need of each person has a status: ``requested`` (asked for, not arranged yet) or
``arranged``, read from the support requests the coordinator arranges (engage.supports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from engage.extensions import db
from engage.members.vocab import AGE_GROUPS, INTERPRETER_LANGUAGES
from engage.models import MeetingReply, Member, ReplyStatus

REQUESTED = "requested"
ARRANGED = "arranged"

STATUS_LABELS = {
    REQUESTED: _l("Requested, not arranged yet"),
    ARRANGED: _l("Arranged"),
}

# When a person did not say which language they speak, their reading language is a
# good first guess. Written Chinese does not say which spoken Chinese: ask.
INTERPRETER_BY_LOCALE = {"es": "spanish", "zh_Hant": "chinese_ask"}
ASK_LABELS = {
    "chinese_ask": _l("Cantonese or Mandarin (ask)"),
    "unknown": _l("Language not known (ask)"),
}
NO_AGE = "unknown"
NO_AGE_LABEL = _l("Ages not given")

StatusOf = Callable[[MeetingReply, str], str]


def _requested(reply: MeetingReply, need: str) -> str:
    return REQUESTED


def _from_supports(meeting_ids) -> StatusOf:
    """What the coordinator arranged (engage.supports), for these meetings."""
    from engage.supports.services import status_lookup  # noqa: PLC0415

    return status_lookup(meeting_ids)


def interpreter_language(member: Member) -> str:
    """The spoken language an interpreter is needed for (a key of
    INTERPRETER_LANGUAGES), or a key of ASK_LABELS when it must be asked."""
    chosen = (member.needs or {}).get("interpreter_language")
    if chosen in INTERPRETER_LANGUAGES:
        return chosen
    return INTERPRETER_BY_LOCALE.get(member.locale, "unknown")


def interpreter_label(key: str) -> str:
    label = INTERPRETER_LANGUAGES.get(key) or ASK_LABELS.get(key) or ASK_LABELS["unknown"]
    return str(label)


@dataclass
class Line:
    """One row of the tally: how many asked, how many of those are arranged."""

    key: str
    label: str
    requested: int = 0
    arranged: int = 0

    @property
    def still_needed(self) -> int:
        return self.requested - self.arranged


@dataclass
class PersonNeed:
    """One need of one person coming, with what it is about and whether it is arranged."""

    reply: MeetingReply
    need: str  # "childcare", "interpreter", "transport"
    detail: str  # the children's ages, or the spoken language
    status: str

    @property
    def arranged(self) -> bool:
        return self.status == ARRANGED


@dataclass
class Tally:
    childcare: Line
    children: list[Line] = field(default_factory=list)  # families by their children's age groups
    interpreters: list[Line] = field(default_factory=list)
    rides: Line | None = None
    people: list[PersonNeed] = field(default_factory=list)

    @property
    def not_arranged(self) -> list[PersonNeed]:
        return [p for p in self.people if not p.arranged]

    @property
    def requested(self) -> int:
        return len(self.people)

    @property
    def empty(self) -> bool:
        return not self.people


def needs_tally(replies: Iterable[MeetingReply], status_of: StatusOf | None = None) -> Tally:
    """Add up the needs of the people who have a place (status "yes"). ``replies`` have
    their member loaded; one query reads what is arranged."""
    replies = list(replies)
    status_of = status_of or _from_supports({r.meeting_id for r in replies})
    childcare = Line("childcare", str(_l("Childcare")))
    ages: dict[str, Line] = {key: Line(key, str(label)) for key, label in AGE_GROUPS.items()}
    ages[NO_AGE] = Line(NO_AGE, str(NO_AGE_LABEL))
    languages: dict[str, Line] = {}
    rides = Line("transport", str(_l("Ride")))
    people: list[PersonNeed] = []

    for reply in replies:
        if reply.status != ReplyStatus.YES:
            continue
        member = reply.member
        for need in reply.needs or []:
            status = status_of(reply, need)
            done = status == ARRANGED
            if need == "childcare":
                groups = [g for g in member.child_age_groups or [] if g in AGE_GROUPS] or [NO_AGE]
                childcare.requested += 1
                childcare.arranged += done
                for g in groups:
                    ages[g].requested += 1
                    ages[g].arranged += done
                detail = ", ".join(ages[g].label for g in groups)
            elif need == "interpreter":
                key = interpreter_language(member)
                line = languages.setdefault(key, Line(key, interpreter_label(key)))
                line.requested += 1
                line.arranged += done
                detail = line.label
            elif need == "transport":
                rides.requested += 1
                rides.arranged += done
                detail = ""
            else:
                continue
            people.append(PersonNeed(reply, need, detail, status))

    return Tally(
        childcare=childcare,
        children=[line for line in ages.values() if line.requested],
        interpreters=sorted(languages.values(), key=lambda line: (-line.requested, line.label)),
        rides=rides,
        people=people,
    )


def unarranged_counts(meeting_ids: list[int], status_of: StatusOf | None = None) -> dict[int, int]:
    """Per meeting, how many needs of people coming are not arranged yet: one query."""
    if not meeting_ids:
        return {}
    status_of = status_of or _from_supports(meeting_ids)
    rows = db.session.scalars(
        sa.select(MeetingReply).where(MeetingReply.meeting_id.in_(meeting_ids), MeetingReply.status == ReplyStatus.YES)
    )
    out: dict[int, int] = {}
    for reply in rows:
        missing = sum(1 for need in reply.needs or [] if status_of(reply, need) != ARRANGED)
        if missing:
            out[reply.meeting_id] = out.get(reply.meeting_id, 0) + missing
    return out
