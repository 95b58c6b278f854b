"""What attendees change themselves through their private link (the page and the API).

Seats go through services/registration.py and services/waitlist.py, so the same capacity
and overlap rules hold as at registration; this module adds the attendee's own details,
coming back after a cancellation, and the "send me my link" request. Every change here is in
the audit log with the attendee as its actor (the organisers see who changed what).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Attendee, Event, EventSession, OutboxMessage, Registration
from .. import audit
from ..errors import InvalidInput, RegistrationClosed
from ..mail.outbox import enqueue
from ..programme.reading import ensure_open
from ..validation import NAME_MAX, ORGANISATION_MAX, FieldErrors, clean_text, normalize_email
from . import register as registration_service

UNSET = object()


def update_details(
    attendee: Attendee,
    *,
    name: object = UNSET,
    organisation: object = UNSET,
    locale: object = UNSET,
) -> Attendee:
    """Change name, organisation and language; fields left UNSET stay as they are."""
    if attendee.anonymised_at is not None:
        raise RegistrationClosed(_("This registration has been deleted."))
    errors = FieldErrors()
    changes = {}
    if name is not UNSET:
        changes["name"] = clean_text(name, "name", errors, max_length=NAME_MAX, required=True)
    if organisation is not UNSET:
        changes["organisation"] = clean_text(
            organisation, "organisation", errors, max_length=ORGANISATION_MAX, required=False
        )
    if locale is not UNSET:
        if locale not in current_app.config["LANGUAGES"]:
            errors.add("locale", _("Choose one of the offered languages."))
        else:
            changes["locale"] = locale
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    changed = {k: v for k, v in changes.items() if getattr(attendee, k) != v}
    before = {key: getattr(attendee, key) for key in changed}
    for key, value in changed.items():
        setattr(attendee, key, value)
    db.session.flush()
    if changed:
        audit.record(attendee, "attendee.details_changed", attendee, before, changed)
    return attendee


def change_choices(
    attendee: Attendee, session_ids: object, *, waitlist: bool, now: datetime
) -> list[Registration]:
    """Change sessions; a cancelled registration comes back to life with the new choice.

    All or nothing: if a seat can't be had, the caller's rollback keeps the old ones.
    """
    if attendee.anonymised_at is not None:
        raise RegistrationClosed(_("This registration has been deleted."))
    before = {"status": attendee.status, **registration_service.held_sessions(attendee)}
    if attendee.status == "cancelled":
        ensure_open(attendee.event, now)
        attendee.status = "active"
        attendee.hold_expires_at = None  # back through the private link: the mailbox is theirs
    held = registration_service.change_sessions(attendee, session_ids, waitlist=waitlist, now=now)
    after = {"status": attendee.status, **registration_service.held_sessions(attendee)}
    if after != before:
        audit.record(
            attendee, "attendee.sessions_changed", attendee, *audit.changed_only(before, after)
        )
    return held


def drop_session(attendee: Attendee, session_id: int, now: datetime) -> None:
    """The attendee gives up one session (registration.cancel_session), in the audit log."""
    before = registration_service.held_sessions(attendee)
    registration_service.cancel_session(attendee, session_id, now)
    audit.record(
        attendee,
        "attendee.session_dropped",
        attendee,
        before,
        registration_service.held_sessions(attendee),
        session=db.session.get(EventSession, session_id),
        now=now,
    )


def cancel(attendee: Attendee, now: datetime) -> None:
    """The attendee cancels their whole registration, in the audit log."""
    before = {"status": attendee.status, **registration_service.held_sessions(attendee)}
    registration_service.cancel_registration(attendee, now)
    audit.record(
        attendee, "attendee.cancelled", attendee, before, {"status": attendee.status}, now=now
    )


def find_for_lost_link(event: Event, email: object) -> Attendee | None:
    if not isinstance(email, str) or not email.strip():
        return None
    return db.session.scalar(
        select(Attendee).where(
            Attendee.event_id == event.id,
            Attendee.email_normalized == normalize_email(email),
            Attendee.anonymised_at.is_(None),
        )
    )


def send_lost_link(event: Event, email: object) -> bool:
    """Queue the private link for a registered address; do nothing visible otherwise.

    The caller answers the same either way, so nobody learns who registered. One link
    waiting in the outbox is enough: a flood of requests queues no flood of mail. True when
    a link was queued, so the caller's limits count links sent, not requests.
    """
    attendee = find_for_lost_link(event, email)
    pending = db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.attendee_id == (attendee.id if attendee else None),
            OutboxMessage.kind == "lost_link",
            OutboxMessage.status.in_(("pending", "sending")),
        )
    )
    if attendee is None or pending is not None:
        return False
    enqueue("lost_link", attendee, {})
    db.session.flush()
    return True
