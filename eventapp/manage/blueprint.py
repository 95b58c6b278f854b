"""The `manage` blueprint object, which the view modules register their routes on."""

from flask import Blueprint

bp = Blueprint("manage", __name__)
