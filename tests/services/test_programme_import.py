"""Programme import: CSV and ICS parsing, the dry run, and all-or-nothing commits."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AuditEntry, EventSession, Room
from eventapp.services.programme import importing as importer

CSV = """title,kind,start,end,room,capacity,speakers
Opening,plenary,2027-03-18 09:30,10:30,Grote Zaal,600,Ineke Dezentjé;Mona Keijzer
Digital twins,workshop,2027-03-18 11:00,2027-03-18 12:00,Studio 1,40,TNO
Cobots,workshop,18-03-2027 11:00,18-03-2027 12:00,Studio 2,20,
Lunch,other,2027-03-18 12:00,13:00,,,
"""

ICS = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Test//Draft//EN",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Amsterdam",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:19700329T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:1@draft",
        "DTSTAMP:20270101T000000Z",
        "SUMMARY:Keynote\\, with questions",
        "DTSTART;TZID=Europe/Amsterdam:20270318T093000",
        "DTEND;TZID=Europe/Amsterdam:20270318T103000",
        "LOCATION:Grote Zaal",
        "CATEGORIES:Plenary",
        "ATTENDEE;CN=Ada Lovelace;ROLE=CHAIR:mailto:ada@example.org",
        "X-CAPACITY:500",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:2@draft",
        "DTSTAMP:20270101T000000Z",
        "SUMMARY:Demo",
        "DTSTART:20270318T100000Z",
        "DURATION:PT45M",
        "LOCATION:Lab 4",
        "X-CAPACITY:12",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:3@draft",
        "DTSTAMP:20270101T000000Z",
        "SUMMARY:Cancelled idea",
        "STATUS:CANCELLED",
        "DTSTART:20270318T100000Z",
        "DTEND:20270318T110000Z",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(event, text, now, filename="programme.csv"):
    rows, problems = importer.parse(filename, text)
    return importer.import_programme(None, event, rows, now, problems=problems)


def test_csv_dry_run_reports_and_writes_nothing(make_event, now):
    event = make_event()
    report = run(event, CSV, now)
    assert report.errors == [] and report.conflicts == []
    assert report.sessions_created == 4
    assert report.rooms_created == ["Grote Zaal", "Studio 1", "Studio 2"]
    assert report.can_commit(confirm=False)
    db.session.rollback()  # what the dry run does
    assert (count(EventSession), count(Room), count(AuditEntry)) == (0, 0, 0)


def test_csv_commit_writes_sessions_rooms_speakers_in_local_time(make_event, now):
    event = make_event()
    report = run(event, CSV, now)
    db.session.commit()
    assert report.sessions_created == 4
    sessions = db.session.scalars(select(EventSession).order_by(EventSession.starts_at)).all()
    opening = sessions[0]
    assert opening.starts_at == datetime(2027, 3, 18, 8, 30, tzinfo=UTC)  # 09:30 CET
    assert opening.ends_at == datetime(2027, 3, 18, 9, 30, tzinfo=UTC)
    assert [s.name for s in opening.speakers] == ["Ineke Dezentjé", "Mona Keijzer"]
    assert opening.room.name == "Grote Zaal" and opening.capacity == 600
    lunch = sessions[-1]
    assert lunch.kind == "other" and lunch.room is None and lunch.capacity == 0
    assert "programme.imported" in db.session.scalars(select(AuditEntry.action)).all()


def test_semicolon_csv_from_excel_with_bom_and_dutch_headers(make_event, now):
    event = make_event()
    text = (
        "\ufefftitel;soort;begin;einde;zaal;capaciteit;sprekers\n"
        'Rondleiding;workshop;18-03-2027 14:00;15:00;Hal;25;"Jan; Piet"\n'
    )
    report = run(event, importer.decode(text.encode("utf-8")), now)
    assert report.errors == []
    session = db.session.scalars(select(EventSession)).one()
    assert [s.name for s in session.speakers] == ["Jan", "Piet"]
    assert importer.decode("Caf\xe9".encode("cp1252")) == "Café"


def test_every_row_error_is_reported_and_nothing_can_commit(make_event, now):
    event = make_event()
    text = (
        "title,kind,start,end,room,capacity,speakers\n"
        "Good,workshop,2027-03-18 10:00,11:00,Studio 1,40,\n"
        ",workshop,2027-03-18 10:00,11:00,,10,\n"
        "Bad time,workshop,someday,11:00,,10,\n"
        "Backwards,workshop,2027-03-18 12:00,11:00,,10,\n"
        "Odd kind,keynote,2027-03-18 12:00,13:00,,10,\n"
        "New room without capacity,workshop,2027-03-18 12:00,13:00,Attic,,\n"
    )
    report = run(event, text, now)
    assert sorted((p.line, p.field) for p in report.errors) == [
        (3, "title"),
        (4, "end"),
        (4, "start"),
        (5, "end"),
        (6, "kind"),
        (7, "capacity"),
    ]
    assert not report.can_commit(confirm=True)


def test_clashes_within_the_file_and_with_the_programme(make_event, make_room, make_session, now):
    event = make_event()
    room = make_room(event, "Studio 1", 40)
    make_session(event, start=0, room=room, title="Existing")  # 09:00–10:00 UTC
    text = (
        "title,kind,start,end,room,capacity,speakers\n"
        "Clash with existing,workshop,2027-03-18 10:30,11:30,studio 1,40,\n"  # 09:30 UTC
        "First,workshop,2027-03-18 13:00,14:00,Studio 1,40,Ada\n"
        "Second,workshop,2027-03-18 13:30,14:30,Studio 2,20,Ada\n"
        "Evening,workshop,2027-03-18 19:00,20:00,Studio 1,40,\n"
    )
    report = run(event, text, now)
    assert [(line, c.kind) for line, c in report.hard_conflicts] == [(2, "room_double_booked")]
    assert sorted((line, c.kind) for line, c in report.warnings) == [
        (4, "speaker_double_booked"),
        (5, "outside_event_hours"),
    ]
    assert not report.can_commit(confirm=True)


def test_warnings_alone_commit_only_when_confirmed(make_event, now):
    event = make_event()
    text = "title,start,end,capacity\nLate,2027-03-18 19:00,20:00,10\n"
    report = run(event, text, now)
    assert [c.kind for _, c in report.warnings] == ["outside_event_hours"]
    assert not report.can_commit(confirm=False)
    assert report.can_commit(confirm=True)


def test_missing_columns_and_empty_files(make_event, now):
    event = make_event()
    assert run(event, "name,when\nx,y\n", now).errors[0].field == "header"
    assert run(event, "", now).errors[0].field == "file"


def test_ics_import(make_event, now):
    event = make_event()
    report = run(event, ICS, now, filename="draft.ics")
    assert report.errors == [] and report.conflicts == []
    db.session.commit()
    keynote, demo = db.session.scalars(select(EventSession).order_by(EventSession.starts_at))
    assert keynote.title == "Keynote, with questions" and keynote.kind == "plenary"
    assert keynote.starts_at == datetime(2027, 3, 18, 8, 30, tzinfo=UTC)
    assert keynote.capacity == 500 and keynote.room.name == "Grote Zaal"
    assert [s.name for s in keynote.speakers] == ["Ada Lovelace"]
    assert demo.ends_at == datetime(2027, 3, 18, 10, 45, tzinfo=UTC)
    assert demo.kind == "workshop" and demo.room.capacity == 12


def test_ics_refuses_all_day_and_repeating_events(make_event, now):
    event = make_event()
    text = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//T//T//EN",
            "BEGIN:VEVENT",
            "UID:a",
            "DTSTAMP:20270101T000000Z",
            "SUMMARY:Day",
            "DTSTART;VALUE=DATE:20270318",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:b",
            "DTSTAMP:20270101T000000Z",
            "SUMMARY:Weekly",
            "DTSTART:20270318T100000Z",
            "DTEND:20270318T110000Z",
            "RRULE:FREQ=WEEKLY",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    report = run(event, text, now, filename="x.ics")
    assert [(p.line, p.field) for p in report.errors] == [(1, "start"), (2, "start")]
    assert run(event, "BEGIN:VCALENDAR\r\ngarbage", now, filename="x.ics").errors


def calendar_file(*events, header=()):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Google Inc//Google Calendar//EN"]
    lines += list(header)
    for uid, extra in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20270101T000000Z", *extra, "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def test_only_people_become_speakers(make_event, now):
    """Issue 17, item 7: Google lists every invitee as ATTENDEE, rooms and the organiser too."""
    event = make_event()
    text = calendar_file(
        (
            "g1",
            [
                "SUMMARY:Digital twins",
                "DTSTART:20270318T100000Z",
                "DTEND:20270318T110000Z",
                "X-CAPACITY:20",
                "ORGANIZER;CN=Planner:mailto:planner@example.org",
                "ATTENDEE;CN=Planner;CUTYPE=INDIVIDUAL:mailto:planner@example.org",
                "ATTENDEE;CN=Studio 1;CUTYPE=RESOURCE:mailto:c_188@resource.calendar.google.com",
                "ATTENDEE;CN=Zaal 2;CUTYPE=ROOM:mailto:zaal2@example.org",
                "ATTENDEE;CN=bob@example.org:mailto:bob@example.org",
                "ATTENDEE;CN=Grace Hopper;ROLE=REQ-PARTICIPANT:mailto:grace@example.org",
            ],
        )
    )
    report = run(event, text, now, filename="google.ics")
    assert report.errors == []
    [session] = db.session.scalars(select(EventSession))
    assert [s.name for s in session.speakers] == ["Grace Hopper"]


def test_rdate_and_a_lone_override_are_refused_with_a_message(make_event, now):
    event = make_event()
    text = calendar_file(
        (
            "r1",
            [
                "SUMMARY:Twice",
                "DTSTART:20270318T100000Z",
                "DTEND:20270318T110000Z",
                "RDATE:20270318T130000Z,20270318T150000Z",
            ],
        ),
        (
            "r2",
            [
                "SUMMARY:Moved once",
                "RECURRENCE-ID:20270318T100000Z",
                "DTSTART:20270318T120000Z",
                "DTEND:20270318T130000Z",
            ],
        ),
    )
    report = run(event, text, now, filename="series.ics")
    messages = [(p.line, p.message) for p in report.errors]
    assert messages[0][0] == 1 and "Repeating events can't be imported" in messages[0][1]
    assert messages[1][0] == 2 and "one date of a repeating event" in messages[1][1]
    assert not report.can_commit(confirm=True)


def test_floating_times_follow_x_wr_timezone_and_an_unknown_tzid_is_a_warning(make_event, now):
    event = make_event()  # Europe/Amsterdam
    text = calendar_file(
        ("f1", ["SUMMARY:Floating", "DTSTART:20270318T100000", "DTEND:20270318T110000"]),
        (
            "u1",
            [
                "SUMMARY:Martian",
                "DTSTART;TZID=Mars/Olympus:20270318T140000",
                "DTEND;TZID=Mars/Olympus:20270318T150000",
            ],
        ),
        header=["X-WR-TIMEZONE:Europe/London"],
    )
    report = run(event, text.replace("DTEND", "X-CAPACITY:9\r\nDTEND"), now, filename="x.ics")
    assert report.errors == []
    [(line, warning)] = report.warnings
    assert line == 2 and "Mars/Olympus" in warning.message
    assert not report.can_commit(confirm=False) and report.can_commit(confirm=True)
    stored = {s.title: s.starts_at for s in db.session.scalars(select(EventSession))}
    assert stored["Floating"] == datetime(2027, 3, 18, 10, 0, tzinfo=UTC)  # 10:00 in London
    assert stored["Martian"] == datetime(2027, 3, 18, 13, 0, tzinfo=UTC)  # read as Amsterdam


def test_importing_the_same_file_again_updates_by_uid(make_event, make_session, now):
    """Issue 17, item 7: a second import of a calendar (a newer export) updates its sessions,
    and an attendee of a moved one hears of it, instead of getting a duplicate session."""
    event = make_event()
    first = calendar_file(
        ("same-1", ["SUMMARY:Keynote", "DTSTART:20270318T090000Z", "DTEND:20270318T100000Z"]),
        ("same-2", ["SUMMARY:Cobots", "DTSTART:20270318T110000Z", "DTEND:20270318T120000Z"]),
    ).replace("DTEND", "X-CAPACITY:50\r\nDTEND")
    report = run(event, first, now, filename="cal.ics")
    assert (report.errors, report.sessions_created) == ([], 2)
    db.session.commit()

    moved = first.replace("SUMMARY:Keynote", "SUMMARY:Keynote, moved").replace(
        "DTSTART:20270318T090000Z\r\nX-CAPACITY:50\r\nDTEND:20270318T100000Z",
        "DTSTART:20270318T093000Z\r\nX-CAPACITY:50\r\nDTEND:20270318T103000Z",
    )
    again = run(event, moved, now, filename="cal.ics")
    assert again.errors == []
    assert (again.sessions_created, again.sessions_updated) == (0, 2)
    db.session.commit()
    sessions = db.session.scalars(select(EventSession).order_by(EventSession.starts_at)).all()
    assert [(s.title, s.starts_at) for s in sessions] == [
        ("Keynote, moved", datetime(2027, 3, 18, 9, 30, tzinfo=UTC)),
        ("Cobots", datetime(2027, 3, 18, 11, 0, tzinfo=UTC)),
    ]
    assert sessions[0].sequence >= 1 and sessions[1].sequence == 0
