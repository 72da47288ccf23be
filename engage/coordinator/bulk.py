"""Messages to many people: a committee's roster or everyone in a plan, written once
per language, previewed side by side, then queued in one statement.

Sending is built for plans with tens of thousands of members: the recipients are read
with one query (id, phone, language only, no ORM objects) and written with one bulk
INSERT; the worker delivers them, waiting for the morning during quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from engage.auth.services import audit
from engage.coordinator import bp
from engage.coordinator.forms import bulk_form
from engage.coordinator.inbox import STATUS_HINTS, STATUS_LABELS, visible_committees
from engage.extensions import db
from engage.i18n import DEFAULT_LOCALE, fmt_time, language_name, locales
from engage.models import (
    BulkMessage,
    Committee,
    CommitteeMembership,
    Member,
    Organisation,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Plan,
    RosterStatus,
    SmsOptOut,
    SmsStatus,
    utcnow,
)
from engage.models.plans import organisation_plans
from engage.security import allow, require_plan, visible_plan_ids
from engage.sms import outbox, texts
from engage.sms.segments import Segments, count_segments

PER_PAGE = 50
# The same message to the same people within this time is a double click, not a new send.
DUPLICATE_WINDOW = timedelta(minutes=2)
OK, OPTED_OUT, UNCONFIRMED = "ok", "opted_out", "unconfirmed"
# The order statuses are shown in on the progress page.
PROGRESS_ORDER = [
    OutboxStatus.QUEUED,
    OutboxStatus.SENDING,
    OutboxStatus.SENT,
    OutboxStatus.DELIVERED,
    OutboxStatus.FAILED,
    OutboxStatus.UNDELIVERED,
    OutboxStatus.SKIPPED,
    OutboxStatus.DROPPED,
    OutboxStatus.UNKNOWN,
]


# Who gets it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    plan_id: int
    committee_id: int | None = None  # None: everyone who signed up with the plan
    languages: tuple[str, ...] = ()  # empty: every language
    county: str | None = None
    organisation_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "committee_id": self.committee_id,
            "languages": list(self.languages),
            "county": self.county,
            "organisation_id": self.organisation_id,
        }


def _language(langs: list[str]):
    """A member's language, as one engage writes in (anything else counts as the default)."""
    return sa.case((Member.locale.in_(langs), Member.locale), else_=sa.literal(DEFAULT_LOCALE)).label("language")


def _audience_query(aud: Audience, langs: list[str], *columns) -> sa.Select:
    query = (
        sa.select(*columns)
        .select_from(Member)
        .outerjoin(SmsOptOut, SmsOptOut.phone == Member.phone)
        .where(Member.deleted_at.is_(None), Member.phone.is_not(None))
    )
    if aud.committee_id:
        query = query.join(
            CommitteeMembership,
            sa.and_(
                CommitteeMembership.member_id == Member.id,
                CommitteeMembership.committee_id == aud.committee_id,
                CommitteeMembership.status == RosterStatus.ACTIVE,
            ),
        )
    else:
        query = query.where(Member.plan_id == aud.plan_id)
    if aud.languages:
        query = query.where(_language(langs).in_(aud.languages))
    if aud.county:
        query = query.where(Member.county == aud.county)
    if aud.organisation_id:
        query = query.where(Member.organisation_id == aud.organisation_id)
    return query


def audience_counts(aud: Audience) -> dict[str, dict[str, int]]:
    """``{language: {"ok": n, "opted_out": n, "unconfirmed": n}}`` in one GROUP BY query."""
    langs = locales()
    language = _language(langs)
    reason = sa.case(
        (SmsOptOut.phone.is_not(None), sa.literal(OPTED_OUT)),
        (Member.sms_status == SmsStatus.STOPPED, sa.literal(OPTED_OUT)),
        (Member.sms_status != SmsStatus.ACTIVE, sa.literal(UNCONFIRMED)),
        else_=sa.literal(OK),
    ).label("reason")
    query = _audience_query(aud, langs, language, reason, sa.func.count()).group_by(language, reason)
    counts: dict[str, dict[str, int]] = {loc: {OK: 0, OPTED_OUT: 0, UNCONFIRMED: 0} for loc in langs}
    for loc, why, n in db.session.execute(query):
        counts.setdefault(loc, {OK: 0, OPTED_OUT: 0, UNCONFIRMED: 0})[why] += n
    return counts


def recipients(aud: Audience) -> list:
    """``(member_id, phone, language)`` of everyone who may get it now, in one query."""
    langs = locales()
    query = _audience_query(aud, langs, Member.id, Member.phone, _language(langs)).where(
        SmsOptOut.phone.is_(None), Member.sms_status == SmsStatus.ACTIVE
    )
    return db.session.execute(query.order_by(Member.id)).all()


# What they get ---------------------------------------------------------------------------


@dataclass
class LanguagePreview:
    locale: str
    typed: str
    signed: str | None
    segments: Segments | None
    recipients: int
    opted_out: int
    unconfirmed: int
    cost: Decimal = field(default_factory=Decimal)

    @property
    def missing(self) -> bool:
        return self.recipients > 0 and not self.typed


