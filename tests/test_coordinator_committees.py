"""The coordinator's committees: the list, a roster with its rules and warnings, adding
someone and changing a seat, in each language, kept to the coordinator's plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import AuditEvent, Committee, CommitteeMembership, RosterRole, RosterStatus, utcnow
from tests.conftest import login, make_member, post_form


def seat_a(c) -> int:
    """A seat on committee A held by plan A's parent (made once per test)."""
    seat = db.session.scalar(
        sa.select(CommitteeMembership).where(
            CommitteeMembership.committee_id == c.committee_a.id, CommitteeMembership.member_id == c.parent.id
        )
    )
    if seat is None:
        seat = CommitteeMembership(committee_id=c.committee_a.id, member_id=c.parent.id)
        db.session.add(seat)
        db.session.commit()
    return seat.id


def fill(committee, n: int, *, consumers: int | None = None, start: int = 0) -> list[CommitteeMembership]:
    """``n`` active seats on ``committee``, the first ``consumers`` of them consumers."""
    consumers = n if consumers is None else consumers
    seats = []
    for i in range(start, start + n):
        member = make_member(f"+1559555{i:04d}", f"Parent {i:02d}", plan=committee.plan)
        seat = CommitteeMembership(committee_id=committee.id, member=member, is_consumer=i - start < consumers)
        db.session.add(seat)
        seats.append(seat)
    db.session.commit()
    return seats


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# The list -------------------------------------------------------------------------------


def test_the_list_shows_counts_and_warnings(app, cast, client):
    cast.committee_a.max_members = 35
    cast.committee_a.consumer_majority = True
    fill(cast.committee_a, 37, consumers=18)
    login(client, cast.coord_a)
    html = page(client, "/coordinator/committees")
    assert "Children&#39;s Committee" in html
    assert "37 active members" in html
    assert "35 is the most seats allowed; this group has 37 active members." in html
    assert "Now 18 of 37 are." in html
    assert "Bayview CAC" not in html


def test_a_coordinator_sees_only_their_plans_committees(app, cast, client):
    login(client, cast.coord_b)
    html = page(client, "/coordinator/committees")
    assert "Bayview CAC" in html
    assert "Children" not in html
    committee = cast.committee_a.id
    for url in (
        f"/coordinator/committees/{committee}",
        f"/coordinator/committees/{committee}/roster/add",
        f"/coordinator/committees/{committee}/roster/{seat_a(cast)}",
    ):
        assert client.get(url).status_code == 404
    before = cast.committee_a.max_members
    response = post_form(
        client, f"/coordinator/committees/{committee}", {"max_members": "3"}, token_from="/coordinator/committees"
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Committee, committee).max_members == before


def test_the_list_and_roster_make_the_same_number_of_queries_however_many_seats(app, cast, client, count_queries):
    login(client, cast.coord_a)
    fill(cast.committee_a, 2)
    client.get("/coordinator/committees")  # warm up
    with count_queries() as few_list:
        client.get("/coordinator/committees")
    with count_queries() as few_roster:
        client.get(f"/coordinator/committees/{cast.committee_a.id}")

    fill(cast.committee_a, 25, start=100)
    extra = Committee(plan=cast.plan_a, slug="alameda-two", name={"en": "Second group"})
    db.session.add(extra)
    db.session.commit()
    fill(extra, 5, start=200)
    with count_queries() as many_list:
        html = client.get("/coordinator/committees").get_data(as_text=True)
    with count_queries() as many_roster:
        roster = client.get(f"/coordinator/committees/{cast.committee_a.id}").get_data(as_text=True)
    assert "Second group" in html
    assert "Parent 124" in roster
    assert many_list.count == few_list.count
    assert many_roster.count == few_roster.count


# The roster and its rules -------------------------------------------------------------


