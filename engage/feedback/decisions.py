"""The plan's decisions, linked to the themes and input that shaped them; CSV import
and export (one row per decision, a column per language for title, summary and
rationale; theme and input ids separated by spaces)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from engage.extensions import db
from engage.i18n import locales
from engage.models import Decision, DecisionBody, Input, Theme

TEXT_FIELDS = ("title", "summary", "rationale")


class DecisionError(ValueError):
    pass


def save(
    plan_id: int,
    *,
    body: DecisionBody,
    decided_on: date,
    title: dict,
    summary: dict | None = None,
    rationale: dict | None = None,
    theme_ids=(),
    input_ids=(),
    by=None,
    decision: Decision | None = None,
) -> Decision:
    title = {k: v.strip() for k, v in (title or {}).items() if v and v.strip()}
    if not title:
        raise DecisionError("title")
    if decision is None:
        decision = Decision(plan_id=plan_id, created_by_id=getattr(by, "id", None))
        db.session.add(decision)
    decision.body = DecisionBody(body)
    decision.decided_on = decided_on
    decision.title = title
    decision.summary = {k: v.strip() for k, v in (summary or {}).items() if v and v.strip()}
    decision.rationale = {k: v.strip() for k, v in (rationale or {}).items() if v and v.strip()}
    ids = {int(i) for i in theme_ids}
    decision.themes = (
        list(db.session.scalars(sa.select(Theme).where(Theme.id.in_(ids), Theme.plan_id == plan_id))) if ids else []
    )
    ids = {int(i) for i in input_ids}
    decision.inputs = (
        list(db.session.scalars(sa.select(Input).where(Input.id.in_(ids), Input.plan_id == plan_id))) if ids else []
    )
    return decision


def columns() -> list[str]:
    cols = ["id", "body", "decided_on"]
    for name in TEXT_FIELDS:
        cols += [f"{name}_{loc}" for loc in locales()]
    return [*cols, "theme_ids", "input_ids"]


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(plan_ids) -> str:
    query = sa.select(Decision).order_by(Decision.decided_on, Decision.id)
    if plan_ids is not None:
        query = query.where(Decision.plan_id.in_(plan_ids))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns())
    for d in db.session.scalars(query):
        row = [d.id, d.body.value, d.decided_on.isoformat()]
        for name in TEXT_FIELDS:
            row += [getattr(d, name).get(loc, "") for loc in locales()]
        row += [" ".join(str(t.id) for t in d.themes), " ".join(str(i.id) for i in d.inputs)]
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, what is wrong)


def import_csv(plan_id: int, text: str, *, by=None) -> ImportResult:
    """Create or update decisions (by id, within the plan). A bad line is reported with its
    number and skipped; good lines are kept. The caller commits."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"body", "decided_on"} <= set(reader.fieldnames):
        result.errors.append((1, "header"))
        return result
    for number, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip().lstrip("'") for k, v in raw.items() if k}
        try:
            body = DecisionBody(row.get("body", ""))
        except ValueError:
            result.errors.append((number, "body"))
            continue
        try:
            decided_on = date.fromisoformat(row.get("decided_on", ""))
        except ValueError:
            result.errors.append((number, "decided_on"))
            continue
        texts = {name: {loc: row.get(f"{name}_{loc}", "") for loc in locales()} for name in TEXT_FIELDS}
        existing = None
        if row.get("id"):
            if not row["id"].isdigit():
                result.errors.append((number, "id"))
                continue
            existing = db.session.get(Decision, int(row["id"]))
            if existing is None or existing.plan_id != plan_id:
                result.errors.append((number, "id"))
                continue
        try:
            theme_ids = [int(x) for x in row.get("theme_ids", "").split()]
            input_ids = [int(x) for x in row.get("input_ids", "").split()]
        except ValueError:
            result.errors.append((number, "ids"))
            continue
        try:
            with db.session.begin_nested():
                save(
                    plan_id,
                    body=body,
                    decided_on=decided_on,
                    theme_ids=theme_ids,
                    input_ids=input_ids,
                    by=by,
                    decision=existing,
                    **texts,
                )
        except DecisionError:
            result.errors.append((number, "title"))
            continue
        if existing is None:
            result.created += 1
        else:
            result.updated += 1
    return result
