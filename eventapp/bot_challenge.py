"""A self-hosted proof-of-work challenge (ALTCHA) on the public registration form and the
anonymous registration API: each registration costs the client a second or so of CPU,
nothing is sent to a third party, and no cookie or personal data is involved.

- GET /challenge gives a fresh challenge, signed with a key derived from SECRET_KEY and
  valid for BOT_CHALLENGE_MINUTES; the form's widget (npm `altcha`, copied into
  static/vendor/altcha by `make install`, no CDN; its workers are files, so the CSP needs
  no inline script) solves it and sends the solution as the `altcha` field. An API client
  sends the same base64 payload as `"altcha"` in the JSON body.
- A registration without a valid solution is refused (403 `challenge_failed`): the check
  fails closed, so a browser without JavaScript sees the form's notice saying why.
- A solution is good for one registration: its signature is remembered until the
  challenge expires, in RATELIMIT_STORAGE_URI (Redis when several processes serve).
- Organiser API clients (a valid Bearer token) are not challenged.

On by default for every event (Event.bot_challenge, an organiser setting);
BOT_CHALLENGE_ENABLED=false switches it off for the whole site (the test suite's config
does, for tests that are not about it). BOT_CHALLENGE_COST sets the work.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import altcha
from flask import Flask, current_app
from flask_babel import gettext as _
from limits.storage import MemoryStorage, storage_from_string
from markupsafe import Markup, escape

from .services.errors import DomainError

DEFAULTS = {
    "BOT_CHALLENGE_ENABLED": True,
    # SHA-256 rounds per attempt: about a second in a browser's worker, the same for a bot.
    "BOT_CHALLENGE_COST": 5000,
    "BOT_CHALLENGE_MINUTES": 20,
}
PAYLOAD_MAX = 4000


class ChallengeFailed(DomainError):
    def __init__(self, message: str):
        super().__init__(message, "challenge_failed", 403)


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    # Solved challenges are remembered where the rate limits are counted (memory, or Redis
    # shared by every process), in a storage of their own: it works with the limits off.
    app.extensions["bot_challenge_used"] = storage_from_string(
        app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    )
    # While that store is down: this process's own memory, as the rate limits fall back to.
    app.extensions["bot_challenge_used_here"] = MemoryStorage()


def _key() -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"bot-challenge", hashlib.sha256).digest()


def required(event) -> bool:
    return bool(current_app.config.get("BOT_CHALLENGE_ENABLED", True) and event.bot_challenge)


def widget_strings() -> dict[str, str]:
    """What the widget says, in the page's language: the library knows only English unless
    given more, and a Dutch form with "I'm not a robot" in it reads as two sites in one.
    static/altcha-setup.js hands these to the widget (its `$altcha.i18n`); the footer is
    HTML (the widget inserts it as such), everything else plain text."""
    website = _("ALTCHA (official website)")
    link = Markup(
        '<a href="https://altcha.org/" tabindex="-1" target="_blank" rel="noopener" '
        'aria-label="{}">ALTCHA</a>'
    ).format(website)
    return {
        "label": _("I'm not a robot"),
        "verifying": _("Verifying…"),
        "verified": _("Verified"),
        "waitAlert": _("Verifying… please wait."),
        "verificationRequired": _("Please complete the check first."),
        "error": _("The check failed. Please try again later."),
        "expired": _("The check has expired. Please try again."),
        "loading": _("Loading…"),
        "reload": _("Try again"),
        "verify": _("Check"),
        "cancel": _("Cancel"),
        "ariaLinkLabel": website,
        "footer": str(escape(_("Protected by")) + Markup(" ") + link),
    }


def new_challenge(now: datetime | None = None) -> dict:
    """A fresh challenge as the widget (and an API client) reads it."""
    now = now or datetime.now(UTC)
    minutes = int(current_app.config.get("BOT_CHALLENGE_MINUTES", 20))
    challenge = altcha.create_challenge(
        "SHA-256",
        int(current_app.config.get("BOT_CHALLENGE_COST", 5000)),
        expires_at=now + timedelta(minutes=minutes),
        hmac_secret=_key(),
    )
    return challenge.to_dict()


def check(event, payload: object) -> None:
    """ChallengeFailed unless `payload` solves a challenge of ours, unexpired, unused."""
    if not required(event):
        return
    message = _(
        "Please complete the check that you are not a robot (it needs JavaScript in your "
        "browser), then send the form again."
    )
    if not isinstance(payload, str) or not payload or len(payload) > PAYLOAD_MAX:
        raise ChallengeFailed(message)
    try:
        result = altcha.verify_solution(payload, _key())
        signature = altcha.Payload.from_base64(payload).challenge.signature
    except Exception:  # noqa: BLE001 - any malformed payload is a failed check, never a 500
        raise ChallengeFailed(message) from None
    if not result.verified or _used_before(signature):
        raise ChallengeFailed(message)


def _used_before(signature: str) -> bool:
    """Remember the solved challenge until it expires; True if it was already used.

    The shared store down (Redis), each process remembers in its own memory meanwhile: a
    solution then registers at most once per process, not again and again until its
    challenge expires, and registrations go on rather than fail."""
    seconds = int(current_app.config.get("BOT_CHALLENGE_MINUTES", 20)) * 60 + 60
    key = f"bot-challenge/{signature}"
    try:
        return current_app.extensions["bot_challenge_used"].incr(key, seconds) > 1
    except Exception as error:  # noqa: BLE001 - any failure of the store: remember here
        current_app.logger.warning("bot challenge: replay store unavailable (%s)", error)
        return current_app.extensions["bot_challenge_used_here"].incr(key, seconds) > 1
