"""Local times on daylight-saving days (issue 17, item 2): a time in the spring-forward gap
is refused with a 422 that names it (API, form, import) instead of a 503 or a silent shift;
a time in the repeated autumn hour is asked for with its offset; what is stored is the
instant the organiser meant. Europe/Amsterdam: 2027-03-28 02:00 -> 03:00, 2027-10-31
03:00 -> 02:00."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import EventSession


@pytest.fixture
def api(client, make_organiser, api_token):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}

    def call(method, path, json=None):
        return client.open(path, method=method, json=json, headers=headers)

    event = {
        "slug": "dst",
        "name": "DST days",
        "timezone": "Europe/Amsterdam",
        "starts_at": "2027-03-27T09:00",
        "ends_at": "2027-11-01T18:00",
        "status": "published",
    }
    assert call("POST", "/api/v1/events", event).status_code == 201
    return call


def new_session(api, starts_at, ends_at, title="Night owls"):
    return api(
        "POST",
        "/api/v1/events/dst/sessions",
        {"title": title, "starts_at": starts_at, "ends_at": ends_at, "capacity": 10},
    )


def sessions():
    return db.session.scalars(select(EventSession).order_by(EventSession.id)).all()


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [("2027-03-28T02:30", "2027-03-28T03:30"), ("2027-03-28T02:15", "2027-03-28T02:45")],
)
def test_a_time_in_the_spring_gap_is_a_422_naming_it(api, starts_at, ends_at):
    response = new_session(api, starts_at, ends_at)

    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid"
    [reason] = body["fields"]["starts_at"]
    assert "2027-03-28 " + starts_at[-5:] in reason and "does not exist" in reason
    assert sessions() == []


def test_a_time_in_the_autumn_fold_needs_its_offset(api):
    response = new_session(api, "2027-10-31T02:30", "2027-10-31T03:30")
    assert response.status_code == 422
    [reason] = response.get_json()["fields"]["starts_at"]
    assert "happens twice" in reason and "+02:00" in reason and "+01:00" in reason

    first = new_session(api, "2027-10-31T02:30+02:00", "2027-10-31T03:30", "First")
    second = new_session(api, "2027-10-31T02:30+01:00", "2027-10-31T03:30", "Second")
    assert (first.status_code, second.status_code) == (201, 201)
    stored = {s.title: (s.starts_at, s.ends_at) for s in sessions()}
    assert stored["First"] == (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 2, 30, tzinfo=UTC),
    )
    assert stored["Second"][0] == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert second.get_json()["starts_at"] == "2027-10-31T02:30:00+01:00"


def test_the_same_wall_clock_span_is_compared_as_instants(api):
    """02:30+02:00 to 02:15+01:00 is 45 minutes, though the end reads earlier."""
    response = new_session(api, "2027-10-31T02:30+02:00", "2027-10-31T02:15+01:00")
    assert response.status_code == 201, response.get_json()
    [session] = sessions()
    assert session.ends_at - session.starts_at == timedelta(minutes=45)


@pytest.fixture
def organiser(make_organiser, login, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return login(make_organiser())


def test_the_session_form_refuses_a_time_in_the_gap(client, organiser, api):
    response = client.post(
        "/organiser/events/dst/sessions/new",
        data={
            "title": "Night owls",
            "kind": "workshop",
            "starts_at": "2027-03-28T02:30",
            "ends_at": "2027-03-28T03:30",
        },
    )
    assert response.status_code == 422
    assert "2027-03-28 02:30 does not exist in Europe/Amsterdam" in response.get_data(as_text=True)
    assert sessions() == []


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Amsterdam\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
    "{events}END:VCALENDAR\r\n"
)


def vevent(uid, title, start, end_or_duration):
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:{title}\r\n"
        f"DTSTART;TZID=Europe/Amsterdam:{start}\r\n{end_or_duration}\r\nX-CAPACITY:10\r\n"
        "END:VEVENT\r\n"
    )


def upload(client, content):
    data = {
        "file": (io.BytesIO(content.encode()), "programme.ics"),
        "action": "import",
        "confirm": "y",
    }
    return client.post(
        "/organiser/events/dst/import", data=data, content_type="multipart/form-data"
    )


def test_an_import_with_a_time_in_the_gap_is_a_422_naming_the_row(client, organiser, api):
    content = ICS.format(
        events=vevent("a", "Fine", "20270328T100000", "DTEND;TZID=Europe/Amsterdam:20270328T110000")
        + vevent("b", "Gap", "20270328T023000", "DTEND;TZID=Europe/Amsterdam:20270328T033000")
    )
    response = upload(client, content)

    assert response.status_code == 422
    assert "2027-03-28 02:30 does not exist" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 0


def test_an_import_adds_durations_in_absolute_time_and_reads_the_fold_as_rfc_5545_says(
    client, organiser, api
):
    content = ICS.format(
        events=vevent("a", "Across spring", "20270328T013000", "DURATION:PT2H")
        + vevent("b", "In the fold", "20271031T023000", "DURATION:PT30M")
    )
    response = upload(client, content)

    assert response.status_code == 302, response.get_data(as_text=True)
    stored = {s.title: (s.starts_at, s.ends_at) for s in sessions()}
    # 01:30 CET is 00:30 UTC; two hours later is 02:30 UTC (04:30 CEST), not 03:30 CEST.
    assert stored["Across spring"] == (
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 2, 30, tzinfo=UTC),
    )
    # RFC 5545 3.3.5: an ambiguous local time in a file means its first occurrence (+02:00).
    assert stored["In the fold"] == (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 0, tzinfo=UTC),
    )


def floating_vevent(uid, title, start, duration):
    """A VEVENT with a floating DTSTART (no TZID, no Z), as files without a zone have."""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:{title}\r\n"
        f"DTSTART:{start}\r\nDURATION:{duration}\r\nX-CAPACITY:10\r\nEND:VEVENT\r\n"
    )


def test_a_floating_start_with_a_duration_ends_that_long_after_it_across_dst(
    client, organiser, api
):
    """A floating start is read in the event's zone; its DURATION is still absolute time
    (RFC 5545 3.8.2.5), not the wall clock: found importing a file without X-WR-TIMEZONE."""
    content = ICS.format(
        events=floating_vevent("a", "Across spring", "20270328T013000", "PT2H")
        + floating_vevent("b", "Across autumn", "20271031T013000", "PT2H")
    )
    response = upload(client, content)

    assert response.status_code == 302, response.get_data(as_text=True)
    stored = {s.title: (s.starts_at, s.ends_at) for s in sessions()}
    # 01:30 CET is 00:30 UTC: two hours later is 02:30 UTC (04:30 CEST), not 03:30 CEST.
    assert stored["Across spring"] == (
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 2, 30, tzinfo=UTC),
    )
    # 01:30 CEST is 23:30 UTC the day before: two hours later is 01:30 UTC (02:30 CET).
    assert stored["Across autumn"] == (
        datetime(2027, 10, 30, 23, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    )


@pytest.fixture
def fold_event(api):
    """An event over the night the clocks go back (2027-10-31), in one room: "First" in
    the first 02:00-02:45 (+02:00), "Second" in the repeated one (+01:00)."""
    event = {
        "slug": "fold",
        "name": "Fold",
        "timezone": "Europe/Amsterdam",
        "starts_at": "2027-10-30T09:00",
        "ends_at": "2027-10-31T18:00",
        "status": "published",
    }
    assert api("POST", "/api/v1/events", event).status_code == 201
    room = api("POST", "/api/v1/events/fold/rooms", {"name": "Zaal", "capacity": 10}).get_json()

    def add(title, starts_at, ends_at):
        body = {"title": title, "starts_at": starts_at, "ends_at": ends_at, "confirm": True}
        response = api("POST", "/api/v1/events/fold/sessions", body | {"room_id": room["id"]})
        assert response.status_code == 201, response.get_json()

    return add


def stored_times():
    return {s.title: (s.starts_at, s.ends_at) for s in sessions()}


def test_moving_an_event_off_the_fold_night_refuses_to_put_two_sessions_on_one_hour(
    api, fold_event
):
    """On a night with one 02:00, "First" and "Second" would share a room at the same
    time: found moving the event a week earlier, which went through silently (issue 17)."""
    fold_event("First", "2027-10-31T02:00+02:00", "2027-10-31T02:45+02:00")
    fold_event("Second", "2027-10-31T02:00+01:00", "2027-10-31T02:45+01:00")
    before = stored_times()

    response = api("POST", "/api/v1/events/fold/move", {"starts_at": "2027-10-23T09:00"})

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["conflicts"][0]["kind"] == "room_double_booked"
    db.session.expire_all()
    assert stored_times() == before


def test_moving_an_event_keeps_each_session_s_length_and_its_pass_of_the_fold(api, fold_event):
    """A session across the fold (02:15 +02:00 to 02:45 +01:00) is 90 minutes and stays
    so, not 30; moved to next year's fold night, the repeated hour stays the repeated one."""
    fold_event("First", "2027-10-31T02:00+02:00", "2027-10-31T02:45+02:00")
    fold_event("Second", "2027-10-31T02:00+01:00", "2027-10-31T02:45+01:00")

    response = api("POST", "/api/v1/events/fold/move", {"starts_at": "2028-10-28T09:00"})

    assert response.status_code == 200, response.get_json()
    assert stored_times() == {
        "First": (
            datetime(2028, 10, 29, 0, 0, tzinfo=UTC),
            datetime(2028, 10, 29, 0, 45, tzinfo=UTC),
        ),
        "Second": (
            datetime(2028, 10, 29, 1, 0, tzinfo=UTC),
            datetime(2028, 10, 29, 1, 45, tzinfo=UTC),
        ),
    }


