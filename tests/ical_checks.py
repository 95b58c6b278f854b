"""Checking calendar data we produce with a parser we did not write with (vobject), plus the
rules no parser checks: RFC 5545 framing and the RFC 5546 rules per METHOD (docs/CALENDAR.md)."""

from __future__ import annotations

import re

import vobject


def parse_ics(data: bytes | str, method: str):
    """Parse and check one iCalendar object; returns the vobject component."""
    raw = data.decode("utf-8") if isinstance(data, bytes) else data
    check_framing(raw)
    calendar = vobject.readOne(raw, validate=True)
    assert calendar.name == "VCALENDAR"
    assert [v.value for v in calendar.contents["version"]] == ["2.0"]
    assert len(calendar.contents["prodid"]) == 1
    assert calendar.method.value == method
    events = calendar.contents.get("vevent", [])
    for vevent in events:
        for name in ("uid", "dtstamp", "dtstart", "summary", "organizer"):
            assert name in vevent.contents, f"VEVENT without {name.upper()}"
        assert vevent.organizer.value.startswith("mailto:")
    for line in unfolded(raw):
        if line.startswith("DTSTAMP"):
            assert re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line), line
    check_timezones(raw, calendar)
    RULES[method](calendar, events)
    return calendar


def check_framing(raw: str) -> None:
    assert raw.endswith("\r\n")
    body = raw[:-2]
    assert "\n" not in body.replace("\r\n", ""), "a bare LF: lines must end in CRLF"
    assert "\r" not in body.replace("\r\n", ""), "a bare CR"
    for line in body.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, f"line not folded at 75 octets: {line!r}"


def unfolded(raw: str) -> list[str]:
    return raw.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def check_timezones(raw: str, calendar) -> None:
    used = set(re.findall(r";TZID=([^:;]+)[:;]", raw))
    defined = {tz.tzid.value for tz in calendar.contents.get("vtimezone", [])}
    assert used <= defined, f"TZID without VTIMEZONE: {used - defined}"
    for tz in calendar.contents.get("vtimezone", []):
        parts = {c.name for c in tz.getChildren()}
        assert {"STANDARD", "DAYLIGHT"} & parts


def _publish(calendar, events) -> None:
    for vevent in events:
        assert "attendee" not in vevent.contents, "PUBLISH must not name attendees"


def _request(calendar, events) -> None:
    assert events, "a REQUEST without an event"
    assert len({e.uid.value for e in events}) == 1, "one REQUEST object, one UID"
    for vevent in events:
        assert vevent.contents.get("attendee"), "REQUEST needs an ATTENDEE"


def _cancel(calendar, events) -> None:
    assert events, "a CANCEL without an event"
    assert len({e.uid.value for e in events}) == 1
    for vevent in events:
        assert vevent.status.value == "CANCELLED"
        assert "valarm" not in vevent.contents, "no VALARM in a CANCEL"
        assert "sequence" in vevent.contents


RULES = {"PUBLISH": _publish, "REQUEST": _request, "CANCEL": _cancel}
