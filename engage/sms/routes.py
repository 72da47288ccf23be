"""Twilio's webhooks: incoming texts and delivery status. Checked by signature,
not CSRF; thin: the rules live in ``inbound`` and ``outbox``."""

from __future__ import annotations

from functools import wraps

from flask import Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from engage.extensions import csrf, db
from engage.logs import log
from engage.security import public
from engage.sms import bp, inbound, outbox

MAX_BODY = 1600  # Twilio's own limit for one message
MAX_ROW_ID = 2**31 - 1  # outbox ids are 32-bit integers


def signed_by_twilio(view):
    """403 and no change unless ``X-Twilio-Signature`` matches, whenever a token is set."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = current_app.config.get("TWILIO_AUTH_TOKEN")
        if token:
            path = request.full_path if request.query_string else request.path
            url = current_app.config["PUBLIC_BASE_URL"] + path
            signature = request.headers.get("X-Twilio-Signature", "")
            if not RequestValidator(token).validate(url, request.form, signature):
                log.warning("twilio signature refused", extra={"path": request.path})
                abort(403)
        return view(*args, **kwargs)

    return wrapped


def _field(*names: str, form=None) -> str:
    """The first of these form fields that is present and not empty, without NUL
    characters: PostgreSQL refuses them in text, and a 500 would make Twilio retry."""
    form = request.form if form is None else form
    for name in names:
        value = form.get(name)
        if value:
            return value.replace("\x00", "")
    return ""


def message_fields(form) -> tuple[str, str | None, str]:
    """MessageSid, the sender as E.164 (None when it is not a phone number) and the text."""
    sid = _field("MessageSid", "SmsSid", form=form).strip()[:64]
    phone = inbound.normalise_phone(form.get("From"))
    body = (form.get("Body") or "")[:MAX_BODY].replace("\x00", "")
    return sid, phone, body


def twiml(response: MessagingResponse | None = None) -> Response:
    return Response(str(response or MessagingResponse()), mimetype="text/xml")


@bp.post("/inbound")
@csrf.exempt
@public
@signed_by_twilio
def inbound_sms():
    sid, phone, body = message_fields(request.form)
    if not sid or phone is None:
        log.info("sms inbound without sid or sender")
        return twiml()
    try:
        result = inbound.handle(sid, phone, body)
        inbound.mark_replies_sent(result.replies)
        db.session.flush()
        answer = MessagingResponse()
        for row in result.replies:
            answer.message(row.body, action=outbox.status_callback_url(row.id), method="POST")
        db.session.commit()
    except inbound.Duplicate:
        db.session.rollback()
        log.info("sms inbound duplicate")
        return twiml()
    # The request's own log line says it was answered; this one only when debugging.
    log.debug("sms inbound", extra={"intent": result.intent, "replies": len(result.replies)})
    return twiml(answer)


@bp.post("/status")
@csrf.exempt
@public
@signed_by_twilio
def status():
    raw_id = request.args.get("o", "")
    # ASCII digits only (str.isdigit() also accepts "²", which int() refuses, and "１"), and
    # within PostgreSQL's integer, or the lookup itself fails.
    row_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 12 else None
    if row_id is not None and row_id > MAX_ROW_ID:
        row_id = None
    sid = _field("MessageSid", "SmsSid").strip()[:64] or None
    known = outbox.record_status(
        row_id,
        sid,
        _field("MessageStatus", "SmsStatus"),
        _field("ErrorCode").strip()[:20] or None,
    )
    if not known:
        db.session.rollback()
    return Response("", status=204)
