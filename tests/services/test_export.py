"""CSV exports: UTF-8 with a BOM for Excel, `;` or `,`, formulas neutralised, and what goes in
comes back out when read with the csv module."""

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from flask_babel import force_locale

from eventapp.extensions import db
from eventapp.services.backoffice import export, spreadsheet
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
        ("Zed", "on the waiting list", "1"),
        ("Ann", "on the waiting list", "2"),
    ]


def test_filename_is_header_safe(make_event):
    event = make_event(slug="smart-industry-2027")
    assert export.filename(event, 'session "1"\r\n') == "smart-industry-2027-session--1---"


def read_xlsx(data: bytes) -> list[tuple]:
    """The first sheet's values, read back by openpyxl itself (formulas as their text)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


def test_xlsx_attendee_export_keeps_text_as_text_and_dates_as_dates(make_event, make_session, now):
    event = make_event()
    morning = make_session(event, title="Digital twins", capacity=10)
    registration.register(
        event,
        RegistrationInput(
            name="=cmd|' /C calc'!A0",
            email="evil@example.org",
            organisation="+31 20 123 4567",
            session_ids=[morning.id],
            consent=True,
        ),
        now,
    )
    db.session.commit()

    with force_locale("en"):
        table = export.attendee_table(event, AttendeeFilter())
        rows = read_xlsx(spreadsheet.to_xlsx(table))

    header, row = rows[0], rows[1]
    assert header[:4] == ("Reference", "Name", "Email", "Organisation")
    # What the attendee typed comes back exactly, as text: no formula, no apostrophe.
    assert row[1] == "=cmd|' /C calc'!A0"
    assert row[3] == "+31 20 123 4567"
    assert row[header.index("Status")] == "registered"
    # Registered at: a real date in the event's local time (UTC+1 in February).
    assert row[header.index("Registered at")] == datetime(2027, 2, 1, 10, 0)
    assert row[header.index("Check-in code")]
    workbook = openpyxl.load_workbook(io.BytesIO(spreadsheet.to_xlsx(table)))
    assert workbook.worksheets[0]["B2"].data_type == "s"


def test_xlsx_formula_guard_is_what_keeps_formulas_out():
    """Control: without the forced string type openpyxl would store the text as a formula."""
    sheet = openpyxl.Workbook(write_only=True).create_sheet()
    unguarded = openpyxl.cell.WriteOnlyCell(sheet, value="=1+1")
    assert unguarded.data_type == "f"
    table = export.Table("t", ["a"], [["=1+1"]])
    assert read_xlsx(spreadsheet.to_xlsx(table))[1] == ("=1+1",)
    loaded = openpyxl.load_workbook(io.BytesIO(spreadsheet.to_xlsx(table)))
    assert loaded.worksheets[0]["A2"].data_type == "s"


def test_one_column_per_workshop_round(make_event, make_session, now):
    event = make_event()
    first_a = make_session(event, title="Robots", start=0)
    make_session(event, title="Twins", start=0)
    second = make_session(event, title="Data", start=2)
    registration.register(
        event,
        RegistrationInput(
            name="Ada",
            email="ada@example.org",
            session_ids=[first_a.id, second.id],
            consent=True,
        ),
        now,
    )
    db.session.commit()

    with force_locale("en"):
        table = export.attendee_table(event, AttendeeFilter())

    rounds = [name for name in table.header if name.startswith("Round ")]
    assert rounds == ["Round 1 (10:00)", "Round 2 (12:00)"]
    row = dict(zip(table.header, table.rows[0], strict=True))
    assert row["Round 1 (10:00)"] == "Robots"
    assert row["Round 2 (12:00)"] == "Data"


def test_sheet_titles_excel_accepts():
    assert spreadsheet.sheet_title("Q&A: what/why? [part 1] and a very long tail") == (
        "Q&A  what why   part 1  and a v"
    )
    assert len(spreadsheet.sheet_title("x" * 80)) == 31
    assert spreadsheet.sheet_title("[]") == "Sheet"
