"""Staff sign-in, sign-out, invitations and password resets."""

from __future__ import annotations

import re

import pytest

from engage.extensions import db
from engage.mail import outbox
from engage.models import AuditEvent, StaffUser
from tests.conftest import PASSWORD, login, post_form


def sign_in(client, email, password=PASSWORD, **kwargs):
    return post_form(client, "/login", {"email": email, "password": password}, **kwargs)


@pytest.mark.parametrize(
    "who,home",
    [("admin", "/admin/"), ("coord_a", "/coordinator/"), ("cbo_a", "/partner/")],
)
def test_staff_sign_in_lands_on_their_own_home(client, cast, who, home):
    response = sign_in(client, getattr(cast, who).email)
    assert response.status_code == 302
    assert response.headers["Location"] == home


def test_email_is_matched_whatever_its_case_and_spaces(client, cast):
    assert sign_in(client, "  Coord-A@Example.ORG ").status_code == 302


@pytest.mark.parametrize(
    "email,password",
    [
        ("coord-a@example.org", "wrong password"),
        ("nobody@example.org", PASSWORD),
        ("coord-a@example.org", ""),
        ("not an email", PASSWORD),
    ],
)
def test_a_wrong_sign_in_is_refused_with_a_message(client, cast, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert client.get("/coordinator/").status_code == 302


def test_the_refusal_is_translated(client, cast):
    response = post_form(client, "/login?lang=es", {"email": "coord-a@example.org", "password": "nope"})
    assert "no coinciden" in response.get_data(as_text=True)


def test_a_disabled_account_cannot_sign_in(client, cast):
    cast.coord_a.is_enabled = False
    db.session.commit()
    assert sign_in(client, cast.coord_a.email).status_code == 200


def test_sign_in_follows_next_only_within_the_site(client, cast):
    ok = post_form(client, "/login?next=/admin/plans", {"email": cast.admin.email, "password": PASSWORD})
    assert ok.headers["Location"] == "/admin/plans"
    client.post("/logout", data={"csrf_token": ""})
    for evil in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        other = type(client)(client.application)
        response = post_form(other, f"/login?next={evil}", {"email": cast.admin.email, "password": PASSWORD})
        assert response.headers["Location"] == "/admin/", evil


def test_signing_out_ends_the_session_and_keeps_the_language(client, cast):
    client.get("/?lang=es")
    login(client, cast.coord_a)
    response = post_form(client, "/logout", token_from="/coordinator/")
    assert response.status_code == 302
    assert client.get("/coordinator/").status_code == 302
    assert 'lang="es"' in client.get("/").get_data(as_text=True)


def test_passwords_are_stored_with_scrypt(app):
    user = StaffUser(email="x@example.org", name="X", role="admin")
    user.set_password("a long enough password")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("a long enough password")
    assert not user.check_password("another password")


def test_sign_in_is_rate_limited(app, cast):
    client = app.test_client()
    codes = [sign_in(client, cast.coord_a.email, "wrong").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    page = client.get("/login").get_data(as_text=True)
    assert "Staff sign-in" in page  # GET is never limited


def test_the_limit_page_is_translated(app, cast):
    client = app.test_client()
    for _ in range(10):
        sign_in(client, cast.coord_a.email, "wrong")
    response = post_form(client, "/login?lang=zh_Hant", {"email": cast.coord_a.email, "password": "x"})
    assert response.status_code == 429
    assert 'lang="zh-Hant"' in response.get_data(as_text=True)


# Invitations and resets ----------------------------------------------------------


def invite(client, cast, email="new@example.org", role="coordinator", **extra):
    login(client, cast.admin)
    data = {"name": "Nadia New", "email": email, "role": role, "locale": "es", "organisation_id": "0"}
    data.update(extra)
    return post_form(client, "/admin/staff/new", data)


def link_in(message) -> str:
    body = message.get_content()
    return re.search(r"http://\S+/password/\S+", body).group(0).split("127.0.0.1:5000", 1)[1]


def test_an_invitation_emails_a_link_that_sets_a_password(app, client, cast):
    response = invite(client, cast, plan_ids=str(cast.plan_a.id))
    assert response.status_code == 302
    [message] = outbox()
    assert message["To"] == "new@example.org"
    assert "engage" in message["Subject"]
    body = message.get_content()
    assert "Hola, Nadia New" in body  # in the language chosen for them

    link = link_in(message)
    fresh = app.test_client()
    assert fresh.get(link).status_code == 200
    response = post_form(fresh, link, {"password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/coordinator/"
    assert fresh.get("/coordinator/").status_code == 200

    # The link works once.
    again = app.test_client()
    assert again.get(link).status_code == 400


def test_a_new_password_must_be_long_and_typed_twice(app, client, cast):
    invite(client, cast, plan_ids=str(cast.plan_a.id))
    link = link_in(outbox()[0])
    fresh = app.test_client()
    short = post_form(fresh, link, {"password": "short", "confirm": "short"})
    assert short.status_code == 200
    assert "12" in short.get_data(as_text=True)
    mismatch = post_form(fresh, link, {"password": "a brand new password", "confirm": "another one entirely"})
    assert mismatch.status_code == 200
    user = db.session.scalar(db.select(StaffUser).filter_by(email="new@example.org"))
    assert user.password_hash is None


def test_an_old_invitation_link_has_expired(app, client, cast, monkeypatch):
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) - 73 * 3600)
    invite(client, cast, plan_ids=str(cast.plan_a.id))
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    response = app.test_client().get(link_in(outbox()[0]))
    assert response.status_code == 400
    assert "no longer works" in response.get_data(as_text=True)


def test_a_reset_link_signs_out_old_sessions(app, client, cast):
    old_session = app.test_client()
    login(old_session, cast.coord_a)
    assert old_session.get("/coordinator/").status_code == 200

    login(client, cast.admin)
    post_form(client, f"/admin/staff/{cast.coord_a.id}/reset", token_from="/admin/staff")
    link = link_in(outbox()[0])
    post_form(app.test_client(), link, {"password": "another new password", "confirm": "another new password"})
    assert old_session.get("/coordinator/").status_code == 302
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="staff.reset_sent")) is not None


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}])
def test_sign_in_limits_are_counted_in_redis_when_configured(app, cast):
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
    client = app.test_client()
    codes = [sign_in(client, cast.coord_a.email, "wrong").status_code for _ in range(11)]
    assert codes[-1] == 429
    assert redis.Redis(host="127.0.0.1", port=6379, db=15).keys("LIMITS*")
    redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
