"""Door mode: full-screen check-in for a phone or tablet at the entrance.

The page holds only what the door needs, the code field and the last result on top; the
scanning and the queue live in static/door.js. Each entry is one JSON call, so the page
never reloads between people. When the Wi-Fi drops, door.js keeps the entries on the device
with the time they were scanned and sends them when the connection returns; this endpoint
takes that time (services/backoffice/checkin.arrival_time) and answers each one as it would
have then, "already checked in at 08:27" included. Without JavaScript the code form posts to
the ordinary check-in page, which answers and shows the result.
"""

from datetime import datetime

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Attendee
from ..models.types import utcnow
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice import checkin
from ..services.errors import DomainError
from ..services.validation import ID_MAX
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .blueprint import bp
from .checkin_views import day_label

CODE_MAX = 200


def _id(value) -> int | None:
    """A database id from JSON (a number or digits), else None; never an error."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 < value <= ID_MAX:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= ID_MAX:
        return int(value)
    return None


def _chosen_session(event, value):
    if value in (None, ""):
        return None
    wanted = _id(value)
    return next((s for s in attendee_service.event_sessions(event) if s.id == wanted), False)


def _scanned_at(value) -> datetime | None | bool:
    """The device's scan time (ISO 8601 with an offset), None if not sent, False if bad."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed if parsed.tzinfo is not None else False


def _invalid(fields: dict):
    body = {"error": "invalid", "message": _("Please correct the marked fields."), "fields": fields}
    return jsonify(body), 422


def _person(event, attendee: Attendee, session) -> dict:
    seat_time = attendee.checked_in_at
    if session is not None:
        seat = next((r for r in attendee.registrations if r.session_id == session.id), None)
        seat_time = seat.checked_in_at if seat else None
    return {
        "id": attendee.id,
        "name": attendee.name,
        "organisation": attendee.organisation or "",
        "email": attendee.email,
        "code": attendee.checkin_code,
        "cancelled": attendee.status != "active",
        "checked_in_at": seat_time.astimezone(event.tz).strftime("%H:%M") if seat_time else None,
    }


def _answer(event, session, outcome: checkin.ScanOutcome):
    attendance = checkin.attendance(event, session, checkin.door_day(event, utcnow()))
    body = {
        "state": outcome.state,
        "message": outcome.message,
        "attendance": {"arrived": attendance.arrived, "expected": attendance.expected},
    }
    if outcome.result is not None:
        body["attendee"] = _person(event, outcome.result.attendee, session)
    if outcome.matches is not None:
        body["matches"] = [_person(event, a, session) for a in outcome.matches]
    return jsonify(body)


@bp.get("/events/<slug>/door")
@event_role_required("checkin", "organiser")
def door(slug: str):
    event = event_or_404(slug, drafts=True)
    session = _chosen_session(event, request.args.get("session"))
    if session is False:
        session = None
    sessions = [s for s in attendee_service.event_sessions(event) if s.registrable]
    day = checkin.door_day(event, utcnow())
    return render_template(
        "organiser/checkin/door.html",
        event=event,
        session=session,
        sessions=sessions,
        day=day_label(day) if session is None else "",
        attendance=checkin.attendance(event, session, day),
    )


@bp.post("/events/<slug>/door/scan")
@event_role_required("checkin", "organiser")
def door_scan(slug: str):
    """One entry from the door: {"code"} or {"attendee_id"} (picked from a name search), with
    "session" and, for entries queued offline, "scanned_at"."""
    event = event_or_404(slug, drafts=True)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _invalid({"body": _("Send a JSON object.")})
    session = _chosen_session(event, body.get("session"))
    scanned_at = _scanned_at(body.get("scanned_at"))
    code, picked = body.get("code"), body.get("attendee_id")
    fields = {}
    if session is False:
        fields["session"] = _("No such session in this event.")
    if scanned_at is False:
        fields["scanned_at"] = _("A date and time with its offset, e.g. 2027-03-18T08:27:00+01:00.")
    if picked is None and (not isinstance(code, str) or not code.strip() or len(code) > CODE_MAX):
        fields["code"] = _("Type or scan a check-in code.")
    if fields:
        return _invalid(fields)
    actor = current_user._get_current_object()
    try:
        if picked is not None:
            outcome = _check_in_picked(event, picked, session, scanned_at, actor)
        else:
            outcome = checkin.scan(
                event, code, now=utcnow(), actor=actor, session=session, scanned_at=scanned_at
            )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        outcome = checkin.ScanOutcome("unknown", error.message)
    return _answer(event, session, outcome)


def _check_in_picked(event, picked, session, scanned_at, actor) -> checkin.ScanOutcome:
    attendee = attendee_service.get_attendee(event, _id(picked) or 0)
    return checkin.scan(
        event,
        attendee.checkin_code,
        now=utcnow(),
        actor=actor,
        session=session,
        scanned_at=scanned_at,
    )
