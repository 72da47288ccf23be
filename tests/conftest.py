"""Fixtures shared by every test.

The suite runs on SQLite, and also on PostgreSQL when ``TEST_DATABASE_URL`` is set:
every test that uses the ``app`` fixture runs once per database. The schema is made
by the real migrations once per database; after each test every table is emptied,
so tests may commit and may use several connections at once.

``make test`` runs the tests in one process a core (pytest-xdist); on PostgreSQL each
process has a database of its own, named after ``TEST_DATABASE_URL``'s with the
process's name appended, made at its start and dropped at its end.
"""

from __future__ import annotations

import contextvars
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from engage import create_app
from engage.extensions import db
from engage.models import (
    Base,
    Committee,
    Member,
    MemberSource,
    Organisation,
    Plan,
    Role,
    SmsStatus,
    StaffUser,
)

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # cheap, for tests only


class IsolatedClient(FlaskClient):
    """Each request runs in its own context, as in production: its own app context,
    ``g`` and database session. What the test set up is committed first, and the
    test's own objects are expired so they are read afresh afterwards."""

    def open(self, *args, **kwargs):
        if db.session.registry.has():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"ENGAGE_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()


@contextmanager
def _postgresql_database(url: str):
    """TEST_DATABASE_URL itself, or under pytest-xdist a database of this process's own
    beside it (the tests of two processes would empty each other's tables)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield url
        return
    base = sa.engine.make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        _migrate(url)
        yield url
        return
    with _postgresql_database(os.environ["TEST_DATABASE_URL"]) as url:
        _migrate(url)
        yield url


def _empty_tables() -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)] + ["alembic_version"]
    keep = {"alembic_version"}
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables if t not in keep)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                if t not in keep:
                    conn.execute(sa.text(f'DELETE FROM "{t}"'))


@pytest.fixture
def app_config(database_url):
    """Override to change settings for one test module."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app({"ENGAGE_ENV": "test", "SQLALCHEMY_DATABASE_URI": database_url, **app_config})
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# The cast ---------------------------------------------------------------------------


@dataclass
class Cast:
    """Two plans, each with a committee and a CBO, and one person in every role.

    alameda (plan A) and bayview (plan B) are strangers to each other.
    """

    plan_a: Plan
    plan_b: Plan
    committee_a: Committee
    committee_b: Committee
    org_a: Organisation
    org_b: Organisation
    admin: StaffUser
    coord_a: StaffUser
    coord_b: StaffUser
    cbo_a: StaffUser
    cbo_b: StaffUser
    parent: Member
    parent_b: Member


def make_staff(email, name, role, *, plans=(), organisation=None, locale="en"):
    user = StaffUser(email=email, name=name, role=role, locale=locale, organisation=organisation)
    user.plans = list(plans)
    user.password_hash = PASSWORD_HASH
    db.session.add(user)
    return user


def make_member(phone, name, *, plan, organisation=None, locale="en", status=SmsStatus.ACTIVE):
    member = Member(
        display_name=name,
        phone=phone,
        locale=locale,
        county="Alameda",
        zip_code="94601",
        child_age_groups=["0-5"],
        source=MemberSource.CBO if organisation else MemberSource.WEB,
        plan=plan,
        organisation=organisation,
        sms_status=status,
    )
    db.session.add(member)
    return member


@pytest.fixture
def cast(app) -> Cast:
    plan_a = Plan(slug="alameda", name="Alameda Family Health", short_name="AFH")
    plan_b = Plan(slug="bayview", name="Bayview Health Plan", short_name="Bayview")
    committee_a = Committee(
        plan=plan_a,
        slug="alameda-children",
        name={"en": "Children's Committee", "es": "Comité de Niños", "zh_Hant": "兒童委員會"},
        description={"en": "Parents advise the plan.", "es": "Los padres aconsejan al plan."},
    )
    committee_b = Committee(plan=plan_b, slug="bayview-cac", name={"en": "Bayview CAC"}, description={})
    org_a = Organisation(slug="org-a", name="Oakland Families Together", plans=[plan_a])
    org_b = Organisation(slug="org-b", name="Bayview Parent Network", plans=[plan_b])
    db.session.add_all([plan_a, plan_b, committee_a, committee_b, org_a, org_b])
    cast = Cast(
        plan_a=plan_a,
        plan_b=plan_b,
        committee_a=committee_a,
        committee_b=committee_b,
        org_a=org_a,
        org_b=org_b,
        admin=make_staff("admin@example.org", "Ada Admin", Role.ADMIN),
        coord_a=make_staff("coord-a@example.org", "Carmen Coordinator", Role.COORDINATOR, plans=[plan_a]),
        coord_b=make_staff("coord-b@example.org", "Bo Coordinator", Role.COORDINATOR, plans=[plan_b]),
        cbo_a=make_staff("cbo-a@example.org", "Chris Outreach", Role.CBO, organisation=org_a),
        cbo_b=make_staff("cbo-b@example.org", "Dana Outreach", Role.CBO, organisation=org_b),
        parent=make_member("+15105550111", "Paloma Parent", plan=plan_a, organisation=org_a, locale="es"),
        parent_b=make_member("+14155550122", "Bernard Parent", plan=plan_b, organisation=org_b),
    )
    db.session.commit()
    return cast


def login(client, user) -> None:
    """Sign someone in (staff or parent) without going through the form."""
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True


@pytest.fixture
def as_role(client, cast):
    """``as_role("coord_a")`` signs the client in as that member of the cast."""

    def _as(name: str | None):
        if name and name != "anonymous":
            login(client, getattr(cast, name))
        return client

    return _as


CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client, url: str = "/") -> str:
    """A CSRF token valid for this client's session, read from a page that has a form."""
    for page in (url, "/", "/login"):
        found = CSRF_RE.search(client.get(page).get_data(as_text=True))
        if found:
            return found.group(1)
    raise AssertionError("no page with a CSRF token")


def post_form(client, url: str, data: dict | None = None, *, token_from: str | None = None, **kwargs):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_from or url))
    return client.post(url, data=data, **kwargs)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as q: ...`` then ``q.count``."""

    @contextmanager
    def _count():
        class Counter:
            count = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return _count
