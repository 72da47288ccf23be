"""The inbox: texts from parents that wait for a coordinator, and each conversation.

A coordinator sees conversations whose member belongs to one of their plans; an
admin sees every conversation, including those with numbers that never signed up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from engage.auth.services import audit
from engage.coordinator import bp
from engage.coordinator.forms import ConfirmForm, InboxFilterForm, ReplyForm
from engage.extensions import db
from engage.i18n import fmt_datetime, locales
from engage.models import (
    AuditEvent,
    Committee,
    CommitteeMembership,
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Conversation,
    InboundMessage,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RosterStatus,
    SmsStatus,
    utcnow,
)
from engage.security import allow, visible_plan_ids
from engage.sms import consent, outbox, texts
from engage.sms.inbound import plan_name
from engage.sms.segments import count_segments

PER_PAGE = 50
# The audit action that records a resend; a text is resent once at most (see message_resend).
RESENT = "sms.resent"
# How many messages of a conversation the thread shows (the most recent ones).
HISTORY = 200

STATUS_LABELS = {
    OutboxStatus.QUEUED: _l("Queued"),
    OutboxStatus.SENDING: _l("Sending"),
    OutboxStatus.UNKNOWN: _l("Unknown"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.DELIVERED: _l("Delivered"),
    OutboxStatus.UNDELIVERED: _l("Not delivered"),
    OutboxStatus.FAILED: _l("Failed"),
    OutboxStatus.SKIPPED: _l("Skipped"),
    OutboxStatus.DROPPED: _l("Dropped"),
}
STATUS_HINTS = {
    OutboxStatus.QUEUED: _l("Waiting to be sent. During quiet hours, texts wait until the morning."),
    OutboxStatus.SENDING: _l("Being handed to the phone company now."),
    OutboxStatus.UNKNOWN: _l(
        "Sending was interrupted. It may or may not have gone out, so engage does not send it again by itself."
    ),
    OutboxStatus.SENT: _l("The phone company accepted it."),
    OutboxStatus.DELIVERED: _l("It reached the phone."),
    OutboxStatus.UNDELIVERED: _l("The phone company could not deliver it."),
    OutboxStatus.FAILED: _l("It could not be sent."),
    OutboxStatus.SKIPPED: _l("Not sent: the person stopped texts or never confirmed."),
    OutboxStatus.DROPPED: _l("Not sent: it would have arrived too late after quiet hours."),
}
# Statuses that come with an explanation worth showing next to the message.
PROBLEM_STATUSES = {
    OutboxStatus.UNKNOWN,
    OutboxStatus.UNDELIVERED,
    OutboxStatus.FAILED,
    OutboxStatus.SKIPPED,
    OutboxStatus.DROPPED,
}
KIND_LABELS = {
    OutboxKind.REPLY: _l("Automatic reply"),
    OutboxKind.CONSENT: _l("Sign-up or stop confirmation"),
    OutboxKind.DIRECT: _l("Coordinator's message"),
    OutboxKind.NOTICE: _l("Notice"),
    OutboxKind.REMINDER: _l("Reminder"),
    OutboxKind.BULK: _l("Message to many people"),
}
CONSENT_LABELS = {
    ConsentAction.OPT_IN: _l("Agreed to texts"),
    ConsentAction.OPT_OUT: _l("Stopped texts"),
}
CHANNEL_LABELS = {
    ConsentChannel.WEB: _l("Web form"),
    ConsentChannel.SMS: _l("Text message"),
    ConsentChannel.CBO: _l("With a community organisation"),
    ConsentChannel.STAFF: _l("By staff"),
    ConsentChannel.CARRIER: _l("Reported by the phone company"),
}
SMS_STATUS_LABELS = {
    SmsStatus.PENDING: _l("Has not confirmed yet"),
    SmsStatus.ACTIVE: _l("Gets texts"),
    SmsStatus.STOPPED: _l("Stopped texts"),
}


def _scoped(query: sa.Select) -> sa.Select:
    """Keep to conversations the signed-in person may see (joins ``Member``)."""
    allowed = visible_plan_ids()
    if allowed is None:
        return query.outerjoin(Member, Member.id == Conversation.member_id)
    return query.join(Member, Member.id == Conversation.member_id).where(Member.plan_id.in_(allowed))


def scoped_conversations() -> sa.Select:
    """Conversations the signed-in person may see, with their member loaded."""
    return _scoped(sa.select(Conversation)).options(contains_eager(Conversation.member))


def unanswered_count() -> int:
    query = _scoped(sa.select(sa.func.count(Conversation.id)).select_from(Conversation))
    return db.session.scalar(query.where(Conversation.needs_reply)) or 0  # ix_conversations_unanswered


def visible_committees() -> list[Committee]:
    allowed = visible_plan_ids()
    query = sa.select(Committee).options(joinedload(Committee.plan)).order_by(Committee.plan_id, Committee.id)
    if allowed is not None:
        query = query.where(Committee.plan_id.in_(allowed))
    return list(db.session.scalars(query))


def several_plans(committees: list[Committee]) -> bool:
    allowed = visible_plan_ids()
    if allowed is not None:
        return len(allowed) > 1
    return len({c.plan_id for c in committees}) > 1


# The inbox ----------------------------------------------------------------------------


@bp.get("/inbox")
@allow("coordinator", "admin")
def inbox():
    committees = visible_committees()
    form = InboxFilterForm(formdata=request.args)
    form.set_choices(locales(), committees, several_plans(committees))
    query = scoped_conversations()
    filtered = False
    if form.validate():
        if form.language.data:
            query = query.where(Member.locale == form.language.data)
            filtered = True
        if form.committee.data:
            roster = sa.select(CommitteeMembership.member_id).where(
                CommitteeMembership.committee_id == form.committee.data,
                CommitteeMembership.status != RosterStatus.LEFT,
            )
            query = query.where(Conversation.member_id.in_(roster))
            filtered = True
    query = query.order_by(
        Conversation.needs_reply.desc(),
        sa.nulls_last(Conversation.last_inbound_at.desc()),
        Conversation.id.desc(),
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    ids = [c.id for c in page.items]
    snippets: dict[int, str] = {}
    if ids:
        latest = (
            sa.select(sa.func.max(InboundMessage.id))
            .where(InboundMessage.conversation_id.in_(ids))
            .group_by(InboundMessage.conversation_id)
        )
        snippets = dict(
            db.session.execute(
                sa.select(InboundMessage.conversation_id, InboundMessage.body).where(InboundMessage.id.in_(latest))
            ).all()
        )
    args = {k: v for k, v in (("language", form.language.data), ("committee", form.committee.data)) if v}
    return render_template(
        "coordinator/inbox.html",
        form=form,
        page=page,
        snippets=snippets,
        filtered=filtered,
        args=args,
        unanswered=unanswered_count(),
    )


# One conversation -----------------------------------------------------------------------


@dataclass
class ThreadItem:
    inbound: bool
    at: datetime
    message: InboundMessage | OutboxMessage


def _conversation_or_404(conversation_id: int) -> Conversation:
    conv = db.session.get(
        Conversation, conversation_id, options=[joinedload(Conversation.member).joinedload(Member.plan)]
    )
    if conv is None:
        abort(404)
    allowed = visible_plan_ids()
    if allowed is not None and (conv.member is None or conv.member.plan_id not in allowed):
        abort(404)
    return conv


def refusal(conv: Conversation) -> str | None:
    """Why nothing may be texted to this conversation now, or None."""
    member = conv.member
    if member is None:
        return _("This number has not signed up, so engage cannot text it.")
    if consent.is_opted_out(conv.phone) or member.sms_status == SmsStatus.STOPPED:
        return _("This person has stopped texts. Nothing can be sent until they text START.")
    if member.sms_status != SmsStatus.ACTIVE:
        return _("This person has not confirmed that they want texts, so nothing can be sent yet.")
    return None


def _signed(conv: Conversation, text: str) -> str:
    member = conv.member
    with force_locale(member.locale):
        return texts.signed(plan=plan_name(member), message=text)


def _preview(conv: Conversation, text: str) -> dict | None:
    if conv.member is None or not text:
        return None
    signed = _signed(conv, text)
    segments = count_segments(signed)
    return {
        "text": signed,
        "locale": conv.member.locale,
        "segments": segments,
        "cost": outbox.cost_estimate(segments.count),
    }


def _render_thread(conv: Conversation, form: ReplyForm, preview: dict | None = None):
    inbound = db.session.scalars(
        sa.select(InboundMessage)
        .where(InboundMessage.conversation_id == conv.id)
        .order_by(InboundMessage.id.desc())
        .limit(HISTORY)
    ).all()
    outbound = db.session.scalars(
        sa.select(OutboxMessage)
        .options(selectinload(OutboxMessage.created_by))
        .where(sa.or_(OutboxMessage.conversation_id == conv.id, OutboxMessage.phone == conv.phone))
        .order_by(OutboxMessage.id.desc())
        .limit(HISTORY)
    ).all()
    resent = resends([m.id for m in outbound if m.status == OutboxStatus.UNKNOWN])
    items = [ThreadItem(True, m.received_at, m) for m in inbound]
    items += [ThreadItem(False, m.created_at, m) for m in outbound]
    items.sort(key=lambda item: (item.at, not item.inbound))
    history = db.session.scalars(
        sa.select(ConsentEvent)
        .options(selectinload(ConsentEvent.assisted_by))
        .where(ConsentEvent.phone == conv.phone)
        .order_by(ConsentEvent.created_at, ConsentEvent.id)
    ).all()
    return render_template(
        "coordinator/conversation.html",
        conv=conv,
        member=conv.member,
        items=items[-HISTORY:],
        older=len(items) > HISTORY,
        history=history,
        form=form,
        confirm=ConfirmForm(),
        preview=preview,
        refusal=refusal(conv),
        status_labels=STATUS_LABELS,
        status_hints=STATUS_HINTS,
        problem_statuses=PROBLEM_STATUSES,
        kind_labels=KIND_LABELS,
        consent_labels=CONSENT_LABELS,
        channel_labels=CHANNEL_LABELS,
        sms_status_labels=SMS_STATUS_LABELS,
        resent=resent,
    )


@bp.get("/inbox/<int:conversation_id>")
@allow("coordinator", "admin")
def conversation(conversation_id: int):
    conv = _conversation_or_404(conversation_id)
    return _render_thread(conv, ReplyForm())


@bp.post("/inbox/<int:conversation_id>/reply")
@allow("coordinator", "admin")
def conversation_reply(conversation_id: int):
    conv = _conversation_or_404(conversation_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_thread(conv, form)
    preview = _preview(conv, form.body.data)
    if request.form.get("action") != "send":
        return _render_thread(conv, form, preview)
    refused = refusal(conv)
    if refused:
        # Nothing is lost: the page comes back with what was typed.
        form.body.errors.append(refused)
        return _render_thread(conv, form, preview)

    member = conv.member
    row = outbox.enqueue(
        conv.phone,
        _signed(conv, form.body.data),
        kind=OutboxKind.DIRECT,
        locale=member.locale,
        member=member,
        conversation=conv,
        created_by=current_user,
    )
    now = utcnow()
    conv.needs_reply = False
    conv.handled_at = now
    conv.handled_by_id = current_user.id
    db.session.flush()
    audit(current_user, "sms.reply_queued", conv, outbox_id=row.id, segments=row.segments)
    db.session.commit()
    if row.due_at > now + timedelta(minutes=1):
        flash(
            _(
                "Your reply is saved. It will be sent %(when)s, after quiet hours.",
                when=fmt_datetime(row.due_at, "day_time"),
            ),
            "success",
        )
    else:
        flash(_("Your reply is on its way."), "success")
    return redirect(url_for("coordinator.conversation", conversation_id=conv.id))


@bp.post("/inbox/<int:conversation_id>/handled")
@allow("coordinator", "admin")
def conversation_handled(conversation_id: int):
    conv = _conversation_or_404(conversation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    conv.needs_reply = False
    conv.handled_at = utcnow()
    conv.handled_by_id = current_user.id
    audit(current_user, "conversation.handled", conv)
    db.session.commit()
    flash(_("The conversation is marked as handled."), "success")
    return redirect(url_for("coordinator.inbox"))


@bp.post("/inbox/<int:conversation_id>/unanswered")
@allow("coordinator", "admin")
def conversation_unanswered(conversation_id: int):
    conv = _conversation_or_404(conversation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    conv.needs_reply = True
    conv.handled_at = None
    conv.handled_by_id = None
    audit(current_user, "conversation.unanswered", conv)
    db.session.commit()
    flash(_("The conversation is marked as waiting for a reply."), "success")
    return redirect(url_for("coordinator.conversation", conversation_id=conv.id))


# Sending again a text whose sending was interrupted -------------------------------------


def resends(row_ids: list[int]) -> dict[int, AuditEvent]:
    """Which of these outbox rows a coordinator has sent again: row id -> the audit line."""
    if not row_ids:
        return {}
    events = db.session.scalars(
        sa.select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(
            AuditEvent.action == RESENT,
            AuditEvent.target_type == "outboxmessage",
            AuditEvent.target_id.in_(row_ids),
        )
    )
    return {e.target_id: e for e in events}


def _row_conversation(row: OutboxMessage) -> Conversation:
    """The conversation whose thread shows this row, if the signed-in person may see it."""
    conversation_id = row.conversation_id or db.session.scalar(
        sa.select(Conversation.id).where(Conversation.phone == row.phone)
    )
    if conversation_id is None:
        abort(404)
    return _conversation_or_404(conversation_id)


@bp.post("/outbox/<int:row_id>/resend")
@allow("coordinator", "admin")
def message_resend(row_id: int):
    """Send again, as a new text, one whose sending was interrupted (``unknown``): engage
    never does that on its own, since it may have gone out. Each such text can be sent
    again once; the audit log records it (action ``sms.resent``, the old row as target,
    the new row's id in the detail) and is what refuses a second time. The old row keeps
    its status, so a late delivery report for it still shows."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    # Locked until the commit (PostgreSQL), so two coordinators clicking at once resend it once.
    row = db.session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None:
        abort(404)
    conv = _row_conversation(row)
    back = redirect(url_for("coordinator.conversation", conversation_id=conv.id) + f"#outbox-{row.id}")
    now = utcnow()
    if row.status != OutboxStatus.UNKNOWN:
        refused = _("Only a text whose sending was interrupted can be sent again.")
    elif resends([row.id]):
        refused = _("This text has been sent again already.")
    elif row.expires_at is not None and row.expires_at < now:
        refused = _("It is too late to send this text again.")
    elif consent.is_opted_out(row.phone):
        refused = _("This person has stopped texts. Nothing can be sent until they text START.")
    else:
        refused = refusal(conv)
    if refused:
        flash(refused, "warning")
        return back

    new = outbox.enqueue(
        row.phone,
        row.body,
        kind=OutboxKind.DIRECT,
        locale=row.locale,
        member=row.member or conv.member,
        conversation=conv,
        expires_at=row.expires_at,
        created_by=current_user,
    )
    if new.status == OutboxStatus.DROPPED:
        # Quiet hours would hold it past the time it is useful: keep nothing.
        db.session.rollback()
        flash(_("It is too late to send this text again."), "warning")
        return back
    db.session.flush()
    audit(current_user, RESENT, row, outbox_id=new.id, segments=new.segments)
    db.session.commit()
    if new.due_at > now + timedelta(minutes=1):
        flash(
            _("The text will be sent again %(when)s, after quiet hours.", when=fmt_datetime(new.due_at, "day_time")),
            "success",
        )
    else:
        flash(_("The text is being sent again."), "success")
    return back
