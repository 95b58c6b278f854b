"""The timetable editor over HTTP: the page (a table of rooms and slots whose sessions link to
the form), the preview of a move (whom it emails, who would clash, what blocks), the move
itself (the form's service: emails, SEQUENCE, audit), and who may use them: roles, CSRF, and
bad input answered 422 (a time the clocks skip included), never 500."""

import re
from datetime import UTC, datetime

import pytest

from eventapp.extensions import db
from eventapp.models import AuditEntry, EventSession, OutboxMessage, Room
from eventapp.organiser import timetable
from eventapp.services.programme import reading as programme
from tests.web.conftest import fresh, sign_up

AMSTERDAM_DAY = "2027-03-18"  # make_event's day; 09:00 UTC is 10:00 in Amsterdam


@pytest.fixture
def grid(make_event, make_session, make_room, now):
    """Two rooms; a workshop (Ada and Bob have seats, Cy waits) at 10:00, another at 11:00
    where Dee also has a seat in the first, and a speaker who talks in both."""
    event = make_event()
    studio, hall = make_room(event, "Studio", 40), make_room(event, "Hall", 200)
    robots = make_session(event, title="Robots", capacity=2, room=studio)
    twins = make_session(event, start=2, title="Twins", room=hall)
    for name in ("ada", "bob"):
        sign_up(event, [robots], f"{name}@example.org", now)
    sign_up(event, [robots], "cy@example.org", now, waitlist_ok=True)
    # Dee holds seats in both: moving Robots onto Twins' time would clash for her.
    robots.capacity = 3
    db.session.commit()
    sign_up(event, [robots, twins], "dee@example.org", now)
    return event, studio, hall, robots, twins


@pytest.fixture
def planner(client, make_organiser, login):
    client.get("/lang/en")
    login(make_organiser("organiser"))
    return client


def preview(client, event, **body):
    return client.post(
        f"/organiser/events/{event.slug}/timetable/preview",
        json=body,
        headers={"Accept": "application/json"},
    )


def move(client, event, **body):
    return client.post(
        f"/organiser/events/{event.slug}/timetable/move",
        json=body,
        headers={"Accept": "application/json"},
    )


def moved_emails(session_id: int) -> int:
    rows = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == "session_moved")
    ).all()
    return sum(1 for row in rows if session_id in row.payload.get("session_ids", []))


def test_the_page_is_a_table_of_rooms_and_slots_linking_to_the_form(planner, grid):
    event, studio, hall, robots, twins = grid
    page = planner.get(f"/organiser/events/{event.slug}/timetable").get_data(as_text=True)
    heads = re.findall(r'<th scope="col" data-room="(\d*)"', page)
    assert heads == [str(hall.id), str(studio.id), ""]  # the rooms, then "No room"
    assert f'data-slot="{AMSTERDAM_DAY}T09:00"' in page  # the event opens at 09:00 local
    assert f'data-slot="{AMSTERDAM_DAY}T09:15"' in page  # quarter-hour rows
    card = page[page.index(f'id="te-session-{robots.id}"') :]
    assert f'data-starts="{AMSTERDAM_DAY}T10:00"' in card[:600]
    assert f'href="/organiser/events/{event.slug}/sessions/{robots.id}/edit"' in card[:1200]
    assert "<script>" not in page and "vendor/interact.min.js" in page
    assert page.index("fetch_json.js") < page.index("timetable.js")  # the shared POST, first
    assert 'data-csrf="' in page


def test_a_cancelled_session_is_listed_under_the_grid_not_in_it(planner, grid, make_session):
    event = grid[0]
    make_session(event, start=4, title="Called off", status="cancelled")
    page = planner.get(f"/organiser/events/{event.slug}/timetable").get_data(as_text=True)
    assert 'id="te-cancelled-heading"' in page
    assert page.index("Called off") > page.index('id="te-cancelled-heading"')


def test_the_preview_counts_seats_emails_and_changes_nothing(planner, grid):
    event, studio, hall, robots, twins = grid
    answer = preview(
        planner, event, session_id=robots.id, starts_at=f"{AMSTERDAM_DAY}T14:00", room_id=hall.id
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["seats"], body["told"], body["clashing"]) == (3, 4, 0)  # Cy waits: told too
    assert body["lines"] == [
        "This moves the session of 3 attendees: their calendars update.",
        "4 people are emailed about the change.",
    ]
    assert body["where"] == "Thursday, March 18, 2027, 14:00–15:00, Hall"
    assert body["confirm_required"] is False and body["conflicts"] == []
    db.session.expire_all()
    assert fresh(EventSession, robots.id).room_id == studio.id
    assert moved_emails(robots.id) == 0


