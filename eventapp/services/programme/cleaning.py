"""Cleaning programme input (events, rooms, speakers, sessions) for forms, the API and imports.

Every entry point hands in plain values (JSON-like: strings, numbers, lists, or datetimes from
a form) and gets back typed values or an InvalidInput naming each field's problems.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _

from ...models.event import EVENT_STATUSES, SESSION_KINDS, SESSION_STATUSES
from ..errors import InvalidInput
from ..validation import (
    DESCRIPTION_MAX,
    ID_MAX,
    NAME_MAX,
    TITLE_MAX,
    FieldErrors,
    clean_text,
    whole_number,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
ROOM_NAME_MAX = 120
VENUE_MAX = 200
CAPACITY_MAX = 100_000
SPEAKERS_MAX = 50
YEAR_MIN, YEAR_MAX = 2000, 2999
PROMOTION_MODES = ("auto", "offer")
ALLOCATION_MODES = ("fcfs", "preferences")
HOURS_MAX = 24 * 30
RETENTION_DAYS_MAX = 3650


def raise_if(errors: FieldErrors) -> None:
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), dict(errors))


def clean_int(
    value, field: str, errors: FieldErrors, *, minimum: int = 0, maximum: int = CAPACITY_MAX
) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON's 30.0 is the integer 30
    if isinstance(value, bool) or not isinstance(value, int):
        spelled = whole_number(value) if isinstance(value, str) else None
        if spelled is not None:
            value = spelled
        else:
            errors.add(field, _("Must be a whole number."))
            return None
    if not minimum <= value <= maximum:
        errors.add(field, _("Must be between %(lo)d and %(hi)d.", lo=minimum, hi=maximum))
        return None
    return value


def clean_timezone(value, field: str, errors: FieldErrors) -> str | None:
    if not isinstance(value, str) or value not in _timezones():
        errors.add(field, _("Not a known time zone (for example Europe/Amsterdam)."))
        return None
    return value


def _timezones() -> set[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = available_timezones()
    return _TIMEZONES


_TIMEZONES: set[str] | None = None


def clean_datetime(value, field: str, errors: FieldErrors, tz: str | None) -> datetime | None:
    """An aware instant from ISO 8601 text or a datetime; times without offset are local to
    the event's timezone `tz`."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            errors.add(field, _("Not a date and time (use 2027-03-18T09:30 or with an offset)."))
            return None
    if not isinstance(value, datetime):
        errors.add(field, _("Not a date and time (use 2027-03-18T09:30 or with an offset)."))
        return None
    if value.tzinfo is None:
        try:
            value = value.replace(tzinfo=ZoneInfo(tz or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            errors.add(field, _("Not a known time zone (for example Europe/Amsterdam)."))
            return None
    # Events happen in this millennium; it also keeps out zones' old offsets in seconds.
    # The year of the instant in UTC, as stored: 2000-01-01T00:30+14:00 is 1999 in UTC.
    if not within_years(value):
        errors.add(field, _("Not a date and time (use 2027-03-18T09:30 or with an offset)."))
        return None
    return value


def within_years(value: datetime) -> bool:
    """Whether an aware instant lies in the years an event may have, counted in UTC."""
    return YEAR_MIN <= value.astimezone(UTC).year <= YEAR_MAX


def clean_choice(value, field: str, errors: FieldErrors, choices) -> str | None:
    if value not in choices:
        errors.add(field, _("Must be one of: %(choices)s.", choices=", ".join(choices)))
        return None
    return value


def clean_speaker_names(value, field: str, errors: FieldErrors) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > SPEAKERS_MAX:
        errors.add(field, _("Must be a list of names."))
        return []
    names: list[str] = []
    for item in value:
        name = clean_text(item, field, errors, max_length=NAME_MAX, required=True)
        if name and name not in names:
            names.append(name)
    return names


def _given(data: dict, key: str, partial: bool) -> bool:
    return key in data or not partial


def clean_event_data(data: dict, *, partial: bool, current_tz: str | None = None) -> dict:
    """Typed event fields; on `partial` (PATCH) only the fields present."""
    errors = FieldErrors()
    out: dict = {}
    if _given(data, "slug", partial):
        slug = data.get("slug")
        if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
            errors.add("slug", _("Lower-case letters, digits and dashes, at most 80."))
        else:
            out["slug"] = slug
    if _given(data, "name", partial):
        out["name"] = clean_text(
            data.get("name"), "name", errors, max_length=NAME_MAX, required=True
        )
    for key, max_length in (("venue", VENUE_MAX), ("description", DESCRIPTION_MAX)):
        if key in data:
            out[key] = clean_text(data.get(key), key, errors, max_length=max_length, required=False)
    if "timezone" in data or not partial:
        tz = clean_timezone(data.get("timezone", "Europe/Amsterdam"), "timezone", errors)
        if tz:
            out["timezone"] = tz
    tz = out.get("timezone") or current_tz or "Europe/Amsterdam"
    for key in ("starts_at", "ends_at"):
        if _given(data, key, partial):
            value = clean_datetime(data.get(key), key, errors, tz)
            if value is not None:
                out[key] = value
    for key in ("registration_opens_at", "registration_closes_at"):
        if key in data:
            if data[key] is None or data[key] == "":
                out[key] = None
            else:
                value = clean_datetime(data[key], key, errors, tz)
                if value is not None:
                    out[key] = value
    if "status" in data or not partial:
        status = clean_choice(data.get("status", "draft"), "status", errors, EVENT_STATUSES)
        if status:
            out["status"] = status
    _clean_attendee_settings(data, out, errors)
    raise_if(errors)
    return out


def _clean_attendee_settings(data: dict, out: dict, errors: FieldErrors) -> None:
    """Waiting-list promotion, offer time, reminder time and retention (only when given)."""
    if "promotion_mode" in data:
        mode = clean_choice(data["promotion_mode"], "promotion_mode", errors, PROMOTION_MODES)
        if mode:
            out["promotion_mode"] = mode
    if "allocation_mode" in data:
        mode = clean_choice(data["allocation_mode"], "allocation_mode", errors, ALLOCATION_MODES)
        if mode:
            out["allocation_mode"] = mode
    for key in ("offer_hours", "reminder_hours"):
        if key in data:
            hours = clean_int(data[key], key, errors, minimum=1, maximum=HOURS_MAX)
            if hours is not None:
                out[key] = hours
    _clean_bot_defences(data, out, errors)
    if "retention_days" in data:
        if data["retention_days"] is None or data["retention_days"] == "":
            out["retention_days"] = None
        else:
            days = clean_int(
                data["retention_days"], "retention_days", errors, maximum=RETENTION_DAYS_MAX
            )
            if days is not None:
                out["retention_days"] = days


REGISTRATION_LIMIT_MAX = 100_000


def _clean_bot_defences(data: dict, out: dict, errors: FieldErrors) -> None:
    """The event's switches against scripted registrations (services/registration/limits.py,
    public/bot_checks.py); an empty limit switches that limit off."""
    for key in ("bot_challenge", "bot_form_checks"):
        if key in data:
            if isinstance(data[key], bool):
                out[key] = data[key]
            else:
                errors.add(key, _("Must be true or false."))
    for key in ("max_registrations_per_address", "max_registrations_per_domain"):
        if key not in data:
            continue
        if data[key] is None or data[key] == "":
            out[key] = None
            continue
        limit = clean_int(data[key], key, errors, minimum=1, maximum=REGISTRATION_LIMIT_MAX)
        if limit is not None:
            out[key] = limit


def clean_room_data(data: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict = {}
    if _given(data, "name", partial):
        out["name"] = clean_text(
            data.get("name"), "name", errors, max_length=ROOM_NAME_MAX, required=True
        )
    if _given(data, "capacity", partial):
        capacity = clean_int(data.get("capacity"), "capacity", errors)
        if capacity is not None:
            out["capacity"] = capacity
    raise_if(errors)
    return out


def clean_speaker_data(data: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict = {}
    if _given(data, "name", partial):
        out["name"] = clean_text(
            data.get("name"), "name", errors, max_length=NAME_MAX, required=True
        )
    if "organisation" in data:
        out["organisation"] = clean_text(
            data.get("organisation"), "organisation", errors, max_length=NAME_MAX, required=False
        )
    raise_if(errors)
    return out


def clean_session_data(data: dict, *, tz: str, partial: bool) -> dict:
    """Typed session fields. `room_id` stays an id (or None); the service resolves it."""
    errors = FieldErrors()
    out: dict = {}
    if _given(data, "title", partial):
        out["title"] = clean_text(
            data.get("title"), "title", errors, max_length=TITLE_MAX, required=True
        )
    if "description" in data:
        out["description"] = clean_text(
            data.get("description"),
            "description",
            errors,
            max_length=DESCRIPTION_MAX,
            required=False,
        )
    if "kind" in data or not partial:
        kind = clean_choice(data.get("kind", "workshop"), "kind", errors, SESSION_KINDS)
        if kind:
            out["kind"] = kind
    for key in ("starts_at", "ends_at"):
        if _given(data, key, partial):
            value = clean_datetime(data.get(key), key, errors, tz)
            if value is not None:
                out[key] = value
    if "room_id" in data:
        room_id = data["room_id"]
        if room_id is None:
            out["room_id"] = None
        else:
            room_id = clean_int(room_id, "room_id", errors, minimum=1, maximum=ID_MAX)
            if room_id is not None:
                out["room_id"] = room_id
    if "capacity" in data and data["capacity"] is not None:
        capacity = clean_int(data["capacity"], "capacity", errors)
        if capacity is not None:
            out["capacity"] = capacity
    if "speakers" in data:
        out["speakers"] = clean_speaker_names(data["speakers"], "speakers", errors)
    if "status" in data:
        status = clean_choice(data["status"], "status", errors, SESSION_STATUSES)
        if status:
            out["status"] = status
    raise_if(errors)
    return out


def ensure_order(starts_at: datetime, ends_at: datetime, field: str = "ends_at") -> None:
    if ends_at <= starts_at:
        raise InvalidInput(
            _("The end must be after the start."), {field: [_("The end must be after the start.")]}
        )
