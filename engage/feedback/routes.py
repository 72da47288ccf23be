"""Input to decision, the coordinator's screens: all input with its original words and
any translation, grouping it into themes (and taking input put in the wrong theme back
out while the theme is not decided), moving a theme to a decision (which texts the
people who gave the input), the plan's decisions with CSV import and export, questions
sent by text, input recorded during a meeting, and the measures (filtered by plan and by
the days the input was received).

Every view is for coordinators (their plans only: another plan's rows are a 404, and every
row is loaded through ``_load`` / ``_get``, which say so) and admins. The rules live in ``intake``, ``triage``, ``loop``, ``decisions`` and
``measures``; these views call them. List pages make the same number of queries however
much input there is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from engage.auth.services import audit
from engage.coordinator.forms import committee_label
from engage.coordinator.inbox import STATUS_LABELS as DELIVERY_LABELS
from engage.coordinator.inbox import several_plans, visible_committees
from engage.extensions import db
from engage.feedback import bp, decisions, intake, loop, measures, texts, triage, vocab
from engage.feedback.forms import (
    ConfirmForm,
    GroupForm,
    ImportForm,
    InputFilterForm,
    MeasuresFilterForm,
    MeetingInputForm,
    MoveForm,
    NoteForm,
    RemoveForm,
    TakeForm,
    ThemeFilterForm,
    TranslationForm,
    decide_form,
    decision_form,
    question_form,
    theme_form,
)
from engage.i18n import any_version, current_locale, language_name, locales
from engage.members.vocab import RACE_DECLINE, RACE_ETHNICITY, county_label
from engage.models import (
    Attendance,
    Committee,
    CommitteeMembership,
    Conversation,
    Decision,
    DecisionBody,
    Input,
    LoopMessage,
    LoopStage,
    Meeting,
    Member,
    OutboxMessage,
    Outcome,
    Plan,
    Question,
    Role,
    RosterStatus,
    SmsOptOut,
    SmsStatus,
    StaffUser,
    Theme,
    ThemeEvent,
    ThemeStatus,
    Topic,
    utcnow,
)
from engage.models.staff import staff_plans
from engage.security import allow, require_plan, visible_plan_ids
from engage.sms.segments import count_segments

PER_PAGE = 50
THEMES_PER_PAGE = 50
# A question's text: warn above this many segments, refuse above the hard limit.
QUESTION_WARN_SEGMENTS = 2
QUESTION_MAX_SEGMENTS = 3

TRIAGE_ERRORS = {
    "title": _l("Give the theme a name in at least one language."),
    "reason": _l("Write why in at least one language. People want to know why, most of all when the answer is no."),
    "no input": _l("This theme has no input yet. Add input to it first."),
}
IMPORT_ERRORS = {
    "header": _l("The first line must name the columns, with at least body and decided_on. Export a file to see how."),
    "body": _l("Who decided is not one of: board, qihec, pna, program, other."),
    "decided_on": _l("The date must be written like 2026-12-08."),
    "id": _l("There is no decision with this number in this plan."),
    "ids": _l("Theme and input numbers must be whole numbers with spaces between them."),
    "title": _l("A title is needed in at least one language."),
}
SKIP_REASONS = {
    "stopped": _l("Stopped texts"),
    "not_confirmed": _l("Has not confirmed texts"),
    "no_phone": _l("No mobile number"),
    "deleted": _l("Deleted their data"),
    loop.MOVED_OUT: _l("Their input was moved out of this theme"),
}
UNKNOWN_LABEL = _l("Not shared")


class Option(NamedTuple):
    id: int
    label: str


# Scoping ---------------------------------------------------------------------------------


def _scoped(query: sa.Select, column) -> sa.Select:
    allowed = visible_plan_ids()
    return query if allowed is None else query.where(column.in_(allowed))


def _visible_plans() -> list[Plan]:
    return list(db.session.scalars(_scoped(sa.select(Plan).order_by(Plan.name), Plan.id)))


def _plan_id(row) -> int:
    return row.plan_id


def _load(model, row_ids: Iterable[int], *options, plan_of: Callable = _plan_id) -> list:
    """These rows, each in a plan the signed-in user may see, or a 404: a missing row and
    another plan's row look the same. Admins see every plan. ``plan_of`` reads a row's
    plan when it has no ``plan_id`` of its own (a meeting's is its committee's)."""
    wanted = set(row_ids)
    rows = (
        list(db.session.scalars(sa.select(model).where(model.id.in_(wanted)).options(*options)).unique())
        if wanted
        else []
    )
    if len(rows) != len(wanted):
        abort(404)
    for row in rows:
        require_plan(plan_of(row))
    return sorted(rows, key=lambda row: row.id)


def _get(model, row_id: int, *options, plan_of: Callable = _plan_id):
    """One row of a plan the signed-in user may see, or a 404 (see ``_load``)."""
    return _load(model, [row_id], *options, plan_of=plan_of)[0]


def _visible_plans_or_404() -> list[Plan]:
    plans = _visible_plans()
    if not plans:
        abort(404)
    return plans


def _committee_options() -> tuple[list[Committee], list[Option]]:
    committees = visible_committees()
    several = several_plans(committees)
    return committees, [Option(c.id, committee_label(c, several)) for c in committees]


def _theme_options(plan_ids=None, *, changeable: bool = False) -> list[Option]:
    """Themes to choose from (newest first); ``changeable``: only those input may still
    join (not decided yet)."""
    query = _scoped(sa.select(Theme.id, Theme.title).order_by(Theme.id.desc()), Theme.plan_id)
    if plan_ids is not None:
        query = query.where(Theme.plan_id.in_(plan_ids))
    if changeable:
        query = query.where(Theme.status.in_(triage.CHANGEABLE))
    return [Option(i, theme_label(i, title)) for i, title in db.session.execute(query)]


def _move_choices(theme: Theme) -> list[Option]:
    """Where input taken out of this theme may go: the plan's other undecided themes."""
    return [o for o in _theme_options([theme.plan_id], changeable=True) if o.id != theme.id]


def theme_label(theme_id: int, title: dict) -> str:
    # TRANSLATORS: a theme in a list, e.g. "Clinic hours (theme 12)".
    return _("%(title)s (theme %(number)d)", title=any_version(title) or _("No name yet"), number=theme_id)


