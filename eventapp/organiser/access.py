"""Role checks for organiser pages and organiser API endpoints.

Anonymous visitors of a page go to the login page; an API call without a valid bearer
token gets a JSON 401. A signed-in organiser without the role gets 403.
"""

from functools import wraps

from flask import abort, request
from flask_login import current_user

from ..extensions import login_manager


def role_required(*roles: str):
    """Allow admins and the named roles: `@role_required("organiser")`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
