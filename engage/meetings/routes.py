"""Public meeting pages, calendar files, and a parent's answer on the web.

A parent's answer goes through ``replies`` exactly as a text does (places, waiting
list); this module only turns forms into calls and outcomes into pages."""

from __future__ import annotations

import sqlalchemy as sa
from babel.lists import format_list
from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.i18n import _loc, fmt_money, locales
from engage.logs import log
from engage.meetings import bp, calendar, documents, replies
from engage.meetings.forms import NeedsForm, ReplyForm
from engage.members import vocab
from engage.models import (
    Committee,
    DocumentKind,
    Meeting,
    MeetingFormat,
    MeetingReply,
    ReplyChannel,
    ReplyStatus,
    utcnow,
)
from engage.security import allow, public

# What a reply's status means, said to the parent.
WAITING = (ReplyStatus.WAITLISTED, ReplyStatus.OFFERED)


# Shared with the committee page and /me --------------------------------------------------


def load_meeting(meeting_id: int) -> Meeting:
    """A meeting of a public committee, with what its pages show, or 404."""
    meeting = db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.documents),
            selectinload(Meeting.committee).selectinload(Committee.plan),
        )
    )
    if meeting is None or not meeting.committee.is_public:
        abort(404)
    return meeting


def interpreter_names(codes) -> str:
    names = [str(vocab.INTERPRETER_LANGUAGES[c]) for c in codes or [] if c in vocab.INTERPRETER_LANGUAGES]
    return format_list(names, locale=_loc()) if names else ""


def supports(meeting: Meeting) -> list[str]:
    """What the meeting offers to help people come, said plainly."""
    offered = []
    if meeting.childcare:
        offered.append(_("Free childcare"))
    languages = interpreter_names(meeting.interpretation)
    if languages:
        offered.append(_("Interpreters: %(languages)s", languages=languages))
    if meeting.transport:
        offered.append(_("Help with transport"))
    if meeting.meals:
        offered.append(_("Meal provided"))
    if meeting.stipend_amount:
        offered.append(_("You will receive %(amount)s for your time", amount=fmt_money(meeting.stipend_amount)))
    return offered


