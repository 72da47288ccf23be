"""Themes: input grouped by what it is about, with an owner, moving through
received → under review → taken to decision-makers → decided → loop closed. Every change
is a dated entry on the theme's timeline, and people who gave the input hear about the
two steps that matter to them (taken, decided) by text — see ``loop``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    DecisionBody,
    Input,
    LoopMessage,
    Outcome,
    Theme,
    ThemeEvent,
    ThemeStatus,
    Topic,
    utcnow,
)

ORDER = [ThemeStatus.RECEIVED, ThemeStatus.UNDER_REVIEW, ThemeStatus.TAKEN, ThemeStatus.DECIDED, ThemeStatus.CLOSED]


class TriageError(ValueError):
    """The change is not allowed (the message names what is missing or wrong)."""


def _event(theme: Theme, status: ThemeStatus, by, now: datetime | None = None, **detail) -> ThemeEvent:
    event = ThemeEvent(theme=theme, status=status, detail=detail, by_id=getattr(by, "id", None), at=now or utcnow())
    db.session.add(event)
    return event


def create(plan_id: int, title: dict, *, topic: Topic, committee_id=None, owner=None, by=None, summary=None) -> Theme:
    title = {k: v.strip() for k, v in (title or {}).items() if v and v.strip()}
    if not title:
        raise TriageError("title")
    theme = Theme(
        plan_id=plan_id,
        committee_id=committee_id,
        topic=Topic(topic),
        title=title,
        summary={k: v for k, v in (summary or {}).items() if v},
        owner_id=getattr(owner, "id", None),
        status=ThemeStatus.RECEIVED,
    )
    db.session.add(theme)
    _event(theme, ThemeStatus.RECEIVED, by, note="created")
    return theme


# Input can leave a theme (and be moved from one theme to another) only before the
# theme is decided: once decided, the people who gave the input were told what became
# of it, and that stays true.
CHANGEABLE = (ThemeStatus.RECEIVED, ThemeStatus.UNDER_REVIEW, ThemeStatus.TAKEN)


def can_change_input(theme: Theme) -> bool:
    return theme.status in CHANGEABLE


def assign(theme: Theme, inputs: Iterable[Input], *, by=None) -> int:
    """Put input in this theme (same plan only). Input that was in another theme leaves
    it as ``take_out`` says, and input in a decided theme stays there. Returns how many
    moved."""
    moved = 0
    for row in inputs:
        if row.plan_id != theme.plan_id or row.theme_id == theme.id:
            continue
        if row.theme is not None:
            if not can_change_input(row.theme):
                continue
            _leave(row.theme, row, by, moved_to=theme)
        row.theme = theme
        moved += 1
    if moved:
        _event(theme, theme.status, by, added=moved)
    return moved


def take_out(theme: Theme, row: Input, *, by=None, move_to: Theme | None = None) -> int:
    """Take input that was put in the wrong theme back out, and maybe into another theme
    of the same plan. Refused once either theme is decided (or closed). The input is then
    as if never grouped (``move_to`` empty) or in ``move_to``; the theme's timeline says
    that input was moved out, without names; texts about this theme still queued for
    people who now have no input in it are cancelled. Returns how many texts were
    cancelled. A theme left without input stays."""
    if row.theme_id != theme.id:
        raise TriageError("not in theme")
    if not can_change_input(theme):
        raise TriageError("decided")
    if move_to is not None:
        if move_to.plan_id != theme.plan_id or move_to.id == theme.id:
            raise TriageError("move to")
        if not can_change_input(move_to):
            raise TriageError("move to decided")
    cancelled = _leave(theme, row, by, moved_to=move_to)
    if move_to is not None:
        assign(move_to, [row], by=by)
    db.session.flush()
    return cancelled


DELETABLE = (ThemeStatus.RECEIVED, ThemeStatus.UNDER_REVIEW)


def can_delete(theme: Theme, inputs: int) -> bool:
    return theme.status in DELETABLE and inputs == 0


def delete_empty(theme: Theme) -> None:
    """A theme with no input that has not gone to decision-makers can go: one made by
    mistake, or emptied by taking its input out. Its timeline and its records of texts go
    with it (the audit log keeps that it existed). Refused once it was taken to
    decision-makers or decided, and while it holds input."""
    if theme.status not in DELETABLE:
        raise TriageError("taken")
    if db.session.scalar(sa.select(sa.func.count()).select_from(Input).where(Input.theme_id == theme.id)):
        raise TriageError("not empty")
    db.session.execute(sa.delete(LoopMessage).where(LoopMessage.theme_id == theme.id))
    db.session.delete(theme)
    db.session.flush()


def _leave(theme: Theme, row: Input, by, *, moved_to: Theme | None) -> int:
    from engage.feedback import loop  # noqa: PLC0415

    detail = {"removed": 1}
    if moved_to is not None:
        if moved_to.id is None:
            db.session.flush()
        detail["moved_to"] = moved_to.id
    _event(theme, theme.status, by, **detail)
    row.theme = None
    db.session.flush()
    return loop.cancel_pending(theme, [] if row.anonymous else list(row.people))


def set_owner(theme: Theme, owner, *, by=None) -> None:
    theme.owner_id = getattr(owner, "id", None)
    _event(theme, theme.status, by, owner=getattr(owner, "name", None))


def review(theme: Theme, *, by=None, note: str | None = None) -> None:
    if theme.status != ThemeStatus.RECEIVED:
        raise TriageError(theme.status)
    theme.status = ThemeStatus.UNDER_REVIEW
    _event(theme, theme.status, by, note=note or "")


def take(theme: Theme, body: DecisionBody, on: date, *, by=None, note: str | None = None, notify: bool = True) -> int:
    """Taken to decision-makers: which body, when. Tells the people who gave the input.
    Returns how many were texted."""
    from engage.feedback import loop  # noqa: PLC0415

    if theme.status not in (ThemeStatus.RECEIVED, ThemeStatus.UNDER_REVIEW, ThemeStatus.TAKEN):
        raise TriageError(theme.status)
    if not theme.inputs:
        raise TriageError("no input")
    theme.status = ThemeStatus.TAKEN
    theme.taken_to = DecisionBody(body)
    theme.taken_on = on
    _event(theme, theme.status, by, taken_to=theme.taken_to.value, taken_on=on.isoformat(), note=note or "")
    db.session.flush()
    return loop.notify(theme, loop.LoopStage.TAKEN) if notify else 0


def decide(theme: Theme, outcome: Outcome, reason: dict, on: date, *, by=None, notify: bool = True) -> int:
    """Decided: adopted, partly adopted, not adopted or deferred, with the reason in each
    language. A reason is required (a "no" most of all). Tells everyone; returns how many."""
    from engage.feedback import loop  # noqa: PLC0415

    reason = {k: v.strip() for k, v in (reason or {}).items() if v and v.strip()}
    if not reason:
        raise TriageError("reason")
    if theme.status not in (ThemeStatus.TAKEN, ThemeStatus.DECIDED, ThemeStatus.UNDER_REVIEW, ThemeStatus.RECEIVED):
        raise TriageError(theme.status)
    if not theme.inputs:
        raise TriageError("no input")
    theme.status = ThemeStatus.DECIDED
    theme.outcome = Outcome(outcome)
    theme.reason = reason
    theme.decided_on = on
    _event(theme, theme.status, by, outcome=theme.outcome.value, reason=reason, decided_on=on.isoformat())
    db.session.flush()
    return loop.notify(theme, loop.LoopStage.DECIDED) if notify else 0


def note(theme: Theme, text: str, *, by=None) -> None:
    if text.strip():
        _event(theme, theme.status, by, note=text.strip())


def is_open(theme: Theme) -> bool:
    return theme.status not in (ThemeStatus.DECIDED, ThemeStatus.CLOSED) or theme.outcome == Outcome.DEFERRED
