"""Input to decision, the coordinator's screens: every plan-scoped row is loaded through
one helper (``_load`` / ``_get`` in engage/feedback/routes.py), so another plan's row is a
404 exactly like a missing one, and admins see every plan."""

from __future__ import annotations

import ast
import inspect

import pytest

from engage.feedback import routes
from tests.conftest import login, post_form
from tests.meeting_factories import meeting_a
from tests.test_feedback_coordinator import input_a, input_b, theme_a, theme_b
from tests.test_feedback_decisions import decision_a
from tests.test_feedback_questions import question_a


def _calls_by_function(name: str, *args) -> set[str]:
    """The functions of routes.py that call ``name(...)`` (with these first arguments)."""
    tree = ast.parse(inspect.getsource(routes))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for call in ast.walk(node):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name):
                    continue
                given = [a.value for a in call.args[: len(args)] if isinstance(a, ast.Constant)]
                if given == list(args):
                    found.add(node.name)
    return found


def test_one_helper_loads_rows_for_the_plan_or_404():
    # Only the helper turns "no such row, or another plan's" into a 404 (and one more
    # for "you see no plan at all") ...
    assert _calls_by_function("abort", 404) == {"_load", "_visible_plans_or_404"}
    # ... and only the helper checks a loaded row's plan; the two others check a plan the
    # coordinator chose in a form.
    assert _calls_by_function("require_plan") == {"_load", "_save_decision", "decisions_import"}
    source = inspect.getsource(routes)
    assert "db.session.get(Meeting" not in source and "def _input(" not in source and "def _theme(" not in source


# Every page about one row: another plan's coordinator gets a 404, admins see it.
DETAIL_PAGES = {
    "input": lambda c: f"/coordinator/input/{input_a(c)}",
    "theme": lambda c: f"/coordinator/themes/{theme_a(c)}",
    "decision": lambda c: f"/coordinator/decisions/{decision_a(c)}",
    "question": lambda c: f"/coordinator/questions/{question_a(c)}",
    "meeting input": lambda c: f"/coordinator/meetings/{meeting_a(c)}/input",
}


@pytest.mark.parametrize("name", sorted(DETAIL_PAGES))
def test_another_plans_row_is_404_and_admins_see_every_plan(app, cast, name):
    path = DETAIL_PAGES[name](cast)
    for user, expected in ((cast.coord_a, 200), (cast.coord_b, 404), (cast.admin, 200)):
        client = app.test_client()
        login(client, user)
        assert client.get(path).status_code == expected, (name, user.email)


@pytest.mark.parametrize(
    "path",
    [
        "/coordinator/input/987654",
        "/coordinator/themes/987654",
        "/coordinator/decisions/987654",
        "/coordinator/questions/987654",
        "/coordinator/meetings/987654/input",
    ],
)
def test_a_missing_row_is_404_for_admins_too(cast, client, path):
    login(client, cast.admin)
    assert client.get(path).status_code == 404


def test_admins_see_plan_b_rows_and_plan_a_coordinators_do_not(app, cast):
    paths = [f"/coordinator/input/{input_b(cast)}", f"/coordinator/themes/{theme_b(cast)}"]
    for user, expected in ((cast.admin, 200), (cast.coord_a, 404), (cast.coord_b, 200)):
        client = app.test_client()
        login(client, user)
        assert [client.get(p).status_code for p in paths] == [expected, expected]


def test_grouping_ticks_of_another_plan_or_of_no_input_are_404(cast, client):
    mine, theirs = input_a(cast), input_b(cast)
    login(client, cast.coord_a)
    for ticked in ([mine, theirs], [mine, 987654]):
        response = post_form(
            client,
            "/coordinator/input",
            {"input_ids": [str(i) for i in ticked], "theme_id": "0", "title": "New"},
        )
        assert response.status_code == 404
    # An admin may group any plan's input, one plan at a time.
    login(client, cast.admin)
    response = post_form(client, "/coordinator/input", {"input_ids": [str(theirs)], "theme_id": "0", "title": "B"})
    assert response.status_code == 302
