from flask import Blueprint

bp = Blueprint("manage", __name__)

from . import lost_link, views  # noqa: E402, F401
