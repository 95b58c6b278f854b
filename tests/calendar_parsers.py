"""One calendar file read by three independent parsers (icalendar, vobject, ical.js in node),
each giving every VEVENT's UID, text and its start and end as UTC instants, so tests can
compare them: a file is right only when all three agree with what was meant.

ical.js comes from npm (tests/calendar_js, `make install-test`); tests that need it are
skipped with a reason when node or the package is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
import vobject

ICALJS = Path(__file__).parent / "calendar_js"


@dataclass(frozen=True)
class Reading:
    uid: str
    summary: str
    description: str | None
    location: str | None
    start: datetime
    end: datetime


def _utc(value) -> datetime:
    assert isinstance(value, datetime) and value.tzinfo is not None, value
    return value.astimezone(UTC)


def with_icalendar(data: bytes) -> list[Reading]:
    calendar = icalendar.Calendar.from_ical(data)
    return [
        Reading(
            str(e["UID"]),
            str(e["SUMMARY"]),
            str(e["DESCRIPTION"]) if "DESCRIPTION" in e else None,
            str(e["LOCATION"]) if "LOCATION" in e else None,
            _utc(e.decoded("DTSTART")),
            _utc(e.decoded("DTEND")),
        )
        for e in calendar.walk("VEVENT")
    ]


def _forget_vobject_zones() -> None:
    """vobject keeps the first VTIMEZONE it saw per TZID for the whole process; a fresh
    client reads each file's own, so the tests do too."""
    zones = vobject.icalendar.__dict__["__tzidMap"]
    for tzid in [t for t in zones if t != "UTC"]:
        del zones[tzid]


def with_vobject(data: bytes) -> list[Reading]:
    _forget_vobject_zones()
    calendar = vobject.readOne(data.decode("utf-8"))
    return [
        Reading(
            e.uid.value,
            e.summary.value,
            e.description.value if "description" in e.contents else None,
            e.location.value if "location" in e.contents else None,
            _utc(e.dtstart.value),
            _utc(e.dtend.value),
        )
        for e in calendar.contents.get("vevent", [])
    ]


def icaljs_available() -> bool:
    return shutil.which("node") is not None and (ICALJS / "node_modules" / "ical.js").is_dir()


def with_icaljs(data: bytes) -> list[Reading]:
    if not icaljs_available():
        pytest.skip("ical.js is not installed: make install-test (npm)")
    result = subprocess.run(
        ["node", str(ICALJS / "instants.mjs")],
        input=data,
        capture_output=True,
        check=True,
        timeout=30,
        cwd=ICALJS,
    )
    parsed = json.loads(result.stdout)

    def instant(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)

    return [
        Reading(
            e["uid"],
            e["summary"],
            e["description"],
            e["location"],
            instant(e["start"]),
            instant(e["end"]),
        )
        for e in parsed["events"]
    ]


def calendar_name_icaljs(data: bytes) -> str | None:
    if not icaljs_available():
        pytest.skip("ical.js is not installed: make install-test (npm)")
    result = subprocess.run(
        ["node", str(ICALJS / "instants.mjs")],
        input=data,
        capture_output=True,
        check=True,
        timeout=30,
        cwd=ICALJS,
    )
    return json.loads(result.stdout)["name"]


def agreed(data: bytes) -> list[Reading]:
    """The readings all three parsers agree on (asserting that they do), by UID order."""
    readings = [sorted(parse(data), key=lambda r: r.uid) for parse in PARSERS]
    first = readings[0]
    for other, parse in zip(readings[1:], PARSERS[1:], strict=True):
        assert other == first, f"{parse.__name__} reads it differently: {other} != {first}"
    return first


PARSERS = (with_icalendar, with_vobject, with_icaljs)
