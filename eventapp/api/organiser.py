"""The organiser API: build the programme, read registrations, waiting lists and conflicts.

Bearer tokens only (`flask --app eventapp organiser token EMAIL`); the same services as the
organiser pages, so the same rules: a hard conflict is a 409 `conflict`, a warning is a 409
`conflict` with `confirm_required: true` until the request says `"confirm": true`.
"""

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Attendee
from ..models.types import utcnow
from ..organiser.access import event_role_required, role_required
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice.attendees import (
    CHECKED_IN_FILTERS,
    SEARCH_MAX_LENGTH,
    STATUS_FILTERS,
    AttendeeFilter,
)
from ..services.errors import InvalidInput
from ..services.programme import conflicts, schedule
from ..services.registration import waitlist
from ..services.validation import ID_MAX, FieldErrors
from .blueprint import bp
from .public import json_body
from .serialize import event_json, iso, session_json

MAX_PER_PAGE = 500


def _confirm(body: dict) -> bool:
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):
        raise InvalidInput(
            _("Please correct the marked fields."), {"confirm": [_("Must be true or false.")]}
        )
    return confirm


def _session_reply(change, status: int = 200):
    session = change.session
    body = session_json(session, len(waitlist.waitlist(session.id)))
    body["warnings"] = [c.to_dict() for c in change.warnings if not c.is_hard]
    body["promoted"] = len(change.promoted)
    return jsonify(body), status


def room_json(room) -> dict:
    return {"id": room.id, "name": room.name, "capacity": room.capacity}


@bp.post("/events")
@role_required("organiser")
def create_event():
    event = schedule.create_event(current_user, json_body(), utcnow())
    db.session.commit()
    return jsonify(event_json(event)), 201


@bp.patch("/events/<slug>")
@event_role_required("organiser")
def update_event(slug: str):
    event = schedule.get_event_for_organiser(slug)
    body = json_body()
    schedule.update_event(current_user, event, body, utcnow(), confirm=_confirm(body))
    db.session.commit()
    return jsonify(event_json(event))


@bp.post("/events/<slug>/move")
@event_role_required("organiser")
def move_event(slug: str):
    """Move the whole event to a new start; sessions keep their relative times."""
    event = schedule.get_event_for_organiser(slug)
    body = json_body()
    if "starts_at" not in body:
        message = _("This field is required.")
        raise InvalidInput(_("Please correct the marked fields."), {"starts_at": [message]})
    moved = schedule.move_event(current_user, event, body["starts_at"], utcnow())
    db.session.commit()
    return jsonify({**event_json(event), "sessions_moved": len(moved)})


@bp.post("/events/<slug>/cancel")
@event_role_required("organiser")
def cancel_event(slug: str):
    """Cancel every session (attendees are emailed) and close the event."""
    event = schedule.get_event_for_organiser(slug)
    cancelled = schedule.cancel_event(current_user, event, utcnow())
    db.session.commit()
    return jsonify({**event_json(event), "sessions_cancelled": len(cancelled)})


@bp.post("/events/<slug>/rooms")
@event_role_required("organiser")
def create_room(slug: str):
    event = schedule.get_event_for_organiser(slug)
    room = schedule.create_room(current_user, event, json_body(), utcnow())
    db.session.commit()
    return jsonify(room_json(room)), 201


@bp.post("/events/<slug>/sessions")
@event_role_required("organiser")
def create_session(slug: str):
    event = schedule.get_event_for_organiser(slug)
    body = json_body()
    change = schedule.create_session(current_user, event, body, utcnow(), confirm=_confirm(body))
    db.session.commit()
    return _session_reply(change, 201)


@bp.patch("/sessions/<int:session_id>")
@event_role_required("organiser")
def update_session(session_id: int):
    session = schedule.get_session(session_id)
    body = json_body()
    change = schedule.update_session(current_user, session, body, utcnow(), confirm=_confirm(body))
    db.session.commit()
    return _session_reply(change)


