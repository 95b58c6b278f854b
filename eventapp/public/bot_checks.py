"""Two cheap checks that stop simple registration bots at the form, per event
(Event.bot_form_checks, on by default):

- a honeypot: a text field people never see (moved off screen, hidden from screen readers,
  out of the tab order) that a form-filling bot fills in;
- a minimum fill time: the form carries a signed timestamp from when it was served, and a
  submission sooner than REGISTRATION_MIN_FILL_SECONDS (3 by default; 0 switches the check
  off, as the test suite's config does for tests about other things) is refused. A person
  needs longer than that to type a name and an email address; a script posting at once
  does not wait. No time limit the other way: a form left open over lunch still works.

Both refusals are 422s with a sentence saying what to do, and count against the failed-
registration rate limit (eventapp/ratelimits.py).
"""

from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, TimestampSigner

from .. import bot_challenge
from ..page_cache import per_request_part

SALT = "registration-form-served"


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt=SALT)


@per_request_part("form-served-at")
def stamp() -> str:
    """The signed time the form is served at, for its hidden `started` field: fresh for each
    request, also when the form comes from a shared copy (page_cache.py)."""
    return _signer().sign("form").decode("ascii")


def seconds_since(value: object) -> float | None:
    """How long ago a stamp was made; None if it is missing or forged."""
    if not isinstance(value, str) or not value:
        return None
    try:
        _value, made = _signer().unsign(value, return_timestamp=True)
    except BadSignature:
        return None
    return (datetime.now(UTC) - made).total_seconds()


def stop_bots(event, form, challenge_payload: object) -> bool:
    """True if the form is refused as a bot's; the reason is put on the form."""
    try:
        bot_challenge.check(event, challenge_payload)
    except bot_challenge.ChallengeFailed as error:
        form.form_errors.append(error.message)
        return True
    if not event.bot_form_checks:
        return False
    if form.website.data:
        form.form_errors.append(
            _("Your form could not be accepted. Please reload the page and try again.")
        )
        return True
    minimum = float(current_app.config.get("REGISTRATION_MIN_FILL_SECONDS", 3))
    if minimum <= 0:
        return False
    age = seconds_since(form.started.data)
    if age is None or age < minimum:
        form.form_errors.append(
            _("That was very quick: please check your details and send the form again.")
        )
        if age is None:
            form.started.data = stamp()
        return True
    return False
