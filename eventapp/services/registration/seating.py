"""Seating an attendee: chosen sessions become registration rows, confirmed where a seat was
had through the capacity guard, else waitlisted, else refused; a dropped row gives its seat
back. Used by every path that changes an attendee's sessions (services/registration/
register.py: registering, changing, cancelling; and the organisers' moves)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from ...database import adopt
from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, EventSession, Organiser, Registration
from ..errors import SessionFull
from ..programme.reading import session_summary
from . import capacity, writes


def take_seats(
    attendee: Attendee,
    sessions: Iterable[EventSession],
    *,
    waitlist: bool,
    now: datetime,
    override_by: Organiser | None = None,
) -> list[Registration]:
    """Confirm or waitlist each session; raise SessionFull naming every full one.

    The rows are written first and the seats taken last: on PostgreSQL the seat UPDATE
    holds each session's row lock until the commit, and every other registration for the
    session (the opening plenary: all of them) waits for it, so as little as possible
    should come between the two. New rows go in as confirmed; one whose seat turns out to
    be gone is waitlisted, or the whole registration refused.

    `override_by` (an admin) gets a full session a seat anyway: its capacity grows by one,
    and the audit trail records who did it (capacity.take_seat_over_capacity).
    """
    existing = {r.session_id: r for r in attendee.registrations}
    active = {i for i, r in existing.items() if r.is_active}
    held = [existing[s.id] for s in sessions if s.id in active]
    wanted = [s for s in sessions if s.id not in active]
    row = confirmed_row(now)
    new_rows = [
        row | {"attendee_id": attendee.id, "session_id": s.id}
        for s in wanted
        if s.id not in existing
    ]
    ids = writes.insert_rows(new_rows)
    added = adopt_rows(attendee, [r | {"id": ids[r["session_id"]]} for r in new_rows], wanted)
    rows = {r.session_id: r for r in added}
    rows |= {s.id: existing[s.id] for s in wanted if s.id in existing}
    seated = capacity.take_seat_each(s.id for s in wanted)
    return held + settle(
        wanted, rows, seated, waitlist=waitlist, now=now, override_by=override_by, attendee=attendee
    )


def confirmed_row(now: datetime) -> dict:
    """A new registration row as written: confirmed, until its seat turns out to be gone."""
    return writes.complete_row(
        Registration.__table__, {"status": "confirmed", "waitlisted_at": None, "created_at": now}
    )


def settle(
    wanted: list[EventSession],
    rows: dict[int, Registration],
    seated: set[int],
    *,
    waitlist: bool,
    now: datetime,
    override_by: Organiser | None = None,
    attendee: Attendee | None = None,
) -> list[Registration]:
    """Each wanted session's row (written as confirmed) after the seats were taken: kept
    confirmed where a seat was had, else waitlisted, else SessionFull naming every full one,
    for the caller to roll back."""
    full = []
    for session in wanted:
        if session.id in seated or (
            override_by is not None
            and capacity.take_seat_over_capacity(session, override_by, attendee=attendee)
        ):
            _set_status(rows[session.id], "confirmed", now)
        elif waitlist:
            _set_status(rows[session.id], "waitlisted", now)
        else:
            full.append(session)
    if full:
        raise SessionFull(
            _(
                "Full: %(titles)s.",
                titles=", ".join(f"“{in_reader_language(s, 'title')}”" for s in full),
            )
            + " "
            + _("You can join the waiting list."),
            [session_summary(s) for s in full],
        )
    capacity.refresh_counters(*[s for s in wanted if s.id not in seated])
    return [rows[s.id] for s in wanted]


def adopt_rows(
    attendee: Attendee, written: list[dict], sessions: Iterable[EventSession]
) -> list[Registration]:
    """Registration rows just written with Core, as loaded ORM objects linked in memory to
    their attendee and sessions: none of the unit of work's bookkeeping, and no lazy load
    later (the identity map holds objects weakly, so one could read a session again)."""
    if not written:
        return []
    by_id = {s.id: s for s in sessions}
    added = [adopt(Registration, values) for values in written]
    for registration in added:
        set_committed_value(registration, "attendee", attendee)
        set_committed_value(registration, "session", by_id[registration.session_id])
    set_committed_value(
        attendee, "registrations", sorted([*attendee.registrations, *added], key=lambda r: r.id)
    )
    return added


def _set_status(registration: Registration, status: str, now: datetime) -> None:
    if registration.status == status and status == "confirmed":
        return  # a new row, written as confirmed: nothing to change
    was_cancelled = registration.status == "cancelled"
    registration.status = status
    registration.waitlisted_at = now if status == "waitlisted" else None
    if was_cancelled:
        registration.sequence += 1  # a returning session is a new version for calendars


def release(registration: Registration, now: datetime) -> bool:
    """Cancel one registration; True if it held a seat, which went back to the session (to
    the waiting list: the caller promotes once every dropped row is released).

    The caller has locked the session (capacity.lock_sessions) before this locks the row:
    one lock order against waiting-list promotion. Leaving a waiting list frees no seat, and
    the caller runs no promotion for it."""
    # Read the status under a row lock: a concurrent promotion may have turned this
    # waiting-list place into a seat since the page loaded, and that seat must go back.
    db.session.scalar(
        select(Registration)
        .where(Registration.id == registration.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    held_seat = registration.holds_seat
    if held_seat:
        capacity.release_seat(registration.session_id)
    registration.status = "cancelled"
    registration.waitlisted_at = None
    registration.offer_expires_at = None
    registration.sequence += 1
    return held_seat
