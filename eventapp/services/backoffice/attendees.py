"""The organiser's view of attendees: find, filter, page through, edit, move and cancel.

Moving and cancelling go through services/registration.py, so the capacity guard, the
overlap rule and the outbox rows are the attendee's own; this module adds what only an
organiser does (search, edit someone else's details, act outside the registration window)
and records every change in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...models import Attendee, Event, EventSession, Organiser, OutboxMessage, Registration
from .. import audit
from ..errors import AlreadyRegistered, InvalidInput, NotFound
from ..registration import register as registration
from ..validation import (
    ID_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    FieldErrors,
    clean_email,
    clean_text,
    normalize_email,
)
from .messages import TEST_KIND

PER_PAGE = 50
# Registration statuses an attendee list can be filtered on (besides the attendee's own).
REGISTRATION_STATUS_FILTERS = Registration.ACTIVE
# "held": active, with seats that wait for the email address to be confirmed (holds.py).
STATUS_FILTERS = ("active", "cancelled", "held", *REGISTRATION_STATUS_FILTERS)
SEARCH_MAX_LENGTH = 200
CHECKED_IN_FILTERS = ("yes", "no")
SORTS = {
    "name": (func.lower(Attendee.name), Attendee.id),
    "newest": (Attendee.created_at.desc(), Attendee.id.desc()),
    "oldest": (Attendee.created_at, Attendee.id),
    "organisation": (func.lower(Attendee.organisation), func.lower(Attendee.name), Attendee.id),
}


@dataclass(frozen=True)
class AttendeeFilter:
    """What the attendee list shows.

    `status` is the attendee's own ("active", "cancelled") or, for "confirmed",
    "waitlisted" and "offered", a registration's: for the chosen session, or for any session
    of an active attendee when none is chosen. A chosen session alone means its current
    registrations (not cancelled ones, unless `status` is "cancelled"). `checked_in`
    likewise means the session's check-in when a session is chosen, the event's otherwise.
    The organiser's attendee page and the organiser API both filter with this.
    """

    q: str = ""
    session_id: int | None = None
    status: str = ""
    checked_in: str = ""
    sort: str = "name"

    @classmethod
    def from_args(cls, args) -> AttendeeFilter:
        """Read a filter from query-string arguments, ignoring anything unknown."""
        session_id = args.get("session", "")
        status = args.get("status", "")
        checked_in = args.get("checked_in", "")
        sort = args.get("sort", "name")
        return cls(
            q=(args.get("q") or "").strip()[:SEARCH_MAX_LENGTH],
            session_id=_row_id(session_id),
            status=status if status in STATUS_FILTERS else "",
            checked_in=checked_in if checked_in in CHECKED_IN_FILTERS else "",
            sort=sort if sort in SORTS else "name",
        )

    def as_args(self) -> dict:
        """The filter as query-string arguments, for links that keep it (pages, export)."""
        args = {
            "q": self.q,
            "session": self.session_id,
            "status": self.status,
            "checked_in": self.checked_in,
            "sort": self.sort if self.sort != "name" else "",
        }
        return {key: value for key, value in args.items() if value}


def _row_id(raw: str) -> int | None:
    """A database id from text, or None: not "²" (a digit int() refuses), nor past INTEGER."""
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= ID_MAX:
        return int(raw)
    return None


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(term: str):
    """Name, email, organisation, reference or check-in code containing `term`."""
    pattern = _like(term)
    compact = term.strip().upper().replace(" ", "").replace("-", "")
    return or_(
        func.lower(Attendee.name).like(pattern, escape="\\"),
        Attendee.email_normalized.like(pattern, escape="\\"),
        func.lower(Attendee.organisation).like(pattern, escape="\\"),
        func.lower(Attendee.reference).like(pattern, escape="\\"),
        Attendee.checkin_code == compact,
    )


def attendee_query(event: Event, wanted: AttendeeFilter) -> Select:
    """The attendees matching the filter, sorted; no rows are read here."""
    stmt = select(Attendee).where(Attendee.event_id == event.id)
    if wanted.q:
        stmt = stmt.where(search_condition(wanted.q))
    if wanted.session_id is not None:
        in_session = [
            Registration.attendee_id == Attendee.id,
            Registration.session_id == wanted.session_id,
        ]
        if wanted.status in (*REGISTRATION_STATUS_FILTERS, "cancelled"):
            in_session.append(Registration.status == wanted.status)
        else:
            in_session.append(Registration.is_active)
        if wanted.checked_in == "yes":
            in_session.append(Registration.checked_in_at.is_not(None))
        elif wanted.checked_in == "no":
            in_session.append(Registration.checked_in_at.is_(None))
        stmt = stmt.where(exists().where(*in_session))
        if wanted.status == "active":
            stmt = stmt.where(Attendee.status == "active")
    else:
        if wanted.status in ("active", "cancelled"):
            stmt = stmt.where(Attendee.status == wanted.status)
        elif wanted.status in REGISTRATION_STATUS_FILTERS:
            stmt = stmt.where(
                Attendee.status == "active",
                exists().where(
                    Registration.attendee_id == Attendee.id,
                    Registration.status == wanted.status,
                ),
            )
        if wanted.checked_in == "yes":
            stmt = stmt.where(Attendee.checked_in_at.is_not(None))
        elif wanted.checked_in == "no":
            stmt = stmt.where(Attendee.checked_in_at.is_(None))
    if wanted.status == "held":
        stmt = stmt.where(Attendee.status == "active", Attendee.hold_expires_at.is_not(None))
    return stmt.order_by(*SORTS[wanted.sort])


def event_sessions(event: Event) -> list[EventSession]:
    """The event's sessions with their rooms, in two queries.

    Loading them first also means each Registration.session below is found in the identity
    map instead of costing a query per row.
    """
    return list(
        db.session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event.id)
            .options(selectinload(EventSession.room))
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )


def attendee_page(event: Event, wanted: AttendeeFilter, page: int, per_page: int = PER_PAGE):
    """One page of matching attendees with their registrations: a fixed number of queries."""
    stmt = attendee_query(event, wanted).options(selectinload(Attendee.registrations))
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=500, error_out=False)


def get_attendee(event: Event, attendee_id: int) -> Attendee:
    attendee = db.session.get(Attendee, attendee_id)
    if attendee is None or attendee.event_id != event.id:
        raise NotFound(_("No such attendee."))
    return attendee


def messages_to(attendee: Attendee, limit: int = 50) -> list[OutboxMessage]:
    """The emails queued for the attendee, newest first: what they were told, and when.
    An organiser's test of a message, which greeted them as a sample, was not sent to them."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.attendee_id == attendee.id, OutboxMessage.kind != TEST_KIND)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class AttendeeChanges:
    name: object
    email: object
    organisation: object = ""


