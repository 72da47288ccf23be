"""One table of every route × role. A route missing from the table fails the suite.

Roles: anonymous, a parent (member of plan A), CBO staff of organisation A,
the coordinator of plan A, the coordinator of plan B, and an admin.
"""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login
from tests.meeting_factories import meeting_a
from tests.test_coordinator_committees import seat_a
from tests.test_feedback_coordinator import input_a as feedback_input_a
from tests.test_feedback_coordinator import theme_a as feedback_theme_a
from tests.test_feedback_decisions import decision_a
from tests.test_feedback_questions import question_a
from tests.test_inbox import unknown_row_a
from tests.test_meetings_public import posted_agenda_a
from tests.test_partner import CBO_PAGE, CBO_POST, code_a, pending_a
from tests.test_stipends_views import past_meeting_a, reimbursement_a, stipend_a
from tests.test_support_coordinator import support_a

ROLES = ("anonymous", "parent", "cbo_a", "coord_a", "coord_b", "admin")

# Shorthands for what each role gets: 200 page, 302 to sign in, 403 refused, 404 hidden.
STAFF_ONLY_ADMIN = dict(anonymous=302, parent=403, cbo_a=403, coord_a=403, coord_b=403, admin=200)
ADMIN_POST = dict(anonymous=302, parent=403, cbo_a=403, coord_a=403, coord_b=403, admin=302)
EVERYONE = dict.fromkeys(ROLES, 200)
COORDINATORS = dict(anonymous=302, parent=403, cbo_a=403, coord_a=200, coord_b=200, admin=200)
# A page about plan A: its coordinator and admins see it, plan B's coordinator gets 404.
PLAN_A_PAGE = dict(anonymous=302, parent=403, cbo_a=403, coord_a=200, coord_b=404, admin=200)
# A parent's own pages: only the parent signed in.
PARENT_PAGE = dict(anonymous=302, parent=200, cbo_a=403, coord_a=403, coord_b=403, admin=403)
PLAN_A_POST = dict(anonymous=302, parent=403, cbo_a=403, coord_a=302, coord_b=404, admin=302)


def conversation_a(c) -> int:
    """A conversation with plan A's parent (made once per test)."""
    import sqlalchemy as sa

    from engage.extensions import db
    from engage.models import Conversation

    conv = db.session.scalar(sa.select(Conversation).filter_by(phone=c.parent.phone))
    if conv is None:
        conv = Conversation(phone=c.parent.phone, member_id=c.parent.id, needs_reply=True)
        db.session.add(conv)
        db.session.commit()
    return conv.id


def bulk_a(c) -> int:
    """A message plan A sent to many people."""
    from engage.extensions import db
    from engage.models import BulkMessage

    bulk = BulkMessage(plan_id=c.plan_a.id, bodies={"en": "AFH: Hello"}, audience={}, recipient_count=0)
    db.session.add(bulk)
    db.session.commit()
    return bulk.id