def how_long(minutes: int) -> str:
    hours, rest = divmod(int(minutes or 0), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if rest or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", rest))
    return format_list(parts, locale=_loc()) if len(parts) > 1 else parts[0]


def format_label(meeting: Meeting) -> str:
    return {
        MeetingFormat.IN_PERSON: _("In person"),
        MeetingFormat.ONLINE: _("Online"),
        MeetingFormat.HYBRID: _("In person or online"),
    }[meeting.format]


def posted_documents(meeting: Meeting) -> dict[str, dict]:
    """Posted agenda and minutes by language (never another language in place of the reader's)."""
    return {
        "agenda": documents.posted(meeting, DocumentKind.AGENDA),
        "minutes": documents.posted(meeting, DocumentKind.MINUTES),
    }


def reply_status_text(reply: MeetingReply | None) -> str:
    status = reply.status if reply is not None else ReplyStatus.INVITED
    return {
        ReplyStatus.INVITED: _("You have not answered yet."),
        ReplyStatus.YES: _("You are coming. Your place is saved."),
        ReplyStatus.NO: _("You said you can't come."),
        ReplyStatus.WAITLISTED: _("The meeting is full. You are on the waiting list."),
        ReplyStatus.OFFERED: _("A place opened up for you. Say “I'll come” to take it."),
    }[status]


def need_lines(reply: MeetingReply, member) -> list[str]:
    """What the parent asked for, with what happens next for each."""
    lines = []
    for need in reply.needs or []:
        if need == "childcare":
            lines.append(_("Childcare: requested, we will confirm by text."))
        elif need == "interpreter":
            language = (member.needs or {}).get("interpreter_language")
            if language in vocab.INTERPRETER_LANGUAGES:
                lines.append(
                    _(
                        "Interpreter (%(language)s): requested, we will confirm by text.",
                        language=vocab.INTERPRETER_LANGUAGES[language],
                    )
                )
            else:
                lines.append(_("Interpreter: requested, we will confirm by text."))
        elif need == "transport":
            lines.append(_("Ride: requested, we will confirm by text."))
        elif need == "access":
            lines.append(_("Access help: requested. Tell us more below, and we will confirm by text."))
        elif need == "meals":
            lines.append(_("Food or diet: requested. Tell us more below, and we will confirm by text."))
    return lines


def standing_items(committee: Committee) -> list:
    """The standing agenda item "Earlier input still open", if that feature is there."""
    find = getattr(documents, "standing_items", None)
    return list(find(committee) or []) if find is not None else []


def page_context(meeting: Meeting) -> dict:
    return {
        "meeting": meeting,
        "supports": supports(meeting),
        "format_label": format_label(meeting),
        "how_long": how_long(meeting.duration_minutes),
        "docs": posted_documents(meeting),
    }


# Who is looking -----------------------------------------------------------------------------


def _parent():
    return current_user._get_current_object() if getattr(current_user, "is_member", False) else None


def _my_reply(meeting: Meeting) -> MeetingReply | None:
    if _parent() is None:
        return None
    return db.session.scalar(
        sa.select(MeetingReply).where(MeetingReply.meeting_id == meeting.id, MeetingReply.member_id == current_user.id)
    )


def _may_answer(meeting: Meeting, member) -> bool:
    """Invitations never cross plans, and neither do answers on the web."""
    return member is not None and member.plan_id in (None, meeting.committee.plan_id)


def _shows_link(meeting: Meeting, reply: MeetingReply | None) -> bool:
    return (
        reply is not None
        and reply.status == ReplyStatus.YES
        and bool(meeting.online_url)
        and meeting.format != MeetingFormat.IN_PERSON
    )


# Pages ----------------------------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>")
@public
def show(meeting_id: int):
    meeting = load_meeting(meeting_id)
    reply = _my_reply(meeting)
    now = utcnow()
    return render_template(
        "meetings/show.html",
        **page_context(meeting),
        reply=reply,
        parent=_parent(),
        status_text=reply_status_text(reply),
        is_open=replies.is_open(meeting, now),
        has_started=now >= meeting.starts_at,
        has_ended=now >= meeting.ends_at,
        show_link=_shows_link(meeting, reply),
        may_answer=_may_answer(meeting, _parent()),
        standing=standing_items(meeting.committee),
        need_lines=need_lines(reply, _parent()) if reply is not None else [],
        form=ReplyForm(),
    )


@bp.get("/meetings/<int:meeting_id>/<any(agenda, minutes):kind>/<lang>")
@public
def document(meeting_id: int, kind: str, lang: str):
    """One posted language version of an agenda or minutes, for a reader who wants it."""
    meeting = load_meeting(meeting_id)
    if lang not in locales():
        abort(404)
    doc = documents.posted(meeting, DocumentKind(kind)).get(lang)
    if doc is None:
        abort(404)
    return render_template("meetings/document.html", meeting=meeting, doc=doc, kind=kind)


@bp.get("/meetings/<int:meeting_id>.ics")
@public
def ics(meeting_id: int):
    meeting = load_meeting(meeting_id)
    body = calendar.for_meeting(meeting, with_link=_shows_link(meeting, _my_reply(meeting)))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}.ics"'},
    )


@bp.get("/committees/<slug>/calendar.ics")
@public
def committee_feed(slug: str):
    committee = db.session.scalar(sa.select(Committee).where(Committee.slug == slug, Committee.is_public.is_(True)))
    if committee is None:
        abort(404)
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.committee_id == committee.id)
        .options(selectinload(Meeting.committee))
        .order_by(Meeting.starts_at)
    ).all()
    return Response(
        calendar.for_committee(committee, meetings),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{committee.slug}.ics"'},
    )


# A parent's answer -----------------------------------------------------------------------------


def _back(meeting: Meeting, anchor: str = "your-answer"):
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor=anchor))


