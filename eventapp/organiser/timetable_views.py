"""The timetable editor: the programme as a grid of rooms and times, sessions moved by drag
and drop or keyboard (static/timetable.js).

A drop asks `/timetable/preview` what the move would do (whom it emails, who would clash,
the conflicts it brings, services/programme/schedule/move_preview.py) and, once the
organiser confirms, posts it to `/timetable/move`, which saves it with the same service call
as the move form (`schedule.move_session`), so the emails, the SEQUENCE and the audit entry
are the form's. Both take JSON with the CSRF token in the X-CSRFToken header and answer JSON:
409 for a conflict, 422 for bad input (a time in the spring-forward gap included), never 500.
Without JavaScript the page is a read-only table whose sessions link to the edit form.

The confirm carries the preview's `fingerprint` (a digest of everything the dialog showed):
when the programme changed in between (another organiser's edit brings a new warning, takes
one away, or more people are emailed), the move answers 409 `preview_changed` with the new
preview instead of saving, and the page asks again, as the form asks again when its count
changed (organiser/programme_views.py `_unreviewed`).
"""

import json
from dataclasses import dataclass

from flask import jsonify, render_template, request
from flask_babel import format_date, format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import EventSession
from ..models.types import utcnow
from ..services.errors import Conflict, InvalidInput
from ..services.programme import conflicts, schedule
from ..services.programme import reading as programme
from ..services.programme.cleaning import clean_int, datetime_message, raise_if
from ..services.validation import ID_MAX, FieldErrors
from ..web.access import event_role_required
from ..web.loading import event_or_404
from . import timetable
from .blueprint import bp
from .programme_views import DIGEST_LENGTH, _change_message, shown_digest

STARTS_AT_MAX = 40  # characters: "2027-03-18T09:30:00+01:00" and then some


@dataclass(frozen=True)
class RequestedMove:
    """A move as the page sends it; `fingerprint`: the preview it confirms (None: not sent)."""

    session: EventSession
    times: dict
    room_id: object
    confirm: bool
    fingerprint: str | None


@bp.get("/events/<slug>/timetable", endpoint="timetable")
@event_role_required("organiser")
def timetable_page(slug: str):
    event = event_or_404(slug, drafts=True)
    sessions = programme.sessions_of(event)
    return render_template(
        "organiser/timetable.html",
        event=event,
        days=timetable.build(event, sessions),
        cancelled=[s for s in sessions if s.status != "scheduled"],
    )


@bp.post("/events/<slug>/timetable/preview")
@event_role_required("organiser")
def timetable_preview(slug: str):
    """What moving a session would do: 200 with the numbers to confirm, 409 when the move
    is blocked (the same answer the save would give), 422 for bad input."""
    event = event_or_404(slug, drafts=True)
    shown, blocked = _preview(event, _requested_move(event))
    if blocked is not None:
        return jsonify({**blocked.to_dict(), "impact": shown}), 409
    return jsonify(shown)


@bp.post("/events/<slug>/timetable/move")
@event_role_required("organiser")
def timetable_move(slug: str):
    """Save a move the organiser confirmed: the form's service call, the form's emails; or,
    when the move no longer does what the confirmed preview showed, the new preview (409)."""
    event = event_or_404(slug, drafts=True)
    move = _requested_move(event)
    if move.fingerprint is not None:
        # Held until the save: nobody changes the programme between this look and it.
        schedule.lock_event(event)
        shown, blocked = _preview(event, move)
        if blocked is not None:
            return jsonify({**blocked.to_dict(), "impact": shown}), 409
        if shown["fingerprint"] != move.fingerprint:
            return jsonify(_changed_since(shown)), 409
    change = schedule.move_session(
        current_user,
        move.session,
        **move.times,
        room_id=move.room_id,
        now=utcnow(),
        confirm=move.confirm,
    )
    db.session.commit()
    session = move.session
    return jsonify(
        {
            "session_id": session.id,
            "moved": change.moved,
            "message": _change_message(change),
            "where": _where(event, session.starts_at, session.ends_at, session.room),
        }
    )


