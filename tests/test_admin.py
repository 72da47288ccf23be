"""Admin pages: plans, committees, organisations and staff accounts."""

from __future__ import annotations

import sqlalchemy as sa

from engage.extensions import db
from engage.mail import outbox
from engage.models import AuditEvent, Committee, Organisation, Plan, Role, StaffUser
from tests.conftest import login, post_form


def test_an_admin_adds_a_plan(client, cast):
    login(client, cast.admin)
    response = post_form(
        client,
        "/admin/plans/new",
        {"name": "Coastal Health", "short_name": "Coastal", "slug": "coastal", "colour": "#225577"},
    )
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(Plan).filter_by(slug="coastal"))
    assert plan.name == "Coastal Health"
    assert plan.contact_email is None
    assert db.session.scalar(sa.select(AuditEvent).filter_by(action="plan.saved", target_id=plan.id))


def test_a_plan_with_bad_fields_keeps_what_was_typed_and_says_what_to_fix(client, cast):
    login(client, cast.admin)
    response = post_form(
        client,
        "/admin/plans/new",
        {"name": "Coastal Health", "short_name": "", "slug": "Not A Slug", "colour": "blue"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Coastal Health"' in page
    assert page.count('class="error"') == 3
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 2


def test_two_plans_cannot_share_a_slug(client, cast):
    login(client, cast.admin)
    response = post_form(
        client, "/admin/plans/new", {"name": "Copy", "short_name": "Copy", "slug": "alameda", "colour": "#225577"}
    )
    assert response.status_code == 200
    assert "already uses" in response.get_data(as_text=True)


def test_a_committee_is_written_in_each_language_and_missing_ones_show_as_missing(client, cast):
    login(client, cast.admin)
    response = post_form(
        client,
        "/admin/committees/new",
        {
            "plan_id": str(cast.plan_a.id),
            "slug": "teen-health",
            "is_public": "y",
            "name_en": "Teen Health Committee",
            "name_es": "Comité de Salud Juvenil",
            "description_en": "Teens and parents.",
        },
    )
    assert response.status_code == 302
    committee = db.session.scalar(sa.select(Committee).filter_by(slug="teen-health"))
    assert committee.name == {"en": "Teen Health Committee", "es": "Comité de Salud Juvenil"}
    assert committee.description == {"en": "Teens and parents."}

    public = client.get("/committees/teen-health?lang=es").get_data(as_text=True)
    assert "Comité de Salud Juvenil" in public
    assert "Teens and parents." not in public  # never silently in English
    assert 'class="missing"' in public


def test_a_committee_needs_an_english_name(client, cast):
    login(client, cast.admin)
    response = post_form(
        client, "/admin/committees/new", {"plan_id": str(cast.plan_a.id), "slug": "x-y", "name_es": "Sólo español"}
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(Committee).filter_by(slug="x-y")) is None


def test_a_committee_cannot_belong_to_an_unknown_plan(client, cast):
    login(client, cast.admin)
    response = post_form(client, "/admin/committees/new", {"plan_id": "9999", "slug": "x-y", "name_en": "X"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_editing_a_committee_keeps_other_languages(client, cast):
    login(client, cast.admin)
    c = cast.committee_a
    data = {"plan_id": str(c.plan_id), "slug": c.slug, "is_public": "y"}
    data.update({f"name_{k}": v for k, v in c.name.items()})
    data["name_en"] = "Children and Youth Committee"
    post_form(client, f"/admin/committees/{c.id}", data)
    db.session.refresh(c)
    assert c.name["en"] == "Children and Youth Committee"
    assert c.name["zh_Hant"] == "兒童委員會"


def test_a_hidden_committee_is_not_public(client, cast):
    cast.committee_b.is_public = False
    db.session.commit()
    assert client.get(f"/committees/{cast.committee_b.slug}").status_code == 404
    assert "Bayview CAC" not in client.get("/committees").get_data(as_text=True)


def test_an_organisation_works_with_chosen_plans(client, cast):
    login(client, cast.admin)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": "Clínica del Valle", "slug": "clinica", "plan_ids": [str(cast.plan_a.id), str(cast.plan_b.id)]},
    )
    assert response.status_code == 302
    org = db.session.scalar(sa.select(Organisation).filter_by(slug="clinica"))
    assert {p.slug for p in org.plans} == {"alameda", "bayview"}


def test_a_coordinator_needs_a_plan_and_cbo_staff_need_an_organisation(client, cast):
    login(client, cast.admin)
    base = {"name": "Sam", "email": "sam@example.org", "locale": "en", "organisation_id": "0"}
    response = post_form(client, "/admin/staff/new", {**base, "role": "coordinator"})
    assert "at least one plan" in response.get_data(as_text=True)
    response = post_form(client, "/admin/staff/new", {**base, "role": "cbo"})
    assert "organisation this person works for" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(StaffUser).filter_by(email="sam@example.org")) is None
    assert outbox() == []


def test_an_email_can_only_have_one_account(client, cast):
    login(client, cast.admin)
    response = post_form(
        client,
        "/admin/staff/new",
        {"name": "Dup", "email": "COORD-A@example.org", "role": "admin", "locale": "en", "organisation_id": "0"},
    )
    assert "already exists" in response.get_data(as_text=True)


def test_changing_a_role_clears_scopes_that_no_longer_apply(client, cast):
    login(client, cast.admin)
    post_form(
        client,
        f"/admin/staff/{cast.coord_a.id}",
        {
            "name": cast.coord_a.name,
            "email": cast.coord_a.email,
            "role": "cbo",
            "organisation_id": str(cast.org_a.id),
            "locale": "en",
        },
    )
    user = db.session.get(StaffUser, cast.coord_a.id)
    assert user.role == Role.CBO
    assert user.plans == []
    assert user.organisation_id == cast.org_a.id


def test_an_admin_cannot_lock_themselves_out(client, cast):
    login(client, cast.admin)
    post_form(client, f"/admin/staff/{cast.admin.id}/disable", token_from="/admin/staff")
    assert db.session.get(StaffUser, cast.admin.id).is_enabled
    response = post_form(
        client,
        f"/admin/staff/{cast.admin.id}",
        {
            "name": "Ada",
            "email": cast.admin.email,
            "role": "coordinator",
            "plan_ids": str(cast.plan_a.id),
            "locale": "en",
            "organisation_id": "0",
        },
    )
    assert "your own administrator role" in response.get_data(as_text=True)
    assert db.session.get(StaffUser, cast.admin.id).role == Role.ADMIN


def test_turning_an_account_off_and_on(client, cast):
    login(client, cast.admin)
    post_form(client, f"/admin/staff/{cast.cbo_a.id}/disable", token_from="/admin/staff")
    assert not db.session.get(StaffUser, cast.cbo_a.id).is_enabled
    post_form(client, f"/admin/staff/{cast.cbo_a.id}/enable", token_from="/admin/staff")
    assert db.session.get(StaffUser, cast.cbo_a.id).is_enabled
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["staff.disabled", "staff.enabled"]


def test_unknown_ids_are_404(client, cast):
    login(client, cast.admin)
    for url in ("/admin/plans/999", "/admin/committees/999", "/admin/organisations/999", "/admin/staff/999"):
        assert client.get(url).status_code == 404


def test_lists_make_the_same_number_of_queries_whatever_their_length(client, cast, count_queries):
    login(client, cast.admin)

    def queries(url):
        with count_queries() as q:
            assert client.get(url).status_code == 200
        return q.count

    pages = [
        "/admin/",
        "/admin/plans",
        "/admin/committees",
        "/admin/organisations",
        "/admin/staff",
        "/committees",
        "/coordinator/",
    ]
    before = {url: queries(url) for url in pages}
    for i in range(6):
        plan = Plan(slug=f"p{i}", name=f"Plan {i}", short_name=f"P{i}")
        db.session.add(plan)
        db.session.add(Committee(plan=plan, slug=f"c{i}", name={"en": f"C{i}"}, description={}))
        db.session.add(Organisation(slug=f"o{i}", name=f"Org {i}", plans=[plan]))
        db.session.add(StaffUser(email=f"s{i}@example.org", name=f"S{i}", role=Role.COORDINATOR, plans=[plan]))
    db.session.commit()
    after = {url: queries(url) for url in pages}
    assert after == before


def test_an_unoffered_value_in_a_multiple_choice_gets_a_message_not_a_crash(client, cast):
    login(client, cast.admin)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": "X", "slug": "x-org", "plan_ids": ["999999"]},
    )
    assert response.status_code == 200
    assert "999999" in response.get_data(as_text=True)
