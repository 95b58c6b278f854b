"""Cleaning programme input (events, rooms, speakers, sessions) for forms, the API and imports.

Every entry point hands in plain values (JSON-like: strings, numbers, lists, or datetimes from
a form) and gets back typed values or an InvalidInput naming each field's problems.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _

from ...models.event import CONTENT_LOCALES, EVENT_STATUSES, SESSION_KINDS, SESSION_STATUSES
from ..errors import InvalidInput
from ..validation import (
    DESCRIPTION_MAX,
    ID_MAX,
    NAME_MAX,
    TITLE_MAX,
    FieldErrors,
    clean_email,
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
# How long a registration's seats wait for its email to be confirmed (confirm_email_first):
# long enough to find the email, short enough that a script's seats come back soon.
HOLD_MINUTES_MIN, HOLD_MINUTES_MAX = 5, 24 * 60
NOTE_MAX = 2000  # the organiser's note in the emails of a programme change


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


def parse_datetime(value) -> datetime | None:
    """ISO 8601 text (or a datetime) as a datetime, naive when it has no offset; None when
    it is not one. The API's schemas read their times with this too."""
    value = _any_datetime(value)
    # Events happen in this millennium; it also keeps out zones' old offsets in seconds.
    if value is None or not YEAR_MIN <= value.year <= YEAR_MAX:
        return None
    return value


def _any_datetime(value) -> datetime | None:
    """ISO 8601 text (or a datetime) as a datetime, whatever its year; None if not one."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None


def clean_datetime(value, field: str, errors: FieldErrors, tz: str | None) -> datetime | None:
    """An aware instant (in UTC) from ISO 8601 text or a datetime.

    Times without an offset are local to the event's timezone `tz`, and must name one instant
    (docs/CALENDAR.md, "Daylight saving"): a time in the spring-forward gap does not exist
    and is refused; a time in the repeated autumn hour is refused unless its offset is given.
    A datetime in a named zone (from an ICS file) is refused in the gap and, as RFC 5545 3.3.5
    says, means the first occurrence in the fold. The result is UTC, so comparisons and
    durations downstream are in absolute time, not on the wall clock.
    """
    parsed = parse_datetime(value)
    if parsed is None:
        errors.add(field, refusal_message(value))
        return None
    instant = _instant(parsed, field, errors, tz)
    # Events happen in this millennium, counted in UTC as stored: 2000-01-01T00:30+14:00 is
    # 1999 in UTC.
    if instant is not None and not within_years(instant):
        errors.add(field, years_message())
        return None
    return instant


def within_years(value: datetime) -> bool:
    """Whether an aware instant lies in the years an event may have, counted in UTC."""
    return YEAR_MIN <= value.astimezone(UTC).year <= YEAR_MAX


def _instant(value: datetime, field: str, errors: FieldErrors, tz: str | None) -> datetime | None:
    if value.tzinfo is None:
        try:
            zone = ZoneInfo(tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            errors.add(field, _("Not a known time zone (for example Europe/Amsterdam)."))
            return None
        return _local_instant(value, zone, field, errors, ambiguous_ok=False)
    if isinstance(value.tzinfo, ZoneInfo):
        naive = value.replace(tzinfo=None, fold=0)
        return _local_instant(naive, value.tzinfo, field, errors, ambiguous_ok=True)
    return value.astimezone(UTC)


def _local_instant(
    naive: datetime, zone: ZoneInfo, field: str, errors: FieldErrors, *, ambiguous_ok: bool
) -> datetime | None:
    """The one UTC instant a wall-clock time in `zone` names, or an error saying why not."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    shown = naive.strftime("%Y-%m-%d %H:%M")
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        errors.add(
            field,
            _(
                "%(time)s does not exist in %(zone)s: the clocks go forward that night. "
                "Choose a time before or after the change.",
                time=shown,
                zone=zone.key,
            ),
        )
        return None
    if first.utcoffset() != second.utcoffset() and not ambiguous_ok:
        errors.add(
            field,
            _(
                "%(time)s happens twice in %(zone)s: the clocks go back that night. "
                "Give the offset, %(first)s for the first time or %(second)s for the second.",
                time=shown,
                zone=zone.key,
                first=_offset(first),
                second=_offset(second),
            ),
        )
        return None
    return first.astimezone(UTC)


def repeated_hour_passes(value, tz: str | None) -> tuple[datetime, datetime] | None:
    """The two instants (UTC), first pass then second, that a wall-clock time without an
    offset names in the repeated autumn hour of `tz`; None for any other value (with an
    offset, outside that hour, or an unknown zone). For forms whose fields carry no offset
    (datetime-local), so the organiser can say which pass they mean."""
    if not isinstance(value, datetime) or value.tzinfo is not None or not tz:
        return None
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == value
    if not exists or first.utcoffset() == second.utcoffset():  # the spring gap, or one time
        return None
    return first.astimezone(UTC), second.astimezone(UTC)


