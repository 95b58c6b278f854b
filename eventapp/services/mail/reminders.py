"""Reminder emails: the attendee's personal schedule, `reminder_hours` before the event.

Each attendee gets one reminder, ever. The claim is a conditional UPDATE of
`attendee.reminder_sent_at` (only rows where it is still empty), so two workers running at
once split the attendees between them instead of both sending; the outbox row's unique
`dedupe_key` backs that up. The claim and the outbox row are committed together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select, update

from ...extensions import db
from ...models import Attendee, Event, OutboxMessage, Registration
from .outbox import enqueue


def reminder_time(event: Event) -> datetime:
    return event.starts_at - timedelta(hours=event.reminder_hours)


def events_due(now: datetime) -> list[Event]:
    """Published or closed events whose reminder time has come and that have not started."""
    candidates = db.session.scalars(
        select(Event).where(
            Event.status != "draft",
            Event.starts_at > now,
            Event.anonymised_at.is_(None),
        )
    )
    return [event for event in candidates if reminder_time(event) <= now]


def dedupe_key(attendee_id: int) -> str:
    return f"reminder:{attendee_id}"


def send_reminders(now: datetime) -> int:
    """Queue the reminders that are due now; returns how many were queued."""
    return sum(queue_event_reminders(event, now) for event in events_due(now))


def queue_event_reminders(event: Event, now: datetime) -> int:
    """Claim and queue one reminder per active attendee with a confirmed seat.

    Attendees who registered after the reminder time are left out: their confirmation,
    with the same schedule, has only just reached them.
    """
    holds_a_seat = exists().where(
        Registration.attendee_id == Attendee.id, Registration.status == "confirmed"
    )
    claimed = (
        db.session.execute(
            update(Attendee)
            .where(
                Attendee.event_id == event.id,
                Attendee.status == "active",
                Attendee.reminder_sent_at.is_(None),
                Attendee.anonymised_at.is_(None),
                Attendee.created_at <= reminder_time(event),
                holds_a_seat,
            )
            .values(reminder_sent_at=now)
            .returning(Attendee.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not claimed:
        return 0
    already = set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.in_([dedupe_key(i) for i in claimed])
            )
        )
    )
    queued = 0
    for attendee_id in sorted(claimed):
        if dedupe_key(attendee_id) in already:
            continue  # reminder_sent_at was cleared by hand: the reminder still goes once
        attendee = db.session.get(Attendee, attendee_id, populate_existing=True)
        session_ids = [r.session_id for r in attendee.registrations if r.status == "confirmed"]
        enqueue(
            "reminder",
            attendee,
            {"session_ids": session_ids},
            dedupe_key=dedupe_key(attendee_id),
        )
        queued += 1
    db.session.flush()
    return queued