def _owners(plan_ids) -> list[StaffUser]:
    """Coordinators of these plans (a theme's owner is one of them)."""
    query = (
        sa.select(StaffUser)
        .where(
            StaffUser.role == Role.COORDINATOR,
            StaffUser.is_enabled.is_(True),
            StaffUser.id.in_(sa.select(staff_plans.c.staff_id).where(staff_plans.c.plan_id.in_(plan_ids))),
        )
        .order_by(StaffUser.name)
    )
    return list(db.session.scalars(query))


def _plan_ids_shown() -> list[int]:
    allowed = visible_plan_ids()
    return sorted(allowed) if allowed is not None else [p.id for p in _visible_plans()]


def _today():
    return datetime.now(ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])).date()


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _per_language(form, name: str) -> dict[str, str]:
    return {loc: (form[f"{name}_{loc}"].data or "").strip() for loc in locales() if f"{name}_{loc}" in form}


# Input ------------------------------------------------------------------------------------


@bp.route("/coordinator/input", methods=["GET", "POST"])
@allow("coordinator", "admin")
def input_list():
    committees, committee_options = _committee_options()
    filters = InputFilterForm(formdata=request.args)
    filters.set_choices(committee_options, locales())
    group = GroupForm()
    group.set_choices(_theme_options())
    if request.method == "POST":
        return _group(group)

    query = _scoped(sa.select(Input), Input.plan_id).options(
        joinedload(Input.theme), joinedload(Input.committee), joinedload(Input.question), selectinload(Input.people)
    )
    args = {}
    if filters.validate():
        if filters.committee.data:
            query = query.where(Input.committee_id == filters.committee.data)
            args["committee"] = filters.committee.data
        if filters.topic.data:
            query = query.where(Input.topic == filters.topic.data)
            args["topic"] = filters.topic.data
        if filters.language.data:
            query = query.where(Input.locale == filters.language.data)
            args["language"] = filters.language.data
        if filters.channel.data:
            query = query.where(Input.channel == filters.channel.data)
            args["channel"] = filters.channel.data
        if filters.unthemed.data:
            query = query.where(Input.theme_id.is_(None))
            args["unthemed"] = "y"
    query = query.order_by(Input.received_at.desc(), Input.id.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template(
        "feedback/coordinator/input_list.html",
        page=page,
        filters=filters,
        group=group,
        args=args,
        filtered=bool(args),
        topics=vocab.TOPICS,
        channels=vocab.CHANNELS,
    )


def _group(form: GroupForm):
    """Put the ticked input in a theme, or in a new one."""
    ids = {int(i) for i in request.form.getlist("input_ids") if i.isdigit()}
    if not form.validate_on_submit():
        flash(_("This form has expired. Please send it again."), "error")
        return redirect(url_for("feedback.input_list"))
    if not ids:
        flash(_("Tick the input you want to put in a theme first."), "warning")
        return redirect(url_for("feedback.input_list"))
    rows = _load(Input, ids, joinedload(Input.theme))
    plans = {row.plan_id for row in rows}
    if len(plans) > 1:
        flash(_("The input you ticked comes from different plans. A theme holds one plan's input."), "error")
        return redirect(url_for("feedback.input_list"))
    plan_id = plans.pop()
    if form.theme_id.data:
        theme = _get(Theme, form.theme_id.data)
        if theme.plan_id != plan_id:
            flash(_("This theme belongs to another plan. Choose one of this plan's themes."), "error")
            return redirect(url_for("feedback.input_list"))
    else:
        title = form.title.data or ""
        if not title:
            flash(_("Give the new theme a name."), "error")
            return redirect(url_for("feedback.input_list"))
        topic = form.topic.data or Counter(r.topic for r in rows).most_common(1)[0][0]
        committee_ids = {r.committee_id for r in rows}
        owner = current_user if getattr(current_user, "role", None) == Role.COORDINATOR else None
        theme = triage.create(
            plan_id,
            {current_locale(): title},
            topic=Topic(topic),
            committee_id=committee_ids.pop() if len(committee_ids) == 1 else None,
            owner=owner,
            by=current_user,
        )
        db.session.flush()
    kept = sum(
        1 for r in rows if r.theme is not None and r.theme_id != theme.id and not triage.can_change_input(r.theme)
    )
    moved = triage.assign(theme, rows, by=current_user)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d piece of input is now in this theme.", "%(num)d pieces of input are now in this theme.", moved
        ),
        "success",
    )
    if kept:
        flash(
            ngettext(
                "%(num)d piece of input stays in its theme: that theme is decided and the people were already told.",
                "%(num)d pieces of input stay in their themes: those themes are decided and the people were "
                "already told.",
                kept,
            ),
            "warning",
        )
    return redirect(url_for("feedback.theme", theme_id=theme.id))


@bp.get("/coordinator/input/<int:input_id>")
@allow("coordinator", "admin")
def input_detail(input_id: int):
    row = _get(Input, input_id, *INPUT_PAGE)
    return _input_page(row)


# What the input page shows with the input.
INPUT_PAGE = (
    joinedload(Input.theme),
    joinedload(Input.committee),
    joinedload(Input.meeting),
    joinedload(Input.question),
    joinedload(Input.organisation),
    selectinload(Input.people),
)


def _input_page(row: Input, translation: TranslationForm | None = None, move: MoveForm | None = None):
    if translation is None:
        translation = TranslationForm(
            data={
                "translation": row.translation or "",
                "translation_locale": row.translation_locale or current_locale(),
            }
        )
    translation.set_choices(locales())
    if move is None:
        move = MoveForm(data={"theme_id": row.theme_id})
    move.set_choices(_theme_options([row.plan_id]))
    recorded_by = db.session.get(StaffUser, row.recorded_by_id) if row.recorded_by_id else None
    return render_template(
        "feedback/coordinator/input_detail.html",
        row=row,
        translation=translation,
        move=move,
        recorded_by=recorded_by,
        topics=vocab.TOPICS,
        channels=vocab.CHANNELS,
    )


