"""Programme changes reach calendars: a move is a REQUEST with the same UID and a higher
SEQUENCE, a cancellation a CANCEL with STATUS:CANCELLED; seats stay counted right."""

from datetime import timedelta

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import OutboxMessage, Registration
from eventapp.services import calendar
from eventapp.services.mail.worker import send_pending
from eventapp.services.programme import notifications, schedule
from eventapp.services.registration import capacity
from eventapp.services.registration import register as service
from tests.ical_checks import parse_ics
from tests.mail_layout import itip_data
from tests.registering import register


def calendar_objects(received, method):
    """{recipient: parsed VEVENT} for the calendar parts with this METHOD."""
    found = {}
    for mail in received:
        for part in mail.message.walk():
            if part.get_content_type() == "text/calendar":
                assert part.get_param("method") == method
                parsed = parse_ics(part.get_payload(decode=True), method)
                found[mail.rcpt_tos[0]] = parsed.vevent
    return found


def test_a_move_updates_the_same_event_with_a_higher_sequence(
    app, smtp_server, make_event, make_session, make_room, now
):
    event = make_event()
    studio, hall = make_room(event, "Studio 1"), make_room(event, "Main hall")
    session = make_session(event, start=1, capacity=2, room=studio, title="Digital twins")
    register(event, [session], now, "ada@example.org")
    register(event, [session], now, "bob@example.org")
    register(event, [session], now, "cy@example.org")  # waiting list
    send_pending(now=now)
    before = calendar_objects(smtp_server.received, "REQUEST")
    assert set(before) == {"ada@example.org", "bob@example.org"}

    previous = notifications.snapshot(session)
    session.starts_at += timedelta(hours=2)
    session.ends_at += timedelta(hours=2)
    session.room = hall
    queued = notifications.session_moved(session, now, previous=previous)
    db.session.commit()
    assert queued == 3 and session.sequence == 1

    later = now + timedelta(minutes=5)
    send_pending(now=later)

    moved = smtp_server.received[3:]
    assert sorted(m.rcpt_tos[0] for m in moved) == [
        "ada@example.org",
        "bob@example.org",
        "cy@example.org",
    ]
    after = calendar_objects([m for m in moved if m.rcpt_tos[0] != "cy@example.org"], "REQUEST")
    for email in ("ada@example.org", "bob@example.org"):
        assert after[email].uid.value == before[email].uid.value
        assert int(after[email].sequence.value) == int(before[email].sequence.value) + 1
        assert after[email].dtstart.value == session.starts_at
        assert after[email].location.value == "Main hall, Hilversum"
        assert after[email].dtstamp.value == later
    waiting = next(m for m in moved if m.rcpt_tos[0] == "cy@example.org").message
    assert not [p for p in waiting.walk() if p.get_content_type() == "text/calendar"]
    text = next(m for m in moved if m.rcpt_tos[0] == "ada@example.org").message
    plain = text.get_body(("plain",)).get_content()
    assert text["Subject"] == "Programme change: Digital twins"
    assert "13:00–14:00 · Main hall" in plain  # new: 12:00 UTC is 13:00 in Amsterdam
    assert "Before the change: Thursday, March 18, 2027, 11:00–12:00 · Studio 1" in plain


def test_a_cancelled_session_cancels_every_calendar_event_and_frees_every_seat(
    app, smtp_server, make_event, make_session, now
):
    event = make_event()
    session = make_session(event, start=1, capacity=2, title="Cobots")
    other = make_session(event, start=3, title="Other")
    ada = register(event, [session, other], now, "ada@example.org")
    register(event, [session], now, "bob@example.org")
    register(event, [session], now, "cy@example.org")  # waiting list
    send_pending(now=now)
    invited = calendar_objects(
        [m for m in smtp_server.received if m.rcpt_tos[0] == "bob@example.org"], "REQUEST"
    )

    queued = notifications.session_cancelled(session, now, reason="The speaker is ill.")
    db.session.commit()

    assert queued == 3
    assert (session.status, session.sequence, session.seats_taken) == ("cancelled", 1, 0)
    statuses = db.session.scalars(
        select(Registration.status).where(Registration.session_id == session.id)
    ).all()
    assert statuses == ["cancelled"] * 3
    assert service.confirmed_count_matches_counter(session.id)
    assert not capacity.take_seat(session.id)  # nobody gets a seat in a cancelled session

    send_pending(now=now)
    cancelled = smtp_server.received[3:]
    with_calendar = [m for m in cancelled if m.rcpt_tos[0] != "cy@example.org"]
    cancels = calendar_objects(with_calendar, "CANCEL")
    assert set(cancels) == {"ada@example.org", "bob@example.org"}
    bob = cancels["bob@example.org"]
    assert bob.uid.value == invited["bob@example.org"].uid.value
    assert int(bob.sequence.value) > int(invited["bob@example.org"].sequence.value)
    assert bob.status.value == "CANCELLED"
    waiting = next(m for m in cancelled if m.rcpt_tos[0] == "cy@example.org").message
    assert not [p for p in waiting.walk() if p.get_content_type() == "text/calendar"]
    plain = waiting.get_body(("plain",)).get_content()
    assert "The speaker is ill." in plain and waiting["Subject"] == "Cancelled: Cobots"

    # Ada keeps her other session; her feed keeps the cancelled one, as cancelled.
    with app.test_request_context("/"):
        feed = parse_ics(calendar.personal_feed(ada, "Ada"), "PUBLISH")
    by_title = {e.summary.value: e for e in feed.contents["vevent"]}
    assert by_title["Cobots"].status.value == "CANCELLED"
    assert by_title["Cobots"].sequence.value == "1"
    assert by_title["Other"].status.value == "CONFIRMED"


