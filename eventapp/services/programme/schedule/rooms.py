"""The event's rooms and speakers, and the room and speakers a session names."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ....extensions import db
from ....models import Event, Organiser, Room, Speaker
from ....models.event import CONTENT_LOCALES
from ...errors import InvalidInput, NotFound
from .. import conflicts, notifications
from ..cleaning import clean_room_data, clean_speaker_data
from . import changes
from .changes import add_new, apply_changes, enforce_new, ensure_name_free
from .events import sessions_of_event


def create_room(actor: Organiser | None, event: Event, data: dict, now: datetime) -> Room:
    values = clean_room_data(data, partial=False)
    _ensure_room_name_free(event, values["name"])
    return add_new(actor, "room.created", Room(event=event, **values), now)


def _ensure_room_name_free(event: Event, name: str, *, except_id: int | None = None) -> None:
    message = _("This event already has a room with this name.")
    ensure_name_free(Room, event, name, message, except_id=except_id)


def update_room(
    actor: Organiser | None, room: Room, data: dict, now: datetime, *, confirm: bool = False
) -> Room:
    """Rename or resize a room; sessions that would then exceed it need confirmation."""
    values = clean_room_data(data, partial=True)
    changes.lock_event(room.event)
    if "name" in values:
        _ensure_room_name_free(room.event, values["name"], except_id=room.id)
    if "capacity" in values and values["capacity"] < room.capacity:
        enforce_new(
            conflicts.room_capacity_conflicts(room, values["capacity"]),
            conflicts.room_capacity_conflicts(room, room.capacity),
            confirm=confirm,
        )
    shown_before = {locale: room.name_in(locale) for locale in CONTENT_LOCALES}
    room = apply_changes(actor, "room.updated", room, values, now)
    # Calendars show the room's name in LOCATION, each in its reader's language: only those
    # whose name changed hear of it (the feeds show it to everyone through the SEQUENCE).
    renamed = frozenset(
        locale for locale, name in shown_before.items() if room.name_in(locale) != name
    )
    if renamed:
        in_room = [s for s in sessions_of_event(room.event) if s.room_id == room.id]
        notifications.sessions_changed(in_room, now, locales=renamed)
    return room


def get_room(event: Event, room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None or room.event_id != event.id:
        raise NotFound(_("No such room in this event."))
    return room


def room_named(event: Event, room_id: int | None) -> Room | None:
    """The room a session names, which must belong to the session's event."""
    if not room_id:
        return None
    try:
        return get_room(event, room_id)
    except NotFound:
        message = _("No such room in this event.")
        raise InvalidInput(message, {"room_id": [message]}) from None


def create_speaker(actor: Organiser | None, event: Event, data: dict, now: datetime) -> Speaker:
    values = clean_speaker_data(data, partial=False)
    _ensure_speaker_name_free(event, values["name"])
    return add_new(actor, "speaker.created", Speaker(event=event, **values), now)


def update_speaker(actor: Organiser | None, speaker: Speaker, data: dict, now: datetime) -> Speaker:
    values = clean_speaker_data(data, partial=True)
    if "name" in values:
        _ensure_speaker_name_free(speaker.event, values["name"], except_id=speaker.id)
    return apply_changes(actor, "speaker.updated", speaker, values, now)


def _ensure_speaker_name_free(event: Event, name: str, *, except_id: int | None = None) -> None:
    message = _("This event already has a speaker with this name.")
    ensure_name_free(Speaker, event, name, message, except_id=except_id)


def speakers_named(event: Event, names: list[str]) -> list[Speaker]:
    """The event's speakers with these names, created for names not seen before."""
    if not names:
        return []
    with db.session.no_autoflush:
        known = {
            s.name: s
            for s in db.session.scalars(
                select(Speaker).where(Speaker.event_id == event.id, Speaker.name.in_(names))
            )
        }
    speakers = []
    for name in names:
        if name not in known:
            known[name] = Speaker(event=event, name=name)
            db.session.add(known[name])
        speakers.append(known[name])
    return speakers
