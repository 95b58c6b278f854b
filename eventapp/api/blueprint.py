"""The `api` blueprint object, which the view modules register their routes on."""

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # JSON clients authenticate with tokens, not cookies; CSRF does not apply
