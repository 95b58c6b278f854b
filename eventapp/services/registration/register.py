"""Registering attendees for sessions: the single code path for the form, the API and the CLI.

Every rule lives here: the event is open, the fields are valid, the choices do not overlap,
the email is new to the event, and each seat is taken through the capacity guard. It is all
or nothing: any error raises before the caller commits, so a rollback leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from ...database import adopt, start_writing
from ...extensions import db
from ...models import Attendee, Event, EventSession, Organiser, OutboxMessage, Registration
from .. import links
from ..allocation import runs as allocation
from ..errors import (
    AlreadyRegistered,
    Forbidden,
    InvalidInput,
    NotFound,
    RegistrationClosed,
    ScheduleConflict,
    SessionFull,
)
from ..mail.outbox import enqueue, message_values
from ..programme import reading as programme
from ..programme.reading import ensure_open, overlapping_pairs, session_summary
from ..validation import (
    JOB_ROLE_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    FieldErrors,
    clean_email,
    clean_id_list,
    clean_text,
    normalize_email,
)
from . import capacity, writes
from .capacity import lock_attendee
from .waitlist import SEAT_HOLDING, promote_from_waitlist

REFERENCE_LENGTH = 8  # attendees registered before the one code; see _write_new_registration
CHECKIN_CODE_LENGTH = 10


@dataclass(frozen=True)
class RegistrationInput:
    name: object
    email: object
    organisation: object = ""
    job_role: object = ""
    session_ids: object = field(default_factory=list)
    waitlist: object = False
    consent: object = False
    locale: str = "nl"
    consent_text: str = ""
    # {round_key: [workshop ids, best first]}: used while the event collects preferences.
    preferences: object = None


@dataclass
class RegistrationResult:
    attendee: Attendee
    registrations: list[Registration]
    manage_token: str
    feed_token: str

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.registrations}
        return "waitlisted" if "waitlisted" in statuses else "confirmed"


def register(event: Event, data: RegistrationInput, now: datetime) -> RegistrationResult:
    """Create an attendee and their registrations, or raise a DomainError and write nothing."""
    ranked = _ranked_workshops(event, data)
    fields = _clean_registration_input(data, ranked=bool(ranked))
    ensure_open(event, now)
    sessions = load_registrable_sessions(event, fields["session_ids"])
    if ranked is not None:
        allocation.ensure_no_workshops(event, sessions)
    ensure_no_overlap(sessions)

    start_writing()  # SQLite: the write lock from here, not during the reads and checks above
    attendee, rows, seated = _write_new_registration(event, fields, data, sessions, now)
    registrations = _settle(sessions, rows, seated, waitlist=bool(data.waitlist), now=now)
    if ranked is not None:
        # Workshops wait for the allocation: the ranking is stored, no seat is taken.
        allocation.record_preferences(attendee, ranked)
    db.session.flush()
    return RegistrationResult(
        attendee, registrations, links.manage_token(attendee), links.feed_token(attendee)
    )


def _ranked_workshops(event: Event, data: RegistrationInput) -> dict | None:
    """The cleaned ranking while the event collects preferences, else None."""
    if not allocation.collects_preferences(event):
        return None
    return allocation.clean_preferences(event, data.preferences)


def _clean_registration_input(data: RegistrationInput, *, ranked: bool = False) -> dict:
    errors = FieldErrors()
    fields = {
        "name": clean_text(data.name, "name", errors, max_length=NAME_MAX, required=True),
        "email": clean_email(data.email, "email", errors),
        "organisation": clean_text(
            data.organisation, "organisation", errors, max_length=ORGANISATION_MAX, required=False
        ),
        "job_role": clean_text(
            data.job_role, "job_role", errors, max_length=JOB_ROLE_MAX, required=False
        ),
        "session_ids": clean_id_list(data.session_ids, "session_ids", errors),
    }
    if not isinstance(data.waitlist, bool):
        errors.add("waitlist", _("Must be true or false."))
    if data.consent is not True:
        errors.add("consent", _("Please agree to the processing of your data to register."))
    if not fields["session_ids"] and not ranked and "session_ids" not in errors:
        errors.add("session_ids", _("Choose at least one session."))
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return fields


def load_registrable_sessions(event: Event, session_ids: list[int]) -> list[EventSession]:
    """The chosen sessions, in id order (the order seats are taken, so locks never cross)."""
    if not session_ids:
        return []
    found = {
        s.id: s for s in programme.load_sessions(session_ids).values() if s.event_id == event.id
    }
    unknown = [i for i in session_ids if i not in found]
    if unknown:
        raise InvalidInput(
            _("Unknown session: %(ids)s.", ids=", ".join(map(str, unknown))),
            {"session_ids": [_("Unknown session: %(ids)s.", ids=", ".join(map(str, unknown)))]},
        )
    closed = [s for s in found.values() if not s.registrable]
    if closed:
        titles = ", ".join(s.title for s in closed)
        message = _("These sessions take no registrations: %(titles)s.", titles=titles)
        raise InvalidInput(message, {"session_ids": [message]})
    return [found[i] for i in sorted(found)]


def ensure_no_overlap(sessions: list[EventSession]) -> None:
    pairs = overlapping_pairs(sessions)
    if not pairs:
        return
    first, second = pairs[0]
    tz = first.event.tz
    raise ScheduleConflict(
        _(
            "“%(a)s” (%(a_start)s–%(a_end)s) and “%(b)s” (%(b_start)s–%(b_end)s) "
            "take place at the same time. Choose one of them.",
            a=first.title,
            a_start=first.starts_at.astimezone(tz).strftime("%H:%M"),
            a_end=first.ends_at.astimezone(tz).strftime("%H:%M"),
            b=second.title,
            b_start=second.starts_at.astimezone(tz).strftime("%H:%M"),
            b_end=second.ends_at.astimezone(tz).strftime("%H:%M"),
        ),
        [session_summary(s) for pair in pairs for s in pair],
    )


def already_registered() -> AlreadyRegistered:
    return AlreadyRegistered(
        _(
            "This email address is already registered for this event. "
            "Use the link in your confirmation email to change your registration."
        )
    )


def _write_new_registration(
    event: Event, fields: dict, data: RegistrationInput, sessions: list[EventSession], now
) -> tuple[Attendee, dict[int, Registration], set[int]]:
    """Write the attendee, the confirmation's outbox row and a confirmed row per session,
    and take the seats (registration_writes: one statement on PostgreSQL); return the
    attendee and rows as loaded ORM objects, and the sessions that had a seat free.

    AlreadyRegistered, with nothing written, when the email is known to the event: the
    unique index on (event, normalised email) decides, also between concurrent requests.
    """
    locale = attendee_locale(event, data.locale)
    # One short code to show, type, quote to the help desk and scan at the door.
    code = links.new_code(CHECKIN_CODE_LENGTH)
    attendee_values = writes.complete_row(
        Attendee.__table__,
        {
            "event_id": event.id,
            "reference": code,
            "name": fields["name"],
            "email": fields["email"],
            "email_normalized": normalize_email(fields["email"]),
            "organisation": fields["organisation"],
            "job_role": fields["job_role"],
            "locale": locale,
            "checkin_code": code,
            "consent_at": now,
            "consent_text": data.consent_text,
            "created_at": now,
            **links.new_token_columns(),
        },
    )
    message = writes.complete_row(
        OutboxMessage.__table__,
        message_values(
            "confirmation",
            event_id=event.id,
            recipient=fields["email"],
            locale=locale,
            payload={"session_ids": [s.id for s in sessions]},
        ),
    )
    row = _confirmed_row(now)
    written = writes.write_new_registration(attendee_values, message, row, [s.id for s in sessions])
    if written.attendee_id is None:
        raise already_registered()
    attendee = adopt(Attendee, attendee_values | {"id": written.attendee_id})
    set_committed_value(attendee, "registrations", [])  # known to be empty: saves a query
    rows = _adopt_rows(
        attendee,
        [
            row | {"id": id_, "attendee_id": attendee.id, "session_id": session_id}
            for session_id, id_ in written.row_ids.items()
        ],
        sessions,
    )
    return attendee, {r.session_id: r for r in rows}, written.seated


def attendee_locale(event: Event, asked: object) -> str:
    """The language the attendee's emails and pages use: the one they asked for, if the app
    speaks it, else the event's."""
    return asked if asked in current_app.config["LANGUAGES"] else event.default_locale


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
    active = {i for i, r in existing.items() if r.status != "cancelled"}
    held = [existing[s.id] for s in sessions if s.id in active]
    wanted = [s for s in sessions if s.id not in active]
    row = _confirmed_row(now)
    new_rows = [
        row | {"attendee_id": attendee.id, "session_id": s.id}
        for s in wanted
        if s.id not in existing
    ]
    ids = writes.insert_rows(new_rows)
    added = _adopt_rows(attendee, [r | {"id": ids[r["session_id"]]} for r in new_rows], wanted)
    rows = {r.session_id: r for r in added}
    rows |= {s.id: existing[s.id] for s in wanted if s.id in existing}
    seated = capacity.take_seat_each(s.id for s in wanted)
    return held + _settle(
        wanted, rows, seated, waitlist=waitlist, now=now, override_by=override_by, attendee=attendee
    )


