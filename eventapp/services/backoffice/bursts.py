"""Suspicious bursts: many registrations from one client address or one email domain in
the last hour, for the organiser to look at and, if they are a bot's, cancel in bulk.

The per-address and per-domain limits (services/registration/limits.py) cap what one
source can take; this shows what got through under them (or with them switched off), and
the bulk cancel gives the seats back: each cancellation goes through the same path as an
attendee's own, so the seats pass to the waiting lists at once and each address gets its
cancellation email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import Attendee, Event, Organiser
from .. import audit
from ..registration import register as registration

WINDOW = timedelta(hours=1)
# A group this large within the window is shown; ordinary events see a few per address.
THRESHOLD = 5
KINDS = ("address", "domain")


@dataclass(frozen=True)
class Burst:
    kind: str  # "address" or "domain"
    key: str  # the address's keyed hash, or the domain
    count: int
    first_at: datetime
    last_at: datetime
    names: list[str]

    @property
    def label(self) -> str:
        """What the organiser sees: the domain, or a short tag of the hashed address."""
        return self.key if self.kind == "domain" else f"#{self.key[:8]}"


def _column(kind: str):
    return Attendee.source if kind == "address" else Attendee.email_domain


def recent_bursts(event: Event, now: datetime, *, threshold: int = THRESHOLD) -> list[Burst]:
    """Groups of at least `threshold` active registrations from one source in the last hour."""
    bursts = []
    for kind in KINDS:
        column = _column(kind)
        rows = db.session.execute(
            select(
                column, func.count(), func.min(Attendee.created_at), func.max(Attendee.created_at)
            )
            .where(
                Attendee.event_id == event.id,
                Attendee.status == "active",
                Attendee.created_at > now - WINDOW,
                column.is_not(None),
            )
            .group_by(column)
            .having(func.count() >= threshold)
            .order_by(func.count().desc())
        ).all()
        for key, count, first_at, last_at in rows:
            names = db.session.scalars(
                select(Attendee.name)
                .where(*_members(event, kind, key, now))
                .order_by(Attendee.created_at)
                .limit(5)
            ).all()
            bursts.append(Burst(kind, key, count, first_at, last_at, list(names)))
    return bursts


def _members(event: Event, kind: str, key: str, now: datetime) -> list:
    return [
        Attendee.event_id == event.id,
        Attendee.status == "active",
        Attendee.created_at > now - WINDOW,
        _column(kind) == key,
    ]


def cancel_burst(event: Event, kind: str, key: object, now: datetime, actor: Organiser) -> int:
    """Cancel every active registration of the group made in the last hour; how many.

    Seats go back and waiting lists move on (registration.cancel_registration), and the
    audit trail records who cancelled which group."""
    if kind not in KINDS or not isinstance(key, str) or not key:
        return 0
    attendees = db.session.scalars(
        select(Attendee).where(*_members(event, kind, key, now)).order_by(Attendee.id)
    ).all()
    for attendee in attendees:
        registration.cancel_registration(attendee, now)
    if attendees:
        audit.record(
            actor,
            "attendees.burst_cancelled",
            event,
            None,
            {"kind": kind, "key": key, "cancelled": len(attendees)},
            event=event,
            now=now,
        )
    db.session.flush()
    return len(attendees)
