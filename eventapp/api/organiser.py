"""The organiser API: build the programme, read registrations, waiting lists and conflicts.

Bearer tokens only (`flask --app eventapp organiser token EMAIL`); the same services as the
organiser pages, so the same rules: a hard conflict is a 409 `conflict`, a warning is a 409
`conflict` with `confirm_required: true` until the request says `"confirm": true`.
"""

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Attendee
from ..models.types import utcnow
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice.attendees import AttendeeFilter
from ..services.errors import DomainError
from ..services.programme import conflicts, schedule
from ..services.registration import waitlist
from ..services.registration.answers import answers_of_many
from ..services.registration.questions import questions_of
from ..web.access import event_role_required, role_required
from .blueprint import bp
from .fields import iso
from .openapi import Error, operation
from .replies import (
    AttendeeRow,
    ConflictList,
    EventCancelled,
    EventMoved,
    EventOut,
    RegistrationPage,
    RoomOut,
    SessionChange,
    Waitlist,
    WaitlistEntry,
)
from .schemas import (
    EventIn,
    EventMoveIn,
    EventPatch,
    RegistrationQuery,
    RoomIn,
    SessionCancelQuery,
    SessionIn,
    SessionPatch,
)


def _telling(sent: dict) -> schedule.Telling:
    """The request's `notify` and `note` (taken out of the fields to change)."""
    return schedule.Telling(notify=sent.pop("notify", True), note=sent.pop("note", ""))


def _session_reply(change) -> SessionChange:
    return SessionChange.of_change(change, len(waitlist.waitlist(change.session.id)))


def _changed_session(session_id: int, change) -> SessionChange:
    """The session after `change(actor, session, now)`, committed."""
    made = change(current_user, schedule.get_session(session_id), utcnow())
    db.session.commit()
    return _session_reply(made)


@bp.post("/events")
@role_required("organiser")
@operation((EventOut, "The new event."), 409, status=201, organiser=True)
def create_event(json: EventIn):
    """Create an event."""
    event = schedule.create_event(current_user, json.model_dump(exclude_unset=True), utcnow())
    db.session.commit()
    return EventOut.of(event), 201


@bp.patch("/events/<slug>")
@event_role_required("organiser")
@operation((EventOut, "The event as saved."), 404, 409, organiser=True)
def update_event(slug: str, json: EventPatch):
    """Change an event; new hours that leave sessions outside them need "confirm": true."""
    event = schedule.get_event_for_organiser(slug)
    sent = json.model_dump(exclude_unset=True)
    telling = _telling(sent)
    schedule.update_event(
        current_user, event, sent, utcnow(), confirm=sent.get("confirm", False), telling=telling
    )
    db.session.commit()
    return EventOut.of(event)


@bp.post("/events/<slug>/move")
@event_role_required("organiser")
@operation((EventMoved, "The moved event."), 404, organiser=True)
def move_event(slug: str, json: EventMoveIn):
    """Move the whole event to a new start; sessions keep their relative times and their
    attendees are emailed."""
    event = schedule.get_event_for_organiser(slug)
    telling = schedule.Telling(notify=json.notify, note=json.note)
    moved = schedule.move_event(current_user, event, json.starts_at, utcnow(), telling=telling)
    db.session.commit()
    return EventMoved.of(event, sessions_moved=len(moved))


@bp.post("/events/<slug>/cancel")
@event_role_required("organiser")
@operation((EventCancelled, "The cancelled event (status closed)."), 404, organiser=True)
def cancel_event(slug: str):
    """Cancel every session (attendees are emailed) and close the event."""
    event = schedule.get_event_for_organiser(slug)
    cancelled = schedule.cancel_event(current_user, event, utcnow())
    db.session.commit()
    return EventCancelled.of(event, sessions_cancelled=len(cancelled))


@bp.post("/events/<slug>/rooms")
@event_role_required("organiser")
@operation((RoomOut, "The new room."), 404, 409, status=201, organiser=True)
def create_room(slug: str, json: RoomIn):
    """Add a room."""
    event = schedule.get_event_for_organiser(slug)
    room = schedule.create_room(current_user, event, json.model_dump(), utcnow())
    db.session.commit()
    return RoomOut.of(room), 201


@bp.post("/events/<slug>/sessions")
@event_role_required("organiser")
@operation((SessionChange, "The new session."), 404, 409, status=201, organiser=True)
def create_session(slug: str, json: SessionIn):
    """Add a session."""
    event = schedule.get_event_for_organiser(slug)
    sent = json.model_dump(exclude_unset=True)
    change = schedule.create_session(current_user, event, sent, utcnow(), confirm=json.confirm)
    db.session.commit()
    return _session_reply(change), 201


