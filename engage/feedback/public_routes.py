"""Input to decision for parents, CBO staff and the public: the input form, a person's own
timeline, what a CBO passes on for a family, and the committee's "you said, we did"
(which is also the standing item on every agenda)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from engage.auth.services import audit
from engage.extensions import db
from engage.feedback import bp, intake, outcomes, vocab
from engage.feedback.public_forms import CboInputForm, InputForm, topic_of
from engage.i18n import any_version, current_locale, fmt_date, language_name, locales, localized
from engage.logs import log
from engage.models import (
    Committee,
    Input,
    LoopMessage,
    LoopStage,
    Member,
    Theme,
    ThemeStatus,
    input_people,
)
from engage.security import allow, public, require_organisation

SENT = "feedback_sent"  # session: what the thank-you page says (anonymous or not)
ME_LATEST = 3  # input shown on /me; the rest on /me/input/history


def _me() -> Member:
    return current_user._get_current_object()


# A parent's own words -----------------------------------------------------------------------


def _plan_committees(member: Member) -> list[Committee]:
    if member.plan_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Committee)
            .where(Committee.plan_id == member.plan_id, Committee.is_public.is_(True))
            .order_by(Committee.id)
        )
    )


@bp.route("/me/input", methods=["GET", "POST"])
@allow("parent")
def me_input():
    member = _me()
    committees = _plan_committees(member)
    form = InputForm()
    form.set_committees([(c.id, any_version(c.name)) for c in committees])
    if request.method == "GET" and committees:
        form.committee_id.data = str(committees[0].id)
    if member.plan_id is None:
        return render_template("feedback/public/input.html", form=form, committees=[], no_plan=True)
    if form.validate_on_submit():
        chosen = {str(c.id): c for c in committees}.get(form.committee_id.data or "")
        committee = chosen or (committees[0] if committees else None)
        anonymous = bool(form.anonymous.data)
        try:
            row = intake.from_web(
                member,
                form.body.data,
                topic_of(form.topic.data),
                anonymous=anonymous,
                locale=current_locale(),
                committee_id=committee.id if committee else None,
            )
        except intake.IntakeError:
            form.body.errors.append(_("Please write what you want to tell the plan."))
        else:
            db.session.commit()
            log.info("input from the web", extra={"input_id": row.id, "anonymous": anonymous})
            session[SENT] = {"anonymous": anonymous, "committee": committee.slug if committee else None}
            return redirect(url_for("feedback.me_input_sent"))
    return render_template("feedback/public/input.html", form=form, committees=committees, no_plan=False)


@bp.get("/me/input/sent")
@allow("parent")
def me_input_sent():
    sent = session.get(SENT)
    if not sent:
        return redirect(url_for("me.index"))
    return render_template("feedback/public/sent.html", anonymous=sent.get("anonymous"), slug=sent.get("committee"))


# What became of it ----------------------------------------------------------------------------


@dataclass
class Step:
    """One line of a person's timeline: done or still to come."""

    label: str
    done: bool
    when: str = ""
    detail: str = ""
    missing: bool = False  # a staff-written text that is not in the reader's language


@dataclass
class Mine:
    input: Input
    theme: Theme | None
    steps: list[Step]
    decisions: list = field(default_factory=list)
    link: str | None = None


def _reviewed_at(theme: Theme) -> datetime | None:
    for event in theme.events:
        if event.status == ThemeStatus.UNDER_REVIEW:
            return event.at
    return None


def _texted(steps: list[Step], theme: Theme, stage: LoopStage, texted: dict) -> None:
    """ "We texted you on <date>", right after the step the text was about (once delivered)."""
    message = texted.get((theme.id, stage))
    if message is not None and message.delivered_at is not None:
        steps.append(Step(_("We texted you"), True, fmt_date(message.delivered_at, "medium")))


def _steps(row: Input, theme: Theme | None, texted: dict) -> list[Step]:
    steps = [
        Step(_("We got your message"), True, fmt_date(row.received_at, "medium"), str(vocab.CHANNELS[row.channel]))
    ]
    if theme is None:
        steps.append(Step(_("A coordinator reads it and puts it with similar ideas"), False))
        return steps
    reviewed = _reviewed_at(theme)
    moved_on = theme.status in (ThemeStatus.TAKEN, ThemeStatus.DECIDED, ThemeStatus.CLOSED)
    steps.append(
        Step(_("A coordinator is looking into it"), reviewed is not None or moved_on, fmt_date(reviewed, "medium"))
    )
    if theme.taken_to is not None:
        body = str(vocab.BODIES[theme.taken_to])
        steps.append(Step(_("Taken to %(body)s", body=body), True, fmt_date(theme.taken_on, "medium")))
        _texted(steps, theme, LoopStage.TAKEN, texted)
    else:
        steps.append(Step(_("Taken to the plan's leaders"), False))
    if theme.outcome is not None and theme.status in (ThemeStatus.DECIDED, ThemeStatus.CLOSED):
        reason = localized(theme.reason)
        steps.append(
            Step(
                _("Decided: %(outcome)s", outcome=vocab.OUTCOMES[theme.outcome]),
                True,
                fmt_date(theme.decided_on, "medium"),
                reason.text or "",
                missing=reason.missing,
            )
        )
        _texted(steps, theme, LoopStage.DECIDED, texted)
    else:
        steps.append(Step(_("The plan's leaders decide, and say why"), False))
    return steps


