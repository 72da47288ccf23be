"""Email to staff (invitations, password resets). Parents are reached by text.

Backends: ``console`` prints the message to standard output (development),
``smtp`` sends it (production), ``memory`` keeps it in a list (tests).
"""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage

from flask import current_app

from engage.logs import log


def outbox() -> list[EmailMessage]:
    return current_app.extensions.setdefault("engage_mail_outbox", [])


def send_email(to: str, subject: str, body: str) -> None:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    backend = cfg["MAIL_BACKEND"]
    if backend == "memory":
        outbox().append(msg)
    elif backend == "console":
        sys.stdout.write(f"\n----- email -----\n{msg.as_string()}\n-----------------\n")
        sys.stdout.flush()
    elif backend == "smtp":
        smtp_cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
        with smtp_cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
            if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(msg)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
    log.info("email sent", extra={"backend": backend, "subject_len": len(subject)})
