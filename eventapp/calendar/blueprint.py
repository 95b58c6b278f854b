"""The `calendar` blueprint object, which the view modules register their routes on."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)