def test_moving_an_event_keeps_the_length_of_a_session_across_the_fold(api, fold_event):
    fold_event("Across", "2027-10-31T02:15+02:00", "2027-10-31T02:45+01:00")

    response = api("POST", "/api/v1/events/fold/move", {"starts_at": "2027-10-23T09:00"})

    assert response.status_code == 200, response.get_json()
    # 02:15 CEST on the 24th is 00:15 UTC; ninety minutes later, 03:45 CEST.
    assert stored_times()["Across"] == (
        datetime(2027, 10, 24, 0, 15, tzinfo=UTC),
        datetime(2027, 10, 24, 1, 45, tzinfo=UTC),
    )


def test_a_session_in_the_repeated_hour_can_be_edited_in_the_form(client, organiser, api):
    """The form's datetime-local fields show 02:10 without saying which of the night's two
    02:10s; saving a new title left them as shown and was refused as ambiguous, so a session
    made by the API or an import in the repeated hour could not be edited at all. An
    unchanged time keeps the instant it stands for."""
    made = new_session(api, "2027-10-31T02:10+01:00", "2027-10-31T02:50+01:00", "Second pass")
    assert made.status_code == 201, made.get_json()
    session_id = made.get_json()["id"]
    page = client.get(f"/organiser/events/dst/sessions/{session_id}/edit")
    assert 'value="2027-10-31T02:10"' in page.get_data(as_text=True)

    response = client.post(
        f"/organiser/events/dst/sessions/{session_id}/edit",
        data={
            "title": "Second pass, renamed",
            "kind": "workshop",
            "starts_at": "2027-10-31T02:10",
            "ends_at": "2027-10-31T02:50",
            "room_id": "0",
            "capacity": "10",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert stored_times() == {
        "Second pass, renamed": (
            datetime(2027, 10, 31, 1, 10, tzinfo=UTC),
            datetime(2027, 10, 31, 1, 50, tzinfo=UTC),
        )
    }


def test_a_floating_time_in_the_fold_means_the_first_occurrence_as_with_a_tzid(
    client, organiser, api
):
    """A floating DTSTART in the repeated hour was refused, asking for an offset a floating
    time cannot carry, while the same time with X-WR-TIMEZONE or a TZID was read as RFC
    5545 3.3.5 says: the first occurrence. A file without a zone is read in the event's."""
    content = ICS.format(events=floating_vevent("a", "Floating fold", "20271031T023000", "PT1H"))
    response = upload(client, content)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_times()["Floating fold"] == (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    )


def test_the_session_form_asks_which_of_the_two_times_in_the_repeated_hour(client, organiser, api):
    """docs/CALENDAR.md's gap: a datetime-local field has no offset, so a new time in the
    repeated autumn hour could not be typed at all (the form said "give the offset")."""
    form = {
        "title": "Night owls",
        "kind": "workshop",
        "starts_at": "2027-10-31T02:30",
        "ends_at": "2027-10-31T03:30",
        "room_id": "0",
        "capacity": "10",
    }
    blank = client.get("/organiser/events/dst/sessions/new").get_data(as_text=True)
    assert 'id="repeated-hour"' not in blank  # only once such a time was typed

    asked = client.post("/organiser/events/dst/sessions/new", data=form)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and sessions() == []
    assert (
        "2027-10-31 02:30 happens twice in Europe/Amsterdam: the clocks go back that night. "
        "Choose below whether you mean the first time (+02:00) or the second (+01:00)." in page
    )
    assert "Give the offset" not in page
    assert 'id="repeated-hour"' in page and 'value="second"' in page

    second = client.post(
        "/organiser/events/dst/sessions/new", data={**form, "repeated_hour": "second"}
    )
    assert second.status_code == 302, second.get_data(as_text=True)
    first = client.post(
        "/organiser/events/dst/sessions/new",
        data={**form, "title": "Early owls", "repeated_hour": "first"},
    )
    assert first.status_code == 302
    db.session.expire_all()
    assert stored_times() == {
        "Night owls": (  # 02:30+01:00, 03:30+01:00: an hour
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            datetime(2027, 10, 31, 2, 30, tzinfo=UTC),
        ),
        "Early owls": (  # 02:30+02:00, 03:30+01:00: two hours
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
            datetime(2027, 10, 31, 2, 30, tzinfo=UTC),
        ),
    }
