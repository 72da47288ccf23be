"""Asking for supports on the web: a parent for themselves (in English, Spanish and
Chinese), and CBO staff for one of their own families. Each kind of support is saved
with its details; a wrong answer comes back translated with what was typed kept."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from engage.extensions import db
from engage.members.vocab import AGE_GROUPS, INTERPRETER_LANGUAGES
from engage.models import (
    MeetingStatus,
    RequestedVia,
    SupportKind,
    SupportRequest,
    SupportStatus,
    utcnow,
)
from engage.supports import services, vocab
from tests.conftest import login, make_member, post_form
from tests.meeting_factories import make_meeting

LOCALES = ["en", "es", "zh_Hant"]


def requests_of(member, meeting) -> dict:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(SupportRequest).where(SupportRequest.member_id == member.id, SupportRequest.meeting_id == meeting.id)
    )
    return {r.kind: r for r in rows}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def translated(locale: str, text: str) -> str:
    with force_locale(locale):
        return _(text)


# What each kind of support posts, and what must be saved.
CASES = {
    SupportKind.CHILDCARE: (
        {"childcare": "y", "children": "2", "age_groups": ["0-5", "6-12"], "childcare_notes": "Peanut allergy"},
        {"children": 2, "age_groups": ["0-5", "6-12"], "notes": "Peanut allergy"},
    ),
    SupportKind.INTERPRETER: (
        {"interpreter": "y", "language": "mixteco", "interpreter_mode": "remote"},
        {"language": "mixteco", "other": "", "mode": "remote"},
    ),
    SupportKind.TRANSPORT: (
        {"transport": "y", "transport_mode": "transit", "transport_notes": "From Fresno"},
        {"mode": "transit", "notes": "From Fresno"},
    ),
    SupportKind.ACCESSIBILITY: (
        {"access": "y", "access_notes": "Wheelchair space"},
        {"notes": "Wheelchair space"},
    ),
    SupportKind.MEALS: (
        {"meals": "y", "meals_notes": "Vegetarian"},
        {"notes": "Vegetarian"},
    ),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_form_is_in_the_parents_language(cast, client, locale):
    cast.parent.locale = locale
    meeting = make_meeting(cast.committee_a)
    login(client, cast.parent)
    response = client.get(f"/meetings/{meeting.id}/support?lang={locale}")
    assert response.status_code == 200
    body = page_text(response)
    assert f'lang="{locale.replace("_", "-")}"' in body
    for text in ("What do you need to come?", "How many children need care?", "Which language do you speak?"):
        assert translated(locale, text) in body
    with force_locale(locale):
        assert str(AGE_GROUPS["0-5"]) in body
        assert str(INTERPRETER_LANGUAGES["triqui"]) in body
        assert str(vocab.TRANSPORT_MODES["mileage"]) in body
    # The offered languages come first in the list.
    assert body.index('value="spanish"') < body.index('value="mandarin"')


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_of_support_is_saved_with_its_details(cast, client, locale, kind):
    cast.parent.locale = locale
    meeting = make_meeting(cast.committee_a)
    login(client, cast.parent)
    posted, saved = CASES[kind]
    response = post_form(client, f"/meetings/{meeting.id}/support?lang={locale}", posted)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/support/next")
    found = requests_of(cast.parent, meeting)
    assert set(found) == {kind}
    row = found[kind]
    assert row.details == saved
    assert row.status == SupportStatus.REQUESTED and row.requested_via == RequestedVia.WEB
    assert row.requested_by_id is None
    # What happens next, in plain words in their language.
    body = page_text(client.get(f"/meetings/{meeting.id}/support/next"))
    with force_locale(locale):
        line = _(
            "%(what)s: %(state)s.",
            what=vocab.support_label(kind, saved),
            state=vocab.PARENT_STATUSES[SupportStatus.REQUESTED],
        )
    assert line in body


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"childcare": "y", "children": "0"}, "children", "Please enter a number from 1 to 12."),
        ({"childcare": "y", "children": "99"}, "children", "Please enter a number from 1 to 12."),
        ({"childcare": "y", "children": ""}, "children", "Please say how many children need care."),
        ({"childcare": "y", "children": "two"}, "children", "Not a valid integer value."),
        ({"interpreter": "y", "language": ""}, "language", "Please choose the language you speak."),
        ({"interpreter": "y", "language": "other"}, "language_other", "Please tell us which language you speak."),
        ({"access": "y", "access_notes": ""}, "access_notes", "Please tell us what you need."),
    ],
)
def test_a_wrong_answer_is_explained_in_their_language_and_nothing_is_lost(
    cast, client, locale, posted, field, message
):
    cast.parent.locale = locale
    meeting = make_meeting(cast.committee_a)
    login(client, cast.parent)
    data = {**posted, "meals": "y", "meals_notes": "Sin gluten 無麩質", "childcare_notes": "Tiene asma"}
    response = post_form(client, f"/meetings/{meeting.id}/support?lang={locale}", data)
    assert response.status_code == 200
    body = page_text(response)
    assert translated(locale, message) in body
    assert f'id="{field}-error"' in body or f'id="{field}"' in body
    # What was typed is still there.
    assert "Sin gluten 無麩質" in body and "Tiene asma" in body
    if posted.get("children") not in (None, ""):
        assert f'value="{posted["children"]}"' in body
    assert requests_of(cast.parent, meeting) == {}


def test_unticking_withdraws_and_ticking_again_brings_it_back(cast, client):
    meeting = make_meeting(cast.committee_a)
    login(client, cast.parent)
    url = f"/meetings/{meeting.id}/support"
    post_form(client, url, {**CASES[SupportKind.CHILDCARE][0], **CASES[SupportKind.TRANSPORT][0]})
    assert {k: r.status for k, r in requests_of(cast.parent, meeting).items()} == {
        SupportKind.CHILDCARE: SupportStatus.REQUESTED,
        SupportKind.TRANSPORT: SupportStatus.REQUESTED,
    }
    # The form shows what was asked for.
    body = page_text(client.get(url))
    assert 'id="childcare" name="childcare" type="checkbox" value="y"' in body.replace(" checked", "")
    assert "Peanut allergy" in body
    assert "We filled this in with what you asked for last time" not in body
    post_form(client, url, CASES[SupportKind.TRANSPORT][0])
    found = requests_of(cast.parent, meeting)
    assert found[SupportKind.CHILDCARE].status == SupportStatus.CANCELLED
    assert found[SupportKind.TRANSPORT].status == SupportStatus.REQUESTED
    body = page_text(client.get(f"{url}/next"))
    assert "Childcare" not in body and "Transport" in body


def test_same_as_last_time_prefills_with_a_note(cast, client):
    earlier = make_meeting(cast.committee_a, days=3)
    later = make_meeting(cast.committee_a, days=40)
    services.request(
        earlier, cast.parent, SupportKind.INTERPRETER, {"language": "triqui", "mode": "remote"}, via=RequestedVia.SMS
    )
    services.request(earlier, cast.parent, SupportKind.CHILDCARE, {"children": 3}, via=RequestedVia.SMS)
    db.session.commit()
    login(client, cast.parent)
    body = page_text(client.get(f"/meetings/{later.id}/support?lang=en"))
    assert "We filled this in with what you asked for last time" in body
    assert '<option selected value="triqui">' in body
    assert 'value="3"' in body
    assert 'id="interpreter_mode-2" value="remote" checked' in body
    # Nothing is saved until the parent sends the form.
    assert requests_of(cast.parent, later) == {}


def test_a_first_time_form_guesses_from_what_we_know_and_ticks_nothing(cast, client):
    cast.parent.child_age_groups = ["0-5", "6-12", "18-20"]
    db.session.commit()
    meeting = make_meeting(cast.committee_a)
    login(client, cast.parent)
    body = page_text(client.get(f"/meetings/{meeting.id}/support?lang=es"))
    assert "We filled this in" not in body
    assert 'value="2"' in body  # two children under 18
    assert '<option selected value="spanish">' in body  # she reads Spanish
    assert " checked" not in body.split('id="childcare"')[1].split(">")[0]


def test_only_meetings_of_their_plan_that_are_still_to_come(cast, client):
    login(client, cast.parent)
    other_plan = make_meeting(cast.committee_b)
    assert client.get(f"/meetings/{other_plan.id}/support").status_code == 404
    assert client.get("/meetings/999999/support").status_code == 404
    cancelled = make_meeting(cast.committee_a, status=MeetingStatus.CANCELLED)
    started = make_meeting(cast.committee_a, starts_at=(utcnow() - timedelta(minutes=10)).replace(microsecond=0))
    for meeting in (cancelled, started):
        response = client.get(f"/meetings/{meeting.id}/support?lang=en")
        assert response.status_code == 200
        assert "This meeting is no longer taking requests" in page_text(response)
        post_form(client, f"/meetings/{meeting.id}/support", CASES[SupportKind.MEALS][0], token_from="/me")
        assert requests_of(cast.parent, meeting) == {}


def test_upcoming_for_member_lists_live_requests_by_meeting(cast):
    soon = make_meeting(cast.committee_a, days=2)
    later = make_meeting(cast.committee_a, days=20)
    past = make_meeting(cast.committee_a, starts_at=(utcnow() - timedelta(days=2)).replace(microsecond=0))
    services.request(later, cast.parent, SupportKind.MEALS, {"notes": "x"}, via=RequestedVia.WEB)
    services.request(soon, cast.parent, SupportKind.TRANSPORT, {}, via=RequestedVia.WEB)
    services.request(soon, cast.parent, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB)
    services.withdraw(services.request(later, cast.parent, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB))
    services.request(past, cast.parent, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB)
    db.session.commit()
    found = services.upcoming_for_member(cast.parent)
    assert [(m.id, [r.kind for r in rows]) for m, rows in found] == [
        (soon.id, [SupportKind.CHILDCARE, SupportKind.TRANSPORT]),
        (later.id, [SupportKind.MEALS]),
    ]


# CBO staff for a family ----------------------------------------------------------------------


def test_cbo_staff_ask_for_their_family(cast, client):
    meeting = make_meeting(cast.committee_a)
    login(client, cast.cbo_a)
    families = page_text(client.get("/partner/families"))
    assert f'href="/partner/families/{cast.parent.id}"' in families
    page = page_text(client.get(f"/partner/families/{cast.parent.id}"))
    assert "Paloma Parent" in page
    assert f"/partner/families/{cast.parent.id}/support/{meeting.id}" in page
    url = f"/partner/families/{cast.parent.id}/support/{meeting.id}"
    assert "Supports for Paloma Parent" in page_text(client.get(url))
    response = post_form(client, url, CASES[SupportKind.INTERPRETER][0])
    assert response.status_code == 302
    row = requests_of(cast.parent, meeting)[SupportKind.INTERPRETER]
    assert row.requested_via == RequestedVia.CBO and row.requested_by_id == cast.cbo_a.id
    page = page_text(client.get(f"/partner/families/{cast.parent.id}"))
    assert "Saved what Paloma Parent needs for this meeting." in page
    with force_locale("en"):
        assert vocab.support_label(row.kind, row.details) in page


def test_cbo_staff_cannot_see_or_ask_for_another_organisations_family(cast, client):
    meeting_b = make_meeting(cast.committee_b)
    meeting_a = make_meeting(cast.committee_a)
    stranger = make_member("+15105550999", "No Organisation", plan=cast.plan_a)
    db.session.commit()
    login(client, cast.cbo_a)
    for member, meeting in ((cast.parent_b, meeting_b), (stranger, meeting_a)):
        assert client.get(f"/partner/families/{member.id}").status_code == 404
        url = f"/partner/families/{member.id}/support/{meeting.id}"
        assert client.get(url).status_code == 404
        post_form(client, url, CASES[SupportKind.MEALS][0], token_from="/partner/families")
        assert requests_of(member, meeting) == {}
    # Their own family, another plan's meeting: hidden too.
    assert client.get(f"/partner/families/{cast.parent.id}/support/{meeting_b.id}").status_code == 404


def test_the_family_page_makes_the_same_queries_however_many_meetings(cast, client, count_queries):
    login(client, cast.cbo_a)
    url = f"/partner/families/{cast.parent.id}"

    def add(n):
        for i in range(n):
            m = make_meeting(cast.committee_a, days=5 + i, commit=False)
            db.session.flush()
            services.request(m, cast.parent, SupportKind.CHILDCARE, {}, via=RequestedVia.WEB)
        db.session.commit()

    add(1)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    add(6)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count
