"""Registering attendees for sessions: the single code path for the form, the API and the CLI.

Every rule lives here: the event is open, the fields are valid, the choices do not overlap,
the email is new to the event, and each seat is taken through the capacity guard. It is all
or nothing: any error raises before the caller commits, so a rollback leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...database import adopt, start_writing
from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, Event, EventSession, Organiser, OutboxMessage, Registration
from .. import links
from ..allocation import runs as allocation
from ..errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    RegistrationClosed,
    ScheduleConflict,
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
from . import answers, capacity, known_email, limits, writes
from .capacity import lock_attendee
from .seating import adopt_rows, confirmed_row, release, settle, take_seats
from .waitlist import promote_from_waitlist

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
    # A public registration's client address, as limits.source_of hashed it; None for
    # the CLI and organiser clients, which the per-address and per-domain limits spare.
    source: str | None = None
    # By the public (the form, an anonymous API client): the event's "confirm email before
    # seats are held" applies. Organiser clients, the CLI and the demo are never held.
    public: bool = False
    # {question key: value}: the answers to the event's questions (answers.py).
    answers: object = None
    # The event's questions if the caller read them in this transaction (the form is built
    # from them); None: read here.
    questions: list | None = None


@dataclass
class RegistrationResult:
    attendee: Attendee
    registrations: list[Registration]
    manage_token: str
    feed_token: str
    # {question key: value} as stored: the reply needs no query to read them back.
    answers: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.attendee.on_hold:
            return "held"
        statuses = {r.status for r in self.registrations}
        return "waitlisted" if "waitlisted" in statuses else "confirmed"


def register(event: Event, data: RegistrationInput, now: datetime) -> RegistrationResult:
    """Create an attendee and their registrations, or raise a DomainError and write nothing."""
    ranked = _ranked_workshops(event, data)
    fields = _clean_registration_input(data, event, ranked=bool(ranked))
    ensure_open(event, now)
    sessions = load_registrable_sessions(event, fields["session_ids"])
    if ranked is not None:
        allocation.ensure_no_workshops(event, sessions)
    ensure_no_overlap(sessions)
    limits.ensure_within_limits(event, data.source, fields["email"], now)

    start_writing()  # SQLite: the write lock from here, not during the reads and checks above
    attendee, rows, seated = _write_new_registration(event, fields, data, sessions, now)
    registrations = settle(sessions, rows, seated, waitlist=bool(data.waitlist), now=now)
    if ranked is not None:
        # Workshops wait for the allocation: the ranking is stored, no seat is taken.
        allocation.record_preferences(attendee, ranked)
    answers.save_answers(attendee, fields["answers"], new=True)
    db.session.flush()
    return RegistrationResult(
        attendee,
        registrations,
        links.manage_token(attendee),
        links.feed_token(attendee),
        {q.key: value for q, value in fields["answers"].items() if value is not None},
    )


def _ranked_workshops(event: Event, data: RegistrationInput) -> dict | None:
    """The cleaned ranking while the event collects preferences, else None."""
    if not allocation.collects_preferences(event):
        return None
    return allocation.clean_preferences(event, data.preferences)


def _clean_registration_input(
    data: RegistrationInput, event: Event, *, ranked: bool = False
) -> dict:
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
    try:
        fields["answers"] = answers.clean_answers(event, data.answers, questions=data.questions)
    except InvalidInput as error:
        errors.update(error.fields)
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
        titles = ", ".join(in_reader_language(s, "title") for s in closed)
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
            a=in_reader_language(first, "title"),
            a_start=first.starts_at.astimezone(tz).strftime("%H:%M"),
            a_end=first.ends_at.astimezone(tz).strftime("%H:%M"),
            b=in_reader_language(second, "title"),
            b_start=second.starts_at.astimezone(tz).strftime("%H:%M"),
            b_end=second.ends_at.astimezone(tz).strftime("%H:%M"),
        ),
        [session_summary(s) for pair in pairs for s in pair],
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
    hold_expires_at = hold_deadline(event, data, now)
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
            "source": data.source,
            "email_domain": limits.domain_of(fields["email"]),
            "hold_expires_at": hold_expires_at,
            **links.new_token_columns(),
        },
    )
    payload = {"session_ids": [s.id for s in sessions]}
    if hold_expires_at is not None:
        # Held seats: the email asks to confirm (holds.py); the confirmation follows then.
        payload["expires_at"] = hold_expires_at.isoformat()
    message = writes.complete_row(
        OutboxMessage.__table__,
        message_values(
            "confirmation" if hold_expires_at is None else "confirm_email",
            event_id=event.id,
            recipient=fields["email"],
            locale=locale,
            payload=payload,
        ),
    )
    row = confirmed_row(now)
    written = writes.write_new_registration(attendee_values, message, row, [s.id for s in sessions])
    if written.attendee_id is None:
        waitlist = bool(data.waitlist)
        known_email.refuse_known_email(event, fields["email"], sessions, waitlist=waitlist)
    attendee = adopt(Attendee, attendee_values | {"id": written.attendee_id})
    set_committed_value(attendee, "registrations", [])  # known to be empty: saves a query
    rows = adopt_rows(
        attendee,
        [
            row | {"id": id_, "attendee_id": attendee.id, "session_id": session_id}
            for session_id, id_ in written.row_ids.items()
        ],
        sessions,
    )
    return attendee, {r.session_id: r for r in rows}, written.seated


def hold_deadline(event: Event, data: RegistrationInput, now: datetime) -> datetime | None:
    """Until when a public registration's seats are held unconfirmed, on events that want
    the email confirmed first (services/registration/holds.py); None: not held."""
    if not (data.public and event.confirm_email_first):
        return None
    return now + timedelta(minutes=event.hold_minutes)


def attendee_locale(event: Event, asked: object) -> str:
    """The language the attendee's emails and pages use: the one they asked for, if the app
    speaks it, else the event's."""
    return asked if asked in current_app.config["LANGUAGES"] else event.default_locale


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
    return [r for r in attendee.registrations if r.is_active]


