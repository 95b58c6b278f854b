"""Queueing email: a row in the same transaction as the change that causes it.

The row holds the kind of message and the facts to render it; the worker renders and
sends it after the commit, so a rollback also takes back the email and an SMTP outage
delays mail but never loses it.
"""

from datetime import datetime

from sqlalchemy import insert

from ..extensions import db
from ..models import Attendee, OutboxMessage
from ..models.types import utcnow


def enqueue(
    kind: str,
    attendee: Attendee,
    payload: dict | None = None,
    *,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue a message as an ORM object, written at the next flush."""
    message = OutboxMessage(**_message_values(kind, attendee, payload, dedupe_key, not_before))
    db.session.add(message)
    return message


def enqueue_now(kind: str, attendee: Attendee, payload: dict | None = None) -> None:
    """Queue a message with one INSERT at once, without an ORM object.

    For the registration path: nothing there reads the message back, and the unit of
    work's bookkeeping for one row costs more than the INSERT itself.
    """
    db.session.execute(
        insert(OutboxMessage.__table__), [_message_values(kind, attendee, payload, None, None)]
    )


def _message_values(kind, attendee, payload, dedupe_key, not_before) -> dict:
    return {
        "kind": kind,
        "event_id": attendee.event_id,
        "attendee_id": attendee.id,
        "recipient": attendee.email,
        "locale": attendee.locale,
        "payload": payload or {},
        "dedupe_key": dedupe_key,
        "next_attempt_at": not_before or utcnow(),
    }
