"""Rate limits, in one table: which endpoint is limited, how, and for whom.

Limits count per client address (`limiter` in extensions.py keys by remote address; behind a
proxy set PROXY_FIX_X_FOR so that is the client's, see security.py). A crowd behind one
company NAT shares an address, so successful registrations get a generous limit and only
what is abused gets a tight one: failed attempts (4xx answers: invalid forms, guessed
links), lost-link requests and logins (the login view limits itself, see
organiser/auth_views.py, and services/accounts.py locks an account after repeated failures).

Every limit string is read from the config at request time, so operators can tune them
(`FLASK_RATELIMIT_REGISTRATION="300 per minute"`) and FLASK_RATELIMIT_ENABLED=false turns
all of them off for load tests. Storage: RATELIMIT_STORAGE_URI, memory:// by default,
redis://host:6379/0 when several processes serve the app (the counts must be shared).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

from .auth import bearer_token_given, load_organiser_from_token
from .extensions import limiter
from .services.backoffice import accounts
from .services.registration import limits

DEFAULTS = {
    # All registration POSTs from one address, successful or not.
    "RATELIMIT_REGISTRATION": "120 per minute;2000 per hour",
    # Failed registration POSTs (4xx) from one address.
    "RATELIMIT_REGISTRATION_FAILED": "20 per minute;200 per hour",
    # Requests naming a private link that do not succeed (guessing, revoked links).
    "RATELIMIT_PRIVATE_LINK_FAILED": "30 per minute;300 per hour",
    # "Send me my link again": every request from one address, whatever email it names
    # (a refusal that depends on the email would tell who registered).
    "RATELIMIT_LOST_LINK_REQUESTS": "30 per minute;300 per hour",
    # Links actually sent at one address's request: tight, and refused in silence
    # (manage/lost_link.py, which also limits the links sent per email address).
    "RATELIMIT_LOST_LINK": "5 per minute;30 per hour",
    # The whole JSON API, shared across its endpoints, per address.
    "RATELIMIT_API": "300 per minute",
}


def _config(key: str) -> Callable[[], str]:
    def limit_value() -> str:
        return current_app.config[key]

    limit_value.__name__ = f"limit_{key.lower()}"
    return limit_value


def failed(response) -> bool:
    """A client error counts against the failure limits; a 429 itself and 5xx do not."""
    return 400 <= response.status_code < 500 and response.status_code != 429


# Created once per process: the limiter keeps them in a set, so registering them again for
# another app (tests build many) changes nothing.
REGISTRATION_ALL = limiter.limit(_config("RATELIMIT_REGISTRATION"), methods=["POST"])
REGISTRATION_FAILED = limiter.limit(
    _config("RATELIMIT_REGISTRATION_FAILED"), methods=["POST"], deduct_when=failed
)
PRIVATE_LINK_FAILED = limiter.shared_limit(
    _config("RATELIMIT_PRIVATE_LINK_FAILED"), scope="private-link", deduct_when=failed
)
LOST_LINK = limiter.limit(_config("RATELIMIT_LOST_LINK_REQUESTS"), methods=["POST"])
API = limiter.shared_limit(_config("RATELIMIT_API"), scope="api")

REGISTRATION_ENDPOINTS = ("public.register", "api.create_registration")
# Calendar apps poll feeds from a few shared addresses (Google's, Microsoft's) for thousands
# of people; old feed links that answer 404 must not get everyone's feed refused. Guessing a
# 256-bit feed token is hopeless anyway, so feeds carry no failure limit.
UNLIMITED_PRIVATE_LINKS = ("calendar.personal_feed",)
# Endpoints that send a link by email; matched by name so a new one is limited too.
LOST_LINK_WORDS = ("lost", "resend", "request_link", "send_link")


def limits_for(endpoint: str, arguments: set[str]) -> list:
    """The limits of one endpoint, from its name and its URL's variables."""
    limits = []
    if endpoint in REGISTRATION_ENDPOINTS:
        limits += [REGISTRATION_ALL, REGISTRATION_FAILED]
    if "token" in arguments and endpoint not in UNLIMITED_PRIVATE_LINKS:
        limits.append(PRIVATE_LINK_FAILED)
    if any(word in endpoint for word in LOST_LINK_WORDS):
        limits.append(LOST_LINK)
    if endpoint.startswith("api."):
        limits.append(API)
    return limits


@limiter.request_filter
def _disabled_for_this_app() -> bool:
    """The limiter is one object for every app in the process (tests build several):
    each app's own RATELIMIT_ENABLED decides for its requests."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def retry_after_only_when_refused(response):
    """Flask-Limiter puts Retry-After on every response of a limited endpoint, even a 201.
    It means "try again later", so it belongs on 429 (limited) and 503 (unavailable) only;
    elsewhere clients and proxies would read it as a refusal. The X-RateLimit-* headers
    stay: they tell a client how much is left."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def registration_source(event) -> str | None:
    """The client of this public registration, for the per-address limit and the burst
    view (services/registration/limits.py): a keyed hash of the client address. None for
    an organiser's API client of this event (a valid Bearer token of an admin or of an
    account with the organiser role at `event`): integrations that register people on the
    organiser's behalf are neither challenged nor limited per address. Roles are per
    event, so another event's organiser or a check-in account is a public client here."""
    if bearer_token_given():
        organiser = load_organiser_from_token(request)
        if organiser is not None and accounts.acts_at_event(organiser, event.id, "organiser"):
            return None
    return limits.source_of(request.remote_addr)


def init_app(app: Flask) -> None:
    """Wrap the view functions named in the table; call after registering blueprints."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    # after_request functions run last-registered first: at the front of the list this one
    # runs after Flask-Limiter's own, which adds the headers.
    app.after_request_funcs.setdefault(None, []).insert(0, retry_after_only_when_refused)
    arguments: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        arguments.setdefault(rule.endpoint, set()).update(rule.arguments)
    for endpoint, view in list(app.view_functions.items()):
        limits = limits_for(endpoint, arguments.get(endpoint, set()))
        for limit in limits:
            view = limit(view)
        app.view_functions[endpoint] = view
    app.extensions["eventapp_rate_limited"] = {
        endpoint
        for endpoint in app.view_functions
        if limits_for(endpoint, arguments.get(endpoint, set()))
    }
