"""What every programme change does: take the event's lock, block only on conflicts it
brings (not on ones accepted before), and record what changed in the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ....extensions import db
from ....models import Event
from ... import audit
from ...errors import AlreadyExists
from .. import conflicts
from ..conflicts import ConflictItem


def lock_event(event: Event) -> None:
    """Serialise programme changes of one event (FOR NO KEY UPDATE: registrations that only
    reference the event row are not blocked). Without it two organisers could both book a
    room that was free when each looked: the control test in
    tests/services/test_schedule_concurrency.py replaces it with nothing and shows that."""
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update(key_share=True))


def enforce_new(found: list[ConflictItem], before: list[ConflictItem], *, confirm: bool) -> None:
    """Block on the conflicts `found` that were not there `before`: conflicts the programme
    already had (accepted warnings, or old data) don't block an unrelated edit; the
    conflicts panel keeps showing them."""
    conflicts.enforce(new_only(found, before), confirm=confirm)


def new_only(found: list[ConflictItem], before: list[ConflictItem]) -> list[ConflictItem]:
    """The conflicts in `found` that were not there `before`."""
    known = {_key(c) for c in before}
    return [c for c in found if _key(c) not in known]


def _key(item: ConflictItem) -> tuple:
    """What makes a conflict 'the same one' before and after an edit."""
    others = tuple(sorted(s["id"] or 0 for s in item.sessions))
    return (item.kind, others, item.details.get("speaker"), item.details.get("room_id"))


def add_new(actor, action: str, obj, now: datetime):
    """A new room or speaker (or other programme object) written, with its audit entry."""
    db.session.add(obj)
    db.session.flush()
    audit.record(actor, action, obj, None, audit.snapshot(obj), now=now)
    return obj


def apply_changes(actor, action: str, obj, values: dict, now: datetime):
    """Cleaned `values` set on `obj` and written; the audit entry names what changed."""
    before = audit.snapshot(obj)
    for key, value in values.items():
        setattr(obj, key, value)
    db.session.flush()
    record_change(actor, action, obj, before, now)
    return obj


def ensure_name_free(model, event, name: str, message: str, *, except_id=None) -> None:
    """AlreadyExists (on the field `name`) when another `model` row of the event has `name`."""
    existing = db.session.scalar(
        select(model.id).where(model.event_id == event.id, model.name == name)
    )
    if existing is not None and existing != except_id:
        raise AlreadyExists(message, {"name": [message]})


def record_change(actor, action: str, obj, before: dict, now: datetime) -> None:
    """An audit entry with the fields that changed since `before`; none if nothing did."""
    changed_before, changed_after = audit.changed_only(before, audit.snapshot(obj))
    if changed_after:
        audit.record(actor, action, obj, changed_before, changed_after, now=now)
