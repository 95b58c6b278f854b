"""Publishing a dry run (finding 5 of allocation round two): only the run the programme and
rankings still match, else a new run with the same seed and the difference; and after
publication freed seats pass to the waiting lists exactly as first come, first served."""

from collections import Counter
from functools import partial

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AllocationRun, EventSession, OutboxMessage, Registration
from eventapp.services.allocation import runs as allocation
from eventapp.services.allocation.runs import AllocationError
from eventapp.services.programme import schedule
from eventapp.services.registration.register import (
    RegistrationInput,
    cancel_session,
    confirmed_count_matches_counter,
    register,
)
from eventapp.services.registration.waitlist import waitlist
from tests.concurrency import run_at_once


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def event(make_event, make_session, now):
    """Round A: A1 (1 seat) and A2 (1 seat); Ann, Bob, Cy rank A1 first, A2 second."""
    event = make_event(allocation_mode="preferences")
    a1 = make_session(event, start=2, capacity=1, title="A1")
    a2 = make_session(event, start=2, capacity=1, title="A2")
    key = allocation.rounds_of(event)[0].key
    people = {}
    for name in ("Ann", "Bob", "Cy"):
        people[name] = register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name.lower()}@example.org",
                consent=True,
                preferences={key: [a1.id, a2.id]},
            ),
            now,
        ).attendee
    db.session.commit()
    return event, a1, a2, people


def holders(session_id):
    return set(
        db.session.scalars(
            select(Registration.attendee_id).where(
                Registration.session_id == session_id, Registration.status == "confirmed"
            )
        )
    )


def test_a_capacity_change_after_the_dry_run_is_not_ignored(event, now):
    """A1 grows from 1 to 3 seats after the dry run. Publishing the old run would leave two
    seats empty and two people on the waiting list: it is refused, naming the change."""
    ev, a1, a2, people = event
    run = allocation.dry_run(ev, 8, now=now)
    db.session.commit()
    a1.capacity = 3
    db.session.commit()
    with pytest.raises(AllocationError) as error:
        allocation.publish(ev, run, now=now)
    db.session.rollback()
    assert error.value.code == "stale"
    assert "A1: 1 → 3 seats" in error.value.message
    assert error.value.details["changes"] == ["A1: 1 → 3 seats"]
    assert holders(a1.id) == set()


def test_republish_runs_again_with_the_same_seed_and_shows_the_difference(event, now):
    ev, a1, a2, people = event
    run = allocation.dry_run(ev, 8, now=now)
    db.session.commit()
    a1.capacity = 2
    db.session.commit()
    fresh, changes = allocation.rerun_if_stale(ev, run, now=now)
    db.session.commit()
    assert fresh.id != run.id and fresh.seed == run.seed == 8
    assert changes.inputs == ["A1: 1 → 2 seats"]
    before = {a["attendee_id"]: a["workshop_id"] for a in run.result["assignments"]}
    after = {a["attendee_id"]: a["workshop_id"] for a in fresh.result["assignments"]}
    assert changes.moved == sum(before[a] != after[a] for a in before) >= 1
    assert (run.stats["optimal"]["none"], fresh.stats["optimal"]["none"]) == (1, 0)
    same, nothing = allocation.rerun_if_stale(ev, fresh, now=now)
    assert same.id == fresh.id and not nothing.inputs
    allocation.publish(ev, fresh, now=now)
    db.session.commit()
    assert len(holders(a1.id)) == 2 and len(holders(a2.id)) == 1


def test_changed_rankings_are_named_too(event, now):
    ev, a1, a2, people = event
    run = allocation.dry_run(ev, 8, now=now)
    key = allocation.rounds_of(ev)[0].key
    allocation.change_preferences(people["Bob"], {key: [a2.id]}, now)
    with pytest.raises(AllocationError) as error:
        allocation.publish(ev, run, now=now)
    assert error.value.details["changes"] == ["1 ranking changed"]


def test_a_seat_freed_after_publication_goes_to_the_first_in_line(event, now):
    """Whoever the allocation left without a workshop is on the waiting lists of A1 and A2;
    when a seat frees in A1 they get it, exactly as first come, first served."""
    ev, a1, a2, people = event
    allocation.publish(ev, allocation.dry_run(ev, 4, now=now), now=now)
    db.session.commit()
    (left_out,) = [p for p in people.values() if p.id not in holders(a1.id) | holders(a2.id)]
    assert [r.attendee_id for r in waitlist(a1.id)] == [left_out.id]
    (seated,) = holders(a1.id)
    mails = db.session.scalar(select(db.func.count()).select_from(OutboxMessage))

    cancel_session(db.session.get(type(left_out), seated), a1.id, now)
    db.session.commit()
    assert holders(a1.id) == {left_out.id}
    assert confirmed_count_matches_counter(a1.id)
    # Their place on A2's list (same round) stays, and they are told by email.
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert "promoted" in kinds[mails:]


def test_a_seat_added_after_publication_goes_to_the_first_in_line(event, now, make_organiser):
    ev, a1, a2, people = event
    allocation.publish(ev, allocation.dry_run(ev, 4, now=now), now=now)
    db.session.commit()
    (left_out,) = [p for p in people.values() if p.id not in holders(a1.id) | holders(a2.id)]
    schedule.update_session(
        make_organiser(), db.session.get(EventSession, a2.id), {"capacity": 2}, now
    )
    db.session.commit()
    assert left_out.id in holders(a2.id)
    assert db.session.scalar(select(AllocationRun.status)) == "published"


def test_concurrent_run_and_publish_in_one_transaction_publishes_once(app, event, now):
    """The API's "dry_run": false, the CLI and the deadline job make a run and publish it in
    one transaction. Three at once: one publishes, the others see it published. On
    PostgreSQL the run's insert holds a key-share lock on the event row (its foreign key),
    so publication's lock on that row must not conflict with it: a FOR UPDATE did, and all
    but one of them died in a deadlock (the deadline job then showed the organisers a
    failure)."""
    ev, a1, a2, people = event
    event_id = ev.id

    def writer(seed):
        def act():
            found = db.session.get(type(ev), event_id)
            allocation.publish(found, allocation.dry_run(found, seed, now=now), now=now)
            return "published"

        return act

    outcomes = run_at_once(app, [partial(writer, seed) for seed in range(3)])
    assert outcomes == Counter({"published": 1, "already_published": 2})
    db.session.expire_all()
    assert len(holders(a1.id)) == len(holders(a2.id)) == 1
    assert db.session.scalars(select(AllocationRun.status)).all().count("published") == 1
