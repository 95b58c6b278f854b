"""Conflict detection: every kind, hard versus soft, on save and for the whole event."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry, EventSession
from eventapp.services.errors import Conflict
from eventapp.services.programme import conflicts, schedule
from eventapp.services.registration import register as registration_service
from eventapp.services.registration import seating
from eventapp.services.registration.register import RegistrationInput

T9 = datetime(2027, 3, 18, 9, 0, tzinfo=UTC)


def at(hours: float) -> str:
    return (T9 + timedelta(hours=hours)).isoformat()


def session_data(title="Workshop", start=0.0, hours=1.0, **extra) -> dict:
    data = {
        "title": title,
        "kind": "workshop",
        "starts_at": at(start),
        "ends_at": at(start + hours),
        "capacity": 10,
    }
    data.update(extra)
    return data


def kinds(error: Conflict) -> list[str]:
    return [c["kind"] for c in error.details["conflicts"]]


def register(event, session_ids, email, now):
    result = registration_service.register(
        event,
        RegistrationInput(
            name=email.split("@")[0].title(), email=email, session_ids=session_ids, consent=True
        ),
        now,
    )
    db.session.commit()
    return result.attendee


def test_room_double_booking_is_hard_even_with_confirm(make_event, make_room, now):
    event = make_event()
    room = make_room(event, "Studio 1", 40)
    schedule.create_session(None, event, session_data("First", room_id=room.id), now)
    db.session.commit()

    with pytest.raises(Conflict) as raised:
        schedule.create_session(
            None, event, session_data("Second", start=0.5, room_id=room.id), now, confirm=True
        )
    db.session.rollback()
    assert kinds(raised.value) == ["room_double_booked"]
    assert raised.value.details["confirm_required"] is False
    clash = raised.value.details["conflicts"][0]
    assert clash["severity"] == "hard" and clash["room"] == "Studio 1"
    assert [s["title"] for s in clash["sessions"]] == ["Second", "First"]
    assert db.session.scalar(select(db.func.count()).select_from(EventSession)) == 1


def test_back_to_back_sessions_in_one_room_do_not_clash(make_event, make_room, now):
    event = make_event()
    room = make_room(event)
    schedule.create_session(None, event, session_data("First", room_id=room.id), now)
    change = schedule.create_session(
        None, event, session_data("Next", start=1, room_id=room.id), now
    )
    db.session.commit()
    assert change.warnings == []


def test_speaker_in_two_places_warns_and_saves_when_confirmed(make_event, now):
    event = make_event()
    schedule.create_session(None, event, session_data("A", speakers=["Ada"]), now)
    db.session.commit()

    with pytest.raises(Conflict) as raised:
        schedule.create_session(None, event, session_data("B", start=0.5, speakers=["Ada"]), now)
    db.session.rollback()
    assert kinds(raised.value) == ["speaker_double_booked"]
    assert raised.value.details["confirm_required"] is True
    assert raised.value.details["conflicts"][0]["speaker"] == "Ada"

    change = schedule.create_session(
        None, event, session_data("B", start=0.5, speakers=["Ada"]), now, confirm=True
    )
    db.session.commit()
    assert [c.kind for c in change.warnings] == ["speaker_double_booked"]
    assert [c.kind for c in conflicts.event_conflicts(event)] == ["speaker_double_booked"]


def test_session_outside_event_hours_is_soft(make_event, now):
    event = make_event()  # 08:00–17:00 UTC
    with pytest.raises(Conflict) as raised:
        schedule.create_session(None, event, session_data("Dinner", start=9, hours=2), now)
    db.session.rollback()
    assert kinds(raised.value) == ["outside_event_hours"]
    schedule.create_session(
        None, event, session_data("Dinner", start=9, hours=2), now, confirm=True
    )
    db.session.commit()
    assert [c.kind for c in conflicts.event_conflicts(event)] == ["outside_event_hours"]


def test_capacity_above_the_room_is_soft(make_event, make_room, now):
    event = make_event()
    room = make_room(event, "Lab 4", 12)
    with pytest.raises(Conflict) as raised:
        schedule.create_session(None, event, session_data(room_id=room.id, capacity=20), now)
    db.session.rollback()
    assert kinds(raised.value) == ["capacity_above_room"]
    assert raised.value.details["conflicts"][0]["room_capacity"] == 12


def test_session_takes_the_room_capacity_by_default(make_event, make_room, now):
    event = make_event()
    room = make_room(event, "Lab 4", 12)
    data = session_data(room_id=room.id)
    del data["capacity"]
    change = schedule.create_session(None, event, data, now)
    assert change.session.capacity == 12


def test_capacity_below_seats_taken_is_hard(make_event, make_session, now):
    event = make_event()
    session = make_session(event, capacity=5)
    for n in range(3):
        register(event, [session.id], f"p{n}@example.org", now)

    with pytest.raises(Conflict) as raised:
        schedule.update_session(None, session, {"capacity": 2}, now, confirm=True)
    db.session.rollback()
    assert kinds(raised.value) == ["capacity_below_taken"]
    db.session.refresh(session)
    assert (session.capacity, session.seats_taken) == (5, 3)

    schedule.update_session(None, session, {"capacity": 3}, now)
    db.session.commit()
    assert (session.capacity, session.seats_taken) == (3, 3)


def test_capacity_guard_holds_when_the_check_saw_an_older_count(make_event, make_session, now):
    """The UPDATE itself re-checks: a seat taken after the check still blocks the shrink."""
    event = make_event()
    session = make_session(event, capacity=5)
    register(event, [session.id], "a@example.org", now)
    register(event, [session.id], "b@example.org", now)
    with pytest.raises(Conflict):
        schedule.set_capacity(session, 1)
    db.session.rollback()


def test_raising_capacity_promotes_from_the_waiting_list(make_event, make_session, now):
    event = make_event()
    session = make_session(event, capacity=1)
    register(event, [session.id], "first@example.org", now)
    result = registration_service.register(
        event,
        RegistrationInput(
            name="Second",
            email="second@example.org",
            session_ids=[session.id],
            waitlist=True,
            consent=True,
        ),
        now,
    )
    db.session.commit()
    assert result.registrations[0].status == "waitlisted"

    change = schedule.update_session(None, session, {"capacity": 2}, now)
    db.session.commit()
    assert [r.attendee.email for r in change.promoted] == ["second@example.org"]
    assert session.seats_taken == 2


def test_move_lists_attendees_who_would_overlap_and_blocks(make_event, make_session, now):
    event = make_event()
    morning = make_session(event, start=0, title="Morning")
    afternoon = make_session(event, start=3, title="Afternoon")
    ada = register(event, [morning.id, afternoon.id], "ada@example.org", now)
    register(event, [morning.id, afternoon.id], "bob@example.org", now)
    register(event, [afternoon.id], "cy@example.org", now)  # not in the morning: unaffected

    with pytest.raises(Conflict) as raised:
        schedule.update_session(
            None, morning, {"starts_at": at(3.5), "ends_at": at(4.5)}, now, confirm=True
        )
    db.session.rollback()
    assert kinds(raised.value) == ["attendee_overlap"]
    clash = raised.value.details["conflicts"][0]
    assert clash["count"] == 2
    assert sorted(a["email"] for a in clash["attendees"]) == ["ada@example.org", "bob@example.org"]
    assert ada.reference in {a["reference"] for a in clash["attendees"]}
    assert [s["title"] for s in clash["sessions"]] == ["Morning", "Afternoon"]


def test_event_conflicts_lists_room_clashes_and_attendee_overlaps(
    make_event, make_room, make_session, now
):
    """Data that got in around the rules (an old import, SQL) still shows on the panel."""
    event = make_event()
    room = make_room(event)
    one = make_session(event, start=0, room=room, title="One")
    two = make_session(event, start=0.5, room=room, title="Two")
    attendee = register(event, [one.id], "ada@example.org", now)
    seating.take_seats(attendee, [two], waitlist=False, now=now)
    db.session.commit()

    found = conflicts.event_conflicts(event)
    assert [c.kind for c in found] == ["room_double_booked", "attendee_overlap"]
    assert found[1].details["count"] == 1
    assert all(c.is_hard for c in found)


def test_cancelled_sessions_clash_with_nothing(make_event, make_room, now):
    event = make_event()
    room = make_room(event)
    first = schedule.create_session(None, event, session_data("First", room_id=room.id), now)
    first.session.status = "cancelled"
    db.session.commit()
    change = schedule.create_session(None, event, session_data("Second", room_id=room.id), now)
    assert change.warnings == []


def test_editing_keeps_accepted_warnings_without_asking_again(make_event, now):
    event = make_event()
    schedule.create_session(
        None, event, session_data("Dinner", start=9, hours=2), now, confirm=True
    )
    db.session.commit()
    dinner = db.session.scalar(select(EventSession).where(EventSession.title == "Dinner"))
    schedule.update_session(None, dinner, {"title": "Conference dinner"}, now)
    db.session.commit()
    assert dinner.title == "Conference dinner"


def test_shrinking_a_room_warns_about_its_sessions(make_event, make_room, now):
    event = make_event()
    room = make_room(event, "Studio 1", 40)
    schedule.create_session(None, event, session_data(room_id=room.id, capacity=30), now)
    db.session.commit()
    with pytest.raises(Conflict) as raised:
        schedule.update_room(None, room, {"capacity": 20}, now)
    db.session.rollback()
    assert kinds(raised.value) == ["capacity_above_room"]
    schedule.update_room(None, room, {"capacity": 20}, now, confirm=True)
    db.session.commit()
    assert room.capacity == 20


def test_narrowing_event_hours_warns_about_sessions_left_outside(make_event, now):
    event = make_event()
    schedule.create_session(None, event, session_data(start=7), now)  # 16:00–17:00 UTC
    db.session.commit()
    with pytest.raises(Conflict) as raised:
        schedule.update_event(None, event, {"ends_at": at(6)}, now)
    db.session.rollback()
    assert kinds(raised.value) == ["outside_event_hours"]


def test_every_change_leaves_an_audit_entry(make_event, make_organiser, now):
    organiser = make_organiser()
    event = schedule.create_event(
        organiser,
        {
            "slug": "expo",
            "name": "Expo",
            "starts_at": "2027-05-01T09:00",
            "ends_at": "2027-05-01T17:00",
            "timezone": "Europe/Amsterdam",
        },
        now,
    )
    room = schedule.create_room(organiser, event, {"name": "Hall", "capacity": 50}, now)
    change = schedule.create_session(
        organiser,
        event,
        {
            "title": "Keynote",
            "kind": "plenary",
            "starts_at": "2027-05-01T09:30",
            "ends_at": "2027-05-01T10:30",
            "room_id": room.id,
        },
        now,
    )
    schedule.update_session(organiser, change.session, {"title": "Opening keynote"}, now)
    db.session.commit()

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "event.created",
        "room.created",
        "session.created",
        "session.updated",
    ]
    assert all(e.organiser_id == organiser.id and e.event_id == event.id for e in entries)
    assert entries[2].after["starts_at"] == "2027-05-01T07:30:00+00:00"  # 09:30 CEST
    assert entries[3].before == {"title": "Keynote", "sequence": 0}
    # Calendars update; the entry says who was emailed about it (nobody is registered yet).
    assert entries[3].after == {"title": "Opening keynote", "sequence": 1, "notified": 0}


def outbox_kinds():
    from eventapp.models import OutboxMessage

    return sorted(
        (m.kind, m.recipient)
        for m in db.session.scalars(select(OutboxMessage))
        if m.kind.startswith(("session_", "event_"))
    )


def test_a_move_queues_update_emails_and_bumps_the_sequence(make_event, make_session, now):
    event = make_event()
    session = make_session(event, start=0)
    register(event, [session.id], "ada@example.org", now)
    sequence = session.sequence

    change = schedule.update_session(None, session, {"starts_at": at(2), "ends_at": at(3)}, now)
    db.session.commit()

    assert change.moved
    assert session.sequence > sequence
    assert outbox_kinds() == [("session_moved", "ada@example.org")]
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "session.moved"
    assert entry.before["starts_at"] == "2027-03-18T09:00:00+00:00"
    assert entry.after["starts_at"] == "2027-03-18T11:00:00+00:00"


def test_a_title_change_is_no_move_but_updates_calendars(make_event, make_session, now):
    """Not a move; but the title is in every invitation, so one update (issue 17, item 3)."""
    event = make_event()
    session = make_session(event)
    register(event, [session.id], "ada@example.org", now)
    change = schedule.update_session(None, session, {"title": "Renamed"}, now)
    db.session.commit()
    assert not change.moved and outbox_kinds() == [("session_moved", "ada@example.org")]


def test_cancel_queues_cancellations_and_frees_the_room(make_event, make_room, make_session, now):
    event = make_event()
    room = make_room(event)
    session = make_session(event, room=room)
    register(event, [session.id], "ada@example.org", now)

    change = schedule.cancel_session(None, session, now)
    db.session.commit()

    assert change.cancelled and session.status == "cancelled"
    assert outbox_kinds() == [("session_cancelled", "ada@example.org")]
    assert db.session.scalars(select(AuditEntry)).one().action == "session.cancelled"
    replacement = schedule.create_session(
        None, event, session_data("Instead", room_id=room.id), now
    )
    assert replacement.warnings == []


def test_moving_the_event_moves_every_session_and_tells_attendees(make_event, make_session, now):
    event = make_event()
    first = make_session(event, start=0)
    second = make_session(event, start=2)
    register(event, [first.id], "ada@example.org", now)
    closes = event.registration_closes_at

    moved = schedule.move_event(None, event, "2027-03-19T09:00:00+01:00", now)
    db.session.commit()

    day = timedelta(days=1)
    assert [s.id for s in moved] == [first.id, second.id]
    assert event.starts_at == datetime(2027, 3, 19, 8, 0, tzinfo=UTC)
    assert first.starts_at == T9 + day and second.starts_at == T9 + timedelta(hours=2) + day
    assert event.registration_closes_at == closes + day
    assert outbox_kinds() == [("session_moved", "ada@example.org")]
    assert conflicts.event_conflicts(event) == []
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "event.moved" and entry.after["sessions_moved"] == 2


def test_cancelling_the_event_cancels_sessions_and_closes_it(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    register(event, [session.id], "ada@example.org", now)

    cancelled = schedule.cancel_event(None, event, now)
    db.session.commit()

    assert [s.id for s in cancelled] == [session.id]
    assert (event.status, session.status, session.seats_taken) == ("closed", "cancelled", 0)
    assert outbox_kinds() == [("event_cancelled", "ada@example.org")]


def test_an_old_room_clash_does_not_block_renaming_but_a_new_one_does(
    make_event, make_room, make_session, now
):
    event = make_event()
    room = make_room(event)
    one = make_session(event, start=0, room=room, title="One")  # in the room before the rules
    make_session(event, start=0.5, room=room, title="Two")
    schedule.update_session(None, one, {"title": "One, renamed"}, now)
    db.session.commit()
    assert one.title == "One, renamed"
    three = make_session(event, start=3, title="Three")
    with pytest.raises(Conflict):
        schedule.update_session(
            None,
            three,
            {"room_id": room.id, "starts_at": at(0.25), "ends_at": at(0.75)},
            now,
            confirm=True,
        )
    db.session.rollback()


def test_moving_the_event_across_dst_keeps_local_times_and_sends_one_email_each(
    make_event, make_session, now
):
    """Issue 17: the event moved by a week from winter into summer time keeps its sessions at
    10:00 and 12:00 Amsterdam time, and an attendee of both hears once, not per session."""
    event = make_event()
    first = make_session(event, start=0)  # 09:00 UTC = 10:00 CET on 18 March
    second = make_session(event, start=2)
    register(event, [first.id, second.id], "ada@example.org", now)

    schedule.move_event(None, event, "2027-03-29T09:00", now)  # a Monday in summer time
    db.session.commit()

    assert first.starts_at == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert second.starts_at == datetime(2027, 3, 29, 10, 0, tzinfo=UTC)
    assert event.starts_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert outbox_kinds() == [("session_moved", "ada@example.org")]
    assert (first.sequence, second.sequence) == (1, 1)


def test_attendee_overlaps_name_every_pair_and_each_attendee_once(make_event, make_session, now):
    """Three sessions held at once by one attendee are three pairs; a session that starts as
    another ends is no overlap; a cancelled seat or session clashes with nothing."""
    event = make_event()
    a = make_session(event, start=0, hours=2, title="A")
    b = make_session(event, start=0.5, title="B")
    c = make_session(event, start=1, title="C")
    after = make_session(event, start=2, title="After")  # starts as A ends
    gone = make_session(event, start=0, title="Gone")
    ada = register(event, [a.id], "ada@example.org", now)
    seating.take_seats(ada, [b, c, after, gone], waitlist=False, now=now)
    bob = register(event, [a.id, after.id], "bob@example.org", now)
    seating.take_seats(bob, [b], waitlist=False, now=now)
    cy = register(event, [after.id], "cy@example.org", now)
    seating.take_seats(cy, [gone], waitlist=False, now=now)
    gone.status = "cancelled"
    db.session.commit()

    overlaps = [c for c in conflicts.event_conflicts(event) if c.kind == "attendee_overlap"]
    pairs = {
        tuple(s["title"] for s in item.sessions): sorted(
            a["email"] for a in item.details["attendees"]
        )
        for item in overlaps
    }
    assert pairs == {
        ("A", "B"): ["ada@example.org", "bob@example.org"],
        ("A", "C"): ["ada@example.org"],
        ("B", "C"): ["ada@example.org"],
    }
    assert [tuple(s["title"] for s in item.sessions) for item in overlaps] == [
        ("A", "B"),
        ("A", "C"),
        ("B", "C"),
    ]