def _confirmed_row(now: datetime) -> dict:
    """A new registration row as written: confirmed, until its seat turns out to be gone."""
    return writes.complete_row(
        Registration.__table__, {"status": "confirmed", "waitlisted_at": None, "created_at": now}
    )


def _settle(
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
            _("Full: %(titles)s.", titles=", ".join(f"“{s.title}”" for s in full))
            + " "
            + _("You can join the waiting list."),
            [session_summary(s) for s in full],
        )
    capacity.refresh_counters(*[s for s in wanted if s.id not in seated])
    return [rows[s.id] for s in wanted]


def _adopt_rows(
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


def find_by_token(token: str) -> Attendee:
    """The attendee behind a private link; NotFound for anything else, including junk."""
    if not isinstance(token, str) or not links.looks_like_token(token):
        raise NotFound(_("This link is not valid. Request a new one."))
    attendee = db.session.scalar(
        select(Attendee).where(Attendee.token_hash == links.hash_token(token))
    )
    if attendee is None or not links.tokens_match(token, links.manage_token(attendee)):
        raise NotFound(_("This link is not valid. Request a new one."))
    return attendee


def active_registrations(attendee: Attendee) -> list[Registration]:
    return [r for r in attendee.registrations if r.status != "cancelled"]


def change_sessions(
    attendee: Attendee,
    session_ids: object,
    *,
    waitlist: bool,
    now: datetime,
    actor: Organiser | None = None,
    override_capacity: bool = False,
) -> list[Registration]:
    """Replace the attendee's choices atomically: a seat that can't be had keeps the old one.

    With an `actor` (an organiser acting for the attendee) the registration window does not
    apply; capacity and overlap rules do, unless an admin asks to `override_capacity`.
    """
    if override_capacity and (actor is None or not actor.has_role("admin")):
        raise Forbidden(_("Only an admin may book a session beyond its capacity."))
    errors = FieldErrors()
    wanted_ids = clean_id_list(session_ids, "session_ids", errors)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    if attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    event = attendee.event
    if actor is None:
        ensure_open(event, now)
    lock_attendee(attendee)
    wanted = load_registrable_sessions(event, wanted_ids) if wanted_ids else []
    if actor is None and allocation.collects_preferences(event):
        held = {r.session_id for r in active_registrations(attendee)}
        allocation.ensure_no_workshops(event, [s for s in wanted if s.id not in held])
    ensure_no_overlap(wanted)
    if not wanted:
        raise InvalidInput(
            _("Choose at least one session, or cancel your registration."),
            {"session_ids": [_("Choose at least one session.")]},
        )

    wanted_set = {s.id for s in wanted}
    # A seat kept while waiting (fallback.py) stays as long as the waiting-list place does.
    kept = wanted_set | {
        r.fallback_session_id
        for r in active_registrations(attendee)
        if r.status == "waitlisted" and r.session_id in wanted_set and r.fallback_session_id
    }
    dropped = [r for r in active_registrations(attendee) if r.session_id not in kept]
    for registration in dropped:
        _drop(registration, now)
    added = [s for s in wanted if s.id not in _active_ids(attendee, exclude=dropped)]
    take_seats(
        attendee,
        added,
        waitlist=waitlist,
        now=now,
        override_by=actor if override_capacity else None,
    )
    for registration in dropped:
        promote_from_waitlist(registration.session, now)
    if added:
        enqueue("confirmation", attendee, {"session_ids": [s.id for s in added]})
    if dropped:
        enqueue("sessions_dropped", attendee, {"session_ids": [r.session_id for r in dropped]})
    db.session.flush()
    return active_registrations(attendee)


def _active_ids(attendee: Attendee, exclude: list[Registration]) -> set[int]:
    excluded = {r.id for r in exclude}
    return {r.session_id for r in active_registrations(attendee) if r.id not in excluded}


def _drop(registration: Registration, now: datetime) -> None:
    # Read the status under a row lock: a concurrent promotion may have turned this
    # waiting-list place into a seat since the page loaded, and that seat must go back.
    db.session.scalar(
        select(Registration)
        .where(Registration.id == registration.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if registration.status in SEAT_HOLDING:
        capacity.release_seat(registration.session_id)
    registration.status = "cancelled"
    registration.waitlisted_at = None
    registration.offer_expires_at = None
    registration.sequence += 1


def cancel_session(attendee: Attendee, session_id: int, now: datetime) -> None:
    """Give up one session (allowed after registration closes, until the event ends)."""
    _ensure_not_over(attendee, now)
    lock_attendee(attendee)
    active = active_registrations(attendee)
    dropped = [r for r in active if r.session_id == session_id]
    if not dropped:
        raise NotFound(_("You are not registered for this session."))
    if len(dropped) == len(active):
        cancel_registration(attendee, now)
        return
    _drop(dropped[0], now)
    promote_from_waitlist(dropped[0].session, now)
    enqueue("sessions_dropped", attendee, {"session_ids": [session_id]})
    db.session.flush()


def _ensure_not_over(attendee: Attendee, now: datetime) -> None:
    if attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    if now >= attendee.event.ends_at:
        raise RegistrationClosed(_("This event has ended."))


def drop_all_sessions(attendee: Attendee, now: datetime) -> list[Registration]:
    """Give back every seat and waiting-list place; the seats pass on in this transaction."""
    lock_attendee(attendee)
    dropped = sorted(active_registrations(attendee), key=lambda r: r.session_id)
    for registration in dropped:
        _drop(registration, now)
    for registration in dropped:
        promote_from_waitlist(registration.session, now)
    return dropped


def cancel_registration(attendee: Attendee, now: datetime) -> None:
    """Cancel everything: seats go back and pass to the waiting lists in this transaction."""
    _ensure_not_over(attendee, now)
    dropped = drop_all_sessions(attendee, now)
    attendee.status = "cancelled"
    enqueue("cancelled", attendee, {"session_ids": [r.session_id for r in dropped]})
    db.session.flush()


def confirmed_count_matches_counter(session_id: int) -> bool:
    """For tests and the health check: the counter equals the rows holding a seat
    (confirmed, plus offered ones held for a waiting-list offer)."""
    rows = db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session_id, Registration.status.in_(SEAT_HOLDING)
        )
    )
    counter = db.session.scalar(
        select(EventSession.seats_taken).where(EventSession.id == session_id)
    )
    return rows == counter


__all__ = [
    "RegistrationInput",
    "RegistrationResult",
    "cancel_registration",
    "cancel_session",
    "change_sessions",
    "find_by_token",
    "register",
]
