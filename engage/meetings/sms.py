"""YES / NO by text answer the latest meeting invitation; after a yes, one question
about needs. Registered with engage.sms.inbound, which calls these after STOP, START
and HELP have had their turn."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from engage.meetings import replies, texts
from engage.models import ReplyChannel, utcnow
from engage.sms import inbound, keywords

AWAITING_NEEDS = "needs:"


def _answer(yes: bool):
    def handler(*, member, conversation, match, body, reply, result) -> bool:
        if member is None:
            return False
        now = utcnow()
        row = replies.latest_open_reply(member, now)
        if row is None:
            return False  # nothing to answer: kept for a coordinator as free text
        outcome = replies.answer(
            row, yes, channel=ReplyChannel.SMS, now=now, notify_member=False, conversation=conversation
        )
        meeting = row.meeting
        plan = replies.plan_short_name(meeting)
        when = texts.sms_when
        if outcome == replies.Outcome.YES or (outcome == replies.Outcome.UNCHANGED and row.status.value == "yes"):
            reply(lambda: texts.reply_yes(plan=plan, when=when(meeting.starts_at), place=replies.place_text(meeting)))
            if row.needs_answered_at is None:
                reply(texts.needs_question)
                conversation.awaiting = f"{AWAITING_NEEDS}{row.id}"
                conversation.awaiting_until = now + timedelta(hours=current_app.config["NEEDS_ANSWER_HOURS"])
        elif outcome == replies.Outcome.WAITLISTED or row.status.value in ("waitlisted", "offered"):
            if outcome == replies.Outcome.WAITLISTED and row.offered_at is not None:
                reply(texts.place_gone, plan=plan)
            else:
                reply(lambda: texts.waitlisted(plan=plan, when=when(meeting.starts_at)))
        elif outcome in (replies.Outcome.NO, replies.Outcome.UNCHANGED):
            reply(texts.reply_no, plan=plan)
            if conversation.awaiting and conversation.awaiting.startswith(AWAITING_NEEDS):
                conversation.awaiting = None
        else:
            return False
        return True

    return handler


def needs_hook(*, member, conversation, match, body, reply, result) -> bool:
    """The answer to "Do you need help to come?" — digits, read only while we wait for it."""
    awaiting = conversation.awaiting or ""
    if member is None or not awaiting.startswith(AWAITING_NEEDS):
        return False
    now = utcnow()
    if conversation.awaiting_until is None or conversation.awaiting_until < now:
        conversation.awaiting = None
        return False
    if match.intent == keywords.NO:
        # "2" is an interpreter here, but "no" / "n" means nothing is needed.
        if keywords.fold(body) in ("no", "n", "不", "否"):
            needs: list[str] | None = []
        else:
            needs = replies.parse_needs(body)
    else:
        needs = replies.parse_needs(body)
    if needs is None:
        if match.intent is None and len(body) > 12:
            # Words rather than digits: keep them for the coordinator and stop asking.
            conversation.awaiting = None
            return False
        reply(texts.needs_again)
        return True
    row_id = int(awaiting[len(AWAITING_NEEDS) :])
    from engage.extensions import db  # noqa: PLC0415
    from engage.models import MeetingReply  # noqa: PLC0415

    row = db.session.get(MeetingReply, row_id)
    conversation.awaiting = None
    if row is None or row.member_id != member.id:
        return False
    replies.record_needs(row, needs, text=body, now=now)
    if needs:
        reply(lambda: texts.needs_noted(needs=replies.needs_label(needs)))
    else:
        reply(texts.needs_none)
    return True


def register() -> None:
    inbound.INTENT_HANDLERS[keywords.YES] = _answer(True)
    inbound.INTENT_HANDLERS[keywords.NO] = _answer(False)
    if needs_hook not in inbound.CONVERSATION_HOOKS:
        inbound.CONVERSATION_HOOKS.insert(0, needs_hook)
