"""Rosters: a CBO's own families (/partner/families) and a coordinator's sign-ups
(/coordinator/members): scoping, filters, CSV export with an audit row, and a number
of queries that does not grow with the number of families."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import AuditEvent, MemberSource, SmsOptOut, SmsStatus
from tests.conftest import login, make_member


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def many(cast, n: int, *, plan=None, organisation=None, start=0) -> None:
    for i in range(start, start + n):
        m = make_member(
            f"+1510555{3000 + i:04d}",
            f"Family {i}",
            plan=plan or cast.plan_a,
            organisation=organisation if organisation is not None else cast.org_a,
            locale=("en", "es", "zh_Hant")[i % 3],
        )
        m.needs = {"childcare": i % 2 == 0, "interpreter": False, "transport": False}
    db.session.commit()


@pytest.fixture
def mixed(cast):
    """Org A families with different languages, counties, sources, needs and statuses."""
    a = make_member("+15105550301", "Ana Childcare", plan=cast.plan_a, organisation=cast.org_a, locale="es")
    a.needs = {"childcare": True, "interpreter": True, "interpreter_language": "mixteco", "transport": False}
    b = make_member("+15105550302", "Ben Fresno", plan=cast.plan_a, organisation=cast.org_a, status=SmsStatus.PENDING)
    b.county = "Fresno"
    b.needs = {"childcare": False, "transport": True}
    c = make_member("+15105550303", "Chen Stopped", plan=cast.plan_a, organisation=cast.org_a, locale="zh_Hant")
    c.source = MemberSource.SMS
    db.session.add(SmsOptOut(phone=c.phone))
    make_member("+15105550304", "=HYPERLINK(evil)", plan=cast.plan_a, organisation=None)  # web, no CBO
    db.session.commit()
    return cast


# The CBO's families -------------------------------------------------------------------------


def test_partner_csv_has_only_the_organisations_families_and_is_audited(app, mixed, client):
    cast = mixed
    login(client, cast.cbo_a)
    rows = rows_of(client.get("/partner/families.csv"))
    names = {r["Name"] for r in rows}
    assert names == {"Paloma Parent", "Ana Childcare", "Ben Fresno", "Chen Stopped"}
    assert "Bernard Parent" not in names and "=HYPERLINK(evil)" not in names
    by_name = {r["Name"]: r for r in rows}
    assert by_name["Ana Childcare"]["Mobile number"] == "+15105550301"
    assert by_name["Ana Childcare"]["Language"] == "Spanish"
    assert "Childcare during meetings" in by_name["Ana Childcare"]["Needs"]
    assert "Mixteco" in by_name["Ana Childcare"]["Needs"]
    assert by_name["Ben Fresno"]["Status"] == "Waiting for the code"
    assert by_name["Chen Stopped"]["Status"] == "Stopped texts"
    assert by_name["Paloma Parent"]["Status"] == "Confirmed"
    assert "Community organisation" not in rows[0]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.export"))
    assert event.actor_id == cast.cbo_a.id
    assert event.target_type == "organisation" and event.target_id == cast.org_a.id
    assert event.detail == {"scope": "organisation", "filters": {}, "rows": 4}


def test_partner_filters(app, mixed, client):
    login(client, mixed.cbo_a)

    def names(query):
        return {r["Name"] for r in rows_of(client.get("/partner/families.csv" + query))}

    assert names("?language=es") == {"Paloma Parent", "Ana Childcare"}
    assert names("?county=Fresno") == {"Ben Fresno"}
    assert names("?source=sms") == {"Chen Stopped"}
    assert names("?need=childcare") == {"Ana Childcare"}
    assert names("?need=transport&county=Fresno") == {"Ben Fresno"}
    assert names("?need=interpreter&language=en") == set()
    # Filters the form does not know are ignored rather than trusted.
    assert len(names("?source=nonsense")) == 4
    last = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "roster.export").order_by(AuditEvent.id.desc())
    ).first()
    assert last.detail["filters"] == {} and last.detail["rows"] == 4
    first_filtered = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "roster.export").order_by(AuditEvent.id)
    ).first()
    assert first_filtered.detail == {"scope": "organisation", "filters": {"language": "es"}, "rows": 2}

    page = client.get("/partner/families?county=Fresno").get_data(as_text=True)
    assert "Ben Fresno" in page and "Ana Childcare" not in page
    assert "families.csv?county=Fresno" in page


def test_a_spreadsheet_formula_is_not_run(app, mixed, client):
    login(client, mixed.coord_a)
    rows = rows_of(client.get("/coordinator/members.csv"))
    assert "'=HYPERLINK(evil)" in {r["Name"] for r in rows}


def test_the_partner_page_shows_status_and_scope(app, mixed, client):
    login(client, mixed.cbo_b)
    page = client.get("/partner/families").get_data(as_text=True)
    assert "Bernard Parent" in page
    for other in ("Paloma Parent", "Ana Childcare", "Chen Stopped"):
        assert other not in page
    rows = rows_of(client.get("/partner/families.csv"))
    assert [r["Name"] for r in rows] == ["Bernard Parent"]


def test_partner_roster_queries_do_not_grow(app, cast, client, count_queries):
    login(client, cast.cbo_a)
    many(cast, 3)
    client.get("/partner/families")
    with count_queries() as few:
        assert client.get("/partner/families").status_code == 200
    with count_queries() as few_csv:
        client.get("/partner/families.csv")
    many(cast, 40, start=3)
    with count_queries() as lots:
        page = client.get("/partner/families").get_data(as_text=True)
    with count_queries() as lots_csv:
        rows = rows_of(client.get("/partner/families.csv"))
    assert "Family 42" in page
    assert len(rows) == 44
    assert lots.count == few.count
    assert lots_csv.count == few_csv.count


def test_the_roster_pages(app, cast, client):
    many(cast, 60)
    login(client, cast.cbo_a)
    first = client.get("/partner/families").get_data(as_text=True)
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/partner/families?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second


# The coordinator's sign-ups ----------------------------------------------------------------


def test_coordinators_see_only_their_plans(app, mixed, client):
    cast = mixed
    login(client, cast.coord_a)
    names = {r["Name"] for r in rows_of(client.get("/coordinator/members.csv"))}
    assert "Paloma Parent" in names and "'=HYPERLINK(evil)" in names
    assert "Bernard Parent" not in names
    page = client.get("/coordinator/members").get_data(as_text=True)
    assert "Paloma Parent" in page and "Bernard Parent" not in page
    # Plan B's organisation is not offered as a filter, and asking for it shows nothing of B.
    assert cast.org_b.name not in page
    names = {r["Name"] for r in rows_of(client.get(f"/coordinator/members.csv?organisation={cast.org_b.id}"))}
    assert "Bernard Parent" not in names

    login(client, cast.coord_b)
    names = {r["Name"] for r in rows_of(client.get("/coordinator/members.csv"))}
    assert names == {"Bernard Parent"}


def test_an_admin_sees_every_plan(app, mixed, client):
    login(client, mixed.admin)
    names = {r["Name"] for r in rows_of(client.get("/coordinator/members.csv"))}
    assert {"Paloma Parent", "Bernard Parent", "Chen Stopped"} <= names
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.export"))
    assert event.detail["plan_ids"] is None and event.detail["rows"] == len(names)


def test_coordinator_filters_and_audit(app, mixed, client):
    cast = mixed
    login(client, cast.coord_a)

    def names(query):
        return {r["Name"] for r in rows_of(client.get("/coordinator/members.csv" + query))}

    assert names(f"?organisation={cast.org_a.id}&language=es") == {"Paloma Parent", "Ana Childcare"}
    assert names("?source=web") == {"'=HYPERLINK(evil)"}
    assert names("?source=cbo&need=transport") == {"Ben Fresno"}
    assert names("?county=Fresno") == {"Ben Fresno"}
    rows = rows_of(client.get("/coordinator/members.csv?language=zh_Hant"))
    assert rows[0]["Community organisation"] == cast.org_a.name
    assert rows[0]["How they signed up"] == "Text message"
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "roster.export").order_by(AuditEvent.id)
    ).all()
    assert len(events) == 5
    assert all(e.actor_id == cast.coord_a.id for e in events)
    assert events[0].detail == {
        "scope": "plans",
        "plan_ids": [cast.plan_a.id],
        "filters": {"organisation": cast.org_a.id, "language": "es"},
        "rows": 2,
    }
    page = client.get("/coordinator/members?source=sms").get_data(as_text=True)
    assert "Chen Stopped" in page and "Ana Childcare" not in page
    assert "Stopped texts" in page


def test_coordinator_roster_queries_do_not_grow(app, cast, client, count_queries):
    login(client, cast.coord_a)
    many(cast, 3)
    client.get("/coordinator/members")
    with count_queries() as few:
        assert client.get("/coordinator/members").status_code == 200
    with count_queries() as few_csv:
        client.get("/coordinator/members.csv")
    many(cast, 30, start=3, organisation=cast.org_b)  # plan A families brought by another CBO
    many(cast, 20, start=33)
    with count_queries() as lots:
        client.get("/coordinator/members")
    with count_queries() as lots_csv:
        rows = rows_of(client.get("/coordinator/members.csv"))
    assert len(rows) == 1 + 53
    assert lots.count == few.count
    assert lots_csv.count == few_csv.count


def test_the_coordinator_nav_links_to_sign_ups(app, cast, client):
    login(client, cast.coord_a)
    page = client.get("/coordinator/").get_data(as_text=True)
    assert "/coordinator/members" in page and "Sign-ups" in page
