"""Who is asking: organisers by session cookie (Flask-Login) or by API bearer token."""

from flask import request

from .extensions import db, login_manager
from .models import Organiser
from .services.accounts import organiser_for_api_token


@login_manager.user_loader
def load_organiser(user_id: str) -> Organiser | None:
    """The cookie names the organiser and their session version; a bumped version logs out."""
    try:
        organiser_id, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    organiser = db.session.get(Organiser, organiser_id)
    if organiser is None or organiser.session_version != version:
        return None
    return organiser


@login_manager.request_loader
def load_organiser_from_token(req) -> Organiser | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return organiser_for_api_token(token.strip())


def bearer_token_given() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")