def test_a_preview_that_would_make_attendees_clash_is_refused_with_the_count(planner, grid):
    event, studio, hall, robots, twins = grid
    answer = preview(planner, event, session_id=robots.id, starts_at=f"{AMSTERDAM_DAY}T12:00")
    assert answer.status_code == 409
    assert answer.json["error"] == "conflict"
    assert answer.json["impact"]["clashing"] == 1  # Dee
    assert "1 attendee would have two sessions at once." in answer.json["impact"]["lines"]
    assert [c["kind"] for c in answer.json["conflicts"]] == ["attendee_overlap"]


def test_a_room_double_booking_is_refused_by_preview_and_move(planner, grid):
    event, studio, hall, robots, twins = grid
    body = {"session_id": twins.id, "starts_at": f"{AMSTERDAM_DAY}T10:30", "room_id": studio.id}
    assert preview(planner, event, **body).status_code == 409
    refused = move(planner, event, **body, confirm=True)  # confirming doesn't lift a block
    assert refused.status_code == 409
    assert refused.json["conflicts"][0]["kind"] == "room_double_booked"
    assert fresh(EventSession, twins.id).room_id == hall.id


def test_a_move_goes_through_the_forms_service(planner, grid):
    event, studio, hall, robots, twins = grid
    sequence = robots.sequence
    answer = move(
        planner, event, session_id=robots.id, starts_at=f"{AMSTERDAM_DAY}T14:00", room_id=hall.id
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["moved"] is True
    assert "people are emailed about the change." in answer.json["message"]
    session = fresh(EventSession, robots.id)
    assert session.starts_at == datetime(2027, 3, 18, 13, 0, tzinfo=UTC)
    assert session.ends_at == datetime(2027, 3, 18, 14, 0, tzinfo=UTC)  # same length
    assert session.room_id == hall.id
    assert session.sequence == sequence + 1
    assert moved_emails(robots.id) == 4  # 3 seats and the waiting list
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "session.moved"))
    assert [e.object_id for e in entry] == [robots.id]


def test_a_warning_needs_the_confirmation_the_dialog_sends(planner, grid, make_session):
    event, studio, hall, robots, twins = grid
    body = {"session_id": twins.id, "starts_at": f"{AMSTERDAM_DAY}T19:00"}  # after hours
    shown = preview(planner, event, **body)
    assert shown.status_code == 200
    assert shown.json["confirm_required"] is True
    assert [c["kind"] for c in shown.json["conflicts"]] == ["outside_event_hours"]
    unconfirmed = move(planner, event, **body, room_id=hall.id)
    assert unconfirmed.status_code == 409 and unconfirmed.json["confirm_required"] is True
    assert move(planner, event, **body, room_id=hall.id, confirm=True).status_code == 200


def someone_else_commits(change) -> None:
    """Another organiser's change, saved between the preview and the confirm."""
    change()
    db.session.commit()


def test_a_confirm_after_the_warnings_changed_gets_the_new_warnings_and_saves_nothing(
    planner, grid
):
    event, studio, hall, robots, twins = grid
    body = {"session_id": twins.id, "starts_at": f"{AMSTERDAM_DAY}T19:00", "room_id": studio.id}
    shown = preview(planner, event, **body)
    assert shown.status_code == 200
    assert [c["kind"] for c in shown.json["conflicts"]] == ["outside_event_hours"]
    seen = shown.json["fingerprint"]
    # Meanwhile the Studio gets smaller than Twins: the move now brings a second warning.
    someone_else_commits(lambda: setattr(db.session.get(Room, studio.id), "capacity", 5))
    answer = move(planner, event, **body, confirm=True, fingerprint=seen)
    assert answer.status_code == 409, answer.json
    assert answer.json["error"] == "preview_changed"
    assert "changed" in answer.json["message"]
    again = answer.json["impact"]
    assert sorted(c["kind"] for c in again["conflicts"]) == [
        "capacity_above_room",
        "outside_event_hours",
    ]
    assert again["confirm_required"] is True and again["fingerprint"] != seen
    assert fresh(EventSession, twins.id).room_id == hall.id  # not moved
    # Confirmed again, with what the page now shows: saved.
    done = move(planner, event, **body, confirm=True, fingerprint=again["fingerprint"])
    assert done.status_code == 200, done.json
    assert fresh(EventSession, twins.id).room_id == studio.id


