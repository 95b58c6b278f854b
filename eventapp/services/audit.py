"""The audit trail: who changed what, when, with the values before and after.

Every change goes through `record` in the same transaction as the change, so a rolled-back
change leaves no entry and a committed one always has its entry: an organiser's (the actor is
their account), an attendee's own through their private link (the actor is the Attendee) and
what happens by itself (actor None: promotions from the waiting list, expired offers, the
allocation). Each entry names the attendee and the session it concerns, for the log's
filters (backoffice/audit_log.py reads it back in words).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Column, inspect

from ..extensions import db
from ..models import Attendee, AuditEntry, Event, EventSession, Organiser, Registration
from ..models.types import utcnow

# Columns never copied into the trail: secrets, and bookkeeping that changes on every write.
SKIPPED_COLUMNS = frozenset(
    {"password_hash", "token_hash", "token_nonce", "feed_token_hash", "feed_nonce", "updated_at"}
)


def snapshot(obj, *, extra: dict | None = None) -> dict | None:
    """The object's column values as plain JSON (times as ISO 8601 in UTC)."""
    if obj is None:
        return None
    values = {}
    for column in inspect(obj).mapper.column_attrs:
        # Stored columns only: not one computed by a query (Event.asks_questions).
        if column.key in SKIPPED_COLUMNS or not isinstance(column.expression, Column):
            continue
        values[column.key] = _json_value(getattr(obj, column.key))
    if hasattr(obj, "speakers") and obj.__class__.__name__ == "EventSession":
        values["speakers"] = [s.name for s in obj.speakers]
    if extra:
        values.update({key: _json_value(value) for key, value in extra.items()})
    return values


def _json_value(value):
    if isinstance(value, datetime):
        # One spelling per instant, so "changed?" compares instants, not offsets.
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def changed_only(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Trim two snapshots to the keys whose values differ (plus `id`), for a readable log."""
    if before is None or after is None:
        return before, after
    keys = [k for k in after if before.get(k) != after.get(k)]
    return (
        {k: before.get(k) for k in keys},
        {k: after.get(k) for k in keys},
    )


def event_id_of(obj) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, Event):
        return obj.id
    event_id = getattr(obj, "event_id", None)
    if event_id is None and getattr(obj, "event", None) is not None:
        event_id = obj.event.id
    if event_id is None and getattr(obj, "session", None) is not None:
        event_id = obj.session.event_id
    return event_id


def record(
    actor: Organiser | Attendee | None,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
    *,
    event: Event | None = None,
    now: datetime | None = None,
    attendee: Attendee | None = None,
    session: EventSession | None = None,
) -> AuditEntry:
    """Add an audit entry for `action` ("session.moved", "attendee.cancelled"...) on `obj`.

    `before`/`after` are JSON-able dicts (use `snapshot(obj)`); `obj` may be any model with
    an `id`, or None for actions on nothing in particular. The event is taken from `obj`
    unless given; so are the attendee and the session it concerns (an attendee, a session,
    a registration), unless given. `actor`: the organiser, the Attendee acting on their own
    registration, or None for what the system does by itself. Flushes so the object has its
    id; the caller commits.
    """
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    concerns = _concerns(obj)
    if isinstance(actor, Attendee):
        concerns.setdefault("attendee_id", actor.id)
    if attendee is not None:
        concerns["attendee_id"] = attendee.id
    if session is not None:
        concerns["session_id"] = session.id
    entry = AuditEntry(
        organiser_id=actor.id if isinstance(actor, Organiser) else None,
        actor_kind=_actor_kind(actor),
        attendee_id=concerns.get("attendee_id"),
        session_id=concerns.get("session_id"),
        event_id=event.id if event is not None else event_id_of(obj),
        action=action,
        object_type=_object_type(obj),
        object_id=getattr(obj, "id", None),
        before=_json_value(before) if before is not None else None,
        after=_json_value(after) if after is not None else None,
        created_at=now or utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _actor_kind(actor) -> str:
    if isinstance(actor, Attendee):
        return "attendee"
    return "system" if actor is None else "organiser"


def _concerns(obj) -> dict:
    """The attendee and session an entry on `obj` is about."""
    if isinstance(obj, Attendee):
        return {"attendee_id": obj.id}
    if isinstance(obj, EventSession):
        return {"session_id": obj.id}
    if isinstance(obj, Registration):
        return {"attendee_id": obj.attendee_id, "session_id": obj.session_id}
    return {}


def _object_type(obj) -> str:
    if obj is None:
        return "none"
    table = getattr(obj, "__tablename__", None)
    return table or obj.__class__.__name__.lower()
