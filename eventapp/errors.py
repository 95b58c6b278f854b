"""Error pages and JSON errors: the API answers in JSON, pages in HTML, never a traceback."""

import contextlib
import sqlite3

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from werkzeug.exceptions import HTTPException

from .database import start_writing
from .extensions import db
from .services.errors import DomainError


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def error_response(status: int, code: str, message: str, **extra):
    if wants_json():
        response = jsonify({"error": code, "message": message, **extra})
        response.status_code = status
        return response
    if request_ctx.url_adapter is None:
        # The Host header was refused (malformed, or not in TRUSTED_HOSTS) before routing:
        # the page layout cannot build its links, so answer in plain text.
        return Response(message, status, mimetype="text/plain")
    return render_template("errors/error.html", status=status, message=message), status


def follow_up_after_rollback(error: DomainError) -> None:
    """Write what a refusal must leave behind although its own changes were rolled back
    (a domain error may carry `after_rollback`, e.g. telling an address's owner that
    someone tried to register it: services/registration/known_email.py).

    Best effort in a transaction of its own: if it fails, the refusal is still the answer.
    """
    follow_up = getattr(error, "after_rollback", None)
    if follow_up is None:
        return
    try:
        start_writing()
        follow_up()
        db.session.commit()
    except SQLAlchemyError as failure:
        db.session.rollback()
        current_app.logger.warning(
            "follow-up of %s not written (%s)", error.code, failure.__class__.__name__
        )


OUT_OF_RANGE = _l("A value is out of range (too large, too small, or a date too far away).")
CONSTRAINT_FAILED = _l(
    "This change conflicts with what is stored (a duplicate, or something that no longer "
    "exists). Reload the page and try again."
)
# SQLSTATE classes that mean the server cannot be reached or is going away: 08 connection
# exception, 57P admin/crash shutdown and "cannot connect now" (a starting server).
UNREACHABLE_SQLSTATES = ("08", "57P")
# SQLite reports these without a SQLSTATE: a file that cannot be opened, a lock held
# longer than the busy timeout, a failing disk.
UNREACHABLE_SQLITE_MESSAGES = ("unable to open", "database is locked", "disk i/o", "is busy")


def database_unreachable(error: Exception) -> bool:
    """Whether a database error means "cannot reach the database" (503, try again) rather
    than bad input (4xx) or a bug (500)."""
    if isinstance(error, SQLAlchemyTimeoutError):  # the pool had no connection to give
        return True
    if getattr(error, "connection_invalidated", False):
        return True
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(UNREACHABLE_SQLSTATES)
    if not isinstance(error, OperationalError):
        return False
    if isinstance(original, sqlite3.Error):
        text = str(original).lower()
        return any(message in text for message in UNREACHABLE_SQLITE_MESSAGES)
    return True  # the driver's own connection failures carry no SQLSTATE


def answer_database_error(app: Flask, error: Exception):
    """503 when the database cannot be reached; 422 for a value out of range; 409 for a
    constraint the input broke; any other database error is a bug: logged, and a 500."""
    with contextlib.suppress(Exception):  # the connection may be gone entirely
        db.session.rollback()
    if database_unreachable(error):
        app.logger.error("database unreachable: %s", error.__class__.__name__)
        return with_retry_after(
            error_response(
                503,
                "unavailable",
                _("The service is briefly unavailable. Please try again shortly."),
            )
        )
    if isinstance(error, DataError):
        app.logger.warning("value refused by the database: %s", error.orig)
        return error_response(422, "invalid", str(OUT_OF_RANGE), fields={})
    if isinstance(error, IntegrityError):
        app.logger.warning("constraint failed: %s", error.orig)
        return error_response(409, "conflict", str(CONSTRAINT_FAILED), conflicts=[])
    app.logger.error("database error on %s %s", request.method, request.path, exc_info=error)
    return error_response(500, "internal", _("Something went wrong on our side."))


def with_retry_after(response, seconds: int = 30):
    if isinstance(response, tuple):
        body, status = response
        return body, status, {"Retry-After": str(seconds)}
    response.headers["Retry-After"] = str(seconds)
    return response


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        follow_up_after_rollback(error)
        response = error_response(error.http_status, error.code, error.message, **error.details)
        if error.http_status == 429:  # a limit of the domain (services/registration/limits.py)
            return with_retry_after(response, int(error.details.get("retry_after", 60)))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            401: _("Please sign in, or send a valid API token."),
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            405: _("This method is not allowed here."),
            413: _("The request is too large."),
            429: _("Too many requests. Please wait a moment and try again."),
        }
        code = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "rate_limited",
        }.get(error.code, "http_error")
        message = messages.get(error.code, error.description or error.name)
        response = error_response(error.code or 500, code, message)
        # Keep the headers HTTP requires with these statuses (Allow with 405, ...).
        headers = {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}
        if error.code == 401 and request.path.startswith("/api/"):
            headers["WWW-Authenticate"] = 'Bearer realm="eventapp"'
        if isinstance(response, tuple):
            return (*response, headers)
        response.headers.update(headers)
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(SQLAlchemyTimeoutError)
    def database_error(error):
        return answer_database_error(app, error)

    @app.errorhandler(OverflowError)
    def overflow(error):
        """Python's own range checks (a date pushed past year 9999, an integer too large
        for SQLite) fire on values that came from outside: bad input, not a failure."""
        app.logger.warning("value out of range: %s", error)
        with contextlib.suppress(Exception):
            db.session.rollback()
        return error_response(422, "invalid", str(OUT_OF_RANGE), fields={})

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        return error_response(500, "internal", _("Something went wrong on our side."))