@bp.post("/coordinator/input/<int:input_id>/translation")
@allow("coordinator", "admin")
def input_translation(input_id: int):
    row = _get(Input, input_id, *INPUT_PAGE)
    form = TranslationForm()
    form.set_choices(locales())
    if not form.validate_on_submit():
        return _input_page(row, translation=form)
    intake.add_translation(row, form.translation.data or "", form.translation_locale.data)
    audit(current_user, "feedback.input_translated", row)
    db.session.commit()
    flash(_("The translation is saved.") if row.translation else _("The translation is removed."), "success")
    return redirect(url_for("feedback.input_detail", input_id=row.id))


@bp.post("/coordinator/input/<int:input_id>/theme")
@allow("coordinator", "admin")
def input_move(input_id: int):
    row = _get(Input, input_id, *INPUT_PAGE)
    form = MoveForm()
    form.set_choices(_theme_options([row.plan_id]))
    if not form.validate_on_submit():
        return _input_page(row, move=form)
    theme = _get(Theme, form.theme_id.data)
    if theme.id == row.theme_id:
        return redirect(url_for("feedback.input_detail", input_id=row.id))
    try:
        if row.theme is not None:
            was_in = row.theme
            cancelled = triage.take_out(was_in, row, by=current_user, move_to=theme)
            _audit_taken_out(was_in, row, theme, cancelled)
        else:
            triage.assign(theme, [row], by=current_user)
    except triage.TriageError as error:
        db.session.rollback()
        flash(_take_out_error(error), "error")
        return redirect(url_for("feedback.input_detail", input_id=input_id))
    db.session.commit()
    flash(_("The input is now in this theme."), "success")
    return redirect(url_for("feedback.input_detail", input_id=row.id))


# Themes ------------------------------------------------------------------------------------


@bp.get("/coordinator/themes")
@allow("coordinator", "admin")
def themes():
    committees, committee_options = _committee_options()
    owners = _owners(_plan_ids_shown())
    filters = ThemeFilterForm(formdata=request.args)
    filters.set_choices(committee_options, owners)
    query = _scoped(sa.select(Theme), Theme.plan_id).options(joinedload(Theme.committee), joinedload(Theme.owner))
    args = {}
    if filters.validate():
        if filters.status.data == "open":
            query = query.where(
                sa.or_(
                    Theme.status.not_in([ThemeStatus.DECIDED, ThemeStatus.CLOSED]), Theme.outcome == Outcome.DEFERRED
                )
            )
            args["status"] = "open"
        elif filters.status.data:
            query = query.where(Theme.status == filters.status.data)
            args["status"] = filters.status.data
        if filters.committee.data:
            query = query.where(Theme.committee_id == filters.committee.data)
            args["committee"] = filters.committee.data
        if filters.owner.data:
            query = query.where(Theme.owner_id == filters.owner.data)
            args["owner"] = filters.owner.data
        if filters.topic.data:
            query = query.where(Theme.topic == filters.topic.data)
            args["topic"] = filters.topic.data
    query = query.order_by(Theme.created_at.desc(), Theme.id.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=THEMES_PER_PAGE, error_out=False)
    ids = [t.id for t in page.items]
    counts = (
        dict(
            db.session.execute(
                sa.select(Input.theme_id, sa.func.count()).where(Input.theme_id.in_(ids)).group_by(Input.theme_id)
            ).all()
        )
        if ids
        else {}
    )
    now = utcnow()
    days_open = {t.id: (now - t.created_at).days for t in page.items if triage.is_open(t) and t.created_at is not None}
    return render_template(
        "feedback/coordinator/themes.html",
        page=page,
        filters=filters,
        args=args,
        filtered=bool(args),
        counts=counts,
        days_open=days_open,
        statuses=vocab.STATUSES,
        outcomes=vocab.OUTCOMES,
        topics=vocab.TOPICS,
    )


# What the theme page shows with the theme.
THEME_PAGE = (joinedload(Theme.committee), joinedload(Theme.owner))


def _theme_page(theme: Theme, **forms):
    langs = locales()
    owners = _owners([theme.plan_id])
    edit = forms.get("edit")
    if edit is None:
        data = {"topic": theme.topic.value, "owner_id": theme.owner_id or 0}
        for loc in langs:
            data[f"title_{loc}"] = (theme.title or {}).get(loc, "")
            data[f"summary_{loc}"] = (theme.summary or {}).get(loc, "")
        edit = theme_form(langs)(data=data)
    edit.set_choices(owners)
    take = forms.get("take") or TakeForm(
        data={"body": (theme.taken_to or DecisionBody.QIHEC).value, "taken_on": theme.taken_on or _today()}
    )
    take.set_choices()
    decide = forms.get("decide")
    if decide is None:
        data = {"outcome": (theme.outcome or Outcome.ADOPTED).value, "decided_on": theme.decided_on or _today()}
        data.update({f"reason_{loc}": (theme.reason or {}).get(loc, "") for loc in langs})
        decide = decide_form(langs)(data=data)
    decide.set_choices()
    note = forms.get("note") or NoteForm()
    can_change_input = triage.can_change_input(theme)
    remove = forms.get("remove") or RemoveForm(formdata=None)
    if can_change_input:
        remove.set_choices(_move_choices(theme))
    inputs = list(
        db.session.scalars(
            sa.select(Input)
            .where(Input.theme_id == theme.id)
            .options(selectinload(Input.people))
            .order_by(Input.received_at, Input.id)
        )
    )
    events = list(
        db.session.scalars(
            sa.select(ThemeEvent)
            .where(ThemeEvent.theme_id == theme.id)
            .options(joinedload(ThemeEvent.by))
            .order_by(ThemeEvent.at, ThemeEvent.id)
        )
    )
    people = loop.people_of(theme)
    people_languages = sorted({p.locale for p in people})
    return render_template(
        "feedback/coordinator/theme.html",
        theme=theme,
        langs=langs,
        inputs=inputs,
        events=events,
        loop_rows=_loop_rows(theme),
        people_count=len(people),
        people_languages=people_languages,
        edit=edit,
        take=take,
        decide=decide,
        note=note,
        remove=remove,
        remove_input_id=forms.get("remove_input_id"),
        can_change_input=can_change_input,
        can_delete=triage.can_delete(theme, len(inputs)),
        confirm=ConfirmForm(),
        statuses=vocab.STATUSES,
        outcomes=vocab.OUTCOMES,
        bodies=vocab.BODIES,
        topics=vocab.TOPICS,
        channels=vocab.CHANNELS,
        delivery=DELIVERY_LABELS,
        skip_reasons=SKIP_REASONS,
        is_open=triage.is_open(theme),
        can_review=theme.status == ThemeStatus.RECEIVED,
        can_take=theme.status in (ThemeStatus.RECEIVED, ThemeStatus.UNDER_REVIEW, ThemeStatus.TAKEN),
        can_decide=theme.status != ThemeStatus.CLOSED,
        decisions=theme.decisions,
        parse_date=date.fromisoformat,
    )


