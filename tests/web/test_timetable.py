"""The programme's timetable: where each session goes in the grid, when a day stays a list,
and the states a visitor who registered sees."""

import flask_babel
import pytest

from eventapp.models import Attendee
from eventapp.public import timetable
from eventapp.services.programme.reading import rooms_in_use, sessions_of


def build(event, states=None):
    sessions = sessions_of(event)
    return timetable.build(sessions, rooms_in_use(sessions), event.tz, states)


def cards(day):
    return {e.session.title: e for e in day.entries if e.kind == "session"}


def test_parallel_sessions_get_their_rooms_columns_and_the_rest_spans(
    make_event, make_session, make_room
):
    event = make_event()
    big, small = make_room(event, "Zaal", 100), make_room(event, "Lab", 10)
    make_session(event, start=0, kind="plenary", title="Opening", room=big)
    make_session(event, start=1, title="A", room=big)
    make_session(event, start=1, title="B", room=small)
    make_session(event, start=2, kind="other", title="Lunch")
    (day,) = build(event)

    assert day.is_grid
    assert [room.name for room in day.columns] == ["Zaal", "Lab"]  # the largest first
    placed = cards(day)
    assert (placed["A"].column, placed["B"].column) == (2, 3)
    assert placed["A"].row == placed["B"].row
    assert placed["Opening"].spans_all and placed["Lunch"].spans_all
    assert placed["Opening"].grid_classes == "tt-r2 tt-re3 tt-c2 tt-ce4"
    # Reading order: a start time, then what starts then, room by room.
    kinds = [(e.kind, e.session.title if e.session else None) for e in day.entries]
    assert kinds == [
        ("time", None),
        ("session", "Opening"),
        ("time", None),
        ("session", "A"),
        ("session", "B"),
        ("time", None),
        ("session", "Lunch"),
    ]


def test_two_sessions_in_one_room_at_once_keep_the_day_a_list(make_event, make_session, make_room):
    event = make_event()
    room = make_room(event, "Zaal")
    make_session(event, start=0, title="Old", room=room, status="cancelled")
    make_session(event, start=0.5, title="New", room=room)
    make_session(event, start=0, title="Elsewhere", room=make_room(event, "Lab"))
    (day,) = build(event)
    assert not day.is_grid
    assert set(cards(day)) == {"Old", "New", "Elsewhere"}  # still all listed


def test_sessions_without_a_room_that_run_in_parallel_get_their_own_column(
    make_event, make_session, make_room
):
    event = make_event()
    make_session(event, start=0, title="In a room", room=make_room(event, "Zaal"))
    make_session(event, start=0, title="Outdoors")
    (day,) = build(event)
    assert day.is_grid
    assert day.columns[-1] is None
    assert cards(day)["Outdoors"].column == 3


@pytest.mark.parametrize("rooms", [13, 1])
def test_too_many_rooms_or_none_in_parallel_means_a_list(
    make_event, make_session, make_room, rooms
):
    event = make_event()
    for number in range(rooms):
        make_session(event, start=0, title=f"S{number}", room=make_room(event, f"R{number}"))
    (day,) = build(event)
    # 13 rooms need more column classes than the stylesheet has; 1 room has nothing parallel.
    assert not day.is_grid


def test_your_choice_and_what_clashes_with_it(app, make_event, make_session):
    event = make_event()
    mine = make_session(event, start=0, title="Mine")
    parallel = make_session(event, start=0.5, title="Parallel")
    later = make_session(event, start=2, title="Later")
    lunch = make_session(event, start=0, kind="other", title="Coffee")
    states = timetable.session_states(sessions_of(event), {mine.id}, set())
    assert states[mine.id].chosen and not states[mine.id].clash
    assert states[parallel.id].clash
    assert [s.title for s in states[parallel.id].clashes_with] == ["Mine"]
    assert not states[later.id].clash
    assert not states[lunch.id].clash  # a break takes no registrations, so it clashes with nothing


def test_the_programme_page_marks_the_visitors_choices(client, make_event, make_session, app):
    event = make_event()
    chosen = make_session(event, start=0, title="Chosen workshop")
    make_session(event, start=0.5, title="Parallel workshop")
    page = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Kees",
            "email": "kees@example.nl",
            "round_" + chosen.starts_at.strftime("%Y%m%dT%H%M"): str(chosen.id),
            "consent": "y",
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)[:2000]
    assert Attendee.query.filter_by(email="kees@example.nl").one()
    flask_babel.refresh()  # the test's app context outlives the request, and caches its locale
    html = client.get(f"/events/{event.slug}/", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    chosen_card = html.split(f'id="session-{chosen.id}"')[1].split("</article>")[0]
    assert "Your choice" in chosen_card
    parallel_card = html.split("Parallel workshop")[1].split("</article>")[0]
    assert "Clashes with your choice" in parallel_card
