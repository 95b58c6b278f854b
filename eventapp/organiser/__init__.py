from flask import Blueprint

bp = Blueprint("organiser", __name__)

from . import (  # noqa: E402, F401
    allocation_views,
    audit_views,
    auth_views,
    dashboard,
    import_views,
    programme_views,
    views,
)
