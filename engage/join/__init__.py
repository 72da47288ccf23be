from flask import Blueprint

bp = Blueprint("join", __name__)

from engage.join import routes  # noqa: E402,F401