def my_input(member: Member, limit: int | None = None) -> list[Mine]:
    """The person's own (named) input, newest first, each with its theme's timeline in
    the reader's language. Anonymous input is not linked to them, so it is not here."""
    query = (
        sa.select(Input)
        .join(input_people, input_people.c.input_id == Input.id)
        .where(input_people.c.member_id == member.id, Input.anonymous.is_(False))
        .order_by(Input.received_at.desc(), Input.id.desc())
        .options(
            selectinload(Input.theme).selectinload(Theme.events),
            selectinload(Input.theme).selectinload(Theme.decisions),
            selectinload(Input.theme).selectinload(Theme.committee),
        )
    )
    if limit:
        query = query.limit(limit)
    rows = list(db.session.scalars(query))
    if not rows:
        return []
    texted = {
        (m.theme_id, m.stage): m
        for m in db.session.scalars(sa.select(LoopMessage).where(LoopMessage.member_id == member.id))
    }
    found = []
    for row in rows:
        theme = row.theme
        committee = theme.committee if theme is not None else None
        link = (
            url_for("feedback.outcomes_page", slug=committee.slug, _anchor=f"theme-{theme.id}")
            if committee is not None and committee.is_public
            else None
        )
        found.append(Mine(row, theme, _steps(row, theme, texted), list(theme.decisions) if theme else [], link))
    return found


@bp.get("/me/input/history")
@allow("parent")
def me_history():
    return render_template("feedback/public/history.html", items=my_input(_me()))


# A CBO passes on what a family said -------------------------------------------------------------


@bp.route("/partner/families/<int:member_id>/input", methods=["GET", "POST"])
@allow("cbo")
def family_input(member_id: int):
    from engage.partner.families import family_or_404  # noqa: PLC0415

    member = family_or_404(member_id)
    require_organisation(member.organisation_id)
    form = CboInputForm()
    form.set_locales(locales(), language_name)
    if request.method == "GET":
        form.locale.data = member.locale
    if member.plan_id is None:
        abort(404)
    if form.validate_on_submit():
        try:
            row = intake.from_cbo(
                member,
                form.body.data,
                topic_of(form.topic.data),
                by=current_user._get_current_object(),
                locale=form.locale.data,
                anonymous=bool(form.anonymous.data),
            )
        except intake.IntakeError:
            form.body.errors.append(_("Please write what you want to tell the plan."))
        else:
            db.session.flush()
            audit(current_user, "input.from_cbo", member, input_id=row.id, anonymous=row.anonymous)
            db.session.commit()
            flash(_("Thank you. A coordinator will read what the family said."), "success")
            if "support.family" in current_app.view_functions:
                return redirect(url_for("support.family", member_id=member.id))
            return redirect(url_for("partner.families"))
    return render_template("feedback/public/family_input.html", form=form, member=member)


# You said, we did -------------------------------------------------------------------------------------


def _public_committee(slug: str) -> Committee:
    found = db.session.scalar(
        sa.select(Committee)
        .where(Committee.slug == slug, Committee.is_public.is_(True))
        .options(selectinload(Committee.plan))
    )
    if found is None:
        abort(404)
    return found


@bp.get("/committees/<slug>/outcomes")
@public
def outcomes_page(slug: str):
    """ "You said, we did": what is still open and for how long, then what was decided
    and why. No names; groups smaller than 11 people are "fewer than 11"."""
    committee = _public_committee(slug)
    rows = outcomes.rows_for(committee)
    return render_template(
        "feedback/public/outcomes.html",
        committee=committee,
        open_rows=[r for r in rows if r.is_open],
        decided_rows=[r for r in rows if not r.is_open],
        vocab=vocab,
        small_group=outcomes.SMALL_GROUP,
    )


@bp.get("/o/<int:theme_id>")
@public
def short_link(theme_id: int):
    """The short link in texts: to the theme on its committee's public page."""
    theme = db.session.get(Theme, theme_id)
    committee = db.session.get(Committee, theme.committee_id) if theme and theme.committee_id else None
    if committee is None or not committee.is_public:
        abort(404)
    return redirect(url_for("feedback.outcomes_page", slug=committee.slug, _anchor=f"theme-{theme.id}"), code=302)


# The standing agenda item -------------------------------------------------------------------------


class AgendaItem(outcomes.Row):
    """An open theme as the meeting page and the agenda editor show it: ``title`` (per
    language) and a one-line summary in the reader's language."""

    @property
    def title(self) -> dict:
        return self.theme.title or {}

    def __str__(self) -> str:
        title = localized(self.theme.title)
        name = title.text or str(vocab.TOPICS.get(self.theme.topic, self.theme.topic))
        parts = [name, str(vocab.STATUSES[self.theme.status])]
        if self.latest is not None:
            parts.append(_("latest update %(date)s", date=fmt_date(self.latest.at, "medium")))
        days = self.days_open()
        if days is not None:
            parts.append(ngettext("open for %(num)d day", "open for %(num)d days", days))
        return " · ".join(parts)


def agenda_items(committee: Committee) -> list[AgendaItem]:
    """Earlier input still open, with its latest update: the first item on every agenda."""
    return [
        AgendaItem(
            theme=r.theme, people=r.people, first_input_at=r.first_input_at, latest=r.latest, decisions=r.decisions
        )
        for r in outcomes.standing_items(committee)
    ]
