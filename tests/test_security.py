"""Settings, security headers and cookies."""

from __future__ import annotations

import pytest

from config import ConfigError, load_config
from engage import create_app


def test_every_page_sends_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, cast):
    for url in ("/", "/committees", "/login", f"/committees/{cast.committee_a.slug}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script" not in page
        assert "style=" not in page
        assert "<style" not in page


def test_no_page_loads_anything_from_another_site(client, cast):
    for url in ("/", "/committees", "/login"):
        page = client.get(url).get_data(as_text=True)
        assert 'src="http' not in page
        assert 'href="http' not in page.replace('href="http://localhost', "")


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    with pytest.raises(ConfigError):
        create_app({"ENGAGE_ENV": "production"})


def test_production_sets_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    cfg = load_config("production")
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["REMEMBER_COOKIE_SECURE"] is True
    assert cfg["MAIL_BACKEND"] == "smtp"


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    assert load_config("production")["SECRET_KEY"] == "from-a-file"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENGAGE_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SMS_BACKEND", "twilio")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://engage.example.org/")
    cfg = load_config("development")
    assert cfg["ENGAGE_TIMEZONE"] == "America/New_York"
    assert cfg["SMS_BACKEND"] == "twilio"
    assert cfg["PUBLIC_BASE_URL"] == "https://engage.example.org"


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError):
        load_config("staging")


def test_the_session_cookie_is_http_only_and_same_site(client, cast):
    from tests.conftest import PASSWORD, post_form

    response = post_form(client, "/login", {"email": cast.admin.email, "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
