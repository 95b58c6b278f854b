from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # JSON clients authenticate with tokens, not cookies; CSRF does not apply

from . import allocation, openapi, organiser, public  # noqa: E402, F401