@bp.patch("/sessions/<int:session_id>")
@event_role_required("organiser")
@operation((SessionChange, "The session as saved."), 404, 409, organiser=True)
def update_session(session_id: int, json: SessionPatch):
    """Edit, move, resize, cancel or restore a session."""
    sent = json.model_dump(exclude_unset=True)
    confirm = sent.get("confirm", False)
    telling = _telling(sent)
    clash_fix = sent.pop("clash_fix", schedule.BLOCK)
    return _changed_session(
        session_id,
        lambda actor, session, now: schedule.update_session(
            actor, session, sent, now, confirm=confirm, telling=telling, clash_fix=clash_fix
        ),
    )


@bp.delete("/sessions/<int:session_id>")
@event_role_required("organiser")
@operation(
    (SessionChange, "The cancelled session (`notified`: how many were emailed)."),
    404,
    422,
    organiser=True,
    HTTP_400=(Error, "A JSON body was sent: `notify` and `note` go in the query (`bad_request`)."),
)
def cancel_session(session_id: int, query: SessionCancelQuery):
    """Cancel a session; its attendees (seats and waiting list) are emailed, with the `note`,
    unless `notify=false`."""
    _refuse_unread_body()
    telling = schedule.Telling(notify=query.notify, note=query.note)
    return _changed_session(
        session_id,
        lambda actor, session, now: schedule.cancel_session(actor, session, now, telling=telling),
    )


def _refuse_unread_body() -> None:
    """A DELETE's body is not read (spectree validates none, proxies may drop it): fields
    sent there would be ignored, `"notify": false` among them, and everyone emailed."""
    sent = request.get_json(silent=True)
    if sent not in (None, {}):
        raise DomainError(
            _("Send notify and note in the query string: a DELETE's body is not read."),
            "bad_request",
            400,
        )


@bp.get("/events/<slug>/conflicts")
@event_role_required("organiser")
@operation((ConflictList, "Hard conflicts first."), 404, organiser=True)
def list_conflicts(slug: str):
    """Every current conflict of the event, warnings too."""
    event = schedule.get_event_for_organiser(slug)
    found = conflicts.event_conflicts(event)
    return ConflictList(
        conflicts=[c.to_dict() for c in found], **conflicts.count_by_severity(found)
    )


@bp.get("/events/<slug>/registrations")
@event_role_required("organiser")
@operation((RegistrationPage, "One page."), 404, 422, organiser=True)
def list_registrations(slug: str, query: RegistrationQuery):
    """Attendees and their registrations, a page at a time, oldest first.

    Filtered by the same service as the organiser's attendee page, so a filter here finds
    exactly the attendees it finds there.
    """
    event = schedule.get_event_for_organiser(slug)
    chosen = AttendeeFilter(
        q=query.q.strip(),
        session_id=query.session_id,
        status=query.status or "",
        checked_in=query.checked_in or "",
        sort="oldest",
    )
    found = attendee_service.attendee_page(event, chosen, query.page, query.per_page)
    tz = event.tz
    keys = {q.id: q.key for q in questions_of(event, archived=True)}
    given = answers_of_many([a.id for a in found.items])
    return RegistrationPage(
        registrations=[
            AttendeeRow.of(a, tz, {keys[q]: value for q, value in given.get(a.id, {}).items()})
            for a in found.items
        ],
        page=query.page,
        per_page=query.per_page,
        total=found.total,
    )


@bp.get("/sessions/<int:session_id>/waitlist")
@event_role_required("organiser")
@operation((Waitlist, "First in line first."), 404, organiser=True)
def session_waitlist(session_id: int):
    """A session's waiting list in order."""
    session = schedule.get_session(session_id)
    tz = session.event.tz
    queue = waitlist.waitlist(session.id)
    attendees = {
        a.id: a
        for a in db.session.scalars(
            select(Attendee).where(Attendee.id.in_([r.attendee_id for r in queue]))
        )
    }
    return Waitlist(
        session_id=session.id,
        capacity=session.capacity,
        seats_taken=session.seats_taken,
        waitlist=[
            WaitlistEntry.from_row(
                attendees[r.attendee_id],
                position=position,
                waitlisted_at=iso(r.waitlisted_at, tz),
            )
            for position, r in enumerate(queue, start=1)
        ],
    )