@bp.delete("/sessions/<int:session_id>")
@event_role_required("organiser")
def cancel_session(session_id: int):
    session = schedule.get_session(session_id)
    change = schedule.cancel_session(current_user, session, utcnow())
    db.session.commit()
    return _session_reply(change)


@bp.get("/events/<slug>/conflicts")
@event_role_required("organiser")
def list_conflicts(slug: str):
    event = schedule.get_event_for_organiser(slug)
    found = conflicts.event_conflicts(event)
    return jsonify(
        {"conflicts": [c.to_dict() for c in found], **conflicts.count_by_severity(found)}
    )


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # isdigit() alone lets through digits int() refuses, such as "²".
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise InvalidInput(
            _("Please correct the marked fields."),
            {name: [_("Must be between %(lo)d and %(hi)d.", lo=lo, hi=hi)]},
        )
    return int(raw)


@bp.get("/events/<slug>/registrations")
@event_role_required("organiser")
def list_registrations(slug: str):
    """Attendees with their registrations, a page at a time, oldest first.

    Filtered by the same service as the organiser's attendee page, so a filter here finds
    exactly the attendees it finds there.
    """
    event = schedule.get_event_for_organiser(slug)
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", 100, 1, MAX_PER_PAGE)
    found = attendee_service.attendee_page(event, _attendee_filter(), page, per_page)
    tz = event.tz
    return jsonify(
        {
            "registrations": [_attendee_row(a, tz) for a in found.items],
            "page": page,
            "per_page": per_page,
            "total": found.total,
        }
    )


def _attendee_filter() -> AttendeeFilter:
    """The attendee page's filter from the query string (`session_id` being its `session`).

    The page ignores values its own form never sends; a program that sends one here gets a
    422 naming the field instead of a list it did not ask for.
    """
    errors = FieldErrors()
    q = request.args.get("q", "").strip()
    if len(q) > SEARCH_MAX_LENGTH:
        errors.add("q", _("At most %(n)d characters.", n=SEARCH_MAX_LENGTH))
    status = _choice_arg("status", STATUS_FILTERS, errors)
    checked_in = _choice_arg("checked_in", CHECKED_IN_FILTERS, errors)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    session_id = None
    if "session_id" in request.args:
        session_id = _int_arg("session_id", 0, 1, ID_MAX)
    return AttendeeFilter(
        q=q, session_id=session_id, status=status, checked_in=checked_in, sort="oldest"
    )


def _choice_arg(name: str, choices: tuple[str, ...], errors: FieldErrors) -> str:
    value = request.args.get(name, "")
    if name in request.args and value not in choices:
        errors.add(name, _("Must be one of: %(choices)s.", choices=", ".join(choices)))
    return value


def _attendee_row(attendee: Attendee, tz) -> dict:
    return {
        "reference": attendee.reference,
        "name": attendee.name,
        "email": attendee.email,
        "organisation": attendee.organisation,
        "status": attendee.status,
        "created_at": iso(attendee.created_at, tz),
        "checked_in_at": iso(attendee.checked_in_at, tz),
        "sessions": [{"id": r.session_id, "status": r.status} for r in attendee.registrations],
    }


@bp.get("/sessions/<int:session_id>/waitlist")
@event_role_required("organiser")
def session_waitlist(session_id: int):
    session = schedule.get_session(session_id)
    tz = session.event.tz
    queue = waitlist.waitlist(session.id)
    attendees = {
        a.id: a
        for a in db.session.scalars(
            select(Attendee).where(Attendee.id.in_([r.attendee_id for r in queue]))
        )
    }
    return jsonify(
        {
            "session_id": session.id,
            "capacity": session.capacity,
            "seats_taken": session.seats_taken,
            "waitlist": [
                {
                    "position": position,
                    "reference": attendees[r.attendee_id].reference,
                    "name": attendees[r.attendee_id].name,
                    "email": attendees[r.attendee_id].email,
                    "waitlisted_at": iso(r.waitlisted_at, tz),
                }
                for position, r in enumerate(queue, start=1)
            ],
        }
    )
