"""The rules behind a parent's own page: signing in by a texted code, changing
number, what engage holds about a parent (export) and what deleting removes.

``export_member`` is the one list of everything engage holds about a parent:
a feature that stores something new about parents adds it there."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale, gettext
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.logs import log
from engage.members import codes
from engage.members.services import find_member
from engage.models import (
    Attendance,
    AuditEvent,
    CodePurpose,
    Committee,
    CommitteeMembership,
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Conversation,
    InboundMessage,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ReminderSent,
    ReplyChannel,
    ReplyStatus,
    RosterStatus,
    SignupConversation,
    SmsStatus,
    VerificationCode,
    utcnow,
)
from engage.sms import consent, texts
from engage.sms.inbound import plan_name
from engage.sms.outbox import enqueue

RECENT_TEXTS = 20


# Signing in ------------------------------------------------------------------------


def _text_code(member: Member, phone: str, purpose: CodePurpose, payload: dict | None = None) -> bool:
    code = codes.issue(phone, purpose, member_id=member.id, payload=payload)
    if code is None:
        return False
    with force_locale(member.locale):
        body = texts.login_code(plan=plan_name(member), code=code)
    enqueue(phone, body, kind=OutboxKind.CONSENT, locale=member.locale, member=member)
    return True


def send_login_code(phone: str) -> bool:
    """Text a sign-in code when ``phone`` belongs to a member we may text. The caller
    answers the same way whatever this returns."""
    member = find_member(phone)
    if member is None or member.sms_status == SmsStatus.STOPPED or consent.is_opted_out(phone):
        return False
    sent = _text_code(member, phone, CodePurpose.LOGIN)
    log.info("member login code", extra={"member_id": member.id, "sent": sent})
    return sent


def check_login_code(phone: str, code: str) -> Member | None:
    """The member the code signs in, or None. A wrong try counts against the code."""
    row = codes.check(phone, CodePurpose.LOGIN, code)
    if row is None:
        return None
    member = find_member(phone)
    if member is None or member.id != row.member_id or not member.is_active:
        return None
    return member


# Changing number -------------------------------------------------------------------


def phone_consent_words() -> str:
    """The sentence shown when confirming a new number, kept word for word in the ledger."""
    return gettext(
        "When you confirm, you agree that your health plan's parent advisory group may text this number, "
        "about 4 times a month. Message and data rates may apply. Reply STOP to stop, HELP for help."
    )


@dataclass(frozen=True)
class PhoneChange:
    ok: bool
    reason: str | None = None  # "same", "taken", "cannot_text", "wrong_code"


def start_phone_change(member: Member, new_phone: str) -> PhoneChange:
    if new_phone == member.phone:
        return PhoneChange(False, "same")
    if consent.is_opted_out(new_phone):
        return PhoneChange(False, "cannot_text")
    if not _text_code(member, new_phone, CodePurpose.CHANGE_PHONE, payload={"phone": new_phone}):
        return PhoneChange(False, "cannot_text")
    log.info("member phone change started", extra={"member_id": member.id})
    return PhoneChange(True)


def confirm_phone_change(member: Member, new_phone: str, code: str, *, words_shown: str) -> PhoneChange:
    row = codes.check(new_phone, CodePurpose.CHANGE_PHONE, code)
    if row is None or row.member_id != member.id or (row.payload or {}).get("phone") != new_phone:
        return PhoneChange(False, "wrong_code")
    other = find_member(new_phone)
    if other is not None and other.id != member.id:
        return PhoneChange(False, "taken")
    member.phone = new_phone
    member.session_version += 1  # every other session is signed out
    consent.opt_in(
        new_phone,
        channel=ConsentChannel.WEB,
        locale=member.locale,
        words_shown=words_shown,
        member=member,
    )
    db.session.add(AuditEvent(actor_id=None, action="member.phone_changed", target_type="member", target_id=member.id))
    log.info("member phone changed", extra={"member_id": member.id})
    return PhoneChange(True)


# What a parent's page shows ---------------------------------------------------------


def seats(member: Member) -> list[tuple[CommitteeMembership, Committee]]:
    rows = db.session.execute(
        sa.select(CommitteeMembership, Committee)
        .join(Committee, Committee.id == CommitteeMembership.committee_id)
        .options(selectinload(Committee.plan))
        .where(CommitteeMembership.member_id == member.id, CommitteeMembership.status != RosterStatus.LEFT)
        .order_by(Committee.id)
    ).all()
    return [(m, c) for m, c in rows]


@dataclass(frozen=True)
class Upcoming:
    """A meeting coming up for this parent, with their answer (None: not asked yet)."""

    meeting: Meeting
    reply: MeetingReply | None


UPCOMING_MEETINGS = 5


def upcoming_meetings(member: Member, now: datetime | None = None, limit: int = UPCOMING_MEETINGS) -> list[Upcoming]:
    """The next meetings this parent was invited to or answered, and the next meetings
    of the groups they sit on; a cancelled one only if they had been asked."""
    now = now or utcnow()
    asked = sa.select(MeetingReply.meeting_id).where(MeetingReply.member_id == member.id)
    groups = sa.select(CommitteeMembership.committee_id).where(
        CommitteeMembership.member_id == member.id, CommitteeMembership.status == RosterStatus.ACTIVE
    )
    meetings = db.session.scalars(
        sa.select(Meeting)
        .join(Committee, Committee.id == Meeting.committee_id)
        .where(
            Meeting.starts_at >= now,
            Committee.is_public.is_(True),
            sa.or_(
                Meeting.id.in_(asked),
                sa.and_(Meeting.committee_id.in_(groups), Meeting.status == MeetingStatus.SCHEDULED),
            ),
        )
        .options(selectinload(Meeting.committee).selectinload(Committee.plan))
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    ).all()
    if not meetings:
        return []
    answers = {
        r.meeting_id: r
        for r in db.session.scalars(
            sa.select(MeetingReply).where(
                MeetingReply.member_id == member.id, MeetingReply.meeting_id.in_([m.id for m in meetings])
            )
        )
    }
    return [Upcoming(m, answers.get(m.id)) for m in meetings]


def _conversation_ids(member: Member) -> list[int]:
    cond = Conversation.member_id == member.id
    if member.phone:
        cond = sa.or_(cond, Conversation.phone == member.phone)
    return list(db.session.scalars(sa.select(Conversation.id).where(cond)))


def _outbox_condition(member: Member, conversation_ids: list[int]):
    conds = [OutboxMessage.member_id == member.id]
    if member.phone:
        conds.append(OutboxMessage.phone == member.phone)
    if conversation_ids:
        conds.append(OutboxMessage.conversation_id.in_(conversation_ids))
    return sa.or_(*conds)


@dataclass(frozen=True)
class Text:
    inbound: bool
    at: datetime
    body: str
    locale: str | None = None
    status: str | None = None
    kind: str | None = None


def texts_with(member: Member, limit: int | None = RECENT_TEXTS) -> list[Text]:
    """Texts between engage and this parent, oldest first (the last ``limit``)."""
    conv_ids = _conversation_ids(member)
    inbound_q = sa.select(InboundMessage).where(InboundMessage.conversation_id.in_(conv_ids or [-1]))
    outbound_q = sa.select(OutboxMessage).where(_outbox_condition(member, conv_ids))
    if limit:
        inbound_q = inbound_q.order_by(InboundMessage.id.desc()).limit(limit)
        outbound_q = outbound_q.order_by(OutboxMessage.id.desc()).limit(limit)
    items = [Text(True, m.received_at, m.body) for m in db.session.scalars(inbound_q)]
    items += [
        Text(False, m.created_at, m.body, m.locale, str(m.status), str(m.kind)) for m in db.session.scalars(outbound_q)
    ]
    items.sort(key=lambda t: (t.at, not t.inbound))
    return items[-limit:] if limit else items


# Export ------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_member(member: Member) -> dict:
    """Everything engage holds about this parent, as plain JSON-able data."""
    profile = {
        "id": member.id,
        "display_name": member.display_name,
        "phone": member.phone,
        "locale": member.locale,
        "county": member.county,
        "zip_code": member.zip_code,
        "plan": member.plan.name if member.plan else None,
        "organisation": member.organisation.name if member.organisation else None,
        "child_age_groups": list(member.child_age_groups or []),
        "participation": list(member.participation or []),
        "needs": dict(member.needs or {}),
        "race_ethnicity": member.race_ethnicity,
        "disability": member.disability,
        "source": str(member.source),
        "sms_status": str(member.sms_status),
        "signed_up_at": _iso(member.created_at),
        "confirmed_at": _iso(member.confirmed_at),
    }
    committees = [
        {
            "committee": c.name,
            "plan": c.plan.name if c.plan else None,
            "role": str(m.role),
            "status": str(m.status),
            "term_start": _iso(m.term_start),
            "term_end": _iso(m.term_end),
            "joined_at": _iso(m.created_at),
        }
        for m, c in seats(member)
    ]
    ledger_cond = ConsentEvent.member_id == member.id
    if member.phone:
        ledger_cond = sa.or_(ledger_cond, ConsentEvent.phone == member.phone)
    consent_lines = [
        {
            "at": _iso(e.created_at),
            "phone": e.phone,
            "action": str(e.action),
            "channel": str(e.channel),
            "locale": e.locale,
            "words_shown": e.words_shown,
            "keyword": e.keyword,
        }
        for e in db.session.scalars(sa.select(ConsentEvent).where(ledger_cond).order_by(ConsentEvent.id))
    ]
    messages = [
        {
            "at": _iso(t.at),
            "direction": "in" if t.inbound else "out",
            "body": t.body,
            "status": t.status,
            "kind": t.kind,
        }
        for t in texts_with(member, limit=None)
    ]
    meetings = [
        {
            "meeting_id": r.meeting_id,
            "committee": m.committee.name,
            "starts_at": _iso(m.starts_at),
            "answer": str(r.status),
            "answered_by": str(r.channel) if r.channel else None,
            "invited_at": _iso(r.invited_at),
            "answered_at": _iso(r.responded_at),
            "waiting_list_since": _iso(r.waitlisted_at),
            "place_offered_at": _iso(r.offered_at),
            "needs": list(r.needs or []),
            "needs_text": r.needs_text,
            "needs_answered_at": _iso(r.needs_answered_at),
        }
        for r, m in db.session.execute(
            sa.select(MeetingReply, Meeting)
            .join(Meeting, Meeting.id == MeetingReply.meeting_id)
            .where(MeetingReply.member_id == member.id)
            .options(selectinload(Meeting.committee))
            .order_by(Meeting.starts_at, MeetingReply.id)
        )
    ]
    attendance = [
        {
            "meeting_id": a.meeting_id,
            "committee": m.committee.name,
            "starts_at": _iso(m.starts_at),
            "checked_in_at": _iso(a.checked_in_at),
            "walk_in": a.walk_in,
        }
        for a, m in db.session.execute(
            sa.select(Attendance, Meeting)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Attendance.member_id == member.id)
            .options(selectinload(Meeting.committee))
            .order_by(Meeting.starts_at, Attendance.id)
        )
    ]
    audit = [
        {"at": _iso(a.created_at), "action": a.action, "detail": a.detail or {}}
        for a in db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.target_type == "member", AuditEvent.target_id == member.id)
            .order_by(AuditEvent.id)
        )
    ]
    said, told = _input_export(member)
    return {
        "exported_at": _iso(utcnow()),
        "profile": profile,
        "committees": committees,
        "meetings": meetings,
        "attendance": attendance,
        "consent": consent_lines,
        "messages": messages,
        "input": said,
        "loop_messages": told,
        "audit": audit,
    }


def _input_export(member: Member) -> tuple[list[dict], list[dict]]:
    """What the parent said (their named input, in their own words) and the texts that
    told them what became of it."""
    from engage.models import Input, LoopMessage, Theme, input_people  # noqa: PLC0415

    said = [
        {
            "input_id": i.id,
            "received_at": _iso(i.received_at),
            "channel": str(i.channel),
            "topic": str(i.topic),
            "language": i.locale,
            "body": i.body,
            "theme": i.theme.title if i.theme else None,
            "status": str(i.theme.status) if i.theme else None,
            "outcome": str(i.theme.outcome) if i.theme and i.theme.outcome else None,
            "reason": i.theme.reason if i.theme and i.theme.outcome else None,
        }
        for i in db.session.scalars(
            sa.select(Input)
            .join(input_people, input_people.c.input_id == Input.id)
            .where(input_people.c.member_id == member.id)
            .options(selectinload(Input.theme))
            .order_by(Input.received_at, Input.id)
        )
    ]
    told = [
        {
            "theme_id": m.theme_id,
            "theme": title,
            "stage": str(m.stage),
            "queued_at": _iso(m.created_at),
            "delivered_at": _iso(m.delivered_at),
            "not_sent_because": m.skipped,
        }
        for m, title in db.session.execute(
            sa.select(LoopMessage, Theme.title)
            .join(Theme, Theme.id == LoopMessage.theme_id)
            .where(LoopMessage.member_id == member.id)
            .order_by(LoopMessage.id)
        )
    ]
    return said, told


def record_export(member: Member, fmt: str) -> None:
    db.session.add(
        AuditEvent(
            actor_id=None,
            action="member.export",
            target_type="member",
            target_id=member.id,
            detail={"format": fmt},
        )
    )


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def export_rows(data: dict) -> list[tuple[str, str, str]]:
    """One row per item: (section, field, value); list items are numbered ("3.body")."""
    rows: list[tuple[str, str, str]] = []
    for section, content in data.items():
        if isinstance(content, dict):
            rows += [(section, key, _cell(value)) for key, value in content.items()]
        elif isinstance(content, list):
            for i, item in enumerate(content, start=1):
                rows += [(section, f"{i}.{key}", _cell(value)) for key, value in item.items()]
        else:
            rows.append((section, "", _cell(content)))
    return rows


def export_csv(data: dict) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so Excel reads UTF-8
    writer = csv.writer(out)
    writer.writerow(["section", "field", "value"])
    writer.writerows(export_rows(data))
    return out.getvalue()


# Deletion ------------------------------------------------------------------------------


def delete_member(member: Member) -> None:
    """Stop every text, remove the parent's personal data, keep what aggregate counts
    and the consent ledger (a legal record) need. The caller commits."""
    phone = member.phone
    if phone:
        with force_locale(member.locale):
            words = gettext("Account deleted")
        if not consent.opt_out(
            phone, channel=ConsentChannel.WEB, locale=member.locale, words_shown=words, member=member
        ):
            # Already stopped: still write why this number will never be texted again.
            db.session.add(
                ConsentEvent(
                    phone=phone,
                    member_id=member.id,
                    action=ConsentAction.OPT_OUT,
                    channel=ConsentChannel.WEB,
                    locale=member.locale,
                    words_shown=words,
                )
            )
    conv_ids = _conversation_ids(member)
    # Texts: what they sent is deleted; what we sent keeps only its date and status.
    if conv_ids:
        db.session.execute(sa.delete(InboundMessage).where(InboundMessage.conversation_id.in_(conv_ids)))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(_outbox_condition(member, conv_ids), OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.SKIPPED, error_message="account deleted")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(_outbox_condition(member, conv_ids))
        .values(body="", phone="deleted", conversation_id=None)
        .execution_options(synchronize_session=False)
    )
    if conv_ids:
        db.session.execute(sa.delete(Conversation).where(Conversation.id.in_(conv_ids)))
    code_cond = VerificationCode.member_id == member.id
    if phone:
        code_cond = sa.or_(code_cond, VerificationCode.phone == phone)
        db.session.execute(sa.delete(SignupConversation).where(SignupConversation.phone == phone))
    db.session.execute(sa.delete(VerificationCode).where(code_cond))
    db.session.execute(sa.delete(CommitteeMembership).where(CommitteeMembership.member_id == member.id))
    _remove_meeting_replies(member)
    _anonymise_input(member)

    member.display_name = None
    member.phone = None
    member.zip_code = None
    member.race_ethnicity = None
    member.disability = None
    member.needs = {}
    member.participation = []
    member.assisted_by_id = None
    member.sms_status = SmsStatus.STOPPED
    member.deleted_at = utcnow()
    member.session_version += 1
    db.session.add(AuditEvent(actor_id=None, action="member.deleted", target_type="member", target_id=member.id))
    log.info("member deleted", extra={"member_id": member.id})


def _anonymise_input(member: Member) -> None:
    """The plan keeps the words, not the person: their name comes off everything they
    said (input said by them alone becomes anonymous), and the texts that told them what
    became of it are forgotten; a decided theme waiting only for them closes."""
    from engage.feedback import loop  # noqa: PLC0415
    from engage.models import Input, LoopMessage, Theme, input_people  # noqa: PLC0415

    mine = list(db.session.scalars(sa.select(input_people.c.input_id).where(input_people.c.member_id == member.id)))
    if mine:
        db.session.execute(sa.delete(input_people).where(input_people.c.member_id == member.id))
        still_named = sa.select(input_people.c.input_id).where(input_people.c.input_id == Input.id).exists()
        db.session.execute(
            sa.update(Input)
            .where(Input.id.in_(mine), ~still_named)
            .values(anonymous=True)
            .execution_options(synchronize_session=False)
        )
    theme_ids = list(db.session.scalars(sa.select(LoopMessage.theme_id).where(LoopMessage.member_id == member.id)))
    if theme_ids:
        db.session.execute(sa.delete(LoopMessage).where(LoopMessage.member_id == member.id))
    if mine or theme_ids:
        db.session.expire_all()  # everything above was written past the session
    if theme_ids:
        for theme in db.session.scalars(sa.select(Theme).where(Theme.id.in_(set(theme_ids)))):
            loop.maybe_close(theme)


def _remove_meeting_replies(member: Member) -> None:
    """Give up any place held at a coming meeting (the next person on the waiting list
    is offered it, by the same rule as a "no"), then remove every answer, the needs
    asked for, and the record of which meetings they came to."""
    from engage.meetings import replies  # noqa: PLC0415

    holding = db.session.scalars(
        sa.select(MeetingReply).where(MeetingReply.member_id == member.id, MeetingReply.status == ReplyStatus.YES)
    ).all()
    for reply in holding:
        if replies.is_open(reply.meeting):
            replies.answer(reply, False, channel=ReplyChannel.WEB, notify_member=False)
    mine = sa.select(MeetingReply.id).where(MeetingReply.member_id == member.id).scalar_subquery()
    db.session.execute(sa.delete(ReminderSent).where(ReminderSent.reply_id.in_(mine)))
    db.session.execute(sa.delete(MeetingReply).where(MeetingReply.member_id == member.id))
    db.session.execute(sa.delete(Attendance).where(Attendance.member_id == member.id))


# Settings -----------------------------------------------------------------------------


def save_settings(member: Member, form) -> None:
    member.locale = form.locale.data
    member.display_name = form.display_name.data or None
    member.county = form.county.data or None
    member.zip_code = form.zip_code.data or None
    member.child_age_groups = list(form.child_age_groups.data or [])
    member.participation = list(form.participation.data or [])
    chosen = set(form.needs.data or [])
    needs = {key: key in chosen for key in ("childcare", "interpreter", "transport")}
    if "interpreter" in chosen and form.interpreter_language.data:
        needs["interpreter_language"] = form.interpreter_language.data
    if form.accessibility.data:
        needs["accessibility"] = form.accessibility.data
    member.needs = needs


def load_settings(member: Member, form) -> None:
    needs = member.needs or {}
    form.locale.data = member.locale
    form.display_name.data = member.display_name
    form.county.data = member.county or ""
    form.zip_code.data = member.zip_code
    form.child_age_groups.data = list(member.child_age_groups or [])
    form.participation.data = list(member.participation or [])
    form.needs.data = [k for k in ("childcare", "interpreter", "transport") if needs.get(k)]
    form.interpreter_language.data = needs.get("interpreter_language", "")
    form.accessibility.data = needs.get("accessibility", "")


def save_about(member: Member, form, disability_codes) -> None:
    chosen = list(form.race_ethnicity.data or [])
    member.race_ethnicity = chosen or None
    answers = {code: getattr(form, f"disability_{code}").data for code in disability_codes}
    answers = {k: v for k, v in answers.items() if v}
    member.disability = answers or None


def load_about(member: Member, form, disability_codes) -> None:
    form.race_ethnicity.data = list(member.race_ethnicity or [])
    for code in disability_codes:
        getattr(form, f"disability_{code}").data = (member.disability or {}).get(code, "")


def clear_about(member: Member) -> None:
    member.race_ethnicity = None
    member.disability = None
