"""Closing the loop: everyone who gave non-anonymous input to a theme, and has not
stopped texts, is told by text — in their language, with a link to the public page —
when it is taken to decision-makers and when it is decided (a "no" too, with the reason).

The loop counts as closed for a person only when the decided-stage text is *delivered*
(Twilio's status callback; the console backend, which has no receipts, counts a sent text
as delivered). A theme moves to ``closed`` when every person's decided-stage text has
been delivered or could not be sent at all (stopped, no phone); people who stopped texts
are never texted and are recorded as skipped."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale

from engage.extensions import db
from engage.logs import log
from engage.models import (
    Committee,
    Input,
    LoopMessage,
    LoopStage,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    SmsStatus,
    Theme,
    ThemeEvent,
    ThemeStatus,
    input_people,
    utcnow,
)
from engage.sms import consent
from engage.sms.segments import count_segments

MAX_SEGMENTS = 2
# A loop message's ``skipped`` when the person's input left the theme before the text went.
MOVED_OUT = "moved_out"


def link(theme: Theme) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/o/{theme.id}"


def people_of(theme: Theme) -> list[Member]:
    """Everyone credited with non-anonymous input in the theme (once each)."""
    credited = (
        sa.select(input_people.c.member_id)
        .join(Input, Input.id == input_people.c.input_id)
        .where(Input.theme_id == theme.id, Input.anonymous.is_(False))
    )
    return list(
        db.session.scalars(
            sa.select(Member).where(Member.id.in_(credited), Member.deleted_at.is_(None)).order_by(Member.id)
        )
    )


def render(theme: Theme, stage: LoopStage, locale: str) -> str:
    from engage.feedback import texts, vocab  # noqa: PLC0415
    from engage.i18n import fmt_date  # noqa: PLC0415

    plan = _plan_name(theme)
    with force_locale(locale):
        if stage == LoopStage.TAKEN:
            return texts.loop_taken(
                plan=plan,
                body=str(vocab.BODIES_SHORT[theme.taken_to]),
                date=fmt_date(theme.taken_on, "medium") if theme.taken_on else "",
                link=link(theme),
            )
        outcome = str(vocab.OUTCOMES_SHORT[theme.outcome])
        reason = (theme.reason or {}).get(locale)
        if reason:
            body = texts.loop_decided(plan=plan, outcome=outcome, reason=reason, link=link(theme))
            if count_segments(body).count <= MAX_SEGMENTS:
                return body
        return texts.loop_decided_see_why(plan=plan, outcome=outcome, link=link(theme))


def _plan_name(theme: Theme) -> str:
    from engage.models import Plan  # noqa: PLC0415

    plan = db.session.get(Plan, theme.plan_id)
    return plan.short_name if plan else "engage"


def notify(theme: Theme, stage: LoopStage) -> int:
    """Queue the texts for this stage (once per person and stage). Returns how many."""
    from engage.sms.outbox import enqueue  # noqa: PLC0415

    people = people_of(theme)
    earlier = {
        m.member_id: m
        for m in db.session.scalars(
            sa.select(LoopMessage).where(LoopMessage.theme_id == theme.id, LoopMessage.stage == stage)
        )
    }
    stopped = consent.opted_out_among({p.phone for p in people if p.phone})
    queued = 0
    for person in people:
        message = earlier.get(person.id)
        if message is not None and message.skipped != MOVED_OUT:
            continue
        if message is None:
            message = LoopMessage(theme_id=theme.id, member_id=person.id, stage=stage)
        else:
            # Their input left the theme before this text went, and is back: tell them now.
            message.skipped = None
            message.outbox_id = None
        if not person.phone:
            message.skipped = "no_phone"
        elif person.phone in stopped:
            message.skipped = "stopped"
        elif person.sms_status != SmsStatus.ACTIVE:
            message.skipped = "not_confirmed"
        else:
            row = enqueue(
                person.phone,
                render(theme, stage, person.locale),
                kind=OutboxKind.NOTICE,
                locale=person.locale,
                member=person,
            )
            db.session.flush()
            message.outbox_id = row.id
            queued += 1
        db.session.add(message)
    db.session.flush()
    if stage == LoopStage.DECIDED:
        maybe_close(theme)
    return queued


def cancel_pending(theme: Theme, members: list[Member]) -> int:
    """Texts about this theme still queued (not yet sent) for these people, when they
    no longer have input in it, will not go: the outbox rows are skipped, as the outbox
    does for someone who stopped texts, and the loop message says why. Returns how many."""
    if not members:
        return 0
    still = {m.id for m in people_of(theme)}
    gone = [m.id for m in members if m.id not in still]
    if not gone:
        return 0
    waiting = {
        m.outbox_id: m
        for m in db.session.scalars(
            sa.select(LoopMessage).where(
                LoopMessage.theme_id == theme.id,
                LoopMessage.member_id.in_(gone),
                LoopMessage.outbox_id.is_not(None),
                LoopMessage.skipped.is_(None),
                LoopMessage.delivered_at.is_(None),
            )
        )
    }
    if not waiting:
        return 0
    # Only rows no worker has claimed yet: one being sent now cannot be called back.
    cancelled = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(waiting)), OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.SKIPPED, error_message="input moved out of the theme")
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    for row_id in cancelled:
        waiting[row_id].skipped = MOVED_OUT
    db.session.flush()
    return len(cancelled)


def maybe_close(theme: Theme) -> bool:
    """Close the loop on a decided theme once every decided-stage text was delivered or
    could not be sent."""
    if theme.status != ThemeStatus.DECIDED:
        return False
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoopMessage)
        .where(
            LoopMessage.theme_id == theme.id,
            LoopMessage.stage == LoopStage.DECIDED,
            LoopMessage.skipped.is_(None),
            LoopMessage.delivered_at.is_(None),
        )
    )
    if waiting:
        return False
    theme.status = ThemeStatus.CLOSED
    theme.closed_at = utcnow()
    db.session.add(
        ThemeEvent(theme=theme, status=ThemeStatus.CLOSED, detail={"note": "everyone told"}, at=theme.closed_at)
    )
    return True


def on_status(row_id: int, status: str, via: str | None) -> bool:
    """A delivery result for an outbox row: if it carried a loop message, record it."""
    delivered = status == OutboxStatus.DELIVERED or (status == OutboxStatus.SENT and via == "console")
    if not delivered:
        return False
    message = db.session.scalar(sa.select(LoopMessage).where(LoopMessage.outbox_id == row_id))
    if message is None or message.delivered_at is not None:
        return False
    message.delivered_at = utcnow()
    db.session.flush()
    if message.stage == LoopStage.DECIDED:
        maybe_close(db.session.get(Theme, message.theme_id))
    return True


def connect(app: Flask) -> None:
    """Listen to the outbox's delivery results (sent after they are committed)."""
    from engage.sms.outbox import status_changed  # noqa: PLC0415

    def handler(sender, row_id: int, status, **extra):
        if status not in (OutboxStatus.DELIVERED, OutboxStatus.SENT):
            return
        try:
            via = db.session.scalar(sa.select(OutboxMessage.via).where(OutboxMessage.id == row_id))
            if on_status(row_id, status, via):
                db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("loop status update failed", extra={"outbox_id": row_id})

    status_changed.connect(handler, sender=app, weak=False)


def closed_for(member: Member) -> list[LoopMessage]:
    return list(
        db.session.scalars(
            sa.select(LoopMessage)
            .where(LoopMessage.member_id == member.id, LoopMessage.delivered_at.is_not(None))
            .order_by(LoopMessage.delivered_at)
        )
    )


def committee_of(theme: Theme) -> Committee | None:
    return db.session.get(Committee, theme.committee_id) if theme.committee_id else None
