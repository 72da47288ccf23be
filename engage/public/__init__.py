from flask import Blueprint

bp = Blueprint("public", __name__)

from engage.public import routes  # noqa: E402,F401
