"""The `public` blueprint object, which the view modules register their routes on."""

from flask import Blueprint

bp = Blueprint("public", __name__)
