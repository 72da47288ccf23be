from flask import Blueprint

bp = Blueprint("join", __name__)

from engage.join import routes, sms  # noqa: E402,F401

sms.init()
