"""Rosters of families: the query, the filters and the CSV export, shared by a CBO's
``/partner/families`` and the coordinator's ``/coordinator/members``.

Whoever calls ``roster_query`` has already decided the scope (one organisation, or
the plans a coordinator may see). A page of the roster is two queries and an export
is one, however many families there are.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from engage.i18n import fmt_date, language_name
from engage.members.vocab import AGE_GROUPS, INTERPRETER_LANGUAGES, NEEDS, PARTICIPATION, county_label
from engage.models import Member, MemberSource, Organisation, Plan, SmsOptOut, SmsStatus
from engage.partner.forms import SOURCE_LABELS, RosterFilterForm

PER_PAGE = 50
CONFIRMED, PENDING, STOPPED = "confirmed", "pending", "stopped"
STATUS_LABELS = {
    CONFIRMED: _l("Confirmed"),
    PENDING: _l("Waiting for the code"),
    STOPPED: _l("Stopped texts"),
}

# Stopped when the number said STOP (even if the member row has not caught up).
status_column = sa.case(
    (SmsOptOut.phone.is_not(None), sa.literal(STOPPED)),
    (Member.sms_status == SmsStatus.STOPPED, sa.literal(STOPPED)),
    (Member.sms_status == SmsStatus.ACTIVE, sa.literal(CONFIRMED)),
    else_=sa.literal(PENDING),
).label("status")


def roster_query(scope) -> sa.Select:
    """``(Member, status)`` rows of members matching ``scope`` (a WHERE clause), not deleted,
    with their organisation and plan loaded."""
    return (
        sa.select(Member, status_column)
        .outerjoin(SmsOptOut, SmsOptOut.phone == Member.phone)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(Plan, Plan.id == Member.plan_id)
        .options(contains_eager(Member.organisation), contains_eager(Member.plan))
        .where(Member.deleted_at.is_(None), scope)
    )


def apply_filters(query: sa.Select, form: RosterFilterForm) -> tuple[sa.Select, bool]:
    filters = form.values()
    if filters.get("language"):
        query = query.where(Member.locale == filters["language"])
    if filters.get("county"):
        query = query.where(Member.county == filters["county"])
    if filters.get("source"):
        query = query.where(Member.source == MemberSource(filters["source"]))
    if filters.get("need") in NEEDS:
        query = query.where(Member.needs[filters["need"]].as_boolean() == sa.true())
    if filters.get("organisation"):
        query = query.where(Member.organisation_id == filters["organisation"])
    return query, bool(filters)


def ordered(query: sa.Select) -> sa.Select:
    return query.order_by(Member.created_at.desc(), Member.id.desc())


def paginate(db, query: sa.Select, page: int):
    """One page of ``(Member, status)`` rows: a count and a select."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(ordered(query).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
    return {"rows": rows, "total": total, "page": page, "pages": pages}


def needs_labels(needs: dict | None) -> list[str]:
    needs = needs or {}
    labels = []
    for key, label in NEEDS.items():
        if needs.get(key):
            if key == "interpreter" and needs.get("interpreter_language") in INTERPRETER_LANGUAGES:
                labels.append(
                    _(
                        "%(need)s (%(language)s)",
                        need=label,
                        language=INTERPRETER_LANGUAGES[needs["interpreter_language"]],
                    )
                )
            else:
                labels.append(str(label))
    if needs.get("accessibility"):
        labels.append(needs["accessibility"])
    return labels


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(db, query: sa.Select, filename: str, *, with_organisation: bool) -> tuple[Response, int]:
    """The whole roster as CSV, in one query. Returns the response and the row count."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = [
        _("Name"),
        _("Mobile number"),
        _("Language"),
        _("County"),
        _("ZIP code"),
        _("Health plan"),
    ]
    if with_organisation:
        header.append(_("Community organisation"))
    header += [
        _("How they signed up"),
        _("Status"),
        _("Joined"),
        _("Children's ages"),
        _("How they want to take part"),
        _("Needs"),
    ]
    writer.writerow(header)
    count = 0
    for member, status in db.session.execute(ordered(query)).unique():
        count += 1
        row = [
            _cell(member.display_name),
            member.phone or "",
            language_name(member.locale) if member.locale else "",
            _cell(county_label(member.county) if member.county else ""),
            _cell(member.zip_code),
            member.plan.name if member.plan else "",
        ]
        if with_organisation:
            row.append(_cell(member.organisation.name if member.organisation else ""))
        row += [
            str(SOURCE_LABELS.get(member.source, member.source)),
            str(STATUS_LABELS[status]),
            fmt_date(member.created_at, "short"),
            "; ".join(str(AGE_GROUPS.get(a, a)) for a in member.child_age_groups or []),
            "; ".join(str(PARTICIPATION.get(p, p)) for p in member.participation or []),
            _cell("; ".join(needs_labels(member.needs))),
        ]
        writer.writerow(row)
    # A byte-order mark so spreadsheet programs read Spanish and Chinese names correctly.
    body = "\ufeff" + out.getvalue()
    response = Response(body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, count


def filtered(scope, locales: list[str], request_args, organisations=None):
    """The filter form (read from the query string), the roster query it gives and the
    filters in use (empty when none, or when they did not make sense)."""
    form = RosterFilterForm(formdata=request_args)
    form.set_choices(locales, organisations)
    query = roster_query(scope)
    if not form.validate():
        return form, query, {}
    query, _is_filtered = apply_filters(query, form)
    return form, query, form.values()
