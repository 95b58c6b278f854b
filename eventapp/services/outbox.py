"""Queueing email: a row in the same transaction as the change that causes it.

The row holds the kind of message and the facts to render it; the worker renders and
sends it after the commit, so a rollback also takes back the email and an SMTP outage
delays mail but never loses it.
"""

from datetime import datetime

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
    message = OutboxMessage(
        kind=kind,
        event_id=attendee.event_id,
        attendee_id=attendee.id,
        recipient=attendee.email,
        locale=attendee.locale,
        payload=payload or {},
        dedupe_key=dedupe_key,
        next_attempt_at=not_before or utcnow(),
    )
    db.session.add(message)
    return message
