from flask import Blueprint

bp = Blueprint("organiser", __name__)

from . import views  # noqa: E402, F401
