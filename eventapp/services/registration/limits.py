"""Limits on successful registrations per client address and per email domain, per event.

The rate limiter (eventapp/ratelimits.py) counts requests; this counts what a bot is
after: registrations that took seats. A scripted attack from one address with throw-away
email addresses booked every workshop seat of the demo event in 97 seconds while staying
under the request limits. Here each event allows, in any hour, at most
`max_registrations_per_address` new registrations from one client address and
`max_registrations_per_domain` from one email domain (None switches a limit off).

The defaults (30 per address, 50 per domain, per hour) fit a real event: colleagues of a
company register from one office address and one domain, a few at a time over days, and
a team of thirty signing up in the same hour still gets through; a larger group (a
company that registers its whole department at once) raises the event's limit or has an
organiser register them (the organiser API is not limited). See SECURITY.md.

The address is stored only as a keyed hash (`source`): enough to count and to group in
the organiser's burst view, useless to anyone without the SECRET_KEY. The count is read
before the write, so requests racing at the same instant may pass a limit by a few; the
limit is a brake on bulk abuse, not an exact quota.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ...extensions import db
from ...models import Attendee, Event
from ..errors import DomainError

WINDOW = timedelta(hours=1)


class TooManyRegistrations(DomainError):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message, "too_many_registrations", 429, {"retry_after": retry_after})


def source_of(address: str | None) -> str | None:
    """The keyed hash stored for a client address (None without one)."""
    if not address:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    digest = hmac.new(key, b"registration-source:" + address.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def ensure_within_limits(event: Event, source: str | None, email: str, now: datetime) -> None:
    """TooManyRegistrations if this registration would pass one of the event's limits.

    `source` None (the CLI, an organiser's API client, an organiser adding someone) is
    not limited per address; the domain limit applies to public registrations only too.
    """
    if source is None:
        return
    by_address, by_domain = event.max_registrations_per_address, event.max_registrations_per_domain
    if by_address is None and by_domain is None:
        return
    same_address = Attendee.source == source
    same_domain = Attendee.email_domain == domain_of(email)
    # One query for both counts: it is on every public registration's path.
    address_count, address_oldest, domain_count, domain_oldest = db.session.execute(
        select(
            func.count().filter(same_address),
            func.min(Attendee.created_at).filter(same_address),
            func.count().filter(same_domain),
            func.min(Attendee.created_at).filter(same_domain),
        ).where(
            Attendee.event_id == event.id,
            Attendee.created_at > now - WINDOW,
            or_(same_address, same_domain),
        )
    ).one()
    for limit, count, oldest in (
        (by_address, address_count, address_oldest),
        (by_domain, domain_count, domain_oldest),
    ):
        if limit is not None and count >= limit:
            raise TooManyRegistrations(
                _(
                    "Too many registrations for this event came from your network or your "
                    "email domain in the last hour. Please try again later, or ask the "
                    "organiser to register you."
                ),
                _retry_after(oldest, now),
            )


def _retry_after(oldest: datetime | None, now: datetime) -> int:
    """Seconds until the oldest counted registration leaves the window (at least a minute)."""
    if oldest is None:
        return 60
    if oldest.tzinfo is None:  # SQLite's aggregate comes back without the column's type
        oldest = oldest.replace(tzinfo=UTC)
    return max(60, int((oldest + WINDOW - now).total_seconds()))