def test_a_confirm_after_warnings_went_away_or_more_people_are_emailed_asks_again(
    planner, grid, now
):
    event, studio, hall, robots, twins = grid
    body = {"session_id": twins.id, "starts_at": f"{AMSTERDAM_DAY}T19:00"}
    seen = preview(planner, event, **body).json
    # The event now lasts into the evening (the warning goes), and Eve takes a seat in Twins.
    someone_else_commits(
        lambda: setattr(
            db.session.get(type(event), event.id), "ends_at", datetime(2027, 3, 18, 21, tzinfo=UTC)
        )
    )
    sign_up(event, [fresh(EventSession, twins.id)], "eve@example.org", now)
    answer = move(planner, event, **body, confirm=True, fingerprint=seen["fingerprint"])
    assert answer.status_code == 409 and answer.json["error"] == "preview_changed"
    again = answer.json["impact"]
    assert again["conflicts"] == [] and again["confirm_required"] is False
    assert (seen["told"], again["told"]) == (1, 2)  # Dee, and now Eve
    assert moved_emails(twins.id) == 0
    assert move(planner, event, **body, fingerprint=again["fingerprint"]).status_code == 200
    assert moved_emails(twins.id) == 2


def test_a_confirm_the_programme_now_blocks_is_refused_as_the_preview_would(
    planner, grid, make_session
):
    event, studio, hall, robots, twins = grid
    body = {"session_id": twins.id, "starts_at": f"{AMSTERDAM_DAY}T13:00", "room_id": studio.id}
    seen = preview(planner, event, **body).json
    assert seen["conflicts"] == []
    # Meanwhile someone books the Studio at 13:00 for another session: the room is taken.
    make_session(event, start=3, title="Walk-in", room=studio)
    answer = move(planner, event, **body, fingerprint=seen["fingerprint"])
    assert answer.status_code == 409 and answer.json["error"] == "conflict"
    assert [c["kind"] for c in answer.json["conflicts"]] == ["room_double_booked"]
    assert answer.json["impact"]["fingerprint"] != seen["fingerprint"]
    assert fresh(EventSession, twins.id).room_id == hall.id


def test_the_same_preview_confirmed_is_saved(planner, grid):
    event, studio, hall, robots, twins = grid
    body = {"session_id": robots.id, "starts_at": f"{AMSTERDAM_DAY}T14:00", "room_id": hall.id}
    first, second = preview(planner, event, **body).json, preview(planner, event, **body).json
    assert first["fingerprint"] == second["fingerprint"]  # nothing changed: the same
    other = preview(planner, event, **{**body, "starts_at": f"{AMSTERDAM_DAY}T15:00"}).json
    assert other["fingerprint"] != first["fingerprint"]  # another move: another preview
    answer = move(planner, event, **body, fingerprint=first["fingerprint"])
    assert answer.status_code == 200, answer.json
    assert fresh(EventSession, robots.id).room_id == hall.id


