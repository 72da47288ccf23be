"""Logs are JSON lines, and never hold a phone number, an email or a name."""

from __future__ import annotations

import io
import json
import logging

import pytest

from engage.logs import JsonFormatter, redact
from tests.conftest import PASSWORD, login, post_form


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("engage")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    "text",
    ["+15105550111", "(510) 555-0111", "510-555-0111", "510 555 0111", "+1 510.555.0111", "coord-a@example.org"],
)
def test_phone_numbers_and_emails_are_masked(text):
    assert text not in redact(f"something about {text} here")


def test_ids_and_timings_are_not_masked():
    assert redact("staff 42 took 12.5 ms") == "staff 42 took 12.5 ms"


def test_a_day_of_staff_work_leaves_no_personal_data_in_the_logs(app, cast, client, log_lines):
    post_form(client, "/login", {"email": cast.admin.email, "password": PASSWORD})
    post_form(client, "/login", {"email": cast.coord_a.email, "password": "wrong"})
    login(client, cast.admin)
    post_form(
        client,
        "/admin/staff/new",
        {
            "name": "Yolanda Quintero",
            "email": "yolanda@example.org",
            "role": "admin",
            "locale": "es",
            "organisation_id": "0",
        },
    )
    post_form(
        client,
        "/admin/plans/new",
        {"name": "Plan", "short_name": "P", "slug": "p", "colour": "#123456", "contact_phone": "(510) 555-0199"},
    )
    client.get(f"/committees/{cast.committee_a.slug}?phone=%2B15105550111")
    lines = log_lines()
    assert any(line["event"] == "request" for line in lines)
    raw = json.dumps(lines, ensure_ascii=False)
    for secret in [
        "Yolanda",
        "Quintero",
        "yolanda@example.org",
        "555-0199",
        "5550111",
        cast.admin.email,
        cast.coord_a.email,
        cast.parent.display_name,
        "Ada Admin",
    ]:
        assert secret not in raw


def test_log_lines_are_json_with_the_request_fields(app, client, log_lines):
    client.get("/committees")
    [line] = [entry for entry in log_lines() if entry["event"] == "request"]
    assert line["path"] == "/committees"
    assert line["status"] == 200
    assert line["who"] == "anonymous"
    assert isinstance(line["ms"], float)


def test_other_loggers_in_the_process_still_get_the_process_id(app):
    """gunicorn's own lines ("[%(process)d] Worker exiting") share the process with the app."""
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Worker exiting", None, None)
    assert logging.Formatter("[%(process)d] %(message)s").format(record).startswith("[")
    assert record.process is not None
