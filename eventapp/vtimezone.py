"""VTIMEZONE blocks (RFC 5545 3.6.5) written from the system's zoneinfo, for calendar files.

Why not icalendar's `add_missing_timezones`: its blocks start DAYLIGHT at the local time
*after* the change (03:00 for Europe/Amsterdam) where RFC 5545 wants the local time in force
before it (02:00), and a block cut to the event's years leaves date-times in other years
without a rule, so vobject and ical.js put them an hour off (issue 17). Here every
transition in the years asked for (and the one before them, so the first date-time has a
rule) is written out as its own observance with an explicit onset: no RRULE for a parser to
expand differently, short enough for Google, right in every parser (docs/CALENDAR.md,
"Daylight saving").
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_STEP = timedelta(days=7)  # zones change offset at most a few times a year, weeks apart


def _offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The UTC instants in [start, end) at which the zone's offset changes, to the second."""
    found = []
    moment = start
    while moment < end:
        following = min(moment + _STEP, end)
        if _offset(moment, zone) != _offset(following, zone):
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(middle, zone) == _offset(low, zone):
                    low = middle
                else:
                    high = middle
            found.append(high.replace(microsecond=0))
        moment = following
    return found


def _observance(zone: ZoneInfo, at: datetime, before: timedelta) -> list[str]:
    """One STANDARD or DAYLIGHT part: from `at` (UTC) on, with its onset in local time as it
    was before the change (RFC 5545: DTSTART is in terms of TZOFFSETFROM)."""
    local = at.astimezone(zone)
    after = local.utcoffset() or timedelta(0)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    onset = (at + before).replace(tzinfo=None)
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{onset:%Y%m%dT%H%M%S}",
        f"TZOFFSETFROM:{_hhmm(before)}",
        f"TZOFFSETTO:{_hhmm(after)}",
        f"TZNAME:{local.tzname() or _hhmm(after)}",
        f"END:{kind}",
    ]


def _hhmm(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


@functools.lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of `tzid` for date-times from `first_year` to `last_year` (inclusive).

    It starts with the observance in force on 1 January of the first year (the last change
    before it, looked for up to two years back), then one part per change up to the end of
    the last year. A zone that does not change in that span gets one STANDARD part.
    """
    zone = ZoneInfo(tzid)
    begin = datetime(first_year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    earlier = transitions(zone, begin - timedelta(days=2 * 366), begin)
    changes = earlier[-1:] + transitions(zone, begin, end)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    if not changes:
        offset = _offset(begin, zone)
        lines += [
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{_hhmm(offset)}",
            f"TZOFFSETTO:{_hhmm(offset)}",
            f"TZNAME:{begin.astimezone(zone).tzname() or _hhmm(offset)}",
            "END:STANDARD",
        ]
    for change in changes:
        lines += _observance(zone, change, _offset(change - timedelta(seconds=1), zone))
    lines.append("END:VTIMEZONE")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