def test_a_time_the_clocks_skip_is_422_not_500(planner, make_event, make_session):
    # 2027-03-28 02:30 does not exist in Amsterdam: the clocks go from 02:00 to 03:00.
    event = make_event(
        starts_at=datetime(2027, 3, 27, 20, 0, tzinfo=UTC),
        ends_at=datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
    )
    session = make_session(event, title="Night owls")
    for send in (preview, move):
        answer = send(planner, event, session_id=session.id, starts_at="2027-03-28T02:30")
        assert answer.status_code == 422
        assert "does not exist" in answer.json["fields"]["starts_at"][0]


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "text",
        {},
        {"session_id": "x", "starts_at": "2027-03-18T10:00"},
        {"session_id": True, "starts_at": "2027-03-18T10:00"},
        {"session_id": 2**40, "starts_at": "2027-03-18T10:00"},
        {"session_id": 1, "starts_at": 1030},
        {"session_id": 1, "starts_at": "not a time"},
        {"session_id": 1, "starts_at": "9" * 5000},
        {"session_id": 1, "starts_at": "2027-03-18T10:00", "room_id": "Hall"},
        {"session_id": 1, "starts_at": "2027-03-18T10:00", "room_id": -3},
        {"session_id": 1, "starts_at": "2027-03-18T10:00", "confirm": "yes"},
        {"session_id": 1, "starts_at": "2027-03-18T10:00", "fingerprint": 5},
        {"session_id": 1, "starts_at": "2027-03-18T10:00", "fingerprint": "f" * 65},
    ],
)
def test_bad_input_is_422_and_changes_nothing(planner, grid, body):
    event, studio, hall, robots, twins = grid
    if isinstance(body, dict) and type(body.get("session_id")) is int and body["session_id"] == 1:
        body = {**body, "session_id": robots.id}
    for path in ("preview", "move"):
        answer = planner.post(
            f"/organiser/events/{event.slug}/timetable/{path}",
            json=body,
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 422, (path, answer.json)
        assert answer.json["error"] == "invalid" and answer.json["fields"]
    assert fresh(EventSession, robots.id).starts_at == datetime(2027, 3, 18, 9, tzinfo=UTC)


def test_ids_of_another_event_are_refused(planner, grid, make_event, make_room, make_session):
    event, studio, hall, robots, twins = grid
    other = make_event()
    elsewhere = make_session(other, title="Elsewhere")
    foreign_room = make_room(other, "Their room")
    at = f"{AMSTERDAM_DAY}T14:00"
    assert move(planner, event, session_id=elsewhere.id, starts_at=at).status_code == 404
    wrong_room = move(planner, event, session_id=robots.id, starts_at=at, room_id=foreign_room.id)
    assert wrong_room.status_code == 422 and "room_id" in wrong_room.json["fields"]
    assert fresh(EventSession, robots.id).room_id == studio.id


def test_only_the_events_organisers_may_use_the_editor(client, grid, make_organiser, login):
    event, studio, hall, robots, twins = grid
    body = {"session_id": robots.id, "starts_at": f"{AMSTERDAM_DAY}T14:00"}
    urls = [f"/organiser/events/{event.slug}/timetable/{p}" for p in ("preview", "move")]
    page = f"/organiser/events/{event.slug}/timetable"
    # Anonymous: to the login page (a JSON call: 401 saying so), nothing changes.
    assert client.get(page).status_code == 302
    answers = [client.post(url, json=body) for url in urls]
    assert all(a.status_code == 401 and a.json["error"] == "signed_out" for a in answers)
    # Check-in staff of the event, and an organiser of another event only: 403.
    login(make_organiser("checkin"))
    assert client.get(page).status_code == 403
    assert all(client.post(url, json=body).status_code == 403 for url in urls)
    client.post("/organiser/logout")
    login(make_organiser("organiser", events=[]))
    assert client.get(page).status_code == 403
    assert all(client.post(url, json=body).status_code == 403 for url in urls)
    assert fresh(EventSession, robots.id).starts_at == datetime(2027, 3, 18, 9, tzinfo=UTC)


def test_the_json_calls_need_the_pages_csrf_token(app, planner, grid):
    event, studio, hall, robots, twins = grid
    app.config["WTF_CSRF_ENABLED"] = True
    page = planner.get(f"/organiser/events/{event.slug}/timetable").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    url = f"/organiser/events/{event.slug}/timetable/move"
    body = {"session_id": robots.id, "starts_at": f"{AMSTERDAM_DAY}T14:00"}
    json_headers = {"Accept": "application/json"}
    for headers in ({}, {"X-CSRFToken": "forged"}):
        refused = planner.post(url, json=body, headers={**json_headers, **headers})
        assert refused.status_code == 400 and refused.json["error"] == "csrf_failed"
    assert fresh(EventSession, robots.id).starts_at == datetime(2027, 3, 18, 9, tzinfo=UTC)
    done = planner.post(url, json=body, headers={**json_headers, "X-CSRFToken": token})
    assert done.status_code == 200


def test_sessions_in_one_room_at_once_share_a_cell(app, grid, make_session):
    event, studio, hall, robots, twins = grid
    make_session(event, start=0.5, title="Squeezed in", room=studio)
    day = timetable.build(event, programme.sessions_of(event))[0]
    cells = [c for row in day.rows for c in row.cells if c.sessions]
    shared = next(c for c in cells if c.column.room == studio)
    assert [s.title for s in shared.sessions] == ["Robots", "Squeezed in"]
    assert shared.clash and shared.rowspan == 6  # 10:00 to 11:30 in quarter hours


def test_rows_get_finer_when_a_session_starts_off_the_quarter(app, grid, make_session):
    event = grid[0]
    make_session(event, start=3 + 5 / 60, title="At five past")
    days = timetable.build(event, programme.sessions_of(event))
    assert days[0].step == 5
    assert any(row.slot.endswith("T12:05") for row in days[0].rows)


def test_every_day_of_a_multi_day_event_has_a_grid(app, make_event):
    event = make_event(
        starts_at=datetime(2027, 3, 18, 8, tzinfo=UTC),
        ends_at=datetime(2027, 3, 20, 16, tzinfo=UTC),
    )
    days = timetable.build(event, [])
    assert [d.day.isoformat() for d in days] == ["2027-03-18", "2027-03-19", "2027-03-20"]
    assert days[1].rows[0].label == "09:00"  # a day without sessions yet: 09:00-18:00


def test_null_takes_a_session_out_of_its_room_and_no_room_id_leaves_it(planner, grid):
    event, studio, hall, robots, twins = grid
    kept = move(planner, event, session_id=twins.id, starts_at=f"{AMSTERDAM_DAY}T15:00")
    assert kept.status_code == 200 and fresh(EventSession, twins.id).room_id == hall.id
    out = move(
        planner, event, session_id=twins.id, starts_at=f"{AMSTERDAM_DAY}T15:00", room_id=None
    )
    assert out.status_code == 200 and out.json["where"].endswith(", no room")
    assert fresh(EventSession, twins.id).room_id is None
