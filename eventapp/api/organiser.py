"""The organiser API: build the programme, read registrations, waiting lists and conflicts.

Bearer tokens only (`flask --app eventapp organiser token EMAIL`); the same services as the
organiser pages, so the same rules: a hard conflict is a 409 `conflict`, a warning is a 409
`conflict` with `confirm_required: true` until the request says `"confirm": true`.
"""

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Attendee, Registration
from ..models.attendee import REGISTRATION_STATUSES
from ..models.types import utcnow
from ..organiser.access import role_required
from ..services import conflicts, schedule, waitlist
from ..services.errors import InvalidInput
from . import bp
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
@role_required("organiser")
def update_event(slug: str):
    event = schedule.get_event_for_organiser(slug)
    body = json_body()
    schedule.update_event(current_user, event, body, utcnow(), confirm=_confirm(body))
    db.session.commit()
    return jsonify(event_json(event))


@bp.post("/events/<slug>/move")
@role_required("organiser")
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
@role_required("organiser")
def cancel_event(slug: str):
    """Cancel every session (attendees are emailed) and close the event."""
    event = schedule.get_event_for_organiser(slug)
    cancelled = schedule.cancel_event(current_user, event, utcnow())
    db.session.commit()
    return jsonify({**event_json(event), "sessions_cancelled": len(cancelled)})


@bp.post("/events/<slug>/rooms")
@role_required("organiser")
def create_room(slug: str):
    event = schedule.get_event_for_organiser(slug)
    room = schedule.create_room(current_user, event, json_body(), utcnow())
    db.session.commit()
    return jsonify(room_json(room)), 201


@bp.post("/events/<slug>/sessions")
@role_required("organiser")
def create_session(slug: str):
    event = schedule.get_event_for_organiser(slug)
    body = json_body()
    change = schedule.create_session(current_user, event, body, utcnow(), confirm=_confirm(body))
    db.session.commit()
    return _session_reply(change, 201)


@bp.patch("/sessions/<int:session_id>")
@role_required("organiser")
def update_session(session_id: int):
    session = schedule.get_session(session_id)
    body = json_body()
    change = schedule.update_session(current_user, session, body, utcnow(), confirm=_confirm(body))
    db.session.commit()
    return _session_reply(change)


@bp.delete("/sessions/<int:session_id>")
@role_required("organiser")
def cancel_session(session_id: int):
    session = schedule.get_session(session_id)
    change = schedule.cancel_session(current_user, session, utcnow())
    db.session.commit()
    return _session_reply(change)


@bp.get("/events/<slug>/conflicts")
@role_required("organiser")
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
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidInput(
            _("Please correct the marked fields."),
            {name: [_("Must be between %(lo)d and %(hi)d.", lo=lo, hi=hi)]},
        )
    return int(raw)


@bp.get("/events/<slug>/registrations")
@role_required("organiser")
def list_registrations(slug: str):
    """Attendees with their registrations, a page at a time; filter by session and status."""
    event = schedule.get_event_for_organiser(slug)
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", 100, 1, MAX_PER_PAGE)
    query = select(Attendee).where(Attendee.event_id == event.id)
    session_id = request.args.get("session_id")
    status = request.args.get("status")
    if status is not None and status not in REGISTRATION_STATUSES:
        raise InvalidInput(
            _("Please correct the marked fields."),
            {
                "status": [
                    _("Must be one of: %(choices)s.", choices=", ".join(REGISTRATION_STATUSES))
                ]
            },
        )
    if session_id is not None or status is not None:
        matching = select(Registration.attendee_id)
        if session_id is not None:
            matching = matching.where(
                Registration.session_id == _int_arg("session_id", 0, 1, 2**31 - 1)
            )
        if status is not None:
            matching = matching.where(Registration.status == status)
        query = query.where(Attendee.id.in_(matching))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    attendees = db.session.scalars(
        query.options(selectinload(Attendee.registrations))
        .order_by(Attendee.created_at, Attendee.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    tz = event.tz
    return jsonify(
        {
            "registrations": [_attendee_row(a, tz) for a in attendees],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


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
@role_required("organiser")
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
