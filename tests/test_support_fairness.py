"""The fairness figures' filter: a plan (for someone who sees several plans) and the
meeting days (the last 12 months unless asked), a GET form; bad dates are a message and
the default range; the figures count the chosen meetings only, in a fixed number of queries."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engage.extensions import db
from engage.models import RequestedVia, Role, Stipend, StipendStatus, SupportKind, utcnow
from engage.supports import services, stipends
from engage.supports.forms import a_year_before
from tests.conftest import login, make_member, make_staff
from tests.meeting_factories import make_meeting

ZONE = ZoneInfo("America/Los_Angeles")


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def asked(page: str) -> int:
    """How many requests the page counted ("… of 3 requests were met before the meeting")."""
    return int(re.search(r"of (\d+) requests were met before the meeting", page).group(1))


def stipends_counted(page: str) -> int:
    return int(re.search(r"of (\d+) stipends were paid on time", page).group(1))


def today() -> date:
    return utcnow().astimezone(ZONE).date()


def held(committee, day: date, *members, met: bool = True, paid_after_days: int | None = 5):
    """A meeting at 6 PM (California time) on ``day``: a childcare request from each
    member (arranged before the meeting or never) and a stipend for each (paid some days
    later, or not yet)."""
    starts = datetime.combine(day, time(18, 0), tzinfo=ZONE).astimezone(UTC)
    meeting = make_meeting(committee, starts_at=starts)
    for member in members:
        row = services.request(
            meeting, member, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB, now=starts - timedelta(days=10)
        )
        if met:
            services.arrange(row, "x", by=None, now=starts - timedelta(days=5), notify=False)
        db.session.add(
            Stipend(
                meeting_id=meeting.id,
                member_id=member.id,
                status=StipendStatus.PAID if paid_after_days is not None else StipendStatus.APPROVED,
                amount_due=50,
                amount=50,
                paid_on=starts + timedelta(days=paid_after_days) if paid_after_days is not None else None,
            )
        )
    db.session.commit()
    return meeting


@pytest.fixture
def figures(cast):
    """Plan A: a meeting 10 days ago (two parents, met, paid on time) and one 400 days ago
    (one parent, met, paid late). Plan B: a meeting 40 days ago (one parent, not met, unpaid and overdue)."""
    other = make_member("+15105550999", "Olga Other", plan=cast.plan_a)
    db.session.commit()
    held(cast.committee_a, today() - timedelta(days=10), cast.parent, other)
    held(cast.committee_a, today() - timedelta(days=400), cast.parent, paid_after_days=45)
    held(cast.committee_b, today() - timedelta(days=40), cast.parent_b, met=False, paid_after_days=None)
    return cast


# The rules ------------------------------------------------------------------------------------


def test_the_figures_count_only_meetings_in_the_range(figures):
    cast = figures
    zone_start = datetime.combine(today() - timedelta(days=60), time.min, tzinfo=ZONE)
    everything = services.fairness(None)
    assert everything.overall.total == 4
    recent = services.fairness(None, since=zone_start)
    assert (recent.overall.met, recent.overall.total) == (2, 3)
    old = services.fairness({cast.plan_a.id}, until=zone_start)
    assert (old.overall.met, old.overall.total) == (1, 1)
    assert stipends.on_time_share({cast.plan_a.id}, since=zone_start) == (2, 2)
    assert stipends.on_time_share({cast.plan_a.id}, until=zone_start) == (0, 1)
    assert stipends.on_time_share(None, since=zone_start) == (2, 3)  # plan B's is overdue


def test_a_year_before_is_the_same_day_or_the_28th_of_february():
    assert a_year_before(date(2026, 5, 10)) == date(2025, 5, 10)
    assert a_year_before(date(2028, 2, 29)) == date(2027, 2, 28)


# The page --------------------------------------------------------------------------------------


def test_by_default_the_last_12_months_of_every_plan_an_admin_sees(client, figures):
    login(client, figures.admin)
    page = page_text(client.get("/coordinator/supports/fairness"))
    assert asked(page) == 3  # not the meeting 400 days ago
    assert stipends_counted(page) == 3
    assert f'value="{a_year_before(today()).isoformat()}"' in page and f'value="{today().isoformat()}"' in page
    assert "Meetings from" in page and "Meetings to (last day)" in page
    assert "All plans" in page and "Alameda Family Health" in page and "Bayview Health Plan" in page


def test_an_admin_chooses_a_plan_and_the_days(client, figures):
    cast = figures
    login(client, cast.admin)
    page = page_text(client.get(f"/coordinator/supports/fairness?plan={cast.plan_a.id}"))
    assert asked(page) == 2 and stipends_counted(page) == 2
    assert "100%" in page
    page = page_text(client.get(f"/coordinator/supports/fairness?plan={cast.plan_b.id}"))
    assert asked(page) == 1 and "0%" in page
    start = (today() - timedelta(days=500)).isoformat()
    page = page_text(client.get(f"/coordinator/supports/fairness?plan={cast.plan_a.id}&start={start}"))
    assert asked(page) == 3 and stipends_counted(page) == 3
    # Only the old meeting: the days are inclusive, in California time.
    old = (today() - timedelta(days=400)).isoformat()
    page = page_text(client.get(f"/coordinator/supports/fairness?start={old}&end={old}"))
    assert asked(page) == 1 and stipends_counted(page) == 1
    # Only plan B's meeting by its days.
    b_day = (today() - timedelta(days=40)).isoformat()
    page = page_text(client.get(f"/coordinator/supports/fairness?start={b_day}&end={b_day}"))
    assert asked(page) == 1 and "0%" in page


def test_a_coordinator_sees_only_their_plan_and_no_plan_choice(client, figures):
    cast = figures
    login(client, cast.coord_a)
    page = page_text(client.get(f"/coordinator/supports/fairness?plan={cast.plan_b.id}"))
    assert "All plans" not in page and 'name="plan"' not in page
    assert asked(page) == 2  # plan A's, whatever the address says
    login(client, cast.coord_b)
    page = page_text(client.get(f"/coordinator/supports/fairness?plan={cast.plan_a.id}"))
    assert asked(page) == 1


def test_a_coordinator_of_two_plans_can_choose_one(client, figures):
    cast = figures
    both = make_staff("both@example.org", "Bea Both", Role.COORDINATOR, plans=[cast.plan_a, cast.plan_b])
    db.session.commit()
    login(client, both)
    page = page_text(client.get("/coordinator/supports/fairness"))
    assert 'name="plan"' in page and asked(page) == 3
    assert asked(page_text(client.get(f"/coordinator/supports/fairness?plan={cast.plan_b.id}"))) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-02-30", "Not a valid date value."),
        ("end=yesterday", "Not a valid date value."),
        ("start=0001-01-01", "Please enter a date from 2000-01-01 to 2100-12-31."),
        ("end=9999-12-31", "Please enter a date from 2000-01-01 to 2100-12-31."),
        ("start=2026-05-01&end=2026-04-01", "The last day must be on or after the first day."),
    ],
)
def test_bad_dates_are_a_message_and_the_default_range(client, figures, query, message):
    login(client, figures.admin)
    page = page_text(client.get(f"/coordinator/supports/fairness?{query}"))
    assert message in page and 'aria-invalid="true"' in page
    assert asked(page) == 3  # the last 12 months
    start, end = a_year_before(today()), today()
    from flask_babel import force_locale

    from engage.i18n import fmt_date

    with force_locale("en"):
        assert f"Meetings held from {fmt_date(start)} to {fmt_date(end)}." in page


def test_a_bad_plan_is_every_plan(client, figures):
    login(client, figures.admin)
    assert asked(page_text(client.get("/coordinator/supports/fairness?plan=nonsense"))) == 3
    assert asked(page_text(client.get("/coordinator/supports/fairness?plan=99999"))) == 3


@pytest.mark.parametrize("lang", ["en", "es", "zh_Hant"])
def test_the_filter_in_every_language(client, figures, lang):
    login(client, figures.admin)
    page = page_text(client.get(f"/coordinator/supports/fairness?lang={lang}&start=nonsense"))
    assert f'lang="{lang.replace("_", "-")}"' in page


def test_the_number_of_queries_does_not_grow_with_the_data(client, cast, count_queries):
    login(client, cast.admin)
    held(cast.committee_a, today() - timedelta(days=3), cast.parent)
    client.get("/coordinator/supports/fairness")
    with count_queries() as few:
        page_text(client.get("/coordinator/supports/fairness"))
    for n in range(6):
        member = make_member(f"+1510555070{n}", f"Parent {n}", plan=cast.plan_b)
        db.session.commit()
        held(cast.committee_b, today() - timedelta(days=5 + n), member, cast.parent_b, met=bool(n % 2))
    with count_queries() as many:
        page = page_text(client.get("/coordinator/supports/fairness"))
    assert asked(page) == 13
    assert many.count == few.count