def test_warnings_for_too_few_and_for_terms_that_ended(app, cast, client):
    cast.committee_a.min_members = 4
    seats = fill(cast.committee_a, 2)
    seats[0].term_end = utcnow() - timedelta(days=3)
    db.session.commit()
    login(client, cast.coord_a)
    html = page(client, f"/coordinator/committees/{cast.committee_a.id}")
    assert "This group should have at least 4 members; it has 2 active members." in html
    assert "1 active member&#39;s term has ended." in html


def test_no_warning_when_consumers_are_a_majority(app, cast, client):
    cast.committee_a.consumer_majority = True
    cast.committee_a.max_members = 35
    fill(cast.committee_a, 5, consumers=3)
    login(client, cast.coord_a)
    html = page(client, f"/coordinator/committees/{cast.committee_a.id}")
    assert "flash-warning" not in html


def test_exactly_half_consumers_is_not_a_majority(app, cast, client):
    cast.committee_a.consumer_majority = True
    fill(cast.committee_a, 4, consumers=2)
    login(client, cast.coord_a)
    assert "Now 2 of 4 are." in page(client, f"/coordinator/committees/{cast.committee_a.id}")


def test_changing_the_rules_is_saved_and_audited(app, cast, client):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}"
    response = post_form(client, url, {"min_members": "4", "max_members": "35", "consumer_majority": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    committee = db.session.get(Committee, cast.committee_a.id)
    assert (committee.min_members, committee.max_members, committee.consumer_majority) == (4, 35, True)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "committee.roster_rules_changed"))
    assert event.actor_id == cast.coord_a.id
    assert event.detail["changes"]["max_members"] == [None, 35]


@pytest.mark.parametrize(
    "lang, message",
    [
        ("en", "Not a valid integer value."),
        ("es", "No es un número entero válido."),
        ("zh_Hant", "不是有效的整數。"),
    ],
)
def test_the_rules_form_in_each_language_keeps_what_was_typed(app, cast, client, lang, message):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}?lang={lang}"
    html = page(client, url)
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    response = post_form(client, url, {"min_members": "ten", "max_members": "35"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="35"' in html
    assert "error-summary" in html


def test_most_cannot_be_fewer_than_fewest(app, cast, client):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}"
    html = post_form(client, url, {"min_members": "10", "max_members": "5"}).get_data(as_text=True)
    assert "The most members cannot be fewer than the fewest members." in html
    db.session.expire_all()
    assert db.session.get(Committee, cast.committee_a.id).max_members is None


def test_the_roster_lists_seats_with_role_status_consumer_and_term(app, cast, client):
    seat = db.session.get(CommitteeMembership, seat_a(cast))
    seat.role = RosterRole.CO_CHAIR
    seat.is_consumer = False
    seat.term_start = datetime(2026, 1, 1, 8, tzinfo=UTC)
    seat.term_end = datetime(2027, 12, 31, 8, tzinfo=UTC)
    db.session.commit()
    login(client, cast.coord_a)
    html = page(client, f"/coordinator/committees/{cast.committee_a.id}")
    assert "Paloma Parent" in html
    assert "Co-chair" in html
    assert "Jan 1, 2026" in html and "Dec 31, 2027" in html


# Adding someone -------------------------------------------------------------------------


def test_search_finds_plan_members_by_name_or_phone_only(app, cast, client):
    login(client, cast.coord_a)
    make_member("+15105550999", "Paula Other", plan=cast.plan_b)
    db.session.commit()
    url = f"/coordinator/committees/{cast.committee_a.id}/roster/add"
    html = page(client, f"{url}?q=pa")
    assert "Paloma Parent" in html
    assert "Paula Other" not in html  # another plan
    html = page(client, f"{url}?q=(510) 555-0111")
    assert "Paloma Parent" in html
    html = page(client, f"{url}?q=nobody")
    assert "Nobody found" in html


def test_adding_someone_gives_them_a_seat_and_is_audited(app, cast, client):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/roster/add"
    response = post_form(
        client,
        url,
        {
            "q": "paloma",
            "member_id": str(cast.parent.id),
            "role": "chair",
            "is_consumer": "y",
            "term_start": "2027-01-01",
            "term_end": "2028-12-31",
        },
        token_from=f"{url}?q=paloma",
    )
    assert response.status_code == 302
    seat = db.session.scalar(sa.select(CommitteeMembership).filter_by(member_id=cast.parent.id))
    assert seat.role == RosterRole.CHAIR and seat.status == RosterStatus.ACTIVE and seat.is_consumer
    # Stored as midnight in ENGAGE_TIMEZONE (Pacific): 08:00 UTC in winter.
    assert seat.term_start == datetime(2027, 1, 1, 8, tzinfo=UTC)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.seat_added"))
    assert event.detail["member_id"] == cast.parent.id

    # Once seated, they are not offered again.
    html = page(client, f"{url}?q=paloma")
    assert "1 person found already has a seat." in html


def test_someone_from_another_plan_cannot_be_added(app, cast, client):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/roster/add"
    response = post_form(client, url, {"q": "bernard", "member_id": str(cast.parent_b.id), "role": "member"})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(CommitteeMembership.id))) == 0


