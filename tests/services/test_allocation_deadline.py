"""The deadline job (finding 6 of allocation round two): one failing event does not stop the
others; each is allocated in its own transaction, a failure is logged and shown to that
event's organisers."""

import logging

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AllocationRun, AuditEntry, Event, Registration
from eventapp.services.allocation import runs as allocation
from eventapp.services.periodic import run_periodic
from eventapp.services.registration.register import RegistrationInput, register


def due_event(make_event, make_session, now, slug):
    event = make_event(allocation_mode="preferences", slug=slug)
    workshop = make_session(event, start=2, capacity=1, title=f"{slug} workshop")
    key = allocation.rounds_of(event)[0].key
    register(
        event,
        RegistrationInput(
            name="Ada", email=f"ada@{slug}.org", consent=True, preferences={key: [workshop.id]}
        ),
        now,
    )
    db.session.commit()
    return event


@pytest.fixture
def two_events(make_event, make_session, now):
    """Two events past their deadline; the first (lower id) will fail."""
    return (
        due_event(make_event, make_session, now, "broken"),
        due_event(make_event, make_session, now, "fine"),
    )


def fail_for(monkeypatch, slug, error=RuntimeError("solver exploded")):
    real = allocation.publish

    def publish(event, run, **kwargs):
        if event.slug == slug:
            raise error
        return real(event, run, **kwargs)

    monkeypatch.setattr(allocation, "publish", publish)


def test_one_failing_event_does_not_stop_the_others(
    two_events, monkeypatch, caplog, client, login, make_organiser
):
    broken, fine = two_events
    fail_for(monkeypatch, "broken")
    deadline = max(broken.registration_closes_at, fine.registration_closes_at)
    with caplog.at_level(logging.ERROR):
        done = run_periodic(deadline)
    assert done["allocations_published"] == 1
    published = dict(db.session.execute(select(Event.slug, Event.allocation_published_at)).all())
    assert published["broken"] is None and published["fine"] is not None
    # The broken event's attempt left nothing behind but the failure record.
    assert db.session.scalars(select(AllocationRun.event_id)).all() == [fine.id]
    assert db.session.scalars(select(Registration.status)).all().count("confirmed") == 1
    assert f"allocation at the deadline failed for event {broken.id}" in caplog.text
    failures = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "allocation.failed")
    ).all()
    assert [(f.event_id, f.after["error"]) for f in failures] == [
        (broken.id, "RuntimeError: solver exploded")
    ]

    # The same failure next round is not recorded twice; the organisers see it.
    run_periodic(deadline)
    assert (
        len(
            db.session.scalars(
                select(AuditEntry.id).where(AuditEntry.action == "allocation.failed")
            ).all()
        )
        == 1
    )
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(make_organiser())
    page = client.get("/organiser/events/broken/allocation").get_data(as_text=True)
    assert (
        "The allocation at the registration deadline failed: RuntimeError: solver exploded" in page
    )
    other = client.get("/organiser/events/fine/allocation").get_data(as_text=True)
    assert "deadline failed" not in other

    # Once it works, the event is published and the notice goes.
    monkeypatch.undo()
    assert run_periodic(deadline)["allocations_published"] == 1
    page = client.get("/organiser/events/broken/allocation").get_data(as_text=True)
    assert "deadline failed" not in page


def test_a_database_error_in_one_event_is_rolled_back_alone(two_events, monkeypatch):
    """An error that breaks the transaction (here a failed flush) must not take the next
    event's work with it: that is what a savepoint in a shared transaction risked."""
    broken, fine = two_events

    real = allocation.publish

    def publish(event, run, **kwargs):
        if event.slug == "broken":
            db.session.execute(db.text("SELECT * FROM no_such_table"))
        return real(event, run, **kwargs)

    monkeypatch.setattr(allocation, "publish", publish)
    deadline = max(broken.registration_closes_at, fine.registration_closes_at)
    assert run_periodic(deadline)["allocations_published"] == 1
    assert db.session.get(Event, fine.id).allocation_published_at is not None
