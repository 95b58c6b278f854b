"""Organisers acting on attendees through the services: edit, move, cancel, manual promotion,
and the admin's capacity override, always by the registration service's own rules."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry, OutboxMessage, Registration
from eventapp.services.backoffice import attendees
from eventapp.services.backoffice.accounts import create_organiser
from eventapp.services.backoffice.attendees import AttendeeChanges, AttendeeFilter
from eventapp.services.errors import Forbidden, InvalidInput, ScheduleConflict, SessionFull
from eventapp.services.registration import register as registration
from eventapp.services.registration import waitlist
from eventapp.services.registration.register import RegistrationInput

AFTER_CLOSING = datetime(2027, 3, 17, 12, 0, tzinfo=UTC)  # the window closed at midnight


def sign_up(event, sessions, email, now, *, name=None, waitlist_ok=False, organisation=""):
    result = registration.register(
        event,
        RegistrationInput(
            name=name or email.split("@")[0].title(),
            email=email,
            organisation=organisation,
            session_ids=[s.id for s in sessions],
            waitlist=waitlist_ok,
            consent=True,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


@pytest.fixture
def staff(app):
    def make(role):
        person = create_organiser(f"{role}@example.org", "a long enough password", role=role)
        db.session.commit()
        return person

    return make


def audit_actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def statuses(attendee):
    db.session.refresh(attendee)
    return {r.session_id: r.status for r in attendee.registrations}


def test_move_outside_the_registration_window_keeps_capacity_and_overlap_rules(
    make_event, make_session, now, staff
):
    event = make_event()
    first = make_session(event, start=0, capacity=5, title="First")
    full = make_session(event, start=2, capacity=1, title="Full")
    clash = make_session(event, start=0.5, capacity=5, title="Clash")
    ada = sign_up(event, [first], "ada@example.org", now)
    sign_up(event, [full], "bob@example.org", now)
    organiser = staff("organiser")

    # The attendee could no longer change anything themselves; the organiser can.
    with pytest.raises(SessionFull):
        attendees.move_attendee(ada, [first.id, full.id], actor=organiser, now=AFTER_CLOSING)
    db.session.rollback()
    with pytest.raises(ScheduleConflict):
        attendees.move_attendee(ada, [first.id, clash.id], actor=organiser, now=AFTER_CLOSING)
    db.session.rollback()
    assert statuses(ada) == {first.id: "confirmed"}

    attendees.move_attendee(
        ada, [first.id, full.id], actor=organiser, now=AFTER_CLOSING, waitlist=True
    )
    db.session.commit()
    assert statuses(ada) == {first.id: "confirmed", full.id: "waitlisted"}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "attendee.move")).one()
    assert entry.organiser_id == organiser.id
    assert entry.before == {"confirmed": [first.id]}
    assert entry.after == {"confirmed": [first.id], "waitlisted": [full.id]}


def test_only_an_admin_may_override_capacity_and_the_override_is_logged(
    make_event, make_session, now, staff
):
    event = make_event()
    full = make_session(event, capacity=1, title="Full")
    sign_up(event, [full], "bob@example.org", now)
    other = make_session(event, start=3, capacity=5)
    ada = sign_up(event, [other], "ada@example.org", now)

    with pytest.raises(Forbidden):
        attendees.move_attendee(
            ada, [other.id, full.id], actor=staff("organiser"), now=now, override_capacity=True
        )
    db.session.rollback()
    assert full.capacity == 1

    admin = staff("admin")
    attendees.move_attendee(ada, [other.id, full.id], actor=admin, now=now, override_capacity=True)
    db.session.commit()
    db.session.refresh(full)
    assert statuses(ada)[full.id] == "confirmed"
    # The override adds the seat it takes: the counter stays within capacity (the database's
    # own CHECK constraint), and the new capacity is what the dashboard shows.
    assert (full.capacity, full.seats_taken) == (2, 2)
    assert registration.confirmed_count_matches_counter(full.id)
    override = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "session.capacity_override")
    ).one()
    assert override.organiser_id == admin.id
    assert override.object_type == "event_session" and override.object_id == full.id
    assert override.before == {"capacity": 1}
    assert override.after["capacity"] == 2 and override.after["attendee"] == ada.reference


def test_override_is_not_used_while_seats_are_free(make_event, make_session, now, staff):
    event = make_event()
    roomy = make_session(event, capacity=3)
    ada = sign_up(event, [make_session(event, start=3)], "ada@example.org", now)
    attendees.move_attendee(ada, [roomy.id], actor=staff("admin"), now=now, override_capacity=True)
    db.session.commit()
    db.session.refresh(roomy)
    assert (roomy.capacity, roomy.seats_taken) == (3, 1)
    assert "session.capacity_override" not in audit_actions()


def test_edit_details_keeps_email_unique_per_event_and_logs_the_change(
    make_event, make_session, now, staff
):
    event = make_event()
    session = make_session(event)
    ada = sign_up(event, [session], "ada@example.org", now, organisation="Old BV")
    sign_up(event, [session], "bob@example.org", now)
    organiser = staff("organiser")

    with pytest.raises(InvalidInput) as taken:
        attendees.update_attendee(ada, AttendeeChanges("Ada", "BOB@example.org", ""), organiser)
    assert "email" in taken.value.fields
    db.session.rollback()

    attendees.update_attendee(
        ada, AttendeeChanges("  Ëlise Müller ", "elise@example.org", "New BV"), organiser
    )
    db.session.commit()
    assert (ada.name, ada.email_normalized, ada.organisation) == (
        "Ëlise Müller",
        "elise@example.org",
        "New BV",
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attendee.update")
    ).one()
    assert entry.before == {"name": "Ada", "email": "ada@example.org", "organisation": "Old BV"}
    assert entry.after["name"] == "Ëlise Müller"


def test_cancel_gives_seats_to_the_waiting_list_and_emails_both(
    make_event, make_session, now, staff
):
    event = make_event()
    full = make_session(event, capacity=1)
    ada = sign_up(event, [full], "ada@example.org", now)
    bob = sign_up(event, [full], "bob@example.org", now, waitlist_ok=True)
    assert statuses(bob) == {full.id: "waitlisted"}

    attendees.cancel_attendee(ada, actor=staff("organiser"), now=now)
    db.session.commit()
    assert ada.status == "cancelled"
    assert statuses(bob) == {full.id: "confirmed"}
    kinds = [
        (m.kind, m.recipient)
        for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    ]
    assert ("cancelled", "ada@example.org") in kinds and ("promoted", "bob@example.org") in kinds
    assert "attendee.cancel" in audit_actions()


def test_manual_promotion_out_of_turn_by_the_usual_rules(make_event, make_session, now, staff):
    event = make_event()
    workshop = make_session(event, capacity=1, title="Workshop")
    held = make_session(event, start=0.5, capacity=5, title="Overlapping")
    sign_up(event, [workshop], "first@example.org", now)
    second = sign_up(event, [workshop], "second@example.org", now, waitlist_ok=True)
    third = sign_up(event, [workshop], "third@example.org", now, waitlist_ok=True)
    organiser, admin = staff("organiser"), staff("admin")
    reg_third = next(r for r in third.registrations if r.session_id == workshop.id)

    with pytest.raises(SessionFull):
        waitlist.promote_registration(reg_third, now, organiser)
    db.session.rollback()
    with pytest.raises(Forbidden):
        waitlist.promote_registration(reg_third, now, organiser, override_capacity=True)
    db.session.rollback()

    # Third jumps the queue, over capacity, by the admin; second keeps their place.
    waitlist.promote_registration(reg_third, now, admin, override_capacity=True)
    db.session.commit()
    db.session.refresh(workshop)
    assert statuses(third) == {workshop.id: "confirmed"}
    assert statuses(second) == {workshop.id: "waitlisted"}
    assert (workshop.capacity, workshop.seats_taken) == (2, 2)
    assert audit_actions()[-2:] == ["session.capacity_override", "registration.promote"]
    assert (
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "promoted"))
        .one()
        .recipient
        == "third@example.org"
    )

    # Someone holding an overlapping seat (the programme moved since they joined the list)
    # is refused, as an automatic promotion would skip them.
    db.session.add(Registration(attendee=second, session=held, status="confirmed"))
    held.seats_taken += 1
    db.session.commit()
    reg_second = next(r for r in second.registrations if r.session_id == workshop.id)
    with pytest.raises(ScheduleConflict):
        waitlist.promote_registration(reg_second, now, admin, override_capacity=True)
    db.session.rollback()
    # A registration not (or no longer) on the list is refused too.
    with pytest.raises(InvalidInput):
        waitlist.promote_registration(reg_third, now, admin)


def test_search_filter_and_pages(make_event, make_session, now):
    event = make_event()
    morning = make_session(event, capacity=100, title="Morning")
    afternoon = make_session(event, start=3, capacity=1, title="Afternoon")
    ada = sign_up(
        event,
        [morning],
        "ada@example.org",
        now,
        name="Ada Lovelace",
        organisation="Analytical Engines",
    )
    bob = sign_up(event, [morning, afternoon], "bob@example.org", now, name="Bob Dijkstra")
    sign_up(event, [afternoon], "cyd@example.org", now, name="Cyd 100%_match", waitlist_ok=True)
    sign_up(event, [afternoon], "dan@example.org", now, name="Dan", waitlist_ok=True)
    for n in range(60):
        sign_up(event, [morning], f"p{n:02d}@example.org", now, name=f"Person {n:02d}")
    ada.checked_in_at = now
    registration.cancel_registration(bob, now)  # Cyd moves up from the waiting list
    db.session.commit()

    def find(**kwargs):
        query = attendees.attendee_query(event, AttendeeFilter(**kwargs))
        return [a.email for a in db.session.scalars(query)]

    assert find(q="lovelace") == ["ada@example.org"]
    assert find(q="ANALYTICAL") == ["ada@example.org"]
    assert find(q="bob@EXAMPLE") == ["bob@example.org"]
    assert find(q=ada.reference.lower()) == ["ada@example.org"]
    assert find(q="100%_") == ["cyd@example.org"]  # LIKE wildcards are taken literally
    assert find(q="%") == ["cyd@example.org"]  # only the one with a literal %
    assert find(session_id=afternoon.id) == ["cyd@example.org", "dan@example.org"]
    assert find(session_id=afternoon.id, status="confirmed") == ["cyd@example.org"]
    assert find(session_id=afternoon.id, status="cancelled") == ["bob@example.org"]
    assert find(status="waitlisted") == ["dan@example.org"]
    assert find(status="cancelled") == ["bob@example.org"]
    assert find(checked_in="yes") == ["ada@example.org"]
    assert len(find(checked_in="no", status="active")) == 62
    assert find(sort="newest")[0] == "p59@example.org"

    page = attendees.attendee_page(event, AttendeeFilter(), page=2)
    assert page.total == 64 and page.pages == 2 and len(page.items) == 14
    assert (
        AttendeeFilter.from_args(
            {"session": "x", "status": "drop table", "sort": "evil", "checked_in": "maybe"}
        )
        == AttendeeFilter()
    )
