"""Structured logs: one JSON object a line, with phone numbers and email addresses
masked on the way out. Code logs ids, never names; the filter is the safety net.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from flask import Flask, g, request

PHONE_RE = re.compile(r"(?<![\w])\+?\d[\d\s().\-]{7,}\d(?![\w])")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# Both in one pass; where they overlap, the one that starts first is masked.
SENSITIVE_RE = re.compile(f"(?P<phone>{PHONE_RE.pattern})|{EMAIL_RE.pattern}")
RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _mask(found: re.Match) -> str:
    return "[phone]" if found.group("phone") is not None else "[email]"


_MAY_HOLD = re.compile(r"[\d@]").search  # neither pattern matches without a digit or an "@"


def redact(text: str) -> str:
    return SENSITIVE_RE.sub(_mask, text) if _MAY_HOLD(text) else text


def _clean(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, int | float):
        return value
    return redact(str(value))  # what json.dumps would write for it, masked


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # Every string was masked on its own (a JSON escape could hide a number from the pattern).
        return json.dumps(_clean(data), default=str, ensure_ascii=False)


JsonFormatter.converter = time.gmtime


def init_app(app: Flask) -> None:
    # The lines carry none of these, so the logging module need not look them up for each
    # record (the logging HOWTO's "Optimization" section). The process id stays: other
    # loggers in the same process (gunicorn's "[%(process)d]") print it.
    logging.logThreads = logging.logMultiprocessing = False
    logging._srcfile = None  # no caller's file and line
    logger = logging.getLogger("engage")
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if not any(getattr(h, "_engage", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._engage = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = app.config.get("TESTING", False)  # let pytest's caplog see records
    if app.logger is not logger:  # Flask names its logger after the app: "engage" is this very logger
        app.logger.handlers.clear()
        app.logger.parent = logger  # Flask's own log lines go through the same handler

    @app.before_request
    def _start_timer():
        g._started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = getattr(g, "_started", None)
        if request.endpoint != "static" and started is not None:
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,  # never the query string
                    "endpoint": request.endpoint,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "who": _who(),
                },
            )
        return response


def _who() -> str:
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        kind = "member" if getattr(current_user, "is_member", False) else "staff"
        return f"{kind}:{current_user.id}"
    return "anonymous"


log = logging.getLogger("engage")
