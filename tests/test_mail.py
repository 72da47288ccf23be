"""Staff email: the console backend prints, the SMTP backend sends."""

from __future__ import annotations

import smtplib

import pytest

from engage.mail import send_email


class FakeSMTP:
    sent: list = []
    calls: list = []

    def __init__(self, host, port, timeout=None):
        self.calls.append(("connect", host, port))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user))

    def send_message(self, msg):
        self.sent.append(msg)


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.sent, FakeSMTP.calls = [], []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)
    return FakeSMTP


def test_smtp_backend_uses_starttls_and_login(app, fake_smtp):
    app.config.update(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="smtp.example.org",
        MAIL_PORT=587,
        MAIL_USERNAME="engage",
        MAIL_PASSWORD="pw",
        MAIL_USE_TLS=True,
        MAIL_USE_SSL=False,
        MAIL_FROM="engage <no-reply@example.org>",
    )
    send_email("coord@example.org", "Hello", "Body")
    assert fake_smtp.calls == [("connect", "smtp.example.org", 587), ("starttls",), ("login", "engage")]
    [msg] = fake_smtp.sent
    assert msg["To"] == "coord@example.org"
    assert msg["From"] == "engage <no-reply@example.org>"


def test_smtp_over_ssl_skips_starttls(app, fake_smtp):
    app.config.update(MAIL_BACKEND="smtp", MAIL_USE_SSL=True, MAIL_PORT=465, MAIL_USERNAME=None)
    send_email("coord@example.org", "Hello", "Body")
    assert ("starttls",) not in fake_smtp.calls
    assert len(fake_smtp.sent) == 1


def test_console_backend_prints_the_message(app, capsys):
    app.config["MAIL_BACKEND"] = "console"
    send_email("coord@example.org", "Hello", "The body")
    out = capsys.readouterr().out
    assert "The body" in out and "Subject: Hello" in out


def test_an_unknown_backend_is_an_error(app):
    app.config["MAIL_BACKEND"] = "pigeon"
    with pytest.raises(ValueError):
        send_email("coord@example.org", "Hello", "Body")
