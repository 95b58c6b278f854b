"""The preview of a move says what the save will do: it blocks exactly when the save refuses,
asks for confirmation exactly when the save wants it, and counts the messages the save
queues. Each move is previewed, then saved (and rolled back) on the same programme."""

from datetime import UTC, datetime, timedelta

import pytest

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.services.errors import Conflict
from eventapp.services.programme import schedule
from tests.registering import register

DAY = datetime(2027, 3, 18, tzinfo=UTC)


@pytest.fixture
def programme(make_event, make_session, make_room, now):
    event = make_event()
    studio, hall = make_room(event, "Studio", 40), make_room(event, "Hall", 200)
    robots = make_session(event, title="Robots", capacity=2, room=studio)
    twins = make_session(event, start=2, title="Twins", room=hall)
    register(event, [robots], now, "ada@example.org")
    register(event, [robots, twins], now, "bob@example.org")
    register(event, [robots], now, "cy@example.org")  # the waiting list: Robots seats 2
    return event, studio, hall, robots, twins


def outcome_of_saving(session, times, room_id, now) -> tuple[str, int]:
    """("saved", messages queued) or ("blocked" | "confirm", 0); nothing is kept."""
    before = db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage))
    try:
        schedule.move_session(None, session, **times, room_id=room_id, now=now)
    except Conflict as error:
        db.session.rollback()
        return ("confirm" if error.details["confirm_required"] else "blocked"), 0
    queued = db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) - before
    db.session.rollback()
    return "saved", queued


@pytest.mark.parametrize(
    "hours, room, expected",
    [
        (14, "Hall", "saved"),  # free: everyone is told
        (12, None, "blocked"),  # onto Twins' time: Bob would hold two seats at once
        (11.5, "Hall", "blocked"),  # Hall holds Twins then
        (19, "Studio", "confirm"),  # after the event's hours: a warning to confirm
        (10, "Studio", "saved"),  # where it is: nothing to do
    ],
)
def test_the_preview_agrees_with_the_save(programme, now, hours, room, expected):
    event, studio, hall, robots, twins = programme
    rooms = {"Studio": studio.id, "Hall": hall.id, None: None}
    local = (DAY + timedelta(hours=hours - 1)).astimezone(event.tz)  # 10:00 local = 09:00 UTC
    times = schedule.keep_length(robots, local.strftime("%Y-%m-%dT%H:%M"))
    impact = schedule.preview_move(robots, **times, room_id=rooms[room])
    expected = "blocked" if impact.blocked else "confirm" if impact.confirm_required else "saved"
    outcome, queued = outcome_of_saving(robots, times, rooms[room], now)
    assert outcome == expected
    if outcome == "saved":
        assert queued == impact.told
    assert (impact.seats, impact.told) == ((2, 3) if impact.moved else (0, 0))


def test_the_clash_counts_each_attendee_once(programme):
    event, studio, hall, robots, twins = programme
    times = schedule.keep_length(robots, "2027-03-18T12:00")
    impact = schedule.preview_move(robots, **times)
    assert impact.blocked and impact.clashing == 1  # Bob


def test_a_move_keeps_the_sessions_length_in_absolute_time(make_event, make_session):
    # The night the clocks go forward: an hour from 01:30 local ends at 03:30 local.
    event = make_event(
        starts_at=datetime(2027, 3, 27, 20, tzinfo=UTC),
        ends_at=datetime(2027, 3, 28, 8, tzinfo=UTC),
    )
    night = make_session(event, hours=1)
    times = schedule.keep_length(night, "2027-03-28T01:30")
    assert times["ends_at"] - times["starts_at"] == timedelta(hours=1)
    assert times["starts_at"] == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
