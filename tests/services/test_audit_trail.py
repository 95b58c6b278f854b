"""The audit trail holds what attendees change themselves and what happens automatically,
each entry with its actor (organiser, attendee, system) and the attendee and session it
concerns, which the organiser's log filters on (issue 20, item 8)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry
from eventapp.services import audit, privacy
from eventapp.services.backoffice import audit_log
from eventapp.services.programme import reading
from eventapp.services.registration import email_change, self_service
from eventapp.services.registration import waitlist as waitlist_service
from tests.registering import register


def trail() -> list[tuple[str, str, int | None, int | None]]:
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(e.action, e.actor_kind, e.attendee_id, e.session_id) for e in entries]


@pytest.fixture
def full_workshop(app, make_event, make_session, now):
    event = make_event()
    workshop = make_session(event, title="Robots", capacity=1)
    other = make_session(event, start=2, title="Lasers")
    ada = register(event, [workshop], now, "ada@example.org")
    bob = register(event, [workshop], now, "bob@example.org")  # waiting
    return event, workshop, other, ada, bob


def test_giving_up_a_seat_and_the_automatic_promotion_are_both_in_the_trail(full_workshop, now):
    _event, workshop, _other, ada, bob = full_workshop
    self_service.drop_session(ada, workshop.id, now)  # Ada's last session: a cancellation
    db.session.commit()
    assert trail() == [
        ("registration.promoted", "system", bob.id, workshop.id),
        ("attendee.session_dropped", "attendee", ada.id, workshop.id),
    ]


def test_changing_sessions_and_details_and_cancelling_are_the_attendees_own(full_workshop, now):
    _event, workshop, other, ada, bob = full_workshop
    self_service.change_choices(ada, [workshop.id, other.id], waitlist=False, now=now)
    self_service.update_details(ada, name="Ada King", organisation="TNO")
    self_service.update_details(ada, name="Ada King")  # nothing new: no entry
    self_service.cancel(ada, now)
    db.session.commit()
    actions = [(a, kind, who) for a, kind, who, _session in trail()]
    assert actions == [
        ("attendee.sessions_changed", "attendee", ada.id),
        ("attendee.details_changed", "attendee", ada.id),
        ("registration.promoted", "system", bob.id),
        ("attendee.cancelled", "attendee", ada.id),
    ]
    changed = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attendee.sessions_changed")
    ).one()
    assert changed.before == {"confirmed": [workshop.id]}
    assert changed.after == {"confirmed": [workshop.id, other.id]}


@pytest.fixture
def offered(app, make_event, make_session, now):
    event = make_event(promotion_mode="offer", offer_hours=24)
    workshop = make_session(event, title="Robots", capacity=1)
    ada = register(event, [workshop], now, "ada@example.org")
    bob = register(event, [workshop], now, "bob@example.org")
    cy = register(event, [workshop], now, "cy@example.org")
    self_service.drop_session(ada, workshop.id, now)
    db.session.commit()
    return workshop, ada, bob, cy


def test_offers_accepted_and_declined_by_the_attendee_expired_by_the_system(offered, now):
    workshop, ada, bob, cy = offered
    waitlist_service.decline_offer(bob, workshop.id, now)  # the offer passes on to Cy
    waitlist_service.expire_offers(now + timedelta(days=2))
    db.session.commit()
    assert [(a, kind, who) for a, kind, who, _s in trail()] == [
        ("registration.offered", "system", bob.id),  # Ada's seat, freed as she left
        ("attendee.session_dropped", "attendee", ada.id),
        ("registration.offer_declined", "attendee", bob.id),
        ("registration.offered", "system", cy.id),
        ("registration.offer_expired", "system", cy.id),
    ]


def test_accepting_an_offer_is_the_attendees(offered, now):
    workshop, _ada, bob, _cy = offered
    waitlist_service.accept_offer(bob, workshop.id, now)
    db.session.commit()
    assert trail()[-1] == ("registration.offer_accepted", "attendee", bob.id, workshop.id)


def test_an_email_change_is_the_attendees_and_anonymising_scrubs_it(full_workshop, now):
    _event, _workshop, _other, ada, _bob = full_workshop
    email_change.request_email_change(ada, "ada.king@example.org", now)
    email_change.confirm_email_change(ada, now)
    db.session.commit()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attendee.email_changed")
    ).one()
    assert (entry.actor_kind, entry.attendee_id) == ("attendee", ada.id)
    assert entry.after == {"email": "ada.king@example.org"}
    privacy.erase_attendee(ada, now)
    db.session.commit()
    db.session.refresh(entry)
    assert entry.before == entry.after == {"email": "(anonymised)"}


def test_an_organisers_entry_names_the_attendee_and_session_of_a_registration(
    full_workshop, make_organiser, now
):
    _event, workshop, _other, ada, _bob = full_workshop
    organiser = make_organiser()
    registration = next(r for r in ada.registrations if r.session_id == workshop.id)
    audit.record(organiser, "registration.promote", registration, {}, {}, now=now)
    db.session.commit()
    assert trail()[-1] == ("registration.promote", "organiser", ada.id, workshop.id)


def test_the_log_reads_an_entry_in_words(full_workshop, now):
    event, workshop, other, ada, _bob = full_workshop
    self_service.change_choices(ada, [workshop.id, other.id], waitlist=False, now=now)
    db.session.commit()
    [line], total = audit_log.page_of(event, attendee_id=ada.id)
    assert total == 1 and line.actor_kind == "attendee" and line.actor == "Ada"
    assert line.what == "Changed their sessions"
    [change] = line.changes
    assert (change.label, change.before.text, change.after.text) == (
        "Sessions with a seat",
        "Robots",
        "Robots, Lasers",
    )


def test_an_event_snapshot_holds_its_stored_columns_only(app, make_event):
    """A computed attribute (whether the event asks questions, loaded with an event read by
    its slug) is not a column of the event and not part of its audit snapshot: it would
    cost a query and show a change nobody made."""
    event = make_event()
    db.session.commit()
    loaded = reading.get_event(event.slug, public=False)
    assert loaded.__dict__.get("asks_questions") is False  # loaded with the event

    snapshot = audit.snapshot(loaded)
    assert "asks_questions" not in snapshot
    assert snapshot["slug"] == event.slug
