from flask import Blueprint

bp = Blueprint("manage", __name__)

from . import views  # noqa: E402, F401
