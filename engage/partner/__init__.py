from flask import Blueprint

bp = Blueprint("partner", __name__, url_prefix="/partner")

from engage.partner import routes  # noqa: E402,F401
