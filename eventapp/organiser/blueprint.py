"""The `organiser` blueprint object, which the view modules register their routes on."""

from flask import Blueprint

bp = Blueprint("organiser", __name__)
