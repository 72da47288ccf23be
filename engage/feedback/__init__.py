"""Input to decision: intake from text, web, meetings and CBOs (``intake``); themes and
their timeline (``triage``); the plan's decisions (``decisions``); telling each person what
became of their input (``loop``); the public "you said, we did" (``outcomes``); and the
measures (``measures``). One blueprint, ``feedback``, serves the screens."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)


def init_app(app) -> None:
    """Replies to a texted question become input; delivery results close loops."""
    from engage.feedback import intake, loop
    from engage.sms import inbound

    if intake.question_hook not in inbound.CONVERSATION_HOOKS:
        inbound.CONVERSATION_HOOKS.insert(0, intake.question_hook)
    loop.connect(app)


from engage.feedback import public_routes, routes  # noqa: E402,F401