def _preview(event, move: RequestedMove) -> tuple[dict, Conflict | None]:
    """The preview as the dialog shows it, with its fingerprint, and the Conflict that
    blocks the move (None: it may be saved, with confirm=true for its warnings)."""
    impact = schedule.preview_move(move.session, **move.times, room_id=move.room_id)
    shown = _impact(event, impact)
    shown["fingerprint"] = _fingerprint(shown)
    try:
        conflicts.enforce(impact.conflicts, confirm=True)  # raises when something blocks
    except Conflict as error:
        return shown, error
    return shown, None


def _fingerprint(shown: dict) -> str:
    """A digest of everything the dialog shows (the place, the counts, every warning's
    words): a confirm of another preview than the current one is asked again."""
    return shown_digest(json.dumps(shown, sort_keys=True, default=str))


def _changed_since(shown: dict) -> dict:
    return {
        "error": "preview_changed",
        "message": _("The programme changed since the preview: this is what the move does now."),
        "impact": shown,
    }


def _requested_move(event) -> RequestedMove:
    """The move from the JSON body; InvalidInput (422) names each bad field, NotFound (404)
    an id of another event. The end keeps the session's length; "room_id": null takes the
    session out of its room, no "room_id" leaves it there."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(_("Send a JSON object."), {"body": [_("Send a JSON object.")]})
    errors = FieldErrors()
    session_id = clean_int(body.get("session_id"), "session_id", errors, minimum=1, maximum=ID_MAX)
    starts_at = body.get("starts_at")
    if not isinstance(starts_at, str) or not starts_at or len(starts_at) > STARTS_AT_MAX:
        errors.add("starts_at", datetime_message())
    room_id = body.get("room_id", schedule.KEEP_ROOM)  # null: no room; left out: the same
    if room_id not in (None, schedule.KEEP_ROOM):
        room_id = clean_int(room_id, "room_id", errors, minimum=1, maximum=ID_MAX)
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):
        errors.add("confirm", _("Must be true or false."))
    fingerprint = body.get("fingerprint")
    if fingerprint is not None and (
        not isinstance(fingerprint, str) or len(fingerprint) > DIGEST_LENGTH
    ):
        errors.add("fingerprint", _("Not the fingerprint of a preview."))
    raise_if(errors)
    session = schedule.get_session(session_id, event)
    times = schedule.keep_length(session, starts_at)
    return RequestedMove(session, times, room_id, confirm, fingerprint)


def _where(event, starts_at, ends_at, room) -> str:
    """Where and when in the page's language: Thursday 18 March 2027, 11:30–12:30, Studio 1."""
    start, end = starts_at.astimezone(event.tz), ends_at.astimezone(event.tz)
    when = f"{format_date(start, 'full')}, {format_time(start, 'HH:mm')}–"
    when += format_time(end, "HH:mm")
    return f"{when}, {room.name if room else _('no room')}"


def _impact(event, impact) -> dict:
    """The preview as the editor shows it: sentences in the page's language, and numbers."""
    lines = []
    if impact.seats:
        lines.append(
            ngettext(
                "This moves the session of %(num)d attendee: their calendar updates.",
                "This moves the session of %(num)d attendees: their calendars update.",
                impact.seats,
            )
        )
    if impact.told:
        lines.append(
            ngettext(
                "%(num)d person is emailed about the change.",
                "%(num)d people are emailed about the change.",
                impact.told,
            )
        )
    elif impact.moved:
        lines.append(_("Nobody has a seat or a waiting-list place yet: nobody is emailed."))
    if impact.clashing:
        lines.append(
            ngettext(
                "%(num)d attendee would have two sessions at once.",
                "%(num)d attendees would have two sessions at once.",
                impact.clashing,
            )
        )
    return {
        "session_id": impact.session.id,
        "title": impact.session.title,
        "where": _where(event, impact.starts_at, impact.ends_at, impact.room),
        "moved": impact.moved,
        "seats": impact.seats,
        "told": impact.told,
        "clashing": impact.clashing,
        "lines": lines,
        "conflicts": [c.to_dict() for c in impact.conflicts],
        "confirm_required": impact.confirm_required,
    }
