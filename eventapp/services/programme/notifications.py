"""Telling attendees about programme changes, in the transaction that makes the change.

The organiser side calls these after changing a session (and before committing):

    before = notifications.snapshot(session)
    session.starts_at, session.ends_at, session.room = ...
    notifications.session_moved(session, now, previous=before)
    db.session.commit()

    notifications.session_cancelled(session, now)
    db.session.commit()

Each bumps `session.sequence`, so every calendar object sent afterwards (same UID) is a newer
version that calendars apply, and queues one outbox message per attendee; the worker renders
it with the session as it is by then. Cancelling the whole event (`event_cancelled`) does the
same for all its sessions but queues one message per attendee for all of them together.
Like every service here they flush; the caller commits.

Each takes `notify` and `note`: the organiser may add a note that goes into every email of
the change (plain text, escaped like any value in the templates), or tell nobody
(`notify=False`): the SEQUENCE still goes up and registrations still end, so the feeds and
any later email carry the change; only the emails are left out. `recipients` counts who a
change would email, by the same rules, for the organiser's "this emails N people".
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, update

from ...extensions import db
from ...models import Attendee, EventSession, OutboxMessage, Registration
from ...models.event import CONTENT_LOCALES
from ..mail.outbox import enqueue


def snapshot(session: EventSession) -> dict:
    """Where and when a session is now, for `previous=` after a move (JSON-ready)."""
    return {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "room": session.room.name if session.room else "",
    }


# Who hears of what: a move tells the waiting list too, a new title or venue only seats.
MOVE_STATUSES = Registration.ACTIVE
CHANGE_STATUSES = ("confirmed",)


def recipients(
    session_ids: list[int], statuses: tuple[str, ...], locales: frozenset[str] | None = None
) -> set[int]:
    """The attendees a change of these sessions emails (one email each), by attendee id;
    with `locales`, as `sessions_changed` picks them."""
    if not session_ids:
        return set()
    seats = select(Registration.attendee_id).where(
        Registration.session_id.in_(session_ids), Registration.status.in_(statuses)
    )
    if locales is None:
        return set(db.session.scalars(seats))
    readers = seats.join(Attendee, Attendee.id == Registration.attendee_id).add_columns(
        Attendee.locale
    )
    event_locale = None
    found = set()
    for attendee_id, locale in db.session.execute(readers):
        if locale not in CONTENT_LOCALES:  # read in the event's own language
            event_locale = (
                event_locale or db.session.get(EventSession, session_ids[0]).event.default_locale
            )
            locale = event_locale
        if locale in locales:
            found.add(attendee_id)
    return found


def _with_note(payload: dict, note: str) -> dict:
    if note:
        payload["note"] = note
    return payload


def session_moved(
    session: EventSession,
    now: datetime,
    *,
    previous: dict | None = None,
    notify: bool = True,
    note: str = "",
    skip: frozenset[int] = frozenset(),
) -> int:
    """A session got a new time or room: a calendar update for everyone registered for it.

    Confirmed attendees get the update with a METHOD:REQUEST (same UID, higher SEQUENCE);
    those on the waiting list or holding an offer get the email without calendar data (they
    have no event in their calendar yet). Attendees in `skip` (their seat was moved away
    because of a clash: schedule/clashes.py) hear of it in their own email instead.
    Returns the number of messages queued.
    """
    _bump_sequence(session)
    if not notify:
        return 0
    registrations = [r for r in _registrations(session, MOVE_STATUSES) if r.attendee_id not in skip]
    for registration in registrations:
        payload = {"session_ids": [session.id], "had_seat": registration.status == "confirmed"}
        if previous:
            payload["previous"] = previous
        enqueue("session_moved", registration.attendee, _with_note(payload, note))
    db.session.flush()
    return len(registrations)


def sessions_changed(
    sessions: list[EventSession],
    now: datetime,
    *,
    statuses: tuple[str, ...] = CHANGE_STATUSES,
    notify: bool = True,
    note: str = "",
    locales: frozenset[str] | None = None,
) -> int:
    """Calendar data of these sessions changed without a move: a new title, their room's new
    name, the event's new venue. Each scheduled one gets SEQUENCE + 1, and each attendee with
    a seat in any of them one email for the whole change set, carrying the updated
    invitations (docs/CALENDAR.md: the first in it, any others in calendar-only emails that
    follow). `statuses=ACTIVE` tells the waiting list too (a move of the whole event).
    `locales`: the content languages whose texts changed (a room renamed in English only);
    attendees reading another are not emailed, their invitations are unchanged.
    Returns the number of messages queued."""
    scheduled = [s for s in sessions if s.status == "scheduled"]
    if not scheduled:
        return 0
    ids = [s.id for s in scheduled]
    db.session.flush()
    db.session.execute(
        update(EventSession)
        .where(EventSession.id.in_(ids))
        .values(sequence=EventSession.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    for session in scheduled:
        db.session.expire(session, ["sequence"])
    if not notify:
        return 0
    told: dict[int, tuple] = {}
    seats = db.session.scalars(
        select(Registration)
        .where(Registration.session_id.in_(ids), Registration.status.in_(statuses))
        .order_by(Registration.attendee_id, Registration.id)
    )
    for registration in seats:
        if locales is not None and not _reads_one_of(registration.attendee, locales):
            continue
        entry = told.setdefault(registration.attendee_id, (registration.attendee, []))
        entry[1].append(registration.session_id)
    for attendee, session_ids in told.values():
        enqueue("session_moved", attendee, _with_note({"session_ids": session_ids}, note))
    db.session.flush()
    return len(told)


def _reads_one_of(attendee, locales: frozenset[str]) -> bool:
    """Whether the attendee's calendar texts are in one of `locales` (a language the event's
    content does not come in reads the event's own, as calendar.text_in does)."""
    locale = attendee.locale
    if locale not in CONTENT_LOCALES:
        locale = attendee.event.default_locale
    return locale in locales