# endpoint: (method, path built from the cast, expected status per role)
MATRIX = {
    "public.home": ("GET", lambda c: "/", EVERYONE),
    "public.healthz": ("GET", lambda c: "/healthz", EVERYONE),
    "public.committees": ("GET", lambda c: "/committees", EVERYONE),
    "public.committee": ("GET", lambda c: f"/committees/{c.committee_a.slug}", EVERYONE),
    "auth.login": (
        "GET",
        lambda c: "/login",
        dict(anonymous=200, parent=200, cbo_a=302, coord_a=302, coord_b=302, admin=302),
    ),
    "auth.logout": ("POST", lambda c: "/logout", dict.fromkeys(ROLES, 302)),
    "auth.set_password": ("GET", lambda c: "/password/invite/not-a-token", dict.fromkeys(ROLES, 400)),
    "admin.index": ("GET", lambda c: "/admin/", STAFF_ONLY_ADMIN),
    "admin.plans": ("GET", lambda c: "/admin/plans", STAFF_ONLY_ADMIN),
    "admin.plan_edit": ("GET", lambda c: f"/admin/plans/{c.plan_b.id}", STAFF_ONLY_ADMIN),
    "admin.committees": ("GET", lambda c: "/admin/committees", STAFF_ONLY_ADMIN),
    "admin.committee_edit": ("GET", lambda c: f"/admin/committees/{c.committee_b.id}", STAFF_ONLY_ADMIN),
    "admin.organisations": ("GET", lambda c: "/admin/organisations", STAFF_ONLY_ADMIN),
    "admin.organisation_edit": ("GET", lambda c: f"/admin/organisations/{c.org_b.id}", STAFF_ONLY_ADMIN),
    "admin.staff": ("GET", lambda c: "/admin/staff", STAFF_ONLY_ADMIN),
    "admin.staff_edit": ("GET", lambda c: f"/admin/staff/{c.coord_b.id}", STAFF_ONLY_ADMIN),
    "admin.staff_disable": ("POST", lambda c: f"/admin/staff/{c.cbo_b.id}/disable", ADMIN_POST),
    "admin.staff_enable": ("POST", lambda c: f"/admin/staff/{c.cbo_b.id}/enable", ADMIN_POST),
    "admin.staff_reset": ("POST", lambda c: f"/admin/staff/{c.coord_b.id}/reset", ADMIN_POST),
    "coordinator.index": (
        "GET",
        lambda c: "/coordinator/",
        dict(anonymous=302, parent=403, cbo_a=403, coord_a=200, coord_b=200, admin=200),
    ),
    "coordinator.inbox": ("GET", lambda c: "/coordinator/inbox", COORDINATORS),
    "coordinator.conversation": ("GET", lambda c: f"/coordinator/inbox/{conversation_a(c)}", PLAN_A_PAGE),
    # Posted without a text: the page comes back with "Please fill this in".
    "coordinator.conversation_reply": (
        "POST",
        lambda c: f"/coordinator/inbox/{conversation_a(c)}/reply",
        PLAN_A_PAGE,
    ),
    "coordinator.conversation_handled": (
        "POST",
        lambda c: f"/coordinator/inbox/{conversation_a(c)}/handled",
        PLAN_A_POST,
    ),
    "coordinator.conversation_unanswered": (
        "POST",
        lambda c: f"/coordinator/inbox/{conversation_a(c)}/unanswered",
        PLAN_A_POST,
    ),
    "coordinator.bulk_list": ("GET", lambda c: "/coordinator/messages", COORDINATORS),
    "coordinator.bulk_new": ("GET", lambda c: "/coordinator/messages/new", COORDINATORS),
    "coordinator.bulk_detail": ("GET", lambda c: f"/coordinator/messages/{bulk_a(c)}", PLAN_A_PAGE),
    # Twilio's webhooks: open to anyone who can sign the request (see tests/test_sms_webhooks.py).
    "sms.inbound_sms": ("POST", lambda c: "/sms/inbound", dict.fromkeys(ROLES, 200)),
    "sms.status": ("POST", lambda c: "/sms/status", dict.fromkeys(ROLES, 204)),
    # A parent's own page: sign-in is public (a signed-in parent goes straight to /me);
    # the code page without a number entered first goes back to the sign-in page.
    "me.login": (
        "GET",
        lambda c: "/me/login",
        dict(anonymous=200, parent=302, cbo_a=200, coord_a=200, coord_b=200, admin=200),
    ),
    "me.login_code": ("GET", lambda c: "/me/login/code", dict.fromkeys(ROLES, 302)),
    "me.index": ("GET", lambda c: "/me", PARENT_PAGE),
    "me.settings": ("GET", lambda c: "/me/settings", PARENT_PAGE),
    "me.about": ("GET", lambda c: "/me/about", PARENT_PAGE),
    "me.phone": ("GET", lambda c: "/me/phone", PARENT_PAGE),
    # Without a new number entered first, back to /me/phone.
    "me.phone_confirm": ("GET", lambda c: "/me/phone/confirm", {**PARENT_PAGE, "parent": 302}),
    "me.export_json": ("GET", lambda c: "/me/export.json", PARENT_PAGE),
    "me.export_csv": ("GET", lambda c: "/me/export.csv", PARENT_PAGE),
    "me.delete": ("GET", lambda c: "/me/delete", PARENT_PAGE),
    "partner.codes": ("GET", lambda c: "/partner/codes", CBO_PAGE),
    "partner.code_deactivate": ("POST", lambda c: f"/partner/codes/{code_a(c)}/deactivate", CBO_POST),
    "partner.code_reactivate": ("POST", lambda c: f"/partner/codes/{code_a(c)}/reactivate", CBO_POST),
    "partner.code_flyer": ("GET", lambda c: f"/partner/codes/{code_a(c)}/flyer?language=es", CBO_PAGE),
    "partner.enroll": ("GET", lambda c: "/partner/enroll", CBO_PAGE),
    "partner.enroll_confirm": ("GET", lambda c: f"/partner/enroll/{pending_a(c)}/confirm", CBO_PAGE),
    "partner.enroll_resend": ("POST", lambda c: f"/partner/enroll/{pending_a(c)}/resend", CBO_POST),
    "partner.enroll_done": ("GET", lambda c: f"/partner/enroll/{c.parent.id}/done", CBO_PAGE),
    "partner.families": ("GET", lambda c: "/partner/families", CBO_PAGE),
    "partner.families_csv": ("GET", lambda c: "/partner/families.csv", CBO_PAGE),
    "coordinator.members": ("GET", lambda c: "/coordinator/members", COORDINATORS),
    "coordinator.members_csv": ("GET", lambda c: "/coordinator/members.csv", COORDINATORS),
    # Web sign-up: open to all (the code page says where to start when no sign-up is in progress).
    "join.start": ("GET", lambda c: "/join", EVERYONE),
    "join.confirm": ("GET", lambda c: "/join/confirm", EVERYONE),
    "join.done": ("GET", lambda c: "/join/done", EVERYONE),
    # Meetings: public pages, calendar files and parents' replies (engage/meetings).
    "meetings.show": ("GET", lambda c: f"/meetings/{meeting_a(c)}", EVERYONE),
    "meetings.ics": ("GET", lambda c: f"/meetings/{meeting_a(c)}.ics", EVERYONE),
    "meetings.committee_feed": ("GET", lambda c: f"/committees/{c.committee_a.slug}/calendar.ics", EVERYONE),
    "meetings.document": ("GET", lambda c: f"/meetings/{posted_agenda_a(c)}/agenda/es", EVERYONE),
    # A parent with no answer yet is sent back to the meeting page.
    "meetings.reply": ("POST", lambda c: f"/meetings/{meeting_a(c)}/reply", {**PARENT_PAGE, "parent": 302}),
    "meetings.needs": ("GET", lambda c: f"/meetings/{meeting_a(c)}/needs", {**PARENT_PAGE, "parent": 302}),
    "meetings.next_steps": ("GET", lambda c: f"/meetings/{meeting_a(c)}/next", {**PARENT_PAGE, "parent": 302}),
    # Meetings: the coordinator's committees, rosters, schedules, agendas and minutes.
    "coordinator.committees": ("GET", lambda c: "/coordinator/committees", COORDINATORS),
    "coordinator.committee": ("GET", lambda c: f"/coordinator/committees/{c.committee_a.id}", PLAN_A_PAGE),
    "coordinator.roster_add": ("GET", lambda c: f"/coordinator/committees/{c.committee_a.id}/roster/add", PLAN_A_PAGE),
    "coordinator.seat_edit": (
        "GET",
        lambda c: f"/coordinator/committees/{c.committee_a.id}/roster/{seat_a(c)}",
        PLAN_A_PAGE,
    ),
    "coordinator.meeting_new": (
        "GET",
        lambda c: f"/coordinator/committees/{c.committee_a.id}/meetings/new",
        PLAN_A_PAGE,
    ),
    "coordinator.schedule_new": ("GET", lambda c: f"/coordinator/committees/{c.committee_a.id}/schedule", PLAN_A_PAGE),
    "coordinator.meeting_edit": ("GET", lambda c: f"/coordinator/meetings/{meeting_a(c)}/edit", PLAN_A_PAGE),
    "coordinator.meeting_cancel": ("GET", lambda c: f"/coordinator/meetings/{meeting_a(c)}/cancel", PLAN_A_PAGE),
    "coordinator.meeting_documents": (
        "GET",
        lambda c: f"/coordinator/meetings/{meeting_a(c)}/documents/agenda",
        PLAN_A_PAGE,
    ),
    # Meetings: the coordinator's meeting page, invitations and check-in.
    "coordinator.meetings": ("GET", lambda c: "/coordinator/meetings", COORDINATORS),
    "coordinator.meeting": ("GET", lambda c: f"/coordinator/meetings/{meeting_a(c)}", PLAN_A_PAGE),
    "coordinator.meeting_replies_csv": (
        "GET",
        lambda c: f"/coordinator/meetings/{meeting_a(c)}/replies.csv",
        PLAN_A_PAGE,
    ),
    # Posted without a person: back to the meeting page with a message.
    "coordinator.meeting_answer": ("POST", lambda c: f"/coordinator/meetings/{meeting_a(c)}/answer", PLAN_A_POST),
    "coordinator.meeting_invite": ("GET", lambda c: f"/coordinator/meetings/{meeting_a(c)}/invite", PLAN_A_PAGE),
    "coordinator.meeting_check_in": ("GET", lambda c: f"/coordinator/meetings/{meeting_a(c)}/check-in", PLAN_A_PAGE),
    "coordinator.meeting_check_in_member": (
        "POST",
        lambda c: f"/coordinator/meetings/{meeting_a(c)}/check-in/{c.parent.id}",
        PLAN_A_POST,
    ),
    "coordinator.meeting_check_in_undo": (
        "POST",
        lambda c: f"/coordinator/meetings/{meeting_a(c)}/check-in/{c.parent.id}/undo",
        PLAN_A_POST,
    ),
    # Posted without a name: the page comes back with "Please fill this in".
    "coordinator.meeting_walk_in": ("POST", lambda c: f"/coordinator/meetings/{meeting_a(c)}/walk-in", PLAN_A_PAGE),
    # Supports: asking for and arranging childcare, interpreters, transport (engage/supports/routes.py).
    "support.parent_form": ("GET", lambda c: f"/meetings/{meeting_a(c)}/support", PARENT_PAGE),
    "support.parent_next": ("GET", lambda c: f"/meetings/{meeting_a(c)}/support/next", PARENT_PAGE),
    "support.family": ("GET", lambda c: f"/partner/families/{c.parent.id}", CBO_PAGE),
    "support.family_form": ("GET", lambda c: f"/partner/families/{c.parent.id}/support/{meeting_a(c)}", CBO_PAGE),
    "support.coordinator_list": ("GET", lambda c: "/coordinator/supports", COORDINATORS),
    "support.coordinator_csv": ("GET", lambda c: "/coordinator/supports.csv", COORDINATORS),
    "support.fairness": ("GET", lambda c: "/coordinator/supports/fairness", COORDINATORS),
    "support.detail": ("GET", lambda c: f"/coordinator/supports/{support_a(c)}", PLAN_A_PAGE),
    # Posted without what was booked / what happened: the page comes back with the error.
    "support.arrange": ("POST", lambda c: f"/coordinator/supports/{support_a(c)}/arrange", PLAN_A_PAGE),
    "support.outcome": ("POST", lambda c: f"/coordinator/supports/{support_a(c)}/outcome", PLAN_A_PAGE),
    # Not arranged yet, so it cannot be confirmed: back to the request with a message.
    "support.mark_confirmed": ("POST", lambda c: f"/coordinator/supports/{support_a(c)}/confirmed", PLAN_A_POST),
    "support.staff_form": (
        "GET",
        lambda c: f"/coordinator/meetings/{meeting_a(c)}/support/{c.parent.id}",
        PLAN_A_PAGE,
    ),
    # Stipends and reimbursements (engage/supports/stipend_routes.py).
    "stipends.policy": ("GET", lambda c: f"/coordinator/committees/{c.committee_a.id}/stipend-policy", PLAN_A_PAGE),
    "stipends.index": ("GET", lambda c: "/coordinator/stipends", COORDINATORS),
    "stipends.prepare": ("POST", lambda c: f"/coordinator/stipends/meetings/{past_meeting_a(c)}/prepare", PLAN_A_POST),
    "stipends.approve_meeting": (
        "POST",
        lambda c: f"/coordinator/stipends/meetings/{past_meeting_a(c)}/approve",
        PLAN_A_POST,
    ),
    "stipends.approve": ("POST", lambda c: f"/coordinator/stipends/{stipend_a(c)}/approve", PLAN_A_POST),
    "stipends.pay": ("GET", lambda c: f"/coordinator/stipends/{stipend_a(c)}/pay", PLAN_A_PAGE),
    "stipends.change_amount": ("GET", lambda c: f"/coordinator/stipends/{stipend_a(c)}/amount", PLAN_A_PAGE),
    "stipends.totals": ("GET", lambda c: "/coordinator/stipends/totals", COORDINATORS),
    "stipends.w9": ("POST", lambda c: f"/coordinator/stipends/totals/{c.parent.id}/w9", PLAN_A_POST),
    "stipends.export": ("GET", lambda c: "/coordinator/stipends/export.csv", COORDINATORS),
    "stipends.reimbursements": ("GET", lambda c: "/coordinator/reimbursements", COORDINATORS),
    "stipends.reimbursement_new": (
        "GET",
        lambda c: f"/coordinator/reimbursements/new?member_id={c.parent.id}",
        PLAN_A_PAGE,
    ),
    "stipends.reimbursement_approve": (
        "POST",
        lambda c: f"/coordinator/reimbursements/{reimbursement_a(c)}/approve",
        PLAN_A_POST,
    ),
    "stipends.reimbursement_reject": (
        "GET",
        lambda c: f"/coordinator/reimbursements/{reimbursement_a(c)}/reject",
        PLAN_A_PAGE,
    ),
    "stipends.reimbursement_pay": (
        "GET",
        lambda c: f"/coordinator/reimbursements/{reimbursement_a(c)}/pay",
        PLAN_A_PAGE,
    ),
    "stipends.mine": ("GET", lambda c: "/me/stipends", PARENT_PAGE),
    "stipends.decline": (
        "POST",
        lambda c: f"/me/stipends/{stipend_a(c)}/decline",
        dict(anonymous=302, parent=302, cbo_a=403, coord_a=403, coord_b=403, admin=403),
    ),
    "stipends.restore": (
        "POST",
        lambda c: f"/me/stipends/{stipend_a(c)}/restore",
        dict(anonymous=302, parent=302, cbo_a=403, coord_a=403, coord_b=403, admin=403),
    ),
    "stipends.reduce": ("GET", lambda c: f"/me/stipends/{stipend_a(c)}/less", PARENT_PAGE),
    "stipends.benefits": ("GET", lambda c: "/me/stipends/benefits", PARENT_PAGE),
    "stipends.my_reimbursement_new": ("GET", lambda c: "/me/reimbursements/new", PARENT_PAGE),
    # Input to decision: parents, CBOs and the public (engage/feedback/public_routes.py).
    "feedback.me_input": ("GET", lambda c: "/me/input", PARENT_PAGE),
    # Nothing sent yet: back to /me.
    "feedback.me_input_sent": ("GET", lambda c: "/me/input/sent", {**PARENT_PAGE, "parent": 302}),
    "feedback.me_history": ("GET", lambda c: "/me/input/history", PARENT_PAGE),
    "feedback.family_input": ("GET", lambda c: f"/partner/families/{c.parent.id}/input", CBO_PAGE),
    "feedback.outcomes_page": ("GET", lambda c: f"/committees/{c.committee_a.slug}/outcomes", EVERYONE),
    # No such theme: 404 for everyone (the redirect to the page is in tests/test_feedback_public.py).
    "feedback.short_link": ("GET", lambda c: "/o/0", dict.fromkeys(ROLES, 404)),
    # Input to decision: the coordinator's input, themes, decisions, questions, measures (engage/feedback/routes.py).
    "feedback.input_list": ("GET", lambda c: "/coordinator/input", COORDINATORS),
    "feedback.input_detail": ("GET", lambda c: f"/coordinator/input/{feedback_input_a(c)}", PLAN_A_PAGE),
    # Posted empty: the page comes back with what to fix.
    "feedback.input_translation": (
        "POST",
        lambda c: f"/coordinator/input/{feedback_input_a(c)}/translation",
        PLAN_A_PAGE,
    ),
    "feedback.input_move": ("POST", lambda c: f"/coordinator/input/{feedback_input_a(c)}/theme", PLAN_A_PAGE),
    "feedback.themes": ("GET", lambda c: "/coordinator/themes", COORDINATORS),
    "feedback.theme": ("GET", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}", PLAN_A_PAGE),
    "feedback.theme_edit": ("POST", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/edit", PLAN_A_PAGE),
    "feedback.theme_review": ("POST", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/review", PLAN_A_POST),
    "feedback.theme_take": ("POST", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/take", PLAN_A_PAGE),
    "feedback.theme_decide": ("POST", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/decide", PLAN_A_PAGE),
    "feedback.theme_note": ("POST", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/note", PLAN_A_PAGE),
    # Plan A's coordinator takes the input out (back to the theme); the admin then finds it out already.
    "feedback.theme_take_out": (
        "POST",
        lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/input/{feedback_input_a(c)}/take-out",
        PLAN_A_POST,
    ),
    # Plan A's theme holds input: an allowed role is told it cannot go (and it stays).
    "feedback.theme_delete": ("POST", lambda c: f"/coordinator/themes/{feedback_theme_a(c)}/delete", PLAN_A_POST),
    "feedback.decision_list": ("GET", lambda c: "/coordinator/decisions", COORDINATORS),
    "feedback.decision_new": ("GET", lambda c: "/coordinator/decisions/new", COORDINATORS),
    "feedback.decision_edit": ("GET", lambda c: f"/coordinator/decisions/{decision_a(c)}", PLAN_A_PAGE),
    "feedback.decisions_csv": ("GET", lambda c: "/coordinator/decisions.csv", COORDINATORS),
    "feedback.decisions_import": ("GET", lambda c: "/coordinator/decisions/import", COORDINATORS),
    "feedback.questions": ("GET", lambda c: "/coordinator/questions", COORDINATORS),
    "feedback.question_new": ("GET", lambda c: "/coordinator/questions/new", COORDINATORS),
    "feedback.question": ("GET", lambda c: f"/coordinator/questions/{question_a(c)}", PLAN_A_PAGE),
    "feedback.meeting_input": ("GET", lambda c: f"/coordinator/meetings/{meeting_a(c)}/input", PLAN_A_PAGE),
    "feedback.measures_page": ("GET", lambda c: "/coordinator/measures", COORDINATORS),
    "feedback.measures_csv": ("GET", lambda c: "/coordinator/measures.csv", COORDINATORS),
    # An interrupted text to plan A's parent: sent again by the first who may, refused after that.
    "coordinator.message_resend": ("POST", lambda c: f"/coordinator/outbox/{unknown_row_a(c)}/resend", PLAN_A_POST),
    "partner.index": (
        "GET",
        lambda c: "/partner/",
        dict(anonymous=302, parent=403, cbo_a=200, coord_a=403, coord_b=403, admin=403),
    ),
}


def test_every_route_has_a_row_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints - set(MATRIX) == set(), "add these routes to MATRIX in tests/test_access.py"
    assert set(MATRIX) - endpoints == set(), "these rows name routes that no longer exist"


def test_every_row_states_every_role():
    for endpoint, (_method, _path, expected) in MATRIX.items():
        assert set(expected) == set(ROLES), endpoint


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_each_role_gets_what_the_table_says(app, cast, endpoint):
    method, path_for, expected = MATRIX[endpoint]
    path = path_for(cast)
    got = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            login(client, getattr(cast, role))
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": csrf_token(client)})
        got[role] = response.status_code
        if role == "anonymous" and response.status_code == 302 and endpoint != "auth.logout":
            assert "/login" in response.headers["Location"], endpoint
    assert got == expected


def test_a_disabled_staff_account_is_signed_out_at_once(app, cast, client):
    from engage.extensions import db

    login(client, cast.coord_a)
    assert client.get("/coordinator/").status_code == 200
    cast.coord_a.is_enabled = False
    db.session.commit()
    assert client.get("/coordinator/").status_code == 302


def test_a_coordinator_sees_only_their_own_plans(app, cast, client):
    login(client, cast.coord_a)
    page = client.get("/coordinator/").get_data(as_text=True)
    assert cast.plan_a.name in page
    assert cast.plan_b.name not in page


def test_cbo_staff_see_only_their_own_organisation(app, cast, client):
    login(client, cast.cbo_b)
    page = client.get("/partner/").get_data(as_text=True)
    assert cast.org_b.name in page
    assert cast.org_a.name not in page
