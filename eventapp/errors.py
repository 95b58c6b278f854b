"""Error pages and JSON errors: the API answers in JSON, pages in HTML, never a traceback."""

import contextlib

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
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


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        follow_up_after_rollback(error)
        return error_response(error.http_status, error.code, error.message, **error.details)

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

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        app.logger.error("database error: %s", error.__class__.__name__)
        with contextlib.suppress(Exception):  # the connection may be gone entirely
            db.session.rollback()
        response = error_response(
            503, "unavailable", _("The service is briefly unavailable. Please try again shortly.")
        )
        if isinstance(response, tuple):
            body, status = response
            return body, status, {"Retry-After": "30"}
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        return error_response(500, "internal", _("Something went wrong on our side."))
