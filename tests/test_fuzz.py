"""Any input at all gets an answer, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import csrf_token, login

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
text = st.text(max_size=300)
field_values = st.one_of(text, st.lists(text, max_size=3))

FORMS = {
    "/login": ["email", "password", "remember"],
    "/admin/plans/new": ["name", "short_name", "slug", "colour", "contact_phone", "contact_email", "website"],
    "/admin/committees/new": ["plan_id", "slug", "is_public", "name_en", "name_es", "name_zh_Hant", "description_en"],
    "/admin/organisations/new": ["name", "slug", "contact_phone", "contact_email", "plan_ids"],
    "/admin/staff/new": ["name", "email", "role", "plan_ids", "organisation_id", "locale"],
}


@FUZZ
@given(data=st.data())
def test_forms_answer_any_input_without_crashing(app, cast, data):
    client = app.test_client()
    login(client, cast.admin)
    token = csrf_token(client, "/admin/staff")
    url = data.draw(st.sampled_from(sorted(FORMS)))
    fields = {name: data.draw(field_values) for name in FORMS[url] if data.draw(st.booleans())}
    fields["csrf_token"] = token
    response = client.post(url, data=fields)
    assert response.status_code in (200, 302, 400, 429), (url, fields)


@FUZZ
@given(path=st.text(max_size=80), query=st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=4))
def test_any_address_gets_an_answer(app, path, query):
    from urllib.parse import quote

    client = app.test_client()
    response = client.get("/" + quote(path.lstrip("/")), query_string=query)
    assert response.status_code < 500


@FUZZ
@given(header=st.text(max_size=100))
def test_any_accept_language_header_is_fine(app, header):
    try:
        response = app.test_client().get("/", headers={"Accept-Language": header})
    except ValueError:  # the test client itself refuses headers with newlines
        return
    assert response.status_code == 200
