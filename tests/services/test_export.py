"""CSV exports: UTF-8 with a BOM for Excel, `;` or `,`, formulas neutralised, and what goes in
comes back out when read with the csv module."""

import csv
import io
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from eventapp.extensions import db
from eventapp.services.backoffice import export
from eventapp.services.backoffice.attendees import AttendeeFilter
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput

NASTY = [
    "Ëlise Müller",
    "=cmd|' /C calc'!A0",
    "+31 20 123 4567",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTabbed",
    'Quote "me"; please, now',
    "Zoë; van den Berg",
]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("Ëlise", "Ëlise"),
        ("", ""),
        (None, ""),
        (42, 42),
        (-3, -3),
    ],
)
def test_neutralise(cell, expected):
    assert export.neutralise(cell) == expected


def read_back(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("delimiter", [";", ","])
def test_attendee_export_round_trip(make_event, make_session, now, delimiter):
    event = make_event()
    workshop = make_session(event, title="Digital twins; = the future", capacity=100)
    for number, name in enumerate(NASTY):
        result = registration.register(
            event,
            RegistrationInput(
                name=name.strip() or "x",
                email=f"person{number}@example.org",
                organisation=name,
                session_ids=[workshop.id],
                consent=True,
            ),
            now,
        )
        # The service trims; data from elsewhere (an import, the API) may not be so tidy.
        result.attendee.organisation = name
    db.session.commit()

    with force_locale("en"):
        data = export.attendees_csv(event, AttendeeFilter(), delimiter)
    rows = read_back(data, delimiter)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Reference", "Name", "Email", "Organisation"]
    assert all(len(row) == len(header) for row in body)
    by_email = {row[2]: row for row in body}
    for number, name in enumerate(NASTY):
        row = by_email[f"person{number}@example.org"]
        stored = name.strip()  # the registration service trims names
        expected = "'" + stored if stored.startswith(("=", "+", "-", "@", "\t")) else stored
        assert row[1] == expected
        assert row[3] == ("'" + name if name.startswith(("=", "+", "-", "@", "\t")) else name)
        assert row[9] == "10:00 Digital twins; = the future"
    assert by_email["person0@example.org"][1] == "Ëlise Müller"
    assert by_email["person1@example.org"][1] == "'=cmd|' /C calc'!A0"
    # Times are local (Amsterdam, UTC+1 in February) and Excel-readable.
    assert by_email["person0@example.org"][7] == "2027-02-01 10:00"


def test_session_export_lists_seats_then_the_waiting_list_in_order(make_event, make_session, now):
    event = make_event()
    workshop = make_session(event, capacity=1, title="Small")

    def sign(name, email, when):
        registration.register(
            event,
            RegistrationInput(
                name=name, email=email, session_ids=[workshop.id], waitlist=True, consent=True
            ),
            when,
        )
        db.session.commit()

    sign('=HYPERLINK("http://x")', "a@example.org", now)
    sign("Zed", "z@example.org", datetime(2027, 2, 2, tzinfo=UTC))
    sign("Ann", "ann@example.org", datetime(2027, 2, 3, tzinfo=UTC))

    rows = read_back(export.session_csv(workshop, ";"), ";")
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [
        ('\'=HYPERLINK("http://x")', "confirmed", ""),
        ("Zed", "waitlisted", "1"),
        ("Ann", "waitlisted", "2"),
    ]


def test_filename_is_header_safe(make_event):
    event = make_event(slug="smart-industry-2027")
    assert export.filename(event, 'session "1"\r\n') == "smart-industry-2027-session--1---.csv"