def sign(plan: Plan, locale: str, text: str) -> str:
    with force_locale(locale):
        return texts.signed(plan=plan.short_name, message=text)


def build_preview(plan: Plan, typed: dict[str, str], counts: dict[str, dict[str, int]]) -> list[LanguagePreview]:
    previews = []
    for loc in locales():
        text = typed.get(loc) or ""
        signed = sign(plan, loc, text) if text else None
        segments = count_segments(signed) if signed else None
        c = counts.get(loc, {})
        p = LanguagePreview(loc, text, signed, segments, c.get(OK, 0), c.get(OPTED_OUT, 0), c.get(UNCONFIRMED, 0))
        if segments:
            p.cost = outbox.cost_estimate(segments.count * p.recipients)
        previews.append(p)
    return previews


def send_bulk(plan: Plan, aud: Audience, bodies: dict[str, str], sender) -> BulkMessage:
    """Queue one BULK row per recipient. ``bodies`` are the signed texts by language.
    The caller commits."""
    now = utcnow()
    counts = audience_counts(aud)
    skipped = {
        OPTED_OUT: sum(c[OPTED_OUT] for c in counts.values()),
        UNCONFIRMED: sum(c[UNCONFIRMED] for c in counts.values()),
    }
    bulk = BulkMessage(
        plan_id=plan.id,
        bodies=bodies,
        audience={**aud.as_dict(), "skipped": skipped},
        created_by_id=getattr(sender, "id", None),
        created_at=now,
    )
    db.session.add(bulk)
    db.session.flush()

    segments = {loc: count_segments(body).count for loc, body in bodies.items()}
    common = {
        "kind": OutboxKind.BULK,
        "bulk_id": bulk.id,
        "status": OutboxStatus.QUEUED,
        "due_at": outbox.next_send_time(now),
        "quiet_hours": True,
        "priority": outbox.PRIORITY[OutboxKind.BULK],
        "attempts": 0,
        "sender": "default",
        "created_at": now,
        "created_by_id": getattr(sender, "id", None),
    }
    rows = []
    no_text = 0
    for member_id, phone, loc in recipients(aud):
        body = bodies.get(loc)
        if body is None:  # joined between the preview and now, in a language with no text
            no_text += 1
            continue
        rows.append(
            {**common, "phone": phone, "body": body, "locale": loc, "member_id": member_id, "segments": segments[loc]}
        )
    outbox.enqueue_many(rows)
    bulk.recipient_count = len(rows)
    bulk.skipped_count = skipped[OPTED_OUT] + skipped[UNCONFIRMED] + no_text
    audit(sender, "sms.bulk_queued", bulk, recipients=len(rows), skipped=bulk.skipped_count)
    return bulk


# Pages ---------------------------------------------------------------------------------------


def _visible_plans() -> list[Plan]:
    allowed = visible_plan_ids()
    query = sa.select(Plan).order_by(Plan.name)
    if allowed is not None:
        query = query.where(Plan.id.in_(allowed))
    return list(db.session.scalars(query))


def _visible_organisations(plan_ids: list[int]) -> list[Organisation]:
    query = (
        sa.select(Organisation)
        .where(
            Organisation.id.in_(
                sa.select(organisation_plans.c.organisation_id).where(organisation_plans.c.plan_id.in_(plan_ids))
            )
        )
        .order_by(Organisation.name)
    )
    return list(db.session.scalars(query))


def _counties(plan_ids: list[int]) -> list[str]:
    query = (
        sa.select(Member.county)
        .where(Member.plan_id.in_(plan_ids), Member.county.is_not(None), Member.deleted_at.is_(None))
        .distinct()
        .order_by(Member.county)
    )
    return [c for c in db.session.scalars(query) if c]


@bp.get("/messages")
@allow("coordinator", "admin")
def bulk_list():
    allowed = visible_plan_ids()
    query = (
        sa.select(BulkMessage)
        .options(joinedload(BulkMessage.plan), joinedload(BulkMessage.created_by))
        .order_by(BulkMessage.created_at.desc(), BulkMessage.id.desc())
    )
    if allowed is not None:
        query = query.where(BulkMessage.plan_id.in_(allowed))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    committees = {c.id: c for c in visible_committees()}
    return render_template(
        "coordinator/messages.html",
        page=page,
        committees=committees,
        several=allowed is None or len(allowed) > 1,
    )