@pytest.mark.parametrize(
    "lang, message",
    [("en", "Not a valid date value."), ("es", "No es una fecha válida."), ("zh_Hant", "不是有效的日期。")],
)
def test_the_add_form_in_each_language(app, cast, client, lang, message):
    login(client, cast.coord_a)
    url = f"/coordinator/committees/{cast.committee_a.id}/roster/add?lang={lang}"
    html = page(client, f"{url}&q=paloma")
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert 'type="radio"' in html
    response = post_form(
        client,
        url,
        {"q": "paloma", "member_id": str(cast.parent.id), "role": "member", "term_start": "31/31/2027"},
    )
    html = response.get_data(as_text=True)
    assert message in html
    assert "Paloma Parent" in html  # the person chosen is still offered
    assert db.session.scalar(sa.select(sa.func.count(CommitteeMembership.id))) == 0


# Changing a seat --------------------------------------------------------------------------


def test_marking_someone_on_leave_then_left(app, cast, client):
    login(client, cast.coord_a)
    seat_id = seat_a(cast)
    url = f"/coordinator/committees/{cast.committee_a.id}/roster/{seat_id}"
    html = page(client, url)
    assert "Paloma Parent" in html
    response = post_form(client, url, {"role": "member", "status": "on_leave", "is_consumer": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CommitteeMembership, seat_id).status == RosterStatus.ON_LEAVE
    post_form(client, url, {"role": "alternate", "status": "left"})
    db.session.expire_all()
    seat = db.session.get(CommitteeMembership, seat_id)
    assert (seat.status, seat.role, seat.is_consumer) == (RosterStatus.LEFT, RosterRole.ALTERNATE, False)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster.seat_changed")).all()
    assert [e.detail["changes"]["status"] for e in events] == [["active", "on_leave"], ["on_leave", "left"]]
    html = page(client, f"/coordinator/committees/{cast.committee_a.id}")
    assert "1 left" in html


@pytest.mark.parametrize("lang", ["en", "es", "zh_Hant"])
def test_a_term_cannot_end_before_it_starts(app, cast, client, lang):
    login(client, cast.coord_a)
    seat_id = seat_a(cast)
    url = f"/coordinator/committees/{cast.committee_a.id}/roster/{seat_id}?lang={lang}"
    response = post_form(
        client, url, {"role": "member", "status": "active", "term_start": "2027-05-01", "term_end": "2027-01-01"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert "error-summary" in html
    assert 'value="2027-05-01"' in html
    if lang == "en":
        assert "The term cannot end before it starts." in html


def test_a_seat_of_another_committee_is_not_found(app, cast, client):
    login(client, cast.admin)
    seat_id = seat_a(cast)
    assert client.get(f"/coordinator/committees/{cast.committee_b.id}/roster/{seat_id}").status_code == 404