def _snapshot(attendee: Attendee) -> dict:
    return {"name": attendee.name, "email": attendee.email, "organisation": attendee.organisation}


def update_attendee(attendee: Attendee, changes: AttendeeChanges, actor: Organiser) -> Attendee:
    """Correct an attendee's name, email or organisation; the email stays unique per event."""
    errors = FieldErrors()
    name = clean_text(changes.name, "name", errors, max_length=NAME_MAX, required=True)
    email = clean_email(changes.email, "email", errors)
    organisation = clean_text(
        changes.organisation, "organisation", errors, max_length=ORGANISATION_MAX, required=False
    )
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    before = _snapshot(attendee)
    taken = db.session.scalar(
        select(Attendee.id).where(
            Attendee.event_id == attendee.event_id,
            Attendee.email_normalized == normalize_email(email),
            Attendee.id != attendee.id,
        )
    )
    if taken:
        raise InvalidInput(
            _("Another attendee of this event has this email address."),
            {"email": [_("Another attendee of this event has this email address.")]},
        )
    attendee.name, attendee.email, attendee.organisation = name, email, organisation
    attendee.email_normalized = normalize_email(email)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Someone registered with this address between the check and the write.
        raise AlreadyRegistered(
            _("Another attendee of this event has this email address.")
        ) from None
    after = _snapshot(attendee)
    if after != before:
        changed = [key for key in after if after[key] != before[key]]
        audit.record(
            actor,
            "attendee.update",
            attendee,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
            event=attendee.event,
        )
    return attendee


def move_attendee(
    attendee: Attendee,
    session_ids: list[int],
    *,
    actor: Organiser,
    now: datetime,
    waitlist: bool = False,
    override_capacity: bool = False,
) -> list[Registration]:
    """Give the attendee these sessions instead of their current ones, by the usual rules.

    The registration service does the work (capacity guard, overlaps, waiting lists, the
    emails); an admin may `override_capacity`, which that service logs per seat.
    """
    before = registration.held_sessions(attendee)
    result = registration.change_sessions(
        attendee,
        session_ids,
        waitlist=waitlist,
        now=now,
        actor=actor,
        override_capacity=override_capacity,
    )
    after = registration.held_sessions(attendee)
    if after != before:
        audit.record(
            actor, "attendee.move", attendee, before=before, after=after, event=attendee.event
        )
    return result


def cancel_attendee(attendee: Attendee, *, actor: Organiser, now: datetime) -> None:
    """Cancel the whole registration for the attendee; their seats pass to the waiting lists."""
    before = {"status": attendee.status, **registration.held_sessions(attendee)}
    registration.cancel_registration(attendee, now)
    audit.record(
        actor,
        "attendee.cancel",
        attendee,
        before=before,
        after={"status": attendee.status},
        event=attendee.event,
    )


def waiting_lists(event: Event) -> list[tuple[EventSession, list[Registration]]]:
    """Every session with its waiting list in order, in a fixed number of queries."""
    sessions = event_sessions(event)
    rows = db.session.scalars(
        select(Registration)
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(EventSession.event_id == event.id, Registration.status == "waitlisted")
        .options(joinedload(Registration.attendee))
        .order_by(Registration.session_id, Registration.waitlisted_at, Registration.id)
    ).all()
    by_session: dict[int, list[Registration]] = {}
    for row in rows:
        by_session.setdefault(row.session_id, []).append(row)
    return [(s, by_session.get(s.id, [])) for s in sessions if s.kind != "other"]


def get_registration(event: Event, registration_id: int) -> Registration:
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.attendee.event_id != event.id:
        raise NotFound(_("No such registration."))
    return reg