@bp.route("/messages/new", methods=["GET", "POST"])
@allow("coordinator", "admin")
def bulk_new():
    langs = locales()
    plans = _visible_plans()
    if not plans:
        flash(_("You are not a coordinator for any plan yet. Ask an administrator to add you to one."), "warning")
        return redirect(url_for("coordinator.index"))
    plan_ids = [p.id for p in plans]
    committees = visible_committees()
    form = bulk_form(langs)(data={"plan_id": plans[0].id} if len(plans) == 1 else None)
    form.set_choices(plans, committees, _counties(plan_ids), _visible_organisations(plan_ids), langs)
    previews = None
    totals = None
    if form.validate_on_submit():
        plan = next(p for p in plans if p.id == form.plan_id.data)
        committee = next((c for c in committees if c.id == form.committee_id.data), None)
        if committee is not None and committee.plan_id != plan.id:
            form.committee_id.errors.append(_("This committee belongs to another plan. Choose one of this plan's."))
        else:
            aud = Audience(
                plan_id=plan.id,
                committee_id=committee.id if committee else None,
                languages=tuple(form.languages.data or ()),
                county=form.county.data or None,
                organisation_id=form.organisation_id.data or None,
            )
            typed = {loc: form[f"body_{loc}"].data or "" for loc in langs}
            previews = build_preview(plan, typed, audience_counts(aud))
            totals = _totals(previews)
            ok = _check(form, previews, totals)
            if ok and request.form.get("action") == "send":
                bodies = {p.locale: p.signed for p in previews if p.recipients and p.signed}
                # One send at a time per plan (a row lock on PostgreSQL), so a double click
                # finds the first one instead of texting everybody twice.
                db.session.execute(sa.select(Plan.id).where(Plan.id == plan.id).with_for_update())
                earlier = just_sent(plan, aud, bodies, current_user)
                if earlier is not None:
                    flash(_("This message was queued a moment ago. It is not sent twice."), "warning")
                    return redirect(url_for("coordinator.bulk_detail", bulk_id=earlier.id))
                bulk = send_bulk(plan, aud, bodies, current_user)
                db.session.commit()
                flash(
                    ngettext(
                        "Your message is queued for %(num)d person.",
                        "Your message is queued for %(num)d people.",
                        bulk.recipient_count,
                    ),
                    "success",
                )
                return redirect(url_for("coordinator.bulk_detail", bulk_id=bulk.id))
    return render_template(
        "coordinator/message_form.html",
        form=form,
        langs=langs,
        plans=plans,
        previews=previews,
        totals=totals,
        quiet=quiet_hours(),
    )


def quiet_hours() -> dict[str, str]:
    """When quiet hours start and end, written in the reader's language."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])
    today = datetime.now(zone).date()
    at = lambda hour: datetime(today.year, today.month, today.day, hour, tzinfo=zone)  # noqa: E731
    return {"start": fmt_time(at(outbox.QUIET_START_HOUR)), "end": fmt_time(at(outbox.QUIET_END_HOUR))}


def just_sent(plan: Plan, aud: Audience, bodies: dict[str, str], sender) -> BulkMessage | None:
    """The same message to the same people, queued by the same person a moment ago."""
    recent = db.session.scalars(
        sa.select(BulkMessage).where(
            BulkMessage.plan_id == plan.id,
            BulkMessage.created_by_id == sender.id,
            BulkMessage.created_at >= utcnow() - DUPLICATE_WINDOW,
        )
    )
    wanted = aud.as_dict()
    for bulk in recent:
        audience = {k: v for k, v in bulk.audience.items() if k != "skipped"}
        if bulk.bodies == bodies and audience == wanted:
            return bulk
    return None


def _totals(previews: list[LanguagePreview]) -> dict:
    return {
        "recipients": sum(p.recipients for p in previews),
        "opted_out": sum(p.opted_out for p in previews),
        "unconfirmed": sum(p.unconfirmed for p in previews),
        "cost": sum((p.cost for p in previews), Decimal(0)),
        "segments": sum(p.segments.count * p.recipients for p in previews if p.segments),
    }


def _check(form, previews: list[LanguagePreview], totals: dict) -> bool:
    ok = True
    if totals["recipients"] == 0:
        form.committee_id.errors.append(_("Nobody in this group can get texts right now. Choose another group."))
        return False
    for p in previews:
        if p.missing:
            form[f"body_{p.locale}"].errors.append(
                ngettext(
                    "%(num)d person reads %(language)s, but there is no %(language)s text. "
                    "Write it, or leave this language out.",
                    "%(num)d people read %(language)s, but there is no %(language)s text. "
                    "Write it, or leave this language out.",
                    p.recipients,
                    language=language_name(p.locale),
                )
            )
            ok = False
    return ok


@bp.get("/messages/<int:bulk_id>")
@allow("coordinator", "admin")
def bulk_detail(bulk_id: int):
    bulk = db.session.get(BulkMessage, bulk_id, options=[joinedload(BulkMessage.plan)])
    if bulk is None:
        abort(404)
    require_plan(bulk.plan_id)
    by_status = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count())
            .where(OutboxMessage.bulk_id == bulk.id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    progress = [(s, by_status.get(s, 0)) for s in PROGRESS_ORDER]
    committee = (
        db.session.get(Committee, bulk.audience.get("committee_id")) if bulk.audience.get("committee_id") else None
    )
    organisation = (
        db.session.get(Organisation, bulk.audience.get("organisation_id"))
        if bulk.audience.get("organisation_id")
        else None
    )
    return render_template(
        "coordinator/message.html",
        bulk=bulk,
        progress=progress,
        total=sum(by_status.values()),
        committee=committee,
        organisation=organisation,
        status_labels=STATUS_LABELS,
        status_hints=STATUS_HINTS,
        langs=[loc for loc in locales() if loc in bulk.bodies] + [loc for loc in bulk.bodies if loc not in locales()],
    )
