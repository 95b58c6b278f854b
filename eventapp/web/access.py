"""Role checks for organiser pages and organiser API endpoints.

Anonymous visitors of a page go to the login page (with `next=` back to the page); an API
call gets a JSON 401 unless it carries a valid bearer token. The organiser API accepts only
bearer tokens, never the session cookie, so a page in another tab can't use an organiser's
cookie to call it. A signed-in organiser without the role gets 403.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, request
from flask_login import current_user

from ..auth import load_organiser_from_token
from ..extensions import login_manager

ROLE_NAMES = ("admin", "organiser", "checkin")


def role_required(*roles: str):
    """Allow admins and the named roles: `@role_required("organiser")`."""
    unknown = set(roles) - set(ROLE_NAMES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.path.startswith("/api/"):
                organiser = _api_organiser()
                if organiser is None:
                    abort(401)
            else:
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                organiser = current_user
            if not organiser.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the tests that walk every organiser URL
        return wrapped

    return decorator


def _api_organiser():
    """The organiser named by the bearer token; the cookie does not count for the API."""

    organiser = load_organiser_from_token(request)
    if organiser is not None:
        # Flask-Login keeps the request's user in g._login_user; set it so current_user is
        # the token's organiser (not a cookie's) for the rest of the request.
        g._login_user = organiser
    return organiser


def safe_next_url(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: no open redirects."""
    if not target or not isinstance(target, str):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