@bp.post("/meetings/<int:meeting_id>/reply")
@allow("parent")
def reply(meeting_id: int):
    meeting = load_meeting(meeting_id)
    member = _parent()
    form = ReplyForm()
    if not _may_answer(meeting, member):
        flash(_("This group belongs to another health plan. Please ask its coordinator."), "warning")
        return _back(meeting)
    if not form.validate_on_submit():
        flash(_("Please choose “I'll come” or “I can't come”."), "error")
        return _back(meeting)
    if not replies.is_open(meeting):
        flash(_("This meeting is no longer taking answers."), "warning")
        return _back(meeting)
    row = replies.reply_for(meeting, member)
    outcome = replies.answer(row, form.answer.data == "yes", channel=ReplyChannel.WEB, notify_member=False)
    db.session.commit()
    log.info("meeting reply on the web", extra={"meeting_id": meeting.id, "outcome": str(outcome)})
    if outcome == replies.Outcome.CLOSED:
        flash(_("This meeting is no longer taking answers."), "warning")
        return _back(meeting)
    if outcome == replies.Outcome.YES or (outcome == replies.Outcome.UNCHANGED and row.status == ReplyStatus.YES):
        return redirect(url_for("meetings.needs", meeting_id=meeting.id))
    if outcome == replies.Outcome.WAITLISTED or row.status in WAITING:
        flash(
            _("The meeting is full. You are on the waiting list. If a place opens up, we will text you."),
            "warning",
        )
        return _back(meeting)
    flash(_("Thank you for telling us. We hope to see you next time."), "success")
    return _back(meeting)


def _previous_needs(meeting: Meeting, member) -> list[str] | None:
    """What this parent asked for at their last meeting, if they answered then."""
    earlier = db.session.scalar(
        sa.select(MeetingReply)
        .where(
            MeetingReply.member_id == member.id,
            MeetingReply.meeting_id != meeting.id,
            MeetingReply.needs_answered_at.is_not(None),
        )
        .order_by(MeetingReply.needs_answered_at.desc(), MeetingReply.id.desc())
        .limit(1)
    )
    return list(earlier.needs or []) if earlier is not None else None


@bp.route("/meetings/<int:meeting_id>/needs", methods=["GET", "POST"])
@allow("parent")
def needs(meeting_id: int):
    meeting = load_meeting(meeting_id)
    member = _parent()
    row = _my_reply(meeting)
    if row is None or row.status not in (ReplyStatus.YES, *WAITING) or not replies.is_open(meeting):
        return _back(meeting)
    form = NeedsForm()
    form.set_choices(meeting.interpretation)
    prefilled_from = None
    if form.validate_on_submit():
        chosen = [n for n in form.needs.data or [] if n in replies.NEEDS]
        replies.record_needs(row, chosen)
        language = form.interpreter_language.data
        if "interpreter" in chosen and language:
            member.needs = {**(member.needs or {}), "interpreter_language": language}
        db.session.commit()
        log.info("meeting needs on the web", extra={"meeting_id": meeting.id, "needs": chosen})
        return redirect(url_for("meetings.next_steps", meeting_id=meeting.id))
    if not form.is_submitted():
        if row.needs_answered_at is not None:
            form.needs.data = list(row.needs or [])
        else:
            earlier = _previous_needs(meeting, member)
            if earlier is not None:
                form.needs.data = earlier
                prefilled_from = "last_time"
            else:
                usual = member.needs or {}
                form.needs.data = [k for k in replies.NEEDS if usual.get(k)]
                prefilled_from = "usual" if form.needs.data else None
        form.interpreter_language.data = (member.needs or {}).get("interpreter_language", "")
    return render_template(
        "meetings/needs.html",
        meeting=meeting,
        reply=row,
        form=form,
        prefilled_from=prefilled_from,
        waiting=row.status in WAITING,
    )


@bp.get("/meetings/<int:meeting_id>/next")
@allow("parent")
def next_steps(meeting_id: int):
    meeting = load_meeting(meeting_id)
    member = _parent()
    row = _my_reply(meeting)
    if row is None or row.status not in (ReplyStatus.YES, *WAITING):
        return _back(meeting)
    return render_template(
        "meetings/next.html",
        **page_context(meeting),
        reply=row,
        waiting=row.status in WAITING,
        need_lines=need_lines(row, member),
        can_text=replies.can_text(member),
        show_link=_shows_link(meeting, row),
        plan=meeting.committee.plan,
    )