def test_attendees_who_left_before_hear_nothing_of_a_move(app, make_event, make_session, now):
    event = make_event()
    session = make_session(event, start=1)
    other = make_session(event, start=3)
    attendee = register(event, [session, other], now, "ada@example.org")
    service.change_sessions(attendee, [other.id], waitlist=False, now=now)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    assert notifications.session_moved(session, now) == 0
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert session.sequence == 1


def test_two_moves_each_raise_the_sequence(app, make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    notifications.session_moved(session, now)
    notifications.session_moved(session, now)
    db.session.commit()

    assert session.sequence == 2


def outbox_rows(kind="session_moved"):
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def test_a_new_venue_updates_every_calendar_once_per_attendee(
    app, smtp_server, make_event, make_session, make_room, now
):
    """Issue 17, item 3: the venue is in every LOCATION, so calendars must hear of it."""
    event = make_event(venue="Hilversum")
    first = make_session(event, start=0, title="Opening")
    second = make_session(event, start=2, title="Cobots")
    register(event, [first, second], now, "ada@example.org")
    register(event, [second], now, "bob@example.org")
    send_pending(now=now)
    sequences = {s.id: s.sequence for s in (first, second)}

    schedule.update_event(None, event, {"venue": "Hilversum"}, now)  # unchanged: nothing
    db.session.commit()
    assert outbox_rows() == []

    later = now + timedelta(minutes=5)
    schedule.update_event(None, event, {"venue": "Jaarbeurs, Utrecht"}, later)
    db.session.commit()

    rows = outbox_rows()
    assert sorted(r.recipient for r in rows) == ["ada@example.org", "bob@example.org"]
    assert {s.id: s.sequence for s in (first, second)} == {i: n + 1 for i, n in sequences.items()}
    seen = len(smtp_server.received)
    send_pending(now=later)
    new = smtp_server.received[seen:]
    to_ada = [m.message for m in new if m.rcpt_tos == ["ada@example.org"]]
    assert len(to_ada) == 2  # one email for the change set, its second invitation following
    assert to_ada[1]["In-Reply-To"] == to_ada[0]["Message-ID"]
    updates = [parse_ics(itip_data(m), "REQUEST").vevent for m in to_ada]
    assert {u.summary.value for u in updates} == {"Opening", "Cobots"}
    for update in updates:
        assert update.location.value.endswith("Jaarbeurs, Utrecht")
        assert int(update.sequence.value) >= 1


def test_a_renamed_room_updates_the_calendars_of_its_sessions_only(
    app, make_event, make_session, make_room, now
):
    event = make_event()
    studio, hall = make_room(event, "Studio 1"), make_room(event, "Main hall")
    inside = make_session(event, start=0, room=studio, title="Inside")
    outside = make_session(event, start=2, room=hall, title="Outside")
    register(event, [inside, outside], now, "ada@example.org")
    register(event, [outside], now, "bob@example.org")

    schedule.update_room(None, studio, {"name": "Studio 1"}, now)
    assert outbox_rows() == []
    schedule.update_room(None, studio, {"name": "Studio Zuid"}, now)
    db.session.commit()

    [row] = outbox_rows()
    assert row.recipient == "ada@example.org" and row.payload["session_ids"] == [inside.id]
    assert (inside.sequence, outside.sequence) == (1, 0)


def test_a_new_title_is_an_update_and_a_new_description_only_a_new_sequence(
    app, make_event, make_session, now
):
    event = make_event()
    session = make_session(event, title="Cobots")
    register(event, [session], now, "ada@example.org")

    schedule.update_session(None, session, {"description": "Bring a laptop."}, now)
    db.session.commit()
    assert outbox_rows() == [] and session.sequence == 1

    schedule.update_session(None, session, {"title": "Cobots and twins"}, now)
    db.session.commit()
    [row] = outbox_rows()
    assert row.payload["session_ids"] == [session.id] and session.sequence == 2


def test_a_room_renamed_in_one_language_updates_only_the_calendars_that_show_it(
    app, make_event, make_session, make_room, now
):
    """A new English name changes the LOCATION of English readers only: Dutch attendees of
    a Dutch event got a "programme change" email (and a calendar-only email per further
    session) with nothing changed in it (issue 17, item 3: unchanged sends nothing)."""
    event = make_event(default_locale="nl")
    studio = make_room(event, "Studio 1")
    first = make_session(event, start=0, room=studio, title="Eerste")
    second = make_session(event, start=2, room=studio, title="Tweede")
    register(event, [first, second], now, "ada@example.org", locale="en")
    register(event, [first, second], now, "bert@example.org", locale="nl")

    schedule.update_room(None, studio, {"name_translated": "Studio One"}, now)
    db.session.commit()

    assert [row.recipient for row in outbox_rows()] == ["ada@example.org"]
    assert (first.sequence, second.sequence) == (1, 1)  # the feeds show it to everyone

    schedule.update_room(None, studio, {"name": "Studio Zuid"}, now)  # Dutch: both see it
    db.session.commit()
    assert [row.recipient for row in outbox_rows()][1:] == ["bert@example.org"]


def test_a_title_changed_in_one_language_updates_only_the_calendars_that_show_it(
    app, make_event, make_session, now
):
    event = make_event(default_locale="nl")
    session = make_session(event, title="Cobots")
    register(event, [session], now, "ada@example.org", locale="en")
    register(event, [session], now, "bert@example.org", locale="nl")

    change = {"title_translated": "Cobots in practice"}
    assert schedule.impact.session_change(session, change).recipients == 1  # the preview
    schedule.update_session(None, session, change, now)
    db.session.commit()

    assert [row.recipient for row in outbox_rows()] == ["ada@example.org"]
    assert session.sequence == 1
