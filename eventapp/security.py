"""What every response carries and what every log line leaves out.

- Security headers on every response: a Content-Security-Policy without inline script,
  frame-ancestors 'none', Referrer-Policy, X-Content-Type-Options, and HSTS when the request
  came over TLS (or SECURITY_HSTS_ALWAYS says the site is HTTPS-only).
- Private pages (a URL with a token in it, every organiser page) are never stored by caches.
- Behind a TLS-terminating proxy, PROXY_FIX_X_FOR / PROXY_FIX_X_PROTO (the number of proxies
  to trust) let werkzeug's ProxyFix restore the client's address and https scheme, so rate
  limits count clients (not the proxy) and cookies and HSTS know the site is on TLS.
- Private links in request paths (/manage/<token>, /calendar/<token>.ics, ...) are redacted
  from werkzeug's request log, gunicorn's access log and the app's own log.

Settings (config.py defaults, or FLASK_* environment variables):
  CONTENT_SECURITY_POLICY   the policy string (DEFAULT_CSP below)
  SECURITY_HSTS_MAX_AGE     seconds, default one year
  SECURITY_HSTS_ALWAYS      send HSTS on every response, even if the proxy is not trusted
  PROXY_FIX_X_FOR, PROXY_FIX_X_PROTO, PROXY_FIX_X_HOST   0 (off) or the number of proxies
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .errors import error_response
from .services.validation import ID_MAX
from .web.access import signin_again

DEFAULT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ]
)

DEFAULTS = {
    "CONTENT_SECURITY_POLICY": DEFAULT_CSP,
    "SECURITY_HSTS_MAX_AGE": 365 * 24 * 3600,
    "SECURITY_HSTS_ALWAYS": False,
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    "PROXY_FIX_X_HOST": 0,
}

# Loggers that write request paths: werkzeug's development server, gunicorn's access and
# error logs (same process as the app in a gunicorn worker), and the app's own logger.
REDACTED_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "eventapp")
REDACTED = "[redacted]"


class DatabaseInteger(IntegerConverter):
    """`<int:...>` in URLs, limited to what a database id column holds (32-bit signed):
    /sessions/99999999999999999999 is a 404, not an overflow inside the database driver."""

    def __init__(self, map, fixed_digits=0, min=0, max=ID_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def bound_url_integers(app: Flask) -> None:
    """Call before registering blueprints: rules pick their converters when added."""
    app.url_map.converters["int"] = DatabaseInteger


def local_path_or(target: object, default: str) -> str:
    """`target` if it is a path on this site, else `default`: no open redirect, and no
    control character (a line break in a Location header is a 500 in werkzeug, and a
    header injection where it is not)."""
    if not target or not isinstance(target, str):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested deeper than Python's recursion limit (a
    thousand `[`) is malformed JSON, a 400, instead of a RecursionError and a 500.

    The error is a ValueError, which is what request.get_json() turns into a 400 (and
    get_json(silent=True) into None), as for any other body that does not parse."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


# RFC 1035: a label of a host name is at most 63 octets, the name at most 253.
HOST_LABEL_MAX, HOST_NAME_MAX = 63, 253


def host_is_valid(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name.startswith("["):  # an IPv6 literal, [::1]:5000
        return len(host) <= HOST_NAME_MAX
    return len(name) <= HOST_NAME_MAX and all(
        len(label) <= HOST_LABEL_MAX for label in name.split(".")
    )


class RefuseBadHosts:
    """WSGI middleware: a Host header Python's IDNA codec cannot encode (a label over 63
    characters) breaks URL building deep inside Flask, error pages included, so it is
    answered 400 before the app sees it."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if not host_is_valid(environ.get("HTTP_HOST", "")):
            message = "The Host header is not a valid host name."
            if environ.get("PATH_INFO", "").startswith("/api/"):  # the API's error format
                body = json.dumps({"error": "bad_request", "message": message}).encode()
                content_type = "application/json"
            else:
                body, content_type = f"Bad Request: {message}\n".encode(), "text/plain"
            start_response("400 Bad Request", [("Content-Type", f"{content_type}; charset=utf-8")])
            return [body]
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.json = BoundedJSONProvider(app)
    app.wsgi_app = RefuseBadHosts(app.wsgi_app)
    _install_proxy_fix(app)
    app.after_request(_add_security_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    _install_log_redaction(app)


def _csrf_failed(error: CSRFError):
    """A form without a valid CSRF token: say what to do instead of "bad request". An
    organiser whose sign-in ended (the session cookie, and its token, expired) is sent to sign
    in again, back to the page with what they typed (web/access.py, signin_again)."""
    organiser_page = (
        request.path.startswith("/organiser/") and request.endpoint != "organiser.login"
    )
    if organiser_page and not current_user.is_authenticated:
        return signin_again()
    return error_response(
        400,
        "csrf_failed",
        _("This form has expired or was sent from another site. Reload the page and try again."),
    )


def _install_proxy_fix(app: Flask) -> None:
    x_for = int(app.config["PROXY_FIX_X_FOR"] or 0)
    x_proto = int(app.config["PROXY_FIX_X_PROTO"] or 0)
    x_host = int(app.config["PROXY_FIX_X_HOST"] or 0)
    if x_for or x_proto or x_host:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto, x_host=x_host)


