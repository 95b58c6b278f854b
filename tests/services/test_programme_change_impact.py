"""The preview of a programme change (schedule.impact) says what the change then does: the
people it emails are the people the outbox gets a message for; the clash fix moves each
double-booked attendee once, to the workshop proposed or to the waiting list; not notifying
queues nothing and still raises the SEQUENCE."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AuditEntry, EventSession, OutboxMessage, Registration
from eventapp.services.errors import Conflict, InvalidInput
from eventapp.services.mail.worker import send_pending
from eventapp.services.programme import schedule
from eventapp.services.programme.schedule import impact
from tests.registering import register


def queued() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def seat(attendee, session) -> str | None:
    return db.session.scalar(
        select(Registration.status).where(
            Registration.attendee_id == attendee.id, Registration.session_id == session.id
        )
    )


@pytest.fixture
def crowd(app, make_event, make_session, now):
    """Robots (2 seats, 09:00 UTC) held by Ada and Bob, Cy waiting; Drones (1 seat left) in
    the same round; Lasers (10:00 UTC) held by Ada and Bob too."""
    event = make_event()
    robots = make_session(event, title="Robots", capacity=2)
    drones = make_session(event, title="Drones", capacity=2)
    lasers = make_session(event, start=1, title="Lasers", capacity=10)
    ada = register(event, [robots, lasers], now, "ada@example.org")
    bob = register(event, [robots, lasers], now, "bob@example.org")
    cy = register(event, [robots], now, "cy@example.org")
    dan = register(event, [drones], now, "dan@example.org")
    return event, robots, drones, lasers, ada, bob, cy, dan


def local(moment) -> str:
    return moment.astimezone(moment.tzinfo).strftime("%Y-%m-%dT%H:%M")


CHANGES = {
    "retitle": {"title": "Cobots"},
    "new description only": {"description": "More robots."},
    "move to round two": {"starts_at": "2027-03-18T12:30", "ends_at": "2027-03-18T13:30"},
    "cancel": {"status": "cancelled"},
}


@pytest.mark.parametrize("name", CHANGES)
def test_the_preview_counts_the_emails_the_change_then_queues(crowd, now, name):
    _event, robots, *_ = crowd
    data = CHANGES[name]
    preview = impact.session_change(robots, data)
    before = queued()
    schedule.update_session(None, robots, data, now)
    db.session.commit()
    assert queued() - before == preview.recipients
    expected = {"retitle": 2, "new description only": 0, "move to round two": 3, "cancel": 3}
    assert preview.recipients == expected[name]


def test_the_event_previews_count_what_a_new_venue_and_a_move_send(crowd, now):
    event, *_ = crowd
    venue = impact.event_change(event, {"venue": "Utrecht"})
    before = queued()
    schedule.update_event(None, event, {"venue": "Utrecht"}, now)
    assert (venue.recipients, queued() - before) == (3, 3)  # seat holders, once each

    move = impact.event_move(event, "2027-03-25T09:00")
    before = queued()
    schedule.move_event(None, event, "2027-03-25T09:00", now)
    assert (move.recipients, queued() - before) == (4, 4)  # the waiting list too
    assert impact.event_move(event, "2027-03-25T09:00").recipients == 0  # no move, no email


def test_the_preview_writes_nothing(crowd):
    _event, robots, *_ = crowd
    before = (queued(), robots.sequence, robots.starts_at)
    found = impact.session_change(robots, CHANGES["move to round two"])
    db.session.rollback()
    db.session.expire_all()
    assert (queued(), robots.sequence, robots.starts_at) == before
    assert found.needs_review


MOVE_ON_LASERS = {"starts_at": "2027-03-18T11:00", "ends_at": "2027-03-18T12:00"}


def test_the_preview_proposes_the_free_seats_of_the_round_left_in_turn(crowd):
    _event, robots, drones, lasers, ada, bob, *_ = crowd
    found = impact.session_change(robots, MOVE_ON_LASERS)
    proposals = [(c.attendee.id, c.other.id, c.alternative) for c in found.clashes]
    # Drones has one seat left: Ada (first by name) gets it, Bob the waiting list.
    assert proposals == [(ada.id, lasers.id, drones), (bob.id, lasers.id, None)]
    assert [c.kind for c in found.conflicts] == ["attendee_overlap"]
    assert found.to_dict()["clashes"][1]["alternative"] is None


def test_without_a_fix_the_clash_blocks_and_nothing_changes(crowd, now):
    _event, robots, *_ = crowd
    with pytest.raises(Conflict):
        schedule.update_session(None, robots, MOVE_ON_LASERS, now)
    db.session.rollback()
    assert db.session.get(EventSession, robots.id).starts_at.hour == 9


def test_the_alternative_fix_moves_each_attendee_once_and_tells_them_once(crowd, now):
    _event, robots, drones, lasers, ada, bob, cy, _dan = crowd
    before = queued()
    change = schedule.update_session(
        None,
        robots,
        MOVE_ON_LASERS,
        now,
        clash_fix=schedule.ALTERNATIVE,
        telling=schedule.Telling.of(note="Sorry"),
    )
    db.session.commit()
    assert seat(ada, drones) == "confirmed" and seat(ada, robots) == "cancelled"
    assert seat(bob, robots) == "waitlisted"  # no seat left for him in Drones
    assert seat(cy, robots) == "confirmed"  # freed seats went to the waiting list
    assert seat(ada, lasers) == seat(bob, lasers) == "confirmed"
    kinds = db.session.execute(
        select(OutboxMessage.attendee_id, OutboxMessage.kind, OutboxMessage.payload)
        .where(OutboxMessage.id > 0)
        .order_by(OutboxMessage.id)
    ).all()[before:]
    by_person = {}
    for attendee_id, kind, payload in kinds:
        by_person.setdefault(attendee_id, []).append((kind, payload.get("note")))
    assert by_person[ada.id] == [("clash_resolved", "Sorry")]
    assert by_person[bob.id] == [("clash_resolved", "Sorry")]
    assert by_person[cy.id] == [("session_moved", "Sorry"), ("promoted", None)]
    assert change.notified == 3
    assert db.session.get(EventSession, drones.id).seats_taken == 2


def test_a_proposed_seat_taken_meanwhile_sends_that_attendee_to_the_waiting_list(
    crowd, now, make_session
):
    event, robots, drones, _lasers, ada, *_ = crowd
    register(event, [drones], now, "eve@example.org")  # takes Drones' last seat
    schedule.update_session(None, robots, MOVE_ON_LASERS, now, clash_fix=schedule.ALTERNATIVE)
    db.session.commit()
    assert seat(ada, robots) == "waitlisted" and seat(ada, drones) is None


def test_the_clash_email_cancels_the_old_seat_and_invites_to_the_new_one(crowd, now, smtp_server):
    _event, robots, drones, _lasers, ada, *_ = crowd
    send_pending(now=now)
    sent = len(smtp_server.received)
    schedule.update_session(None, robots, MOVE_ON_LASERS, now, clash_fix=schedule.ALTERNATIVE)
    db.session.commit()
    send_pending(now=now + timedelta(minutes=1))
    to_ada = [m for m in smtp_server.received[sent:] if m.rcpt_tos == ["ada@example.org"]]
    # One calendar object per email (the second a calendar-only one that follows).
    methods = [
        {p.get_param("method") for p in m.message.walk() if p.get_content_type() == "text/calendar"}
        for m in to_ada
    ]
    assert sorted(methods, key=sorted) == [{"CANCEL"}, {"REQUEST"}]
    plain = to_ada[0].message.get_body(("plain",)).get_content()
    assert "you now have a place in this workshop instead" in plain and "Drones" in plain


def test_not_notifying_queues_nothing_but_raises_the_sequence_and_is_audited(crowd, now):
    _event, robots, *_ = crowd
    sequence, before = robots.sequence, queued()
    schedule.update_session(
        None, robots, CHANGES["retitle"], now, telling=schedule.Telling(notify=False)
    )
    db.session.commit()
    assert queued() == before and robots.sequence == sequence + 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.updated"))
    assert entry.one().after == {"title": "Cobots", "sequence": sequence + 1, "notified": False}


@pytest.mark.parametrize("note", ["x" * 2001, "bell\x07", 12])
def test_a_bad_note_is_refused(app, note):
    with pytest.raises(InvalidInput) as refused:
        schedule.Telling.of(note=note)
    assert "note" in refused.value.fields


def test_a_note_keeps_its_lines(app):
    assert schedule.Telling.of(note=" One\r\nTwo\n ").note == "One\nTwo"


def test_an_unknown_clash_fix_is_refused(crowd, now):
    _event, robots, *_ = crowd
    with pytest.raises(InvalidInput) as refused:
        schedule.update_session(None, robots, MOVE_ON_LASERS, now, clash_fix="later")
    assert "clash_fix" in refused.value.fields
