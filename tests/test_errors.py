"""Error pages are translated, and nothing reaches anyone as a stack trace."""

from __future__ import annotations

import pytest

from engage.security import public
from tests.conftest import login


@pytest.mark.parametrize(
    "lang,words",
    [("en", "We could not find that page"), ("es", 'lang="es"'), ("zh_Hant", 'lang="zh-Hant"')],
)
def test_not_found_is_translated(client, lang, words):
    response = client.get(f"/no-such-page?lang={lang}")
    assert response.status_code == 404
    assert words in response.get_data(as_text=True)


def test_forbidden_page(client, cast):
    login(client, cast.coord_a)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "cannot open this page" in response.get_data(as_text=True)


def test_method_not_allowed_is_a_page_not_a_crash(client):
    assert client.post("/healthz").status_code in (400, 405)
    assert client.delete("/").status_code == 405


def test_an_unexpected_error_shows_a_translated_500_page(app, caplog):
    @app.get("/boom")
    @public
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom?lang=es")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "kaboom" not in page
    assert 'lang="es"' in page
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_healthz_says_unavailable_when_the_database_is_down(tmp_path):
    from engage import create_app

    app = create_app({"ENGAGE_ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/dir/x.db"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
