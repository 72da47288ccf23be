"""Where texts leave engage. One small class per backend; failures raise
``TransportError`` marked permanent or transient."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass

from flask import Flask

# Twilio error codes that no retry will fix.
PERMANENT_CODES = {
    21211,  # invalid 'To' number
    21217,  # phone number does not appear to be valid
    21401,  # invalid phone number
    21407,  # this number is not supported
    21408,  # permission to send to this region not enabled
    21610,  # the person replied STOP: unsubscribed
    21612,  # cannot route to this number
    21614,  # 'To' is not a mobile number
    21606,  # 'From' cannot send to this number
    30003,  # unreachable handset
    30004,  # message blocked
    30005,  # unknown destination
    30006,  # landline or unreachable carrier
    30007,  # carrier filtered as spam
}
# Queue overflow and rate limits: wait and try again.
TRANSIENT_CODES = {20429, 30001, 14107, 20003, 20500, 20503}
UNSUBSCRIBED = 21610


class TransportError(Exception):
    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class Sent:
    sid: str
    via: str


class ConsoleTransport:
    """Development: print each message as one JSON line on standard output."""

    via = "console"

    def send(self, *, to: str, body: str, row_id: int, status_callback: str | None) -> Sent:
        sys.stdout.write(json.dumps({"to": to, "body": body, "id": row_id}, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return Sent(sid=f"console-{row_id}", via=self.via)


class MemoryTransport:
    """Tests and benchmarks: keep what was sent in a list."""

    via = "memory"

    def __init__(self):
        self.sent: list[dict] = []
        self._lock = threading.Lock()
        self.fail_with: TransportError | None = None

    def send(self, *, to: str, body: str, row_id: int, status_callback: str | None) -> Sent:
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            self.sent.append({"to": to, "body": body, "id": row_id, "status_callback": status_callback})
        return Sent(sid=f"SM{row_id:032d}", via=self.via)


class TwilioTransport:
    """Production: Twilio's REST API through the official client."""

    via = "twilio"

    def __init__(self, app: Flask):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        cfg = app.config
        self.client = Client(
            cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], http_client=TwilioHttpClient(timeout=15)
        )
        if cfg.get("TWILIO_API_BASE_URL"):  # a fake Twilio in tests
            self.client.api.base_url = cfg["TWILIO_API_BASE_URL"]
        self.messaging_service_sid = cfg.get("TWILIO_MESSAGING_SERVICE_SID")
        self.from_number = cfg.get("TWILIO_FROM_NUMBER")

    def send(self, *, to: str, body: str, row_id: int, status_callback: str | None) -> Sent:
        from requests.exceptions import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

        kwargs = {"to": to, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        try:
            message = self.client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            # The classic error body ({"code", "message", "more_info", "status"}) gives a
            # TwilioRestException; an RFC 9457 problem body gives a TwilioServiceException.
            # Both carry the HTTP status and Twilio's code.
            status = _as_int(exc.status) or 0
            code = _as_int(exc.code)
            transient = status == 429 or status >= 500 or code in TRANSIENT_CODES
            permanent = not transient and (code in PERMANENT_CODES or 400 <= status < 500)
            raise TransportError(f"twilio {status}", code=code, permanent=permanent) from None
        except (RequestException, TwilioException, OSError) as exc:
            raise TransportError(f"network: {type(exc).__name__}") from None
        return Sent(sid=message.sid, via=self.via)


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def get_transport(app: Flask):
    """One transport per app, made on first use."""
    transport = app.extensions.get("engage_sms_transport")
    if transport is None:
        backend = app.config["SMS_BACKEND"]
        if backend == "console":
            transport = ConsoleTransport()
        elif backend == "memory":
            transport = MemoryTransport()
        elif backend == "twilio":
            transport = TwilioTransport(app)
        else:
            raise ValueError(f"unknown SMS_BACKEND {backend!r}")
        app.extensions["engage_sms_transport"] = transport
    return transport
