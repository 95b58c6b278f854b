"""How the times of an imported calendar file are read (importing.py): which zone a
DTSTART or DTEND is in, floating times read in the event's zone as a TZID of it would be,
and DURATION added in absolute time (docs/CALENDAR.md, "Importing calendar files")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _


def zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def file_moment(component, name: str, floating_zone, warnings: list[str]):
    """DTSTART or DTEND as an aware datetime where the file says which zone it means."""
    value = component.decoded(name, None)
    if not isinstance(value, datetime) or value.tzinfo is not None:
        return value
    tzid = component.get(name).params.get("TZID")
    if tzid:  # icalendar knew no such zone and left the time naive
        warnings.append(
            _(
                "Unknown time zone “%(tzid)s”: its times are read as the event's local time.",
                tzid=str(tzid),
            )
        )
        return value
    return value.replace(tzinfo=floating_zone) if floating_zone else value


def duration_end(start: datetime, duration: timedelta) -> datetime:
    """The end of a DURATION, in absolute time: across a DST change a two-hour session ends
    two hours later, not at the wall-clock time two hours on (docs/CALENDAR.md)."""
    return start.astimezone(UTC) + duration


def floating_times(row, event) -> tuple[datetime, datetime]:
    """A floating row read in the event's zone as a TZID of it would be: a time in the fold
    is its first pass (RFC 5545 3.3.5), a DURATION (`row.end`) is added in absolute time."""
    start = row.start.replace(tzinfo=event.tz, fold=0)
    if isinstance(row.end, timedelta):
        return start, duration_end(start, row.end)
    return start, row.end if row.end.tzinfo else row.end.replace(tzinfo=event.tz, fold=0)
