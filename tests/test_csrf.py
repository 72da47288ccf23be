"""Every browser POST needs a CSRF token: without one, 400 and nothing changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engage.extensions import db
from engage.models import Base
from tests.conftest import login

# Every route that accepts a browser POST, with a path to post to.
CSRF_CASES = {
    "auth.login": lambda c: "/login",
    "auth.logout": lambda c: "/logout",
    "auth.set_password": lambda c: "/password/invite/x",
    "admin.plan_edit": lambda c: "/admin/plans/new",
    "admin.committee_edit": lambda c: "/admin/committees/new",
    "admin.organisation_edit": lambda c: "/admin/organisations/new",
    "admin.staff_edit": lambda c: "/admin/staff/new",
    "admin.staff_disable": lambda c: f"/admin/staff/{c.coord_b.id}/disable",
    "admin.staff_enable": lambda c: f"/admin/staff/{c.coord_b.id}/enable",
    "admin.staff_reset": lambda c: f"/admin/staff/{c.coord_b.id}/reset",
    # The token is checked before the view runs, so these need no conversation to exist.
    "coordinator.conversation_reply": lambda c: "/coordinator/inbox/1/reply",
    "coordinator.conversation_handled": lambda c: "/coordinator/inbox/1/handled",
    "coordinator.conversation_unanswered": lambda c: "/coordinator/inbox/1/unanswered",
    "coordinator.message_resend": lambda c: "/coordinator/outbox/1/resend",
    "coordinator.bulk_new": lambda c: "/coordinator/messages/new",
    "partner.codes": lambda c: "/partner/codes",
    "partner.code_deactivate": lambda c: "/partner/codes/1/deactivate",
    "partner.code_reactivate": lambda c: "/partner/codes/1/reactivate",
    "join.start": lambda c: "/join",
    "join.confirm": lambda c: "/join/confirm",
    "partner.enroll": lambda c: "/partner/enroll",
    "partner.enroll_confirm": lambda c: "/partner/enroll/1/confirm",
    "partner.enroll_resend": lambda c: "/partner/enroll/1/resend",
    "me.login": lambda c: "/me/login",
    "me.login_code": lambda c: "/me/login/code",
    "me.settings": lambda c: "/me/settings",
    "me.about": lambda c: "/me/about",
    "me.phone": lambda c: "/me/phone",
    "me.phone_confirm": lambda c: "/me/phone/confirm",
    "me.delete": lambda c: "/me/delete",
    # Meetings: public pages and parents' replies.
    "meetings.reply": lambda c: "/meetings/1/reply",
    "meetings.needs": lambda c: "/meetings/1/needs",
    # Meetings: the coordinator's committees, rosters, schedules, agendas and minutes.
    "coordinator.committee": lambda c: "/coordinator/committees/1",
    "coordinator.roster_add": lambda c: "/coordinator/committees/1/roster/add",
    "coordinator.seat_edit": lambda c: "/coordinator/committees/1/roster/1",
    "coordinator.meeting_new": lambda c: "/coordinator/committees/1/meetings/new",
    "coordinator.schedule_new": lambda c: "/coordinator/committees/1/schedule",
    "coordinator.meeting_edit": lambda c: "/coordinator/meetings/1/edit",
    "coordinator.meeting_cancel": lambda c: "/coordinator/meetings/1/cancel",
    "coordinator.meeting_documents": lambda c: "/coordinator/meetings/1/documents/agenda",
    # Meetings: the coordinator's meeting page, invitations and check-in.
    # Supports: asking for and arranging childcare, interpreters, transport (engage/supports/routes.py).
    "support.parent_form": lambda c: "/meetings/1/support",
    "support.family_form": lambda c: f"/partner/families/{c.parent.id}/support/1",
    "support.staff_form": lambda c: f"/coordinator/meetings/1/support/{c.parent.id}",
    "support.arrange": lambda c: "/coordinator/supports/1/arrange",
    "support.mark_confirmed": lambda c: "/coordinator/supports/1/confirmed",
    "support.outcome": lambda c: "/coordinator/supports/1/outcome",
    # Stipends and reimbursements (engage/supports/stipend_routes.py).
    "stipends.policy": lambda c: "/coordinator/committees/1/stipend-policy",
    "stipends.prepare": lambda c: "/coordinator/stipends/meetings/1/prepare",
    "stipends.approve_meeting": lambda c: "/coordinator/stipends/meetings/1/approve",
    "stipends.approve": lambda c: "/coordinator/stipends/1/approve",
    "stipends.pay": lambda c: "/coordinator/stipends/1/pay",
    "stipends.change_amount": lambda c: "/coordinator/stipends/1/amount",
    "stipends.w9": lambda c: f"/coordinator/stipends/totals/{c.parent.id}/w9",
    "stipends.reimbursement_new": lambda c: f"/coordinator/reimbursements/new?member_id={c.parent.id}",
    "stipends.reimbursement_approve": lambda c: "/coordinator/reimbursements/1/approve",
    "stipends.reimbursement_reject": lambda c: "/coordinator/reimbursements/1/reject",
    "stipends.reimbursement_pay": lambda c: "/coordinator/reimbursements/1/pay",
    "stipends.decline": lambda c: "/me/stipends/1/decline",
    "stipends.restore": lambda c: "/me/stipends/1/restore",
    "stipends.reduce": lambda c: "/me/stipends/1/less",
    "stipends.benefits": lambda c: "/me/stipends/benefits",
    "stipends.my_reimbursement_new": lambda c: "/me/reimbursements/new",
    # Input to decision: parents, CBOs and the public (engage/feedback/public_routes.py).
    "feedback.me_input": lambda c: "/me/input",
    "feedback.family_input": lambda c: "/partner/families/1/input",
    # Input to decision: the coordinator's input, themes, decisions, questions, measures (engage/feedback/routes.py).
    "feedback.input_list": lambda c: "/coordinator/input",
    "feedback.input_translation": lambda c: "/coordinator/input/1/translation",
    "feedback.input_move": lambda c: "/coordinator/input/1/theme",
    "feedback.theme_edit": lambda c: "/coordinator/themes/1/edit",
    "feedback.theme_review": lambda c: "/coordinator/themes/1/review",
    "feedback.theme_take": lambda c: "/coordinator/themes/1/take",
    "feedback.theme_decide": lambda c: "/coordinator/themes/1/decide",
    "feedback.theme_note": lambda c: "/coordinator/themes/1/note",
    "feedback.theme_take_out": lambda c: "/coordinator/themes/1/input/1/take-out",
    "feedback.theme_delete": lambda c: "/coordinator/themes/1/delete",
    "feedback.decision_new": lambda c: "/coordinator/decisions/new",
    "feedback.decision_edit": lambda c: "/coordinator/decisions/1",
    "feedback.decisions_import": lambda c: "/coordinator/decisions/import",
    "feedback.question_new": lambda c: "/coordinator/questions/new",
    "feedback.meeting_input": lambda c: "/coordinator/meetings/1/input",
    "coordinator.meeting_answer": lambda c: "/coordinator/meetings/1/answer",
    "coordinator.meeting_invite": lambda c: "/coordinator/meetings/1/invite",
    "coordinator.meeting_check_in_member": lambda c: "/coordinator/meetings/1/check-in/1",
    "coordinator.meeting_check_in_undo": lambda c: "/coordinator/meetings/1/check-in/1/undo",
    "coordinator.meeting_walk_in": lambda c: "/coordinator/meetings/1/walk-in",
}


def snapshot() -> dict[str, int]:
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


# Twilio's webhooks carry no CSRF token: they are checked by signature instead.
SIGNATURE_CHECKED = {"sms.inbound_sms", "sms.status"}


def test_every_post_route_is_checked(app):
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint != "static"}
    assert posts == set(CSRF_CASES) | SIGNATURE_CHECKED, "add new POST routes to CSRF_CASES"


def test_only_the_twilio_webhooks_skip_csrf(app):
    from engage.extensions import csrf

    exempt = {name for name in csrf._exempt_views}
    assert exempt == {"engage.sms.routes.inbound_sms", "engage.sms.routes.status"}


@pytest.mark.parametrize("endpoint", sorted(CSRF_CASES))
def test_a_post_without_a_token_is_refused_and_changes_nothing(app, cast, client, endpoint):
    login(client, cast.admin)
    before = snapshot()
    response = client.post(
        CSRF_CASES[endpoint](cast),
        data={"name": "X", "slug": "x", "email": "x@example.org", "password": "x" * 20, "role": "admin"},
    )
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot() == before
    assert db.session.get(type(cast.coord_b), cast.coord_b.id).is_enabled