def _add_security_headers(response):

    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=()")
    if request.is_secure or config["SECURITY_HSTS_ALWAYS"]:
        headers.setdefault(
            "Strict-Transport-Security", f"max-age={int(config['SECURITY_HSTS_MAX_AGE'])}"
        )
    if _is_private(request):
        # A shared computer's back button or a proxy cache must not show someone's page.
        headers["Cache-Control"] = "no-store"
        headers["Referrer-Policy"] = "no-referrer"
    return response


# Pages that show a private link although their URL holds none.
PRIVATE_ENDPOINTS = frozenset({"public.confirmation"})


def _is_private(req) -> bool:
    if req.path.startswith("/organiser/") or req.path == "/organiser":
        return True
    if req.endpoint in PRIVATE_ENDPOINTS:
        return True
    args = req.view_args or {}
    # An ICS feed by private link keeps its own revalidation rules (calendar/views.py).
    return "token" in args and not req.path.endswith(".ics")


# -- Keeping private links out of logs ---------------------------------------------------


TOKEN_VARIABLE = re.compile(r"<(?:[^:<>]+:)?token>")


def token_path_pattern(app: Flask) -> re.Pattern | None:
    """A regex that finds the token part of every route with a `<token>` in its URL."""
    prefixes = set()
    for rule in app.url_map.iter_rules():
        found = TOKEN_VARIABLE.search(rule.rule)
        if found is None:
            continue
        # Other variables before the token (an event slug) match one path segment.
        parts = re.split(r"<[^>]+>", rule.rule[: found.start()])
        prefixes.add('[^/\\s"?]+'.join(re.escape(part) for part in parts))
    if not prefixes:
        return None
    alternatives = "|".join(sorted(prefixes, key=len, reverse=True))
    return re.compile(f"({alternatives})[A-Za-z0-9_%-]+")


class RedactTokens(logging.Filter):
    """Replace private-link tokens in a record's message by [redacted]."""

    def __init__(self, pattern: re.Pattern | None):
        super().__init__()
        self.pattern = pattern
        self.query = re.compile(r"((?:^|[?&])(?:token|key)=)[^&\s\"]+")

    def redact(self, text: str) -> str:
        if self.pattern is not None:
            text = self.pattern.sub(lambda m: m.group(1) + REDACTED, text)
        return self.query.sub(lambda m: m.group(1) + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's business, not ours
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _install_log_redaction(app: Flask) -> None:
    """Call after every blueprint is registered: the filter is built from the URL map."""
    log_filter = RedactTokens(token_path_pattern(app))
    for name in dict.fromkeys((*REDACTED_LOGGERS, app.logger.name)):
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RedactTokens)]:
            logger.removeFilter(old)
        logger.addFilter(log_filter)
    app.extensions["eventapp_log_redaction"] = log_filter