class LoopRow(NamedTuple):
    member: Member
    taken: tuple | None  # (LoopMessage, delivery status or None)
    decided: tuple | None


def _loop_rows(theme: Theme) -> list[LoopRow]:
    """Per person: the taken and decided texts, with how far each got."""
    found = db.session.execute(
        sa.select(LoopMessage, Member, OutboxMessage.status)
        .join(Member, Member.id == LoopMessage.member_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == LoopMessage.outbox_id)
        .where(LoopMessage.theme_id == theme.id)
        .order_by(Member.display_name, Member.id)
    ).all()
    by_member: dict[int, dict] = {}
    members: dict[int, Member] = {}
    for message, member, status in found:
        members[member.id] = member
        by_member.setdefault(member.id, {})[message.stage] = (message, status)
    return [
        LoopRow(members[mid], stages.get(LoopStage.TAKEN), stages.get(LoopStage.DECIDED))
        for mid, stages in by_member.items()
    ]


@bp.get("/coordinator/themes/<int:theme_id>")
@allow("coordinator", "admin")
def theme(theme_id: int):
    return _theme_page(_get(Theme, theme_id, *THEME_PAGE))


@bp.post("/coordinator/themes/<int:theme_id>/edit")
@allow("coordinator", "admin")
def theme_edit(theme_id: int):
    theme = _get(Theme, theme_id, *THEME_PAGE)
    langs = locales()
    form = theme_form(langs)()
    owners = _owners([theme.plan_id])
    form.set_choices(owners)
    if not form.validate_on_submit():
        return _theme_page(theme, edit=form)
    title = {k: v for k, v in _per_language(form, "title").items() if v}
    if not title:
        form[f"title_{langs[0]}"].errors.append(_("Give the theme a name in at least one language."))
        return _theme_page(theme, edit=form)
    summary = {k: v for k, v in _per_language(form, "summary").items() if v}
    changed = []
    if title != (theme.title or {}):
        theme.title = title
        changed.append("title")
    if summary != (theme.summary or {}):
        theme.summary = summary
        changed.append("summary")
    if form.topic.data != theme.topic.value:
        theme.topic = Topic(form.topic.data)
        changed.append("topic")
    if changed:
        triage._event(theme, theme.status, current_user, edited=changed)
    owner_id = form.owner_id.data or None
    if owner_id != theme.owner_id:
        owner = next((o for o in owners if o.id == owner_id), None) if owner_id else None
        triage.set_owner(theme, owner, by=current_user)
    db.session.commit()
    flash(_("The theme is saved."), "success")
    return redirect(url_for("feedback.theme", theme_id=theme.id))


def _triage_error(error: triage.TriageError) -> str:
    code = str(error)
    if code in TRIAGE_ERRORS:
        return str(TRIAGE_ERRORS[code])
    try:
        status = vocab.STATUSES[ThemeStatus(code)]
    except ValueError:
        return _("This change is not possible now.")
    return _("This step is not possible now: the theme is at “%(status)s”.", status=status)


def _skips(theme: Theme, stage: LoopStage) -> Counter:
    return Counter(
        dict(
            db.session.execute(
                sa.select(LoopMessage.skipped, sa.func.count())
                .where(LoopMessage.theme_id == theme.id, LoopMessage.stage == stage, LoopMessage.skipped.is_not(None))
                .group_by(LoopMessage.skipped)
            ).all()
        )
    )


def _flash_texted(texted: int, skipped: Counter) -> None:
    parts = [ngettext("We texted %(num)d person.", "We texted %(num)d people.", texted)]
    if skipped.get("stopped"):
        parts.append(
            ngettext(
                "%(num)d has stopped texts and was not texted.",
                "%(num)d have stopped texts and were not texted.",
                skipped["stopped"],
            )
        )
    if skipped.get("not_confirmed"):
        parts.append(
            ngettext(
                "%(num)d has not confirmed texts and was not texted.",
                "%(num)d have not confirmed texts and were not texted.",
                skipped["not_confirmed"],
            )
        )
    if skipped.get("no_phone"):
        parts.append(
            ngettext(
                "%(num)d has no mobile number and was not texted.",
                "%(num)d have no mobile number and were not texted.",
                skipped["no_phone"],
            )
        )
    flash(" ".join(parts), "success")


@bp.post("/coordinator/themes/<int:theme_id>/review")
@allow("coordinator", "admin")
def theme_review(theme_id: int):
    theme = _get(Theme, theme_id, *THEME_PAGE)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        triage.review(theme, by=current_user)
    except triage.TriageError as error:
        flash(_triage_error(error), "error")
        return redirect(url_for("feedback.theme", theme_id=theme.id))
    db.session.commit()
    flash(_("The theme is under review."), "success")
    return redirect(url_for("feedback.theme", theme_id=theme.id))


@bp.post("/coordinator/themes/<int:theme_id>/take")
@allow("coordinator", "admin")
def theme_take(theme_id: int):
    theme = _get(Theme, theme_id, *THEME_PAGE)
    form = TakeForm()
    form.set_choices()
    if not form.validate_on_submit():
        return _theme_page(theme, take=form)
    before = _skips(theme, LoopStage.TAKEN)
    try:
        texted = triage.take(
            theme, DecisionBody(form.body.data), form.taken_on.data, by=current_user, note=form.note.data or None
        )
    except triage.TriageError as error:
        db.session.rollback()
        flash(_triage_error(error), "error")
        return redirect(url_for("feedback.theme", theme_id=theme_id))
    skipped = _skips(theme, LoopStage.TAKEN) - before
    audit(current_user, "feedback.theme_taken", theme, body=form.body.data, texted=texted)
    db.session.commit()
    flash(_("Saved: taken to %(body)s.", body=vocab.BODIES[theme.taken_to]), "success")
    _flash_texted(texted, skipped)
    return redirect(url_for("feedback.theme", theme_id=theme_id))


