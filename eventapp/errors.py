"""Error pages and JSON errors: the API answers in JSON, pages in HTML, never a traceback."""

import contextlib

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

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


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
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
