from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms")

from engage.sms import routes  # noqa: E402,F401
