"""Who is asking: organisers by session cookie (Flask-Login) or by API bearer token."""

from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from .database import commit_without_expiring, session_holds_sqlite_write_lock
from .extensions import db
from .models import ApiToken, Organiser
from .models.types import utcnow
from .services.backoffice import accounts


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


def load_organiser_from_token(req) -> Organiser | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    api_token = accounts.find_api_token(token.strip())
    if api_token is None:
        return None
    note_token_use(api_token)
    return api_token.organiser


def note_token_use(api_token: ApiToken) -> None:
    """Keep the token's `last_used_at` current (to TOKEN_USE_RESOLUTION, see accounts.py).

    The request's own transaction is no place for it: GET requests never commit, a failing
    request rolls back, and on PostgreSQL the row would stay locked until the request ends,
    holding up every other request with the same token that found the stamp out of date.
    So the stamp is a short transaction of its own on another connection, committed at once.
    Except where this request holds SQLite's single write lock (writing requests begin with
    BEGIN IMMEDIATE): another connection would wait for this very request, so the stamp
    joins the request's transaction and is committed with it (or, if the request fails, left
    to the token's next use).

    Recording a use is bookkeeping: if it fails (database busy, pool exhausted) the request
    goes on and the next use tries again.
    """
    now = utcnow()
    if not accounts.api_token_use_due(api_token, now):
        return
    try:
        if session_holds_sqlite_write_lock():
            with db.session.begin_nested():
                accounts.record_api_token_use(db.session, api_token, now)
        else:
            with db.engine.begin() as connection:
                accounts.record_api_token_use(connection, api_token, now)
        if request.method in ("GET", "HEAD"):
            # A GET writes nothing else, so its transaction may end here: this commits the
            # stamp where it joined it, and elsewhere lets the request read on from a fresh
            # snapshot (on SQLite, one taken before the stamp could never turn into a write).
            commit_without_expiring()
    except SQLAlchemyError as error:
        current_app.logger.warning(
            "API token %s: last use not recorded (%s)", api_token.id, error.__class__.__name__
        )


def bearer_token_given() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")