def shift_wall_clock(moment: datetime, delta: timedelta, tz: str, field: str) -> datetime:
    """`moment` moved by `delta` on the event's wall clock, not in absolute time: an event
    moved from winter to summer time keeps its sessions at 10:00 local. A session landing in
    the spring gap is refused (InvalidInput naming it); in the autumn fold it takes the same
    pass as before: the repeated hour if `moment` was in it, else the first (as an ICS file
    would mean it)."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    naive = local.replace(tzinfo=None) + delta
    errors = FieldErrors()
    shifted = _local_instant(naive, zone, field, errors, ambiguous_ok=True)
    raise_if(errors)
    repeated = naive.replace(tzinfo=zone, fold=1)
    if local.fold and repeated.utcoffset() != shifted.astimezone(zone).utcoffset():
        return repeated.astimezone(UTC)
    return shifted


def _offset(moment: datetime) -> str:
    """+02:00 style, as ISO 8601 writes it after the time."""
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def clean_description(
    value, field: str, errors: FieldErrors, *, max_length: int = DESCRIPTION_MAX
) -> str:
    """Text that may span lines (a description: every Outlook export has them). CR LF and CR
    become LF; line breaks and tabs are allowed, every other control character is refused
    as clean_text refuses it (docs/CALENDAR.md, "Every file")."""
    if not isinstance(value, str):
        return clean_text(value, field, errors, max_length=max_length, required=False)
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    problems = FieldErrors()
    flat = text.replace("\n", " ").replace("\t", " ")
    clean_text(flat, field, problems, max_length=max_length, required=False)
    for reason in problems.get(field, []):
        errors.add(field, reason)
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", text).split("\n")]
    return "\n".join(lines).strip("\n ")


def clean_note(value: object) -> str:
    """The organiser's note to the attendees of a programme change: plain text that may
    span lines, shown escaped in the emails; empty for none."""
    errors = FieldErrors()
    note = clean_description("" if value is None else value, "note", errors, max_length=NOTE_MAX)
    raise_if(errors)
    return note


def datetime_message() -> str:
    """The reason a time is refused, in the request's language (so built when needed)."""
    return _("Not a date and time (use 2027-03-18T09:30 or with an offset).")


def refusal_message(value) -> str:
    """Why `parse_datetime` refused `value`, the same for the forms and the JSON API: a real
    date in the wrong year (1999-01-01) hears the years allowed, not "not a date and time"."""
    return years_message() if _any_datetime(value) is not None else datetime_message()


def years_message() -> str:
    """The reason a real date is refused: its year (not "not a date and time")."""
    return _("A date and time in the years %(first)d to %(last)d.", first=YEAR_MIN, last=YEAR_MAX)


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


def _clean_texts(data: dict, out: dict, errors: FieldErrors, partial, required, optional=None):
    """Text fields into `out`, each {field: max length}: a `required` one whenever it is
    given (always, unless `partial`), an `optional` one when present."""
    for key, max_length in required.items():
        if _given(data, key, partial):
            out[key] = clean_text(data.get(key), key, errors, max_length=max_length, required=True)
    for key, max_length in (optional or {}).items():
        if key in data:
            out[key] = clean_text(data.get(key), key, errors, max_length=max_length, required=False)


def _clean_descriptions(data: dict, out: dict, errors: FieldErrors) -> None:
    """The description in the event's language and in its other one, when given."""
    for key in ("description", "description_translated"):
        if key in data:
            out[key] = clean_description(data.get(key), key, errors)


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
    texts = {"venue": VENUE_MAX, "name_translated": NAME_MAX}
    _clean_texts(data, out, errors, partial, {"name": NAME_MAX}, texts)
    _clean_descriptions(data, out, errors)
    if "default_locale" in data:
        locale = clean_choice(data["default_locale"], "default_locale", errors, CONTENT_LOCALES)
        if locale:
            out["default_locale"] = locale
    if data.get("organiser_email") is not None:
        # The event's contact address: ORGANIZER of its invitations, Reply-To of its emails,
        # the "questions?" footer (docs/CALENDAR.md, "Per METHOD").
        out["organiser_email"] = clean_email(data["organiser_email"], "organiser_email", errors)
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
    if not partial:
        # New events confirm the email before seats are held unless told otherwise; the
        # model's default (off) is for events that existed before the setting.
        out.setdefault("confirm_email_first", True)
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
    for key in ("bot_challenge", "bot_form_checks", "confirm_email_first"):
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
    if "hold_minutes" in data:
        minutes = clean_int(
            data["hold_minutes"],
            "hold_minutes",
            errors,
            minimum=HOLD_MINUTES_MIN,
            maximum=HOLD_MINUTES_MAX,
        )
        if minutes is not None:
            out["hold_minutes"] = minutes


def clean_room_data(data: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict = {}
    texts = {"name_translated": ROOM_NAME_MAX}
    _clean_texts(data, out, errors, partial, {"name": ROOM_NAME_MAX}, texts)
    if _given(data, "capacity", partial):
        capacity = clean_int(data.get("capacity"), "capacity", errors)
        if capacity is not None:
            out["capacity"] = capacity
    raise_if(errors)
    return out


def clean_speaker_data(data: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict = {}
    _clean_texts(data, out, errors, partial, {"name": NAME_MAX}, {"organisation": NAME_MAX})
    raise_if(errors)
    return out


def clean_session_data(data: dict, *, tz: str, partial: bool) -> dict:
    """Typed session fields. `room_id` stays an id (or None); the service resolves it."""
    errors = FieldErrors()
    out: dict = {}
    _clean_texts(data, out, errors, partial, {"title": TITLE_MAX}, {"title_translated": TITLE_MAX})
    _clean_descriptions(data, out, errors)
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
