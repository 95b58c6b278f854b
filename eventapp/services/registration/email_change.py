"""Changing one's email address (issue 19.6): asked for on the private page, done only when
the owner of the new address opens the link sent to it, keeping every seat.

The link is derived from a random nonce under the SECRET_KEY, as the private links are
(services/links.py); only the nonce and the link's hash are stored, and the email is
rendered with the link at send time. A newer request replaces an older one; a link is good
for EMAIL_CHANGE_HOURS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import flask_babel
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Attendee, OutboxMessage
from .. import audit, links
from ..errors import InvalidInput, NotFound, RegistrationClosed
from ..mail.outbox import message_values
from ..validation import FieldErrors, clean_email, normalize_email

EMAIL_CHANGE_HOURS = 48
EMAIL_CHANGE_PURPOSE = "email-change"


def email_change_token(attendee: Attendee) -> str:
    return links.derive_token(EMAIL_CHANGE_PURPOSE, attendee.email_change_nonce)


def request_email_change(attendee: Attendee, new_email: object, now: datetime) -> str:
    """Remember the new address and mail it a confirmation link; returns the address.

    The answer is the same for any valid new address, registered for the event or not."""
    if attendee.anonymised_at is not None or attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    errors = FieldErrors()
    email = clean_email(new_email, "new_email", errors)
    if not errors and normalize_email(email) == attendee.email_normalized:
        errors.add("new_email", _("This is already your email address."))
    # An address another registration uses is not refused here: the answer would tell
    # anyone with a registration who else is registered (the enumeration SECURITY.md
    # closes elsewhere). The link goes to that address, and only its owner, on confirming,
    # learns that it is taken (confirm_email_change).
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    nonce = links.new_nonce()
    attendee.pending_email = email
    attendee.email_change_nonce = nonce
    attendee.email_change_hash = links.hash_token(links.derive_token(EMAIL_CHANGE_PURPOSE, nonce))
    attendee.email_change_requested_at = now
    with flask_babel.force_locale(attendee.locale):
        subject = _("Confirm your new email address for %(event)s", event=attendee.event.name)
    values = message_values(
        "email_change",
        event_id=attendee.event_id,
        recipient=email,
        locale=attendee.locale,
        payload={"subject": subject, "new_email": email},
    )
    db.session.add(OutboxMessage(**values, attendee_id=attendee.id))
    db.session.flush()
    return email


def find_email_change(token: object) -> Attendee:
    """The attendee whose pending change this link confirms; NotFound for anything else."""
    if not isinstance(token, str) or not links.looks_like_token(token):
        raise NotFound(_("This link is not valid or has been used."))
    attendee = db.session.scalar(
        select(Attendee).where(Attendee.email_change_hash == links.hash_token(token))
    )
    if (
        attendee is None
        or attendee.email_change_nonce is None
        or not links.tokens_match(token, email_change_token(attendee))
    ):
        raise NotFound(_("This link is not valid or has been used."))
    return attendee


def confirm_email_change(attendee: Attendee, now: datetime) -> str:
    """Make the pending address the attendee's own; seats, links and code stay as they are."""
    new_email = attendee.pending_email
    requested = attendee.email_change_requested_at
    if new_email is None or requested is None:
        raise NotFound(_("This link is not valid or has been used."))
    if now > requested + timedelta(hours=EMAIL_CHANGE_HOURS):
        _forget_request(attendee)
        raise InvalidInput(_("This link has expired. Ask for the change again on your page."))
    if _taken(attendee, new_email):
        _forget_request(attendee)
        raise InvalidInput(_("Another registration for this event uses this address."))
    old_email = attendee.email
    try:
        # The unique (event, address) index decides a race with a registration meanwhile.
        with db.session.begin_nested():
            attendee.email = new_email
            attendee.email_normalized = normalize_email(new_email)
            db.session.flush()
    except IntegrityError:
        _forget_request(attendee)
        raise InvalidInput(_("Another registration for this event uses this address.")) from None
    _forget_request(attendee)
    db.session.flush()
    audit.record(
        attendee,
        "attendee.email_changed",
        attendee,
        before={"email": old_email},
        after={"email": new_email},
        now=now,
    )
    return new_email


def _forget_request(attendee: Attendee) -> None:
    attendee.pending_email = None
    attendee.email_change_nonce = None
    attendee.email_change_hash = None
    attendee.email_change_requested_at = None


def _taken(attendee: Attendee, email: str) -> bool:
    return (
        db.session.scalar(
            select(Attendee.id).where(
                Attendee.event_id == attendee.event_id,
                Attendee.email_normalized == normalize_email(email),
                Attendee.id != attendee.id,
            )
        )
        is not None
    )
