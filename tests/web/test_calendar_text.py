"""Text in calendar data (issue 17, item 6): descriptions with line breaks are accepted by the
API, CSV and ICS import, and every text (titles with a literal backslash-n, commas,
semicolons, backslashes, accents, emoji; the calendar's NAME and X-WR-CALNAME) comes back
exactly from icalendar, vobject and ical.js."""

import io
import re

import icalendar
import pytest
import vobject
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import EventSession
from eventapp.services import calendar
from tests.calendar_parsers import agreed, calendar_name_icaljs, icaljs_available

NASTY_TITLE = 'Robots, cobots; a \\n that stays \\\\ two — Zoë 🤖 "quoted"'
NASTY_DESCRIPTION = "Line one, with; punctuation\nLine two \\n not a break\n\nAfter a blank ✓"


@pytest.fixture
def api(client, make_organiser, api_token, make_event):
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    event = make_event(slug="text", name='Expo, 2027; "A\\nB" \\ Zuid')

    def call(method, path, json=None):
        return client.open(path, method=method, json=json, headers=headers)

    call.event = event
    return call


def test_the_api_accepts_a_description_with_line_breaks(api):
    response = api(
        "POST",
        "/api/v1/events/text/sessions",
        {
            "title": NASTY_TITLE,
            "description": "Line one\r\nLine two\rLine three\n\tindented",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "capacity": 10,
        },
    )
    assert response.status_code == 201, response.get_json()
    session = db.session.scalar(select(EventSession))
    assert session.description == "Line one\nLine two\nLine three\n\tindented"
    assert session.title == NASTY_TITLE


def test_other_control_characters_are_still_refused(api):
    response = api(
        "POST",
        "/api/v1/events/text/sessions",
        {
            "title": "Bell",
            "description": "ding\x07",
            "starts_at": "2027-03-18T10:00",
            "ends_at": "2027-03-18T11:00",
            "capacity": 10,
        },
    )
    assert response.status_code == 422 and "description" in response.get_json()["fields"]


@pytest.fixture
def organiser(make_organiser, login, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return login(make_organiser())


def upload(client, name, content):
    data = {"file": (io.BytesIO(content.encode()), name), "action": "import", "confirm": "y"}
    return client.post(
        "/organiser/events/text/import", data=data, content_type="multipart/form-data"
    )


def test_csv_and_ics_imports_take_multi_line_descriptions(client, organiser, api):
    csv_text = (
        "title,kind,start,end,capacity,description\r\n"
        'From CSV,workshop,2027-03-18 10:00,11:00,10,"First line\r\nSecond line"\r\n'
    )
    assert upload(client, "programme.csv", csv_text).status_code == 302
    ics_text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook//EN\r\n"
        "BEGIN:VEVENT\r\nUID:outlook-1\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:From Outlook\r\n"
        "DTSTART:20270318T120000Z\r\nDTEND:20270318T130000Z\r\nX-CAPACITY:10\r\n"
        "DESCRIPTION:Agenda:\\n- one\\, two\\n- three\\; four\\n\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    response = upload(client, "outlook.ics", ics_text)
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = {s.title: s.description for s in db.session.scalars(select(EventSession))}
    assert stored == {
        "From CSV": "First line\nSecond line",
        "From Outlook": "Agenda:\n- one, two\n- three; four",
    }


@pytest.mark.skipif(not icaljs_available(), reason="ical.js: make install-test")
def test_text_round_trips_exactly_through_three_parsers(app, api, make_session, now):
    event = api.event
    session = make_session(event, title=NASTY_TITLE, description=NASTY_DESCRIPTION)
    db.session.commit()
    with app.test_request_context("/", base_url="https://events.example.org"):
        feed = calendar.programme_feed(event, [session])
        single = calendar.session_file(session)
    for data in (feed, single):
        [reading] = agreed(data)
        assert reading.summary == NASTY_TITLE
        assert reading.description == NASTY_DESCRIPTION

    # The feed's name is TEXT too (RFC 7986 NAME; X-WR-CALNAME as Apple and Google read it).
    # vobject decodes X-WR-CALNAME as TEXT; icalendar and ical.js keep both raw, so their raw
    # value must be the escaping of RFC 5545 3.3.11, which reads back as the name.
    assert vobject.readOne(feed.decode()).x_wr_calname.value == event.name
    parsed = icalendar.Calendar.from_ical(feed)
    raws = {str(parsed["NAME"]), str(parsed["X-WR-CALNAME"]), calendar_name_icaljs(feed)}
    assert raws == {'Expo\\, 2027\\; "A\\\\nB" \\\\ Zuid'}
    assert unescape_text(raws.pop()) == event.name


def unescape_text(raw: str) -> str:
    """RFC 5545 3.3.11: \\\\ \\; \\, and \\n (or \\N) are the only escapes."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], raw)
