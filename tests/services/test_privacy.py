"""Privacy: the data export, the attendee's own erasure, anonymising and retention."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, Event, EventSession, OutboxMessage, Registration
from eventapp.models.types import utcnow
from eventapp.services import privacy
from eventapp.services.errors import Conflict, NotFound
from eventapp.services.links import manage_token
from eventapp.services.mail.worker import send_pending
from eventapp.services.periodic import run_periodic
from eventapp.services.registration import register as service
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
)


def sign_up(event, session_ids, email, now, *, waitlist=True, **extra):
    data = RegistrationInput(
        name=extra.pop("name", "Ada Lovelace"),
        email=email,
        organisation="Analytical Engines BV",
        job_role="Engineer",
        session_ids=session_ids,
        waitlist=waitlist,
        consent=True,
        consent_text="2026-11",
        **extra,
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee


def status_counts(event) -> dict:
    rows = db.session.execute(
        select(Registration.status, func.count())
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(EventSession.event_id == event.id)
        .group_by(Registration.status)
    ).all()
    return dict(rows)


def everything_about(attendee_id) -> str:
    """All stored text that mentions the attendee, to search for leftovers."""
    attendee = db.session.get(Attendee, attendee_id)
    texts = [str({c.key: getattr(attendee, c.key) for c in Attendee.__table__.columns})]
    texts += [str((m.recipient, m.payload)) for m in db.session.scalars(select(OutboxMessage))]
    texts += [str((a.before, a.after)) for a in db.session.scalars(select(AuditEntry))]
    return " ".join(texts)


def test_export_holds_everything_stored_as_json(make_event, make_session, now):
    event = make_event()
    workshop = make_session(event, title="Digital twins", capacity=1)
    other = make_session(event, start=2, title="Cobots")
    sign_up(event, [workshop.id], "first@example.org", now)
    ada = sign_up(event, [workshop.id, other.id], "ada@example.org", now)

    data = privacy.export_data(ada, now)

    json.dumps(data)  # plain JSON all the way down
    assert data["attendee"]["email"] == "ada@example.org"
    assert data["attendee"]["organisation"] == "Analytical Engines BV"
    assert data["attendee"]["consent_text"] == "2026-11"
    assert data["attendee"]["consent_at"] == now.isoformat()
    by_title = {r["title"]: r for r in data["registrations"]}
    assert by_title["Digital twins"]["status"] == "waitlisted"
    assert by_title["Digital twins"]["waitlist_position"] == 1
    assert by_title["Cobots"]["status"] == "confirmed"
    assert [e["kind"] for e in data["emails"]] == ["confirmation"]
    assert data["event"]["slug"] == event.slug
    assert "purpose" in data


def test_erasing_before_the_event_frees_seats_and_removes_personal_data(
    make_event, make_session, now, smtp_server
):
    event = make_event()
    workshop = make_session(event, capacity=1)
    ada = sign_up(event, [workshop.id], "ada@example.org", now, name="Ada Lovelace")
    waiting = sign_up(event, [workshop.id], "bob@example.org", now, name="Bob")
    token = manage_token(ada)

    privacy.erase_attendee(ada, now)
    db.session.commit()

    db.session.expire_all()
    assert (
        db.session.scalar(select(Registration.status).where(Registration.attendee_id == waiting.id))
        == "confirmed"
    )  # the seat passed on in the same transaction
    assert confirmed_count_matches_counter(workshop.id)
    erased = db.session.get(Attendee, ada.id)
    assert erased.status == "cancelled" and erased.anonymised_at == now
    # Only the email that cancels their session in their calendar holds their name and
    # address (tests/services/test_erasure_mail.py), until it is sent.
    [cancels] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "erased"))
    assert cancels.recipient == "ada@example.org" and cancels.attendee_id is None
    assert send_pending(now=now).failed == 0  # Bob's confirmation and promotion too
    db.session.expire_all()
    assert db.session.get(OutboxMessage, cancels.id).status == "sent"
    leftovers = everything_about(ada.id)
    for personal in ("Ada", "Lovelace", "ada@example.org", "Analytical", "Engineer"):
        assert personal not in leftovers
    with pytest.raises(NotFound):
        service.find_by_token(token)
    assert not db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.attendee_id == ada.id)
    ).all()


def test_erasing_after_the_event_keeps_what_happened(make_event, make_session, now):
    event = make_event()
    workshop = make_session(event)
    ada = sign_up(event, [workshop.id], "ada@example.org", now)
    before = status_counts(event)

    privacy.erase_attendee(ada, event.ends_at + timedelta(days=1))
    db.session.commit()

    assert status_counts(event) == before
    db.session.refresh(workshop)
    assert workshop.seats_taken == 1
    assert db.session.get(Attendee, ada.id).name == privacy.ANONYMISED_NAME


def test_anonymising_waits_for_the_end_of_the_event(make_event, make_session, now):
    event = make_event()
    sign_up(event, [make_session(event).id], "ada@example.org", now)
    with pytest.raises(Conflict):
        privacy.anonymise_event(event, event.ends_at - timedelta(minutes=1))


def test_anonymising_keeps_counters_and_statistics(make_event, make_session, now):
    event = make_event()
    workshop = make_session(event, capacity=2)
    plenary = make_session(event, start=2, kind="plenary", capacity=50)
    people = [
        sign_up(event, [workshop.id, plenary.id], f"p{i}@example.org", now, name=f"Person {i}")
        for i in range(4)
    ]
    service.cancel_session(people[3], plenary.id, now)
    people[0].checked_in_at = event.starts_at
    db.session.add(
        AuditEntry(
            event_id=event.id,
            action="attendee.update",
            object_type="attendee",
            object_id=people[1].id,
            before={"name": "Person 1", "email": "p1@example.org"},
            after={"name": "Person One", "status": "active"},
        )
    )
    db.session.commit()
    before = status_counts(event)
    seats = {s.id: s.seats_taken for s in (workshop, plenary)}

    changed = privacy.anonymise_event(event, event.ends_at + timedelta(days=1))
    db.session.commit()

    assert changed == 4
    db.session.expire_all()
    assert status_counts(event) == before
    assert {
        s.id: db.session.get(EventSession, s.id).seats_taken for s in (workshop, plenary)
    } == seats
    assert confirmed_count_matches_counter(workshop.id)
    assert confirmed_count_matches_counter(plenary.id)
    attendees = db.session.scalars(select(Attendee).where(Attendee.event_id == event.id)).all()
    assert {a.name for a in attendees} == {privacy.ANONYMISED_NAME}
    assert sum(1 for a in attendees if a.checked_in_at) == 1  # attendance still counted
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.before == {"name": "(anonymised)", "email": "(anonymised)"}
    assert entry.after == {"name": "(anonymised)", "status": "active"}
    for person in people:
        assert "example.org" not in everything_about(person.id)
    assert db.session.get(Event, event.id).anonymised_at is not None


def test_retention_anonymises_automatically_once(make_event, make_session, now):
    kept = make_event(retention_days=None)
    event = make_event(retention_days=30)
    sign_up(event, [make_session(event).id], "ada@example.org", now)
    sign_up(kept, [make_session(kept).id], "bob@example.org", now)

    assert run_periodic(event.ends_at + timedelta(days=29))["events_anonymised"] == 0
    assert run_periodic(event.ends_at + timedelta(days=30))["events_anonymised"] == 1
    assert run_periodic(event.ends_at + timedelta(days=31))["events_anonymised"] == 0

    emails = set(db.session.scalars(select(Attendee.email)))
    assert "bob@example.org" in emails and "ada@example.org" not in emails


def test_cli_anonymise_and_apply_retention(runner, make_event):
    ended = utcnow() - timedelta(days=1)  # the CLI works on the real clock
    event = make_event(
        ends_at=ended,
        starts_at=ended - timedelta(hours=8),
        registration_closes_at=None,
        registration_opens_at=None,
    )
    db.session.add(
        Attendee(
            event=event,
            reference="REF00001",
            name="Ada",
            email="a@x.org",
            email_normalized="a@x.org",
            token_hash="a" * 64,
            token_nonce="n",
            feed_token_hash="b" * 64,
            feed_nonce="m",
            checkin_code="C1",
        )
    )
    db.session.commit()

    result = runner.invoke(args=["privacy", "anonymise", event.slug])
    assert result.exit_code == 0, result.output
    assert "1 attendee" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Attendee.name)) == privacy.ANONYMISED_NAME

    result = runner.invoke(args=["privacy", "anonymise", "no-such-event"])
    assert result.exit_code != 0
    result = runner.invoke(args=["privacy", "apply-retention"])
    assert result.exit_code == 0 and "0 event" in result.output
