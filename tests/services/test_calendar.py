"""Calendar data read back by vobject: framing, time zones, UIDs, METHOD rules, text."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventapp.extensions import db
from eventapp.models import Speaker
from eventapp.services import calendar
from eventapp.services.links import feed_token, manage_token
from eventapp.services.registration import register as registration_service
from eventapp.services.registration.register import RegistrationInput
from tests.ical_checks import parse_ics

NASTY_TEXTS = [
    "Robots, cobots; and \\ backslashes",
    "Line one\nLine two\n\nLine four",
    "Crème brûlée für Zoë: ë é ü ï ß",
    "Emoji 🤖🦾 and a flag 🇳🇱 in the title",
    "A very long title " + "that keeps going, with ünïcödé; " * 8 + "and ends here 🎉",
]


@pytest.fixture
def links(app):
    """External links need a request context, as in the worker and the views."""
    with app.test_request_context("/", base_url="https://events.example.org"):
        yield


def register(event, sessions, now, **overrides):
    data = dict(
        name="Ada Lovelace",
        email="ada@example.org",
        session_ids=[s.id for s in sessions],
        consent=True,
    )
    data.update(overrides)
    result = registration_service.register(event, RegistrationInput(**data), now)
    db.session.commit()
    return result


def test_programme_feed_is_publish_with_one_event_per_session(
    links, make_event, make_session, make_room
):
    event = make_event(name="Smart Industry 2027", organiser_email="team@example.org")
    room = make_room(event, "Studio 1")
    first = make_session(event, start=0, title="Opening", kind="plenary", room=room)
    second = make_session(event, start=2, title="Digital twins")

    parsed = parse_ics(calendar.programme_feed(event, [first, second]), "PUBLISH")

    events = parsed.contents["vevent"]
    assert [e.uid.value for e in events] == [
        f"session-{first.id}@eventapp.local",
        f"session-{second.id}@eventapp.local",
    ]
    assert events[0].location.value == "Studio 1, Hilversum"
    assert events[0].organizer.value == "mailto:team@example.org"
    assert (
        events[0].url.value == f"https://events.example.org/events/{event.slug}/#session-{first.id}"
    )
    assert parsed.contents["x-wr-calname"][0].value == "Smart Industry 2027"


def test_times_land_on_the_right_instant_through_the_vtimezone(links, make_event, make_session):
    event = make_event()
    # 09:00 UTC on 18 March (winter time: 10:00 in Amsterdam), 10:00 UTC on 29 March (summer).
    winter = make_session(event, start=0)
    summer = make_session(event, start=11 * 24 + 1)

    parsed = parse_ics(calendar.programme_feed(event, [winter, summer]), "PUBLISH")

    raw = calendar.programme_feed(event, [winter, summer]).decode()
    assert "DTSTART;TZID=Europe/Amsterdam:20270318T100000" in raw
    assert "DTSTART;TZID=Europe/Amsterdam:20270329T120000" in raw
    starts = [e.dtstart.value.astimezone(UTC) for e in parsed.contents["vevent"]]
    assert starts == [winter.starts_at, summer.starts_at]
    [zone] = parsed.contents["vtimezone"]
    assert zone.tzid.value == "Europe/Amsterdam"
    # Limited to the file's year: no rules from decades ago (docs/CALENDAR.md, Google); the
    # change of October 2026 is the one in force on 1 January 2027.
    onsets = re.findall(r"\r\nDTSTART:(\d{8})T", raw.split("BEGIN:VEVENT")[0])
    assert onsets == ["20261025", "20270328", "20271031"]


def test_a_time_zone_other_than_amsterdam_is_carried_too(links, make_event, make_session):
    event = make_event(timezone="America/New_York")
    session = make_session(event, start=0)

    parsed = parse_ics(calendar.session_file(session), "PUBLISH")

    assert parsed.vtimezone.tzid.value == "America/New_York"
    assert parsed.vevent.dtstart.value.astimezone(UTC) == session.starts_at
    assert (
        "DTSTART;TZID=America/New_York:20270318T050000" in calendar.session_file(session).decode()
    )


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_titles_and_descriptions_come_back_unchanged(links, make_event, make_session, text):
    event = make_event()
    session = make_session(event, title=text, description=text + "\n\n" + text)

    parsed = parse_ics(calendar.session_file(session), "PUBLISH")

    assert parsed.vevent.summary.value == text
    assert parsed.vevent.description.value == text + "\n\n" + text


def test_carriage_returns_become_newlines_not_broken_lines(links, make_event, make_session):
    event = make_event()
    session = make_session(event, title="Two\r\nlines", description="CR\ronly")

    raw = calendar.session_file(session)
    parsed = parse_ics(raw, "PUBLISH")

    assert parsed.vevent.summary.value == "Two\nlines"
    assert parsed.vevent.description.value == "CR\nonly"


def test_speakers_and_description_are_in_the_description(links, make_event, make_session):
    event = make_event()
    session = make_session(event, description="Hands-on with cobots.")
    session.speakers = [Speaker(event=event, name="Grace Hopper", organisation="Navy")]
    db.session.commit()

    parsed = parse_ics(calendar.session_file(session), "PUBLISH")

    assert parsed.vevent.description.value == "Hands-on with cobots.\n\nGrace Hopper (Navy)"


def test_invitation_is_a_request_for_one_attendee_with_a_personal_uid(
    links, make_event, make_session, now
):
    event = make_event(organiser_email="team@example.org")
    session = make_session(event, title="Digital twins")
    result = register(event, [session], now, name='Zoë, de "Vries"')
    [reg] = result.registrations

    parsed = parse_ics(calendar.invitation(reg, now=now), "REQUEST")

    vevent = parsed.vevent
    assert vevent.uid.value == f"reg-{result.attendee.id}-session-{session.id}@eventapp.local"
    assert vevent.attendee.value == "mailto:ada@example.org"
    assert vevent.attendee.params["CN"] == ["Zoë, de 'Vries'"]  # no DQUOTE in a parameter
    assert vevent.attendee.params["RSVP"] == ["FALSE"]
    assert vevent.attendee.params["PARTSTAT"] == ["ACCEPTED"]
    assert vevent.sequence.value == "0"
    assert vevent.status.value == "CONFIRMED"
    assert vevent.dtstamp.value == now
    # No private link in calendar data: entries are forwarded and shared (issue 17 item 5).
    assert "/manage/" not in vevent.description.value


def test_personal_feed_lists_confirmed_and_keeps_dropped_as_cancelled(
    links, make_event, make_session, now
):
    event = make_event()
    kept = make_session(event, start=0, title="Kept")
    dropped = make_session(event, start=2, title="Dropped")
    full = make_session(event, start=4, title="Full", capacity=0)
    result = register(event, [kept, dropped, full], now, waitlist=True)
    registration_service.change_sessions(
        result.attendee, [kept.id, full.id], waitlist=True, now=now
    )
    db.session.commit()

    parsed = parse_ics(calendar.personal_feed(result.attendee, "My sessions"), "PUBLISH")

    by_title = {e.summary.value: e for e in parsed.contents["vevent"]}
    assert set(by_title) == {"Kept", "Dropped"}  # a waiting-list place is not in a calendar
    assert by_title["Kept"].status.value == "CONFIRMED"
    assert by_title["Dropped"].status.value == "CANCELLED"
    assert by_title["Dropped"].sequence.value == "1"  # higher than the invitation's 0
    assert by_title["Dropped"].uid.value == (
        f"reg-{result.attendee.id}-session-{dropped.id}@eventapp.local"
    )
    assert parsed.contents["refresh-interval"][0].params["VALUE"] == ["DURATION"]
    raw = calendar.personal_feed(result.attendee, "My sessions").decode()
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in raw
    assert "X-PUBLISHED-TTL:PT1H\r\n" in raw
    assert "X-WR-CALNAME:My sessions\r\n" in raw
    # No private link (issue 17 item 5): not the feed's own secret URL, not the manage page.
    unfolded = raw.replace("\r\n ", "")
    assert feed_token(result.attendee) not in unfolded and "/calendar/" not in unfolded
    assert manage_token(result.attendee) not in unfolded and "/manage/" not in unfolded


def test_feed_output_is_stable_while_nothing_changes(links, make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    first = calendar.programme_feed(event, [session])
    # Seats taken change the row, not what a calendar shows: same bytes, same ETag.
    register(event, [session], now)
    assert calendar.programme_feed(event, [session]) == first


def test_google_and_webcal_links(links, make_event, make_session):
    event = make_event()
    session = make_session(event, title="Cobots & co")

    google = calendar.google_calendar_url(session)

    assert google.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    assert "dates=20270318T090000Z%2F20270318T100000Z" in google
    assert "text=Cobots+%26+co" in google
    assert calendar.webcal_url("https://x.example/calendar/abc.ics") == (
        "webcal://x.example/calendar/abc.ics"
    )


def test_dtstamp_of_an_email_is_when_it_was_made(links, make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    [reg] = register(event, [session], now).registrations
    later = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

    parsed = parse_ics(calendar.cancellation(reg, now=later), "CANCEL")

    assert parsed.vevent.dtstamp.value == later


def test_code_cites_the_calendar_notes_inside_the_repository():
    """Issue 15 item 7: the calendar notes the code cites: docs/CALENDAR.md, in the repo."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "docs" / "CALENDAR.md").is_file()
    for folder in ("eventapp", "tests", "templates"):
        for path in (root / folder).rglob("*"):
            if "node_modules" in path.parts or path.suffix not in {".py", ".html", ".txt"}:
                continue
            if path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(?<!docs/)CALENDAR\.md", text), path
