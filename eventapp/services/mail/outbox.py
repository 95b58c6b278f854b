"""Queueing email: a row in the same transaction as the change that causes it.

The row holds the kind of message and the facts to render it; the worker renders and
sends it after the commit, so a rollback also takes back the email and an SMTP outage
delays mail but never loses it.
"""

from datetime import datetime

from sqlalchemy import select

from ...extensions import db
from ...models import Attendee, OutboxMessage
from ...models.types import utcnow

# How the worker's last_error starts while a row waits out a mail-server outage
# (worker._postpone); the dashboard looks for it.
OUTAGE_PREFIX = "Mail server unreachable, waiting: "

# The cancellations an erasure sends (privacy.erase_attendee): the only row that holds an
# address with no attendee behind it, and the worker forgets it once the row is done.
ERASURE_KIND = "erased"
ERASED_RECIPIENT = "(erased)"


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


def message_values(
    kind: str,
    *,
    event_id: int,
    recipient: str,
    locale: str,
    payload: dict | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> dict:
    """The outbox row's columns, but attendee_id: for writers that insert the attendee and
    its message in one statement (services/registration_writes.py)."""
    return {
        "kind": kind,
        "event_id": event_id,
        "recipient": recipient,
        "locale": locale,
        "payload": payload or {},
        "dedupe_key": dedupe_key,
        "next_attempt_at": not_before or utcnow(),
    }


def _message_values(kind, attendee, payload, dedupe_key, not_before) -> dict:
    return message_values(
        kind,
        event_id=attendee.event_id,
        recipient=attendee.email,
        locale=attendee.locale,
        payload=payload,
        dedupe_key=dedupe_key,
        not_before=not_before,
    ) | {"attendee_id": attendee.id}


def addresses_needing_smtputf8() -> int:
    """How many registered people (neither cancelled nor anonymised) have an address only
    SMTPUTF8 delivers (non-ASCII before the @): `config check` warns about them when the
    mail server does not offer it, as every email to them would fail."""
    emails = db.session.scalars(
        select(Attendee.email).where(
            Attendee.anonymised_at.is_(None), Attendee.status != "cancelled"
        )
    )
    return sum(1 for email in emails if not email.rpartition("@")[0].isascii())
