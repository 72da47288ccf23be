"""Measures, filtered: by plan (for people who see several) and by the days the input was
received (local days, both ends included). The page and its CSV count the same input; a
date that cannot be used is said plainly and the figures count every day; the page makes
the same number of queries however much input there is."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from engage.extensions import db
from engage.feedback import intake, triage
from engage.models import Outcome, Role, Topic
from tests.conftest import login, make_member, make_staff

# 2026-03-10 06:30 UTC is still 9 March (23:30) in California (PDT, UTC-7).
LATE_ON_THE_9TH = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)


def _input(member, plan_words: str, at: datetime, topic=Topic.QUALITY):
    row = intake.from_web(member, plan_words, topic, anonymous=False, locale=member.locale)
    row.received_at = at
    return row


@pytest.fixture
def data(cast):
    """Plan A: input on 1 and 5 March (one decided), late on 9 March, and 20 February.
    Plan B: one on 5 March."""
    olga = make_member("+15105550999", "Olga", plan=cast.plan_a, locale="zh_Hant")
    olga.county = "Fresno"
    march_1 = _input(cast.parent, "Evening hours", datetime(2026, 3, 1, 18, tzinfo=UTC), Topic.CARE_COORDINATION)
    _input(olga, "Saturday hours", datetime(2026, 3, 5, 18, tzinfo=UTC), Topic.CARE_COORDINATION)
    _input(cast.parent, "Late on the ninth", LATE_ON_THE_9TH)
    _input(cast.parent, "February idea", datetime(2026, 2, 20, 18, tzinfo=UTC))
    _input(cast.parent_b, "Plan B words", datetime(2026, 3, 5, 18, tzinfo=UTC))
    db.session.flush()
    theme = triage.create(cast.plan_a.id, {"en": "Hours"}, topic=Topic.CARE_COORDINATION)
    db.session.flush()
    triage.assign(theme, [march_1])
    triage.decide(theme, Outcome.ADOPTED, {"en": "Yes"}, datetime(2026, 3, 8).date(), notify=False)
    db.session.commit()
    return cast


def overall(page: str) -> tuple[int, int]:
    """(input, with a decision) of the "All input" line of the page."""
    found = re.search(r'<th scope="row">All input</th>\s*<td>([\d,]+)</td>\s*<td>([\d,]+)</td>', page)
    assert found, page
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def csv_rows(client, query: str = "") -> dict[tuple[str, str], list[str]]:
    response = client.get("/coordinator/measures.csv" + query)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return {(r[0], r[1]): r[2:] for r in rows[1:]}


def test_a_coordinator_of_one_plan_filters_by_days_and_sees_no_plan_choice(data, client):
    login(client, data.coord_a)
    page = client.get("/coordinator/measures").get_data(as_text=True)
    assert overall(page) == (4, 1)  # plan A only, every day
    assert 'name="plan"' not in page  # one plan: nothing to choose
    assert 'method="get"' in page and 'name="received_from"' in page and 'name="received_to"' in page
    assert '<label for="received_from">Received from</label>' in page

    query = "?received_from=2026-03-01&received_to=2026-03-05"
    page = client.get("/coordinator/measures" + query).get_data(as_text=True)
    assert overall(page) == (2, 1)
    assert "Fresno" in page  # Olga's input of 5 March is in
    assert "/coordinator/measures.csv?received_from=2026-03-01&amp;received_to=2026-03-05" in page
    rows = csv_rows(client, query)
    assert rows[("all", "all")][:2] == ["2", "1"]
    assert rows[("county", "Fresno")][:1] == ["1"]
    assert ("topic", "quality") not in rows  # the February and 9 March input are out

    # From 2 March: the decided input of 1 March is out; the 9th counts in full.
    rows = csv_rows(client, "?received_from=2026-03-02")
    assert rows[("all", "all")][:2] == ["2", "0"]
    # Until 9 March, in California: the input at 06:30 UTC on the 10th is the 9th's.
    assert csv_rows(client, "?received_from=2026-03-09&received_to=2026-03-09")[("all", "all")][0] == "1"
    assert csv_rows(client, "?received_from=2026-03-10")[("all", "all")][0] == "0"

    # Another plan's number is not a choice for them: ignored, never plan B's figures.
    page = client.get(f"/coordinator/measures?plan={data.plan_b.id}").get_data(as_text=True)
    assert overall(page) == (4, 1)


def test_an_admin_chooses_a_plan_and_days_and_the_csv_follows(data, client):
    login(client, data.admin)
    page = client.get("/coordinator/measures").get_data(as_text=True)
    assert overall(page) == (5, 1)  # both plans
    assert '<select id="plan" name="plan">' in page and "All plans" in page
    assert data.plan_a.name in page and data.plan_b.name in page
    assert overall(client.get(f"/coordinator/measures?plan={data.plan_b.id}").get_data(as_text=True)) == (1, 0)
    both_plans_in_march = "?received_from=2026-03-01&received_to=2026-03-31"
    assert csv_rows(client, both_plans_in_march)[("all", "all")][:2] == ["4", "1"]
    plan_a_in_march = f"?plan={data.plan_a.id}&received_from=2026-03-01&received_to=2026-03-31"
    page = client.get("/coordinator/measures" + plan_a_in_march).get_data(as_text=True)
    assert overall(page) == (3, 1)
    assert csv_rows(client, plan_a_in_march)[("all", "all")][:2] == ["3", "1"]
    assert csv_rows(client, f"?plan={data.plan_b.id}&received_to=2026-03-04") == {
        ("all", "all"): ["0", "0", "", "", "", "0"]
    }
    # An unknown plan: said so, and every plan is counted.
    page = client.get("/coordinator/measures?plan=987654").get_data(as_text=True)
    assert "Not a valid choice." in page and overall(page) == (5, 1)


def test_a_coordinator_of_two_plans_may_choose_one(data, client):
    both = make_staff("both@example.org", "Two Plans", Role.COORDINATOR, plans=[data.plan_a, data.plan_b])
    db.session.commit()
    login(client, both)
    page = client.get("/coordinator/measures").get_data(as_text=True)
    assert 'name="plan"' in page and overall(page) == (5, 1)
    assert overall(client.get(f"/coordinator/measures?plan={data.plan_a.id}").get_data(as_text=True)) == (4, 1)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?received_from=2026-02-30", "Not a valid date value."),
        ("?received_from=yesterday&received_to=2026-03-05", "Not a valid date value."),
        ("?received_to=03/05/2026", "Not a valid date value."),
        ("?received_from=2026-03-05&received_to=2026-03-01", "The last day is before the first day."),
        ("?received_from=1999-12-31", "Please choose a day in the years 2000 to 2099."),
        ("?received_to=9999-12-31", "Please choose a day in the years 2000 to 2099."),
    ],
)
def test_a_date_that_cannot_be_used_is_said_and_every_day_is_counted(data, client, query, message):
    login(client, data.coord_a)
    response = client.get("/coordinator/measures" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert re.search(r'aria-describedby="[^"]*received_(from|to)-error"', page)  # tied to its field
    assert "A date could not be used" in page
    assert overall(page) == (4, 1)  # the default: every day
    assert csv_rows(client, query)[("all", "all")][:2] == ["4", "1"]


def test_the_filter_renders_in_each_language(data, client):
    login(client, data.admin)
    for locale in ("en", "es", "zh_Hant"):
        response = client.get(f"/coordinator/measures?lang={locale}&received_from=2026-03-01&received_to=bad")
        assert response.status_code == 200
        assert f'<html lang="{locale.replace("_", "-")}"' in response.get_data(as_text=True)


def test_the_export_is_audited_with_its_filter(data, client):
    from engage.models import AuditEvent  # noqa: PLC0415

    login(client, data.admin)
    csv_rows(client, f"?plan={data.plan_a.id}&received_from=2026-03-01")
    event = db.session.query(AuditEvent).filter_by(action="feedback.measures_exported").one()
    assert event.detail == {"plan": data.plan_a.id, "received_from": "2026-03-01"}


def test_the_filtered_page_makes_the_same_number_of_queries_however_much_input(data, client, count_queries):
    login(client, data.admin)
    query = f"/coordinator/measures?plan={data.plan_a.id}&received_from=2026-03-01&received_to=2026-03-31"
    counts = []
    for extra in (0, 12):
        for i in range(extra):
            person = make_member(f"+1559777{i:04d}", f"P{i}", plan=data.plan_a)
            db.session.flush()
            _input(person, f"Idea {i}", datetime(2026, 3, 3, 18, tzinfo=UTC) + timedelta(hours=i))
        db.session.commit()
        with count_queries() as q:
            page = client.get(query).get_data(as_text=True)
        counts.append(q.count)
    assert overall(page)[0] == 15
    assert counts[0] == counts[1], counts