@bp.post("/coordinator/themes/<int:theme_id>/decide")
@allow("coordinator", "admin")
def theme_decide(theme_id: int):
    theme = _get(Theme, theme_id, *THEME_PAGE)
    langs = locales()
    form = decide_form(langs)()
    form.set_choices()
    if not form.validate_on_submit():
        return _theme_page(theme, decide=form)
    reason = {k: v for k, v in _per_language(form, "reason").items() if v}
    if not reason:
        form[f"reason_{langs[0]}"].errors.append(str(TRIAGE_ERRORS["reason"]))
        return _theme_page(theme, decide=form)
    before = _skips(theme, LoopStage.DECIDED)
    try:
        texted = triage.decide(theme, Outcome(form.outcome.data), reason, form.decided_on.data, by=current_user)
    except triage.TriageError as error:
        db.session.rollback()
        flash(_triage_error(error), "error")
        return redirect(url_for("feedback.theme", theme_id=theme_id))
    skipped = _skips(theme, LoopStage.DECIDED) - before
    missing = sorted({p.locale for p in loop.people_of(theme)} - set(reason))
    audit(current_user, "feedback.theme_decided", theme, outcome=form.outcome.data, texted=texted)
    db.session.commit()
    flash(_("Saved: %(outcome)s.", outcome=vocab.OUTCOMES[Outcome(form.outcome.data)]), "success")
    _flash_texted(texted, skipped)
    if missing:
        flash(
            _(
                "There is no reason written in %(languages)s. People who read it got a link to the web page "
                "instead of the reason.",
                languages=", ".join(language_name(loc) for loc in missing),
            ),
            "warning",
        )
    return redirect(url_for("feedback.theme", theme_id=theme_id))


@bp.post("/coordinator/themes/<int:theme_id>/note")
@allow("coordinator", "admin")
def theme_note(theme_id: int):
    theme = _get(Theme, theme_id, *THEME_PAGE)
    form = NoteForm()
    if not form.validate_on_submit():
        return _theme_page(theme, note=form)
    triage.note(theme, form.note.data, by=current_user)
    db.session.commit()
    flash(_("The note is added to the timeline."), "success")
    return redirect(url_for("feedback.theme", theme_id=theme.id) + "#timeline")


TAKE_OUT_ERRORS = {
    "decided": _l(
        "This input stays in this theme: the theme is decided, and the people who gave the input were already "
        "told what was decided."
    ),
    "move to decided": _l(
        "The theme you chose is decided already, and its people were told. Choose a theme that is not decided yet."
    ),
    "move to": _l("Choose another theme of the same plan."),
    "not in theme": _l("This input is not in this theme any more."),
}


def _take_out_error(error: triage.TriageError) -> str:
    return str(TAKE_OUT_ERRORS.get(str(error), _("This change is not possible now.")))


def _audit_taken_out(theme: Theme, row: Input, move_to: Theme | None, cancelled: int) -> None:
    audit(
        current_user,
        "feedback.input_taken_out",
        theme,
        input_id=row.id,
        moved_to=move_to.id if move_to is not None else None,
        texts_cancelled=cancelled,
    )


DELETE_ERRORS = {
    "taken": _l("This theme was taken to decision-makers, so it stays on record."),
    "not empty": _l("This theme still holds input. Take it out first, or keep the theme."),
}


