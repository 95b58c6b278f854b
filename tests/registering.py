"""Registering someone through the real service, committed: set-up for the notification tests."""

from eventapp.extensions import db
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput


def register(event, sessions, now, email, *, waitlist=True, locale="en", name=None, **extra):
    """Register `email` (named after it) for `sessions`, joining waiting lists by default."""
    data = RegistrationInput(
        name=name or email.split("@")[0].title(),
        email=email,
        **extra,
        consent=True,
        session_ids=[s.id for s in sessions],
        waitlist=waitlist,
        locale=locale,
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee
