"""Translated error pages. Nothing reaches a person as a bare stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engage.logs import log

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back, check what you entered and try again.")),
    403: (
        _l("You cannot open this page"),
        _l("Your account does not have access to this page. If you think it should, ask your coordinator."),
    ),
    404: (_l("We could not find that page"), _l("The link may be old or mistyped. Try the home page.")),
    405: (_l("Something in that request was not right"), _l("Please go back, check what you entered and try again.")),
    429: (_l("Too many tries"), _l("Please wait a few minutes, then try again.")),
    500: (_l("Something went wrong on our side"), _l("We have been told about it. Please try again in a few minutes.")),
}
CSRF_MESSAGE = (
    _l("This form has expired"),
    _l("For your safety, forms expire. Please go back, reload the page and send it again."),
)


def render_error(code: int, title=None, message=None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[400 if code < 500 else 500])
    if request.path.startswith("/sms/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=code), code
    return (
        render_template(
            "errors/error.html", code=code, title=title or default_title, message=message or default_message
        ),
        code,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, *CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return _http(error)
        log.exception("unhandled error", extra={"path": request.path})
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return render_error(InternalServerError.code)