def held_sessions(attendee: Attendee) -> dict[str, list[int]]:
    """The attendee's session ids by registration status, for an audit entry's before/after."""
    held: dict[str, list[int]] = {}
    for registration in active_registrations(attendee):
        held.setdefault(registration.status, []).append(registration.session_id)
    return {status: sorted(ids) for status, ids in sorted(held.items())}


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
    active_ids = {r.session_id for r in active_registrations(attendee)}
    capacity.lock_sessions(
        [r.session_id for r in dropped] + [s.id for s in wanted if s.id not in active_ids]
    )
    freed = [r for r in dropped if release(r, now)]
    added = [s for s in wanted if s.id not in _active_ids(attendee, exclude=dropped)]
    take_seats(
        attendee,
        added,
        waitlist=waitlist,
        now=now,
        override_by=actor if override_capacity else None,
    )
    for registration in freed:
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
    capacity.lock_sessions([session_id])
    if release(dropped[0], now):
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
    capacity.lock_sessions(r.session_id for r in dropped)
    freed = [r for r in dropped if release(r, now)]
    for registration in freed:
        promote_from_waitlist(registration.session, now)
    return dropped


def cancel_registration(attendee: Attendee, now: datetime, *, email: bool = True) -> None:
    """Cancel everything: seats go back and pass to the waiting lists in this transaction.

    `email=False` (a hold that ran out, holds.py) sends no cancellation: nobody confirmed
    the address, and it may not be the registrant's."""
    _ensure_not_over(attendee, now)
    dropped = drop_all_sessions(attendee, now)
    attendee.status = "cancelled"
    if email:
        enqueue("cancelled", attendee, {"session_ids": [r.session_id for r in dropped]})
    db.session.flush()


def confirmed_count_matches_counter(session_id: int) -> bool:
    """For tests and the health check: the counter equals the rows holding a seat
    (confirmed, plus offered ones held for a waiting-list offer)."""
    rows = db.session.scalar(
        select(func.count()).where(Registration.session_id == session_id, Registration.holds_seat)
    )
    counter = db.session.scalar(
        select(EventSession.seats_taken).where(EventSession.id == session_id)
    )
    return rows == counter


__all__ = [
    "RegistrationInput",
    "RegistrationResult",
    "cancel_registration",
    "held_sessions",
    "cancel_session",
    "change_sessions",
    "find_by_token",
    "register",
]


def registered_attendee(attendee_id: int) -> Attendee | None:
    """The attendee as their confirmation shows them: the registrations with their
    sessions and rooms joined to the attendee's row, then the speakers (two queries, not
    two per session; everyone who registers sees this page once)."""
    return (
        db.session.scalars(
            select(Attendee)
            .where(Attendee.id == attendee_id)
            .options(
                joinedload(Attendee.registrations)
                .joinedload(Registration.session)
                .options(selectinload(EventSession.speakers), joinedload(EventSession.room))
            )
        )
        .unique()
        .first()
    )