def session_cancelled(
    session: EventSession,
    now: datetime,
    *,
    reason: str | None = None,
    notify: bool = True,
    note: str = "",
) -> int:
    """The organiser cancels a session: every registration for it ends, and its people hear.

    The session becomes `cancelled` (no new seats: the capacity guard takes seats only in
    scheduled sessions) and its SEQUENCE goes up. Every active registration is cancelled
    and its seat released, so `seats_taken` ends at 0, equal to the seat-holding rows.
    Attendees who had a seat get METHOD:CANCEL with STATUS:CANCELLED for the same UID; those
    in line get the email only. Returns the number of messages queued.
    """
    ended = _end_registrations(session)
    if not notify:
        return 0
    for registration, status in ended:
        payload = {"session_ids": [session.id], "had_seat": status in Registration.SEAT_HOLDING}
        if reason:
            payload["reason"] = reason
        enqueue("session_cancelled", registration.attendee, _with_note(payload, note))
    db.session.flush()
    return len(ended)


def event_cancelled(sessions: list[EventSession], now: datetime) -> int:
    """The whole event is off: these sessions are cancelled, and each attendee hears once.

    One "event_cancelled" message per attendee with an active registration in any of them
    (the same people the per-session emails reached), instead of one email per session, which
    recipients take for spam and Gmail and Outlook may throttle. The payload names all their
    cancelled sessions, and in `calendar_session_ids` only those they held a confirmed seat
    in: the only ones an invitation ever put in their calendar (offers and waiting-list places
    carry no calendar data), so only those get a METHOD:CANCEL.

    Sending twice is prevented by the state itself: only registrations this call moves from
    active to cancelled (under the row locks of `_end_registrations`) are told, so a second
    cancellation finds nobody. The `dedupe_key` (attendee plus the sessions and their new
    SEQUENCEs) backs that up in the database; a session restored and cancelled again has a
    higher SEQUENCE, so that later cancellation is told again. Returns the messages queued.
    """
    told: dict[int, dict] = {}
    for session in sessions:
        for registration, status in _end_registrations(session):
            entry = told.setdefault(
                registration.attendee_id,
                {"attendee": registration.attendee, "sessions": [], "calendar": []},
            )
            entry["sessions"].append(session)
            if status == "confirmed":
                entry["calendar"].append(session.id)
    if not told:
        return 0
    keys = {attendee_id: _event_cancelled_key(entry) for attendee_id, entry in told.items()}
    already = set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys.values()))
        )
    )
    queued = 0
    for attendee_id, entry in told.items():
        if keys[attendee_id] in already:
            continue
        payload = {
            "session_ids": [s.id for s in entry["sessions"]],
            "calendar_session_ids": entry["calendar"],
        }
        enqueue("event_cancelled", entry["attendee"], payload, dedupe_key=keys[attendee_id])
        queued += 1
    db.session.flush()
    return queued


def _event_cancelled_key(entry: dict) -> str:
    versions = sorted((s.id, s.sequence) for s in entry["sessions"])
    digest = hashlib.sha256(repr(versions).encode()).hexdigest()[:32]
    return f"event_cancelled:{entry['attendee'].id}:{digest}"


def _end_registrations(session: EventSession) -> list[tuple[Registration, str]]:
    """Cancel the session and every active registration for it, releasing their seats.

    Returns each registration ended with the status it had before, for the caller to tell.
    """
    # Lock the session row first: a registration taking a seat right now either committed
    # before (and is cancelled below) or waits and then finds the session not scheduled.
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id)
        .values(status="cancelled", sequence=EventSession.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    ended = []
    for registration in _registrations(session, Registration.ACTIVE, lock=True):
        ended.append((registration, registration.status))
        registration.status = "cancelled"
        registration.waitlisted_at = None
        registration.offer_expires_at = None
    db.session.flush()
    holding = db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session.id,
            Registration.holds_seat,
        )
    )
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id)
        .values(seats_taken=holding)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session, ["status", "sequence", "seats_taken"])
    return ended


def _bump_sequence(session: EventSession) -> None:
    """+1 in the database, not in Python, so two changes at once both count."""
    db.session.flush()
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id)
        .values(sequence=EventSession.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session, ["sequence"])


def _registrations(session: EventSession, statuses, *, lock: bool = False) -> list[Registration]:
    query = (
        select(Registration)
        .where(Registration.session_id == session.id, Registration.status.in_(statuses))
        .order_by(Registration.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query))
