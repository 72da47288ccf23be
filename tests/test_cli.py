"""The command line: demo data and staff accounts."""

from __future__ import annotations

import sqlalchemy as sa

from engage.extensions import db
from engage.models import Base, Committee, ConsentEvent, Member, Organisation, Plan, Role, StaffUser


def counts():
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_demo_loads_a_plan_two_committees_a_cbo_and_staff_and_prints_logins(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@engage.example.org" in result.output
    assert "coordinator@valle-central.example.org" in result.output
    assert "password" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Committee.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 1
    locales = set(db.session.scalars(sa.select(Member.locale)))
    assert locales == {"en", "es", "zh_Hant"}
    assert db.session.scalar(sa.select(sa.func.count(ConsentEvent.id))) == db.session.scalar(
        sa.select(sa.func.count(Member.id))
    )


def test_demo_can_run_twice_without_duplicating_anything(runner):
    runner.invoke(args=["demo"])
    first = counts()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    db.session.expire_all()
    assert counts() == first


def test_demo_logins_work(runner, app):
    runner.invoke(args=["demo"])
    from tests.conftest import post_form

    client = app.test_client()
    response = post_form(
        client, "/login", {"email": "coordinator@valle-central.example.org", "password": "demo-password-2026"}
    )
    assert response.headers["Location"] == "/coordinator/"


def test_create_user_makes_a_coordinator_with_the_password_from_the_environment(runner, cast, monkeypatch):
    monkeypatch.setenv("ENGAGE_PASSWORD", "a long enough password")
    result = runner.invoke(args=["create-user", "New@Example.org", "--role", "coordinator", "--plan", "alameda"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser).filter_by(email="new@example.org"))
    assert user.role == Role.COORDINATOR
    assert [p.slug for p in user.plans] == ["alameda"]
    assert user.check_password("a long enough password")


def test_create_user_prompts_for_the_password(runner, cast, monkeypatch):
    monkeypatch.delenv("ENGAGE_PASSWORD", raising=False)
    result = runner.invoke(
        args=["create-user", "cbo@example.org", "--role", "cbo", "--org", "org-a"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser).filter_by(email="cbo@example.org"))
    assert user.organisation.slug == "org-a"


def test_create_user_updates_an_existing_account(runner, cast, monkeypatch):
    monkeypatch.setenv("ENGAGE_PASSWORD", "a different long password")
    result = runner.invoke(args=["create-user", cast.coord_a.email, "--role", "admin"])
    assert result.exit_code == 0
    assert "Updated" in result.output
    db.session.expire_all()
    user = db.session.get(StaffUser, cast.coord_a.id)
    assert user.role == Role.ADMIN and user.plans == []


def test_create_user_refuses_bad_input(runner, cast, monkeypatch):
    monkeypatch.setenv("ENGAGE_PASSWORD", "a long enough password")
    cases = [
        ["create-user", "x@example.org", "--role", "coordinator"],
        ["create-user", "x@example.org", "--role", "coordinator", "--plan", "nope"],
        ["create-user", "x@example.org", "--role", "cbo"],
        ["create-user", "x@example.org", "--role", "cbo", "--org", "nope"],
        ["create-user", "not-an-email", "--role", "admin"],
        ["create-user", "x@example.org", "--role", "emperor"],
    ]
    for args in cases:
        assert runner.invoke(args=args).exit_code != 0, args
    monkeypatch.setenv("ENGAGE_PASSWORD", "short")
    assert runner.invoke(args=["create-user", "x@example.org", "--role", "admin"]).exit_code != 0
    assert db.session.scalar(sa.select(StaffUser).filter_by(email="x@example.org")) is None


def test_demo_has_a_cbo_referral_code_that_credits_its_families(runner):
    from engage.models import ReferralCode

    result = runner.invoke(args=["demo"])
    assert "JOIN FAMILIA" in result.output
    code = db.session.scalar(sa.select(ReferralCode).filter_by(code="FAMILIA"))
    assert code.organisation.slug == "familias-unidas"
    credited = db.session.scalar(sa.select(sa.func.count(Member.id)).where(Member.referral_code_id == code.id))
    assert credited >= 2


def test_demo_has_meetings_supports_stipends_and_input_at_every_step(runner):
    import sqlalchemy as sa

    from engage.extensions import db
    from engage.models import Input, Meeting, Stipend, SupportRequest, Theme, ThemeStatus

    runner.invoke(args=["demo"])
    runner.invoke(args=["demo"])

    def count(model):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    assert count(Meeting) >= 5 and count(SupportRequest) >= 5 and count(Stipend) >= 5 and count(Input) == 9
    statuses = set(db.session.scalars(sa.select(Theme.status)))
    assert {ThemeStatus.TAKEN, ThemeStatus.CLOSED} <= statuses
