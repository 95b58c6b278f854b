from flask import Blueprint

bp = Blueprint("manage", __name__)

from . import lost_link, preference_views, views  # noqa: E402, F401
