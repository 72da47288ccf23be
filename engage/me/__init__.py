from flask import Blueprint

bp = Blueprint("me", __name__, url_prefix="/me")

from engage.me import routes  # noqa: E402,F401
