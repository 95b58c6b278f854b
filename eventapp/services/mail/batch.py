"""What a batch of outbox rows needs to be rendered, read in a few statements for the batch.

Rendered one row at a time, each email cost about ten statements (the attendee, the event,
the registrations, their sessions, rooms and speakers, twice "is this their first
confirmation?"), a third of its time. A worker claims up to OUTBOX_BATCH_SIZE rows and
renders them together: these statements run once per batch, whatever its size
(tests/services/test_mail_batch.py counts them), and the objects they load stay in the
session's identity map while the batch renders, so sessions, rooms, speakers and the event
shared by many emails are read once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...models import Attendee, EventSession, OutboxMessage, Registration
from ...models import Event as EventModel


@dataclass
class BatchFacts:
    attendees: dict[int, Attendee] = field(default_factory=dict)
    registrations: dict[int, list[Registration]] = field(default_factory=dict)  # by attendee
    sessions: dict[int, EventSession] = field(default_factory=dict)  # named in a payload
    first_of_kind: dict[tuple[int, str], int] = field(default_factory=dict)

    def event_of(self, message: OutboxMessage) -> EventModel | None:
        attendee = self.attendees.get(message.attendee_id)
        if attendee is not None:
            return attendee.event
        return db.session.get(EventModel, message.event_id) if message.event_id else None


def session_ids(message: OutboxMessage) -> set[int]:
    """The sessions a row is about (its payload's `session_ids`), ignoring junk."""
    wanted = (message.payload or {}).get("session_ids", [])
    return {int(i) for i in wanted if str(i).isdigit()}


def load(messages: Iterable[OutboxMessage]) -> BatchFacts:
    messages = list(messages)
    attendee_ids = sorted({m.attendee_id for m in messages if m.attendee_id})
    facts = BatchFacts()
    if attendee_ids:
        facts.attendees = _attendees(attendee_ids)
        facts.registrations = _registrations(attendee_ids)
        facts.first_of_kind = _first_of_kind(attendee_ids, {m.kind for m in messages})
    held = {(r.attendee_id, r.session_id) for rs in facts.registrations.values() for r in rs}
    others = {
        session_id
        for m in messages
        for session_id in session_ids(m)
        if (m.attendee_id, session_id) not in held
    }
    if others:
        facts.sessions = {s.id: s for s in db.session.scalars(_sessions_query(others))}
    return facts


def _attendees(ids: list[int]) -> dict[int, Attendee]:
    query = select(Attendee).where(Attendee.id.in_(ids)).options(joinedload(Attendee.event))
    return {a.id: a for a in db.session.scalars(query)}


def _registrations(attendee_ids: list[int]) -> dict[int, list[Registration]]:
    found: dict[int, list[Registration]] = defaultdict(list)
    query = (
        select(Registration)
        .where(Registration.attendee_id.in_(attendee_ids))
        .options(
            selectinload(Registration.session).selectinload(EventSession.speakers),
            selectinload(Registration.session).selectinload(EventSession.room),
        )
        .order_by(Registration.id)
    )
    for registration in db.session.scalars(query):
        found[registration.attendee_id].append(registration)
    return found


def _first_of_kind(attendee_ids: list[int], kinds: set[str]) -> dict[tuple[int, str], int]:
    """Each attendee's first message of each kind: a confirmation after the first one says
    "updated" (MailContext.is_update)."""
    rows = db.session.execute(
        select(OutboxMessage.attendee_id, OutboxMessage.kind, func.min(OutboxMessage.id))
        .where(OutboxMessage.attendee_id.in_(attendee_ids), OutboxMessage.kind.in_(kinds))
        .group_by(OutboxMessage.attendee_id, OutboxMessage.kind)
    )
    return {(attendee_id, kind): first for attendee_id, kind, first in rows}


def _sessions_query(ids: set[int]):
    return (
        select(EventSession)
        .where(EventSession.id.in_(sorted(ids)))
        .options(selectinload(EventSession.speakers), selectinload(EventSession.room))
    )
