"""Role checks for organiser pages and organiser API endpoints.

Anonymous visitors of a page go to the login page (with `next=` back to the page); an API
call gets a JSON 401 unless it carries a valid bearer token. The organiser API accepts only
bearer tokens, never the session cookie, so a page in another tab can't use an organiser's
cookie to call it. A signed-in organiser without the role gets 403.

Signing in again without losing what the door was doing: an organiser's sign-in ends (the
8-hour session, or signed out elsewhere) while a phone stays in door mode. What was sent then
must not be lost, nor lead to a URL that answers only POSTs:

- a JSON call (door.js) gets 401 `signed_out` with the sign-in link; door.js keeps the entry
  on the device, as it does without a connection, and sends it once signed in again;
- a form post (door mode without JavaScript) goes to the sign-in page, whose `next` is the
  page the form names in its hidden `back` field, with the typed check-in `code` in it, so
  signing in leads back to door mode with the code in its field.

Without the session cookie the CSRF token is gone too, so security.py's CSRF refusal answers
the same way for someone signed out (nothing is done with the refused request either way).
"""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth import load_organiser_from_token
from ..extensions import db, login_manager
from ..models import Event, EventRole, EventSession
from ..services.backoffice import accounts

ROLE_NAMES = ("admin", "organiser", "checkin")

# Form fields carried into `next`: the check-in code typed at the door.
KEPT_FIELDS = ("code",)
KEPT_MAX = 200


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
                    if request.method != "GET":  # that URL answers POSTs only
                        return signin_again()
                    return login_manager.unauthorized()
                organiser = current_user
            if not organiser.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the tests that walk every organiser URL
        return wrapped

    return decorator


def event_role_required(*roles: str):
    """`role_required`, and a role at the event the URL names: `@event_role_required("organiser")`.

    For views whose URL names an event (`<slug>`) or one of its sessions (`<session_id>`).
    Admins cover every event; an organiser or check-in account only the events where it
    has a role (models.EventRole), so one event's team cannot see another event's
    attendees in pages, API or exports. Another event's URL answers 403. An unknown slug
    or session falls through to the view, which answers 404 as before.
    """

    def decorator(view):
        @wraps(view)
        def at_event(*args, **kwargs):
            # Admins cover every event: no lookup, no query.
            if current_user.role != "admin":
                found = event_and_role_from_url(kwargs, current_user.id)
                if found is not None and not accounts.role_allows(found[1], roles):
                    abort(403)
            return view(*args, **kwargs)

        wrapped = role_required(*roles)(at_event)
        wrapped.event_scoped = True  # read by the tests that walk every organiser URL
        return wrapped

    return decorator


def event_and_role_from_url(view_args: dict, organiser_id: int) -> tuple[int, str | None] | None:
    """The event a URL names by slug or by one of its sessions, and the organiser's role
    there (None: no role), in one query; None when the URL names no such event."""
    if "slug" in view_args:
        event_id, named = Event.id, Event.slug == view_args["slug"]
    elif "session_id" in view_args:
        event_id, named = EventSession.event_id, EventSession.id == view_args["session_id"]
    else:
        return None
    role = (
        select(EventRole.role)
        .where(EventRole.organiser_id == organiser_id, EventRole.event_id == event_id)
        .scalar_subquery()
    )
    row = db.session.execute(select(event_id, role).where(named)).first()
    return None if row is None else (row[0], row[1])


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


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def next_after_signin() -> str:
    """Where signing in again leads: the page itself for a GET; for a POST, the page its
    form names (`back`), with the kept fields; the dashboard when it names none."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    dashboard = url_for("organiser.dashboard")
    if request.is_json:  # a JSON call names no page to come back to
        return dashboard
    page = safe_next_url(request.form.get("back"), dashboard)
    kept = {name: request.form.get(name, "")[:KEPT_MAX].strip() for name in KEPT_FIELDS}
    kept = {name: value for name, value in kept.items() if value}
    if not kept:
        return page
    joiner = "&" if urlsplit(page).query else "?"
    return f"{page}{joiner}{urlencode(kept)}"


def signin_again():
    """The answer to an organiser request whose sign-in has ended (see the module's doc)."""
    message = _("Your sign-in has expired. Sign in again to go on.")
    login_url = url_for("organiser.login", next=next_after_signin())
    if wants_json():
        response = jsonify({"error": "signed_out", "message": message, "login_url": login_url})
        response.status_code = 401
        return response
    flash(message, "warning")
    return redirect(login_url)