@bp.post("/coordinator/themes/<int:theme_id>/delete")
@allow("coordinator", "admin")
def theme_delete(theme_id: int):
    """Delete a theme that holds no input and has not gone to decision-makers
    (``triage.delete_empty``); audited with its names."""
    theme = _get(Theme, theme_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    title = any_version(theme.title) or _("No name yet")
    audit(current_user, "feedback.theme_deleted", theme, title=theme.title, status=str(theme.status))
    try:
        triage.delete_empty(theme)
    except triage.TriageError as error:
        db.session.rollback()
        flash(str(DELETE_ERRORS[str(error)]), "error")
        return redirect(url_for("feedback.theme", theme_id=theme_id))
    db.session.commit()
    flash(_("The theme “%(theme)s” is deleted.", theme=title), "success")
    return redirect(url_for("feedback.themes"))


@bp.post("/coordinator/themes/<int:theme_id>/input/<int:input_id>/take-out")
@allow("coordinator", "admin")
def theme_take_out(theme_id: int, input_id: int):
    """Take a piece of input put in the wrong theme back out, maybe into another theme of
    the plan: only while the theme is not decided (``triage.take_out``)."""
    theme = _get(Theme, theme_id, *THEME_PAGE)
    row = _get(Input, input_id, selectinload(Input.people))
    form = RemoveForm()
    form.set_choices(_move_choices(theme))
    back = url_for("feedback.theme", theme_id=theme.id) + "#input"
    if row.theme_id != theme.id:
        flash(_take_out_error(triage.TriageError("not in theme")), "warning")
        return redirect(back)
    if not triage.can_change_input(theme):
        flash(_take_out_error(triage.TriageError("decided")), "error")
        return redirect(back)
    if not form.validate_on_submit():
        return _theme_page(theme, remove=form, remove_input_id=row.id)
    move_to = _get(Theme, form.theme_id.data) if form.theme_id.data else None
    try:
        cancelled = triage.take_out(theme, row, by=current_user, move_to=move_to)
    except triage.TriageError as error:
        db.session.rollback()
        flash(_take_out_error(error), "error")
        return redirect(back)
    _audit_taken_out(theme, row, move_to, cancelled)
    db.session.commit()
    if move_to is not None:
        flash(
            _(
                "Input %(number)d is out of this theme and now in “%(theme)s”.",
                number=row.id,
                theme=any_version(move_to.title) or _("No name yet"),
            ),
            "success",
        )
    else:
        flash(
            _("Input %(number)d is out of this theme. It is with the input not in a theme yet.", number=row.id),
            "success",
        )
    if cancelled:
        flash(
            ngettext(
                "%(num)d text about this theme had not gone yet and will not be sent.",
                "%(num)d texts about this theme had not gone yet and will not be sent.",
                cancelled,
            ),
            "success",
        )
    return redirect(back)


# Decisions ------------------------------------------------------------------------------------


@bp.get("/coordinator/decisions")
@allow("coordinator", "admin")
def decision_list():
    query = (
        _scoped(sa.select(Decision), Decision.plan_id)
        .options(selectinload(Decision.themes), selectinload(Decision.inputs))
        .order_by(Decision.decided_on.desc(), Decision.id.desc())
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("feedback/coordinator/decisions.html", page=page, bodies=vocab.BODIES_SHORT)


def _decision_page(form, decision: Decision | None, plans: list[Plan]):
    return render_template(
        "feedback/coordinator/decision_form.html",
        form=form,
        decision=decision,
        plans=plans,
        langs=locales(),
    )


def _parse_ids(text: str) -> list[int] | None:
    parts = (text or "").replace(",", " ").split()
    if not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def _save_decision(form, decision: Decision | None, plans: list[Plan]):
    plan_id = decision.plan_id if decision else form.plan_id.data
    require_plan(plan_id)
    ok = True
    title = _per_language(form, "title")
    if not any(title.values()):
        form[f"title_{locales()[0]}"].errors.append(_("Write a title in at least one language."))
        ok = False
    theme_ids = set(form.theme_ids.data or [])
    if theme_ids:
        mine = set(db.session.scalars(sa.select(Theme.id).where(Theme.id.in_(theme_ids), Theme.plan_id == plan_id)))
        if mine != theme_ids:
            form.theme_ids.errors.append(_("Choose themes of this decision's plan only."))
            ok = False
    input_ids = _parse_ids(form.input_ids.data)
    if input_ids is None:
        form.input_ids.errors.append(_("Write only numbers, with spaces between them."))
        ok = False
    elif input_ids:
        mine = set(db.session.scalars(sa.select(Input.id).where(Input.id.in_(input_ids), Input.plan_id == plan_id)))
        unknown = sorted(set(input_ids) - mine)
        if unknown:
            form.input_ids.errors.append(
                _(
                    "There is no input with these numbers in this plan: %(numbers)s.",
                    numbers=" ".join(str(n) for n in unknown),
                )
            )
            ok = False
    if not ok:
        return _decision_page(form, decision, plans)
    created = decision is None
    decision = decisions.save(
        plan_id,
        body=DecisionBody(form.body.data),
        decided_on=form.decided_on.data,
        title=title,
        summary=_per_language(form, "summary"),
        rationale=_per_language(form, "rationale"),
        theme_ids=theme_ids,
        input_ids=input_ids or [],
        by=current_user,
        decision=decision,
    )
    db.session.flush()
    audit(current_user, "feedback.decision_created" if created else "feedback.decision_updated", decision)
    db.session.commit()
    flash(_("The decision is saved."), "success")
    return redirect(url_for("feedback.decision_edit", decision_id=decision.id))


@bp.route("/coordinator/decisions/new", methods=["GET", "POST"])
@allow("coordinator", "admin")
def decision_new():
    plans = _visible_plans_or_404()
    form = decision_form(locales())(data={"plan_id": plans[0].id, "decided_on": _today(), "body": "qihec"})
    form.set_choices(plans, _theme_options([p.id for p in plans]))
    if form.validate_on_submit():
        return _save_decision(form, None, plans)
    return _decision_page(form, None, plans)


@bp.route("/coordinator/decisions/<int:decision_id>", methods=["GET", "POST"])
@allow("coordinator", "admin")
def decision_edit(decision_id: int):
    decision = _get(Decision, decision_id, selectinload(Decision.themes), selectinload(Decision.inputs))
    plans = [p for p in _visible_plans() if p.id == decision.plan_id]
    langs = locales()
    data = {
        "plan_id": decision.plan_id,
        "body": decision.body.value,
        "decided_on": decision.decided_on,
        "theme_ids": [t.id for t in decision.themes],
        "input_ids": " ".join(str(i.id) for i in decision.inputs),
    }
    for name in decisions.TEXT_FIELDS:
        data.update({f"{name}_{loc}": getattr(decision, name).get(loc, "") for loc in langs})
    form = decision_form(langs)(data=None if request.method == "POST" else data)
    form.set_choices(plans, _theme_options([decision.plan_id]))
    del form.plan_id  # a decision stays in its plan
    if form.validate_on_submit():
        return _save_decision(form, decision, plans)
    return _decision_page(form, decision, plans)


@bp.get("/coordinator/decisions.csv")
@allow("coordinator", "admin")
def decisions_csv():
    text = decisions.export_csv(visible_plan_ids())
    audit(current_user, "feedback.decisions_exported", None, rows=max(text.count("\n") - 1, 0))
    db.session.commit()
    return _csv_response(text, "decisions.csv")


@bp.route("/coordinator/decisions/import", methods=["GET", "POST"])
@allow("coordinator", "admin")
def decisions_import():
    plans = _visible_plans_or_404()
    form = ImportForm(data={"plan_id": plans[0].id} if request.method == "GET" else None)
    form.set_choices(plans)
    result = None
    errors = []
    if form.validate_on_submit():
        require_plan(form.plan_id.data)
        raw = form.file.data.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors.append(_("This file is not plain CSV text (UTF-8). Save it as “CSV UTF-8” and try again."))
        else:
            result = decisions.import_csv(form.plan_id.data, text, by=current_user)
            audit(
                current_user,
                "feedback.decisions_imported",
                None,
                plan_id=form.plan_id.data,
                created=result.created,
                updated=result.updated,
                errors=len(result.errors),
            )
            db.session.commit()
            errors = [(line, IMPORT_ERRORS.get(code, code)) for line, code in result.errors]
    return render_template(
        "feedback/coordinator/decisions_import.html", form=form, plans=plans, result=result, errors=errors
    )


# Questions by text ------------------------------------------------------------------------


@bp.get("/coordinator/questions")
@allow("coordinator", "admin")
def questions():
    query = (
        _scoped(sa.select(Question), Question.plan_id)
        .options(joinedload(Question.committee))
        .order_by(Question.created_at.desc(), Question.id.desc())
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    ids = [q.id for q in page.items]
    answers = (
        dict(
            db.session.execute(
                sa.select(Input.question_id, sa.func.count())
                .where(Input.question_id.in_(ids))
                .group_by(Input.question_id)
            ).all()
        )
        if ids
        else {}
    )
    return render_template(
        "feedback/coordinator/questions.html", page=page, answers=answers, topics=vocab.TOPICS, now=utcnow()
    )


class LanguageCheck(NamedTuple):
    locale: str
    typed: str
    rendered: str | None
    segments: object
    will_get: int


def _audience(plan_id: int, committee_id: int, languages, county) -> list[Member]:
    query = sa.select(Member).where(Member.deleted_at.is_(None))
    if committee_id:
        query = query.join(
            CommitteeMembership,
            sa.and_(
                CommitteeMembership.member_id == Member.id,
                CommitteeMembership.committee_id == committee_id,
                CommitteeMembership.status == RosterStatus.ACTIVE,
            ),
        ).where(Member.plan_id == plan_id)
    else:
        query = query.where(Member.plan_id == plan_id)
    if languages:
        query = query.where(Member.locale.in_(languages))
    if county:
        query = query.where(Member.county == county)
    return list(db.session.scalars(query.order_by(Member.id)))


def _why_not(member: Member, stopped: set[str], typed: dict[str, str]) -> str | None:
    """The same rules ``intake.ask`` keeps, said for the preview."""
    if not member.phone:
        return "no_phone"
    if member.phone in stopped or member.sms_status == SmsStatus.STOPPED:
        return "stopped"
    if member.sms_status != SmsStatus.ACTIVE:
        return "not_confirmed"
    if not typed.get(member.locale):
        return "no_version"
    return None


def _still_answering(phones: list[str]) -> int:
    """How many of these numbers engage still expects an answer from (an earlier question
    still open, or what they need for a meeting): a conversation holds one such wait, so
    their next reply will count for the new question instead. One query."""
    if not phones:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Conversation)
        .where(
            Conversation.phone.in_(phones),
            Conversation.awaiting.is_not(None),
            sa.or_(Conversation.awaiting_until.is_(None), Conversation.awaiting_until > utcnow()),
        )
    )


@bp.route("/coordinator/questions/new", methods=["GET", "POST"])
@allow("coordinator", "admin")
def question_new():
    langs = locales()
    plans = _visible_plans_or_404()
    committees = [c for c in visible_committees() if c.plan_id in {p.id for p in plans}]
    several = len(plans) > 1
    counties = sorted(
        {
            c
            for c in db.session.scalars(
                sa.select(Member.county)
                .where(Member.plan_id.in_([p.id for p in plans]), Member.county.is_not(None))
                .distinct()
            )
            if c
        }
    )
    form = question_form(langs)(data={"plan_id": plans[0].id, "topic": "other"} if request.method == "GET" else None)
    form.set_choices(
        plans,
        [Option(c.id, committee_label(c, several)) for c in committees],
        [(c, county_label(c)) for c in counties],
        langs,
    )
    checks = None
    tally = None
    if form.validate_on_submit():
        plan = next(p for p in plans if p.id == form.plan_id.data)
        committee = next((c for c in committees if c.id == form.committee_id.data), None)
        typed = {loc: (form[f"text_{loc}"].data or "").strip() for loc in langs}
        ok = True
        if committee is not None and committee.plan_id != plan.id:
            form.committee_id.errors.append(_("This committee belongs to another plan. Choose one of this plan's."))
            ok = False
        if not any(typed.values()):
            form[f"text_{langs[0]}"].errors.append(_("Write the question in at least one language."))
            ok = False
        if ok:
            members = _audience(plan.id, committee.id if committee else 0, form.languages.data or [], form.county.data)
            stopped = {
                p
                for p in db.session.scalars(
                    sa.select(SmsOptOut.phone).where(SmsOptOut.phone.in_({m.phone for m in members if m.phone}))
                )
            }
            why = [(m, _why_not(m, stopped, typed)) for m in members]
            reasons = Counter(reason for _m, reason in why)
            reaching = [m for m, reason in why if reason is None]
            by_language = Counter(m.locale for m in reaching)
            tally = {
                "will_get": reasons.pop(None, 0),
                "stopped": reasons.get("stopped", 0),
                "not_confirmed": reasons.get("not_confirmed", 0),
                "no_version": reasons.get("no_version", 0),
                "no_phone": reasons.get("no_phone", 0),
                "answering": _still_answering([m.phone for m in reaching]),
            }
            checks = []
            for loc in langs:
                rendered = None
                segments = None
                if typed[loc]:
                    with force_locale(loc):
                        rendered = texts.question(plan=plan.short_name, question=typed[loc])
                    segments = count_segments(rendered)
                    if segments.count > QUESTION_MAX_SEGMENTS:
                        form[f"text_{loc}"].errors.append(
                            _(
                                "This question takes %(num)d text messages. Make it shorter: at most %(max)d.",
                                num=segments.count,
                                max=QUESTION_MAX_SEGMENTS,
                            )
                        )
                        ok = False
                checks.append(LanguageCheck(loc, typed[loc], rendered, segments, by_language.get(loc, 0)))
            if ok and tally["will_get"] == 0:
                form.committee_id.errors.append(_("Nobody in this group can get this question. Choose another group."))
                ok = False
            if ok and request.form.get("action") == "send":
                question = Question(
                    plan_id=plan.id,
                    committee_id=committee.id if committee else None,
                    topic=Topic(form.topic.data),
                    text={k: v for k, v in typed.items() if v},
                    created_by_id=current_user.id,
                )
                db.session.add(question)
                db.session.flush()
                texted, skipped = intake.ask(question, members, days_open=form.days_open.data)
                audit(current_user, "feedback.question_sent", question, texted=texted, skipped=skipped)
                db.session.commit()
                flash(
                    ngettext(
                        "We texted the question to %(num)d person.", "We texted the question to %(num)d people.", texted
                    )
                    + (
                        " "
                        + ngettext(
                            "%(num)d was not texted (see why on the form).",
                            "%(num)d were not texted (see why on the form).",
                            skipped,
                        )
                        if skipped
                        else ""
                    ),
                    "success",
                )
                return redirect(url_for("feedback.question", question_id=question.id))
    return render_template(
        "feedback/coordinator/question_form.html",
        form=form,
        langs=langs,
        plans=plans,
        checks=checks,
        tally=tally,
        warn_segments=QUESTION_WARN_SEGMENTS,
        max_segments=QUESTION_MAX_SEGMENTS,
    )


@bp.get("/coordinator/questions/<int:question_id>")
@allow("coordinator", "admin")
def question(question_id: int):
    row = _get(Question, question_id, joinedload(Question.committee))
    answers = list(
        db.session.scalars(
            sa.select(Input)
            .where(Input.question_id == row.id)
            .options(selectinload(Input.people), joinedload(Input.theme))
            .order_by(Input.received_at.desc(), Input.id.desc())
        )
    )
    return render_template(
        "feedback/coordinator/question.html",
        question=row,
        answers=answers,
        langs=[loc for loc in locales() if loc in (row.text or {})],
        topics=vocab.TOPICS,
        now=utcnow(),
    )


# Input recorded during a meeting --------------------------------------------------------------


@bp.route("/coordinator/meetings/<int:meeting_id>/input", methods=["GET", "POST"])
@allow("coordinator", "admin")
def meeting_input(meeting_id: int):
    meeting = _get(Meeting, meeting_id, joinedload(Meeting.committee), plan_of=lambda m: m.committee.plan_id)
    attendees = list(
        db.session.scalars(
            sa.select(Member)
            .join(Attendance, Attendance.member_id == Member.id)
            .where(Attendance.meeting_id == meeting.id, Member.deleted_at.is_(None))
            .order_by(Member.display_name, Member.id)
        )
    )
    form = MeetingInputForm(data={"locale": current_locale(), "topic": "other"} if request.method == "GET" else None)
    form.set_choices(locales(), attendees)
    if form.validate_on_submit():
        chosen = set(form.people.data or [])
        people = [m for m in attendees if m.id in chosen]
        if not people and not form.whole_committee.data:
            form.people.errors.append(_("Tick who said it, or the committee as a whole."))
        else:
            intake.from_meeting(
                meeting,
                form.body.data,
                Topic(form.topic.data),
                people=people,
                locale=form.locale.data,
                by=current_user,
                from_committee=bool(form.whole_committee.data),
            )
            db.session.commit()
            flash(_("Saved. You can write the next one."), "success")
            return redirect(url_for("feedback.meeting_input", meeting_id=meeting.id))
    recorded = list(
        db.session.scalars(
            sa.select(Input)
            .where(Input.meeting_id == meeting.id)
            .options(selectinload(Input.people))
            .order_by(Input.received_at.desc(), Input.id.desc())
        )
    )
    return render_template(
        "feedback/coordinator/meeting_input.html",
        meeting=meeting,
        form=form,
        attendees=attendees,
        recorded=recorded,
        topics=vocab.TOPICS,
    )


# Measures -------------------------------------------------------------------------------------

DIMENSION_LABELS = {
    "topic": _l("By topic"),
    "language": _l("By language"),
    "county": _l("By county"),
    "race_ethnicity": _l("By race and ethnicity"),
}


def _race_labels() -> dict[str, str]:
    labels = {RACE_DECLINE: str(_l("Prefer not to say"))}
    for code, (label, subgroups) in RACE_ETHNICITY.items():
        labels[code] = str(label)
        labels.update({k: f"{label}: {v}" for k, v in subgroups.items()})
    return labels


def group_label(dimension: str, key: str) -> str:
    if key == measures.UNKNOWN:
        return str(UNKNOWN_LABEL)
    if dimension == "topic":
        try:
            return str(vocab.TOPICS[Topic(key)])
        except ValueError:
            return key
    if dimension == "language":
        try:
            return language_name(key)
        except ValueError:
            return key
    if dimension == "county":
        return county_label(key)
    if dimension == "race_ethnicity":
        return _race_labels().get(key, key)
    return key


class MeasuresFilter(NamedTuple):
    form: MeasuresFilterForm
    plan_ids: set[int] | None  # None: every plan (admins)
    since: datetime | None  # UTC, included
    until: datetime | None  # UTC, not included
    args: dict  # what the filter holds, for the CSV link
    dates_dropped: bool  # a date could not be used: every date is counted


def _local_midnight(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["ENGAGE_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _measures_filter() -> MeasuresFilter:
    """The plan (for people who see several) and the days the input was received, from
    the query string. A date that cannot be used gets an error on its field and the
    figures cover every date; another plan's number is not a choice, so all plans."""
    plans = _visible_plans()
    form = MeasuresFilterForm(formdata=request.args)
    if len(plans) > 1:
        form.set_choices(plans)
    else:
        del form.plan
    form.validate()
    plan_ids = visible_plan_ids()
    args: dict = {}
    if "plan" in form and not form.plan.errors and form.plan.data:
        plan_ids = {form.plan.data}
        args["plan"] = form.plan.data
    since = until = None
    dates_dropped = bool(form.received_from.errors or form.received_to.errors)
    if not dates_dropped:
        if form.received_from.data:
            since = _local_midnight(form.received_from.data)
            args["received_from"] = form.received_from.data.isoformat()
        if form.received_to.data:
            until = _local_midnight(form.received_to.data + timedelta(days=1))
            args["received_to"] = form.received_to.data.isoformat()
    return MeasuresFilter(form, plan_ids, since, until, args, dates_dropped)


@bp.get("/coordinator/measures")
@allow("coordinator", "admin")
def measures_page():
    chosen = _measures_filter()
    result = measures.compute(chosen.plan_ids, since=chosen.since, until=chosen.until)
    tables = [
        (
            dimension,
            DIMENSION_LABELS[dimension],
            sorted(
                ((group_label(dimension, key), group) for key, group in result.by[dimension].items()),
                key=lambda pair: pair[0],
            ),
        )
        for dimension in measures.DIMENSIONS
    ]
    return render_template(
        "feedback/coordinator/measures.html",
        overall=result.overall,
        tables=tables,
        open_days=measures.OPEN_DAYS,
        filters=chosen.form,
        args=chosen.args,
        filtered=bool(chosen.args),
        dates_dropped=chosen.dates_dropped,
    )


@bp.get("/coordinator/measures.csv")
@allow("coordinator", "admin")
def measures_csv():
    chosen = _measures_filter()
    text = measures.to_csv(measures.compute(chosen.plan_ids, since=chosen.since, until=chosen.until))
    audit(current_user, "feedback.measures_exported", None, **chosen.args)
    db.session.commit()
    return _csv_response(text, "input-measures.csv")
