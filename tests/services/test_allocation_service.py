"""The allocation service on a real database: preferences at registration, dry run, publish."""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import (
    AllocationRun,
    Attendee,
    EventSession,
    OutboxMessage,
    Preference,
    Registration,
)
from eventapp.services.allocation import runs as allocation
from eventapp.services.allocation.runs import AllocationError
from eventapp.services.errors import InvalidInput
from eventapp.services.registration.register import (
    RegistrationInput,
    confirmed_count_matches_counter,
    register,
)
from eventapp.services.registration.waitlist import waitlist


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def programme(make_event, make_session):
    """A preference-mode event: a plenary, round A (A1, A2: one seat each), round B (B1)."""
    event = make_event(allocation_mode="preferences")
    plenary = make_session(event, start=0, kind="plenary", capacity=100, title="Opening")
    a1 = make_session(event, start=2, capacity=1, title="A1")
    a2 = make_session(event, start=2, capacity=1, title="A2")
    b1 = make_session(event, start=4, capacity=5, title="B1")
    rounds = allocation.rounds_of(event)
    return event, plenary, a1, a2, b1, rounds[0].key, rounds[1].key


def person(event, name, preferences, session_ids, now):
    result = register(
        event,
        RegistrationInput(
            name=name,
            email=f"{name.lower()}@example.org",
            session_ids=session_ids,
            consent=True,
            preferences=preferences,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_registration_records_preferences_and_confirms_plenaries(programme, now):
    event, plenary, a1, a2, b1, ra, rb = programme
    ada = person(event, "Ada", {ra: [a2.id, a1.id], rb: []}, [plenary.id], now)

    assert [(r.session_id, r.status) for r in ada.registrations] == [(plenary.id, "confirmed")]
    assert allocation.preferences_of(ada) == {ra: [a2.id, a1.id]}
    ranks = db.session.execute(
        select(Preference.session_id, Preference.rank).order_by(Preference.rank)
    ).all()
    assert ranks == [(a2.id, 1), (a1.id, 2)]
    assert db.session.get(EventSession, a1.id).seats_taken == 0
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.kind == "confirmation" and mail.payload["session_ids"] == [plenary.id]


@pytest.mark.parametrize(
    "bad",
    [
        "not a dict",
        {"19990101T0000": []},
        {"A": "x"},
        "dup",
        "wrong_round",
        "too_many",
    ],
)
def test_invalid_preferences_write_nothing(programme, make_session, now, bad):
    event, plenary, a1, a2, b1, ra, rb = programme
    a3 = make_session(event, start=2, capacity=1, title="A3")
    a4 = make_session(event, start=2, capacity=1, title="A4")
    preferences = (
        {
            "dup": {ra: [a1.id, a1.id]},
            "wrong_round": {ra: [b1.id]},
            "too_many": {ra: [a1.id, a2.id, a3.id, a4.id]},
        }.get(bad, bad)
        if isinstance(bad, str)
        else bad
    )
    with pytest.raises(InvalidInput) as error:
        register(
            event,
            RegistrationInput(
                name="Ada",
                email="ada@example.org",
                session_ids=[plenary.id],
                consent=True,
                preferences=preferences,
            ),
            now,
        )
    assert "preferences" in error.value.fields
    db.session.rollback()
    assert count(Attendee) == 0 and count(Preference) == 0


def test_workshops_cannot_be_booked_while_preferences_are_collected(programme, now):
    event, plenary, a1, *_ = programme
    with pytest.raises(InvalidInput) as error:
        register(
            event,
            RegistrationInput(
                name="Ada", email="ada@example.org", session_ids=[plenary.id, a1.id], consent=True
            ),
            now,
        )
    assert "session_ids" in error.value.fields


def test_fcfs_event_ignores_preferences_and_books_seats(make_event, make_session, now):
    event = make_event()
    a1 = make_session(event, start=2, capacity=1, title="A1")
    key = allocation.rounds_of(event)[0].key
    ada = person(event, "Ada", {key: [a1.id]}, [a1.id], now)
    assert [(r.session_id, r.status) for r in ada.registrations] == [(a1.id, "confirmed")]
    assert count(Preference) == 0


def test_change_preferences_until_published(programme, now):
    event, plenary, a1, a2, b1, ra, rb = programme
    ada = person(event, "Ada", {ra: [a1.id]}, [plenary.id], now)
    allocation.change_preferences(ada, {ra: [a2.id], rb: [b1.id]}, now)
    db.session.commit()
    assert allocation.preferences_of(ada) == {ra: [a2.id], rb: [b1.id]}

    run = allocation.dry_run(event, 1, now=now)
    allocation.publish(event, run, now=now)
    db.session.commit()
    with pytest.raises(AllocationError):
        allocation.change_preferences(ada, {ra: [a1.id]}, now)


def test_demand_counts_first_choices_and_all_choices(programme, now):
    event, plenary, a1, a2, b1, ra, rb = programme
    person(event, "Ada", {ra: [a1.id, a2.id]}, [plenary.id], now)
    person(event, "Bob", {ra: [a1.id], rb: [b1.id]}, [plenary.id], now)
    figures = {
        d.session.id: (d.first_choice, d.total, d.oversubscribed) for d in allocation.demand(event)
    }
    assert figures == {a1.id: (2, 2, True), a2.id: (0, 1, False), b1.id: (1, 1, False)}


def crowd(programme, now):
    """x and y rank A1 then A2, z and w rank A2 then A1: two seats, four people."""
    event, plenary, a1, a2, b1, ra, rb = programme
    people = {
        "X": {ra: [a1.id, a2.id], rb: [b1.id]},
        "Y": {ra: [a1.id, a2.id]},
        "Z": {ra: [a2.id, a1.id]},
        "W": {ra: [a2.id, a1.id]},
    }
    return {
        name: person(event, name, prefs, [plenary.id], now + timedelta(minutes=i))
        for i, (name, prefs) in enumerate(people.items())
    }


def test_dry_run_stores_seed_and_inputs_and_writes_no_seat(programme, now, make_organiser):
    event, plenary, a1, a2, b1, ra, rb = programme
    crowd(programme, now)
    organiser = make_organiser()
    run = allocation.dry_run(event, 42, now=now, actor=organiser)
    db.session.commit()

    stored = db.session.get(AllocationRun, run.id)
    assert stored.seed == 42 and stored.status == "dry_run" and stored.organiser_id == organiser.id
    assert {w["id"]: w["capacity"] for w in stored.inputs["workshops"]} == {
        a1.id: 1,
        a2.id: 1,
        b1.id: 5,
    }
    assert len(stored.inputs["rankings"]) == 5
    optimal = stored.stats["optimal"]
    assert (optimal["first"], optimal["none"]) == (3, 2)  # A1, A2 and B1 as first choices
    assert set(stored.stats) == {"optimal", "first_come_first_served", "random_serial_dictatorship"}
    # Replaying the stored inputs with the stored seed gives the stored result.
    replayed = allocation.replay(stored)
    assert replayed.to_dict()["assignments"] == stored.result["assignments"]
    # Nothing but the run (and its audit entry) was written.
    assert count(Registration, Registration.session_id != plenary.id) == 0
    assert event.allocation_published_at is None


def test_publish_confirms_within_capacity_and_waitlists_in_preference_order(programme, now):
    event, plenary, a1, a2, b1, ra, rb = programme
    people = crowd(programme, now)
    before = count(OutboxMessage)
    run = allocation.dry_run(event, 7, now=now)
    result = allocation.publish(event, run, now=now)
    db.session.commit()

    assert (result.confirmed, result.waitlisted) == (3, 4)
    for session in (a1, a2, b1):
        assert confirmed_count_matches_counter(session.id)
    assert db.session.get(EventSession, a1.id).seats_taken == 1
    assert db.session.get(EventSession, a2.id).seats_taken == 1
    # Each seat went to someone who ranked it first.
    holder_a1 = db.session.scalar(
        select(Registration.attendee_id).where(
            Registration.session_id == a1.id, Registration.status == "confirmed"
        )
    )
    holder_a2 = db.session.scalar(
        select(Registration.attendee_id).where(
            Registration.session_id == a2.id, Registration.status == "confirmed"
        )
    )
    assert holder_a1 in {people["X"].id, people["Y"].id}
    assert holder_a2 in {people["Z"].id, people["W"].id}
    # A2's waiting list: whoever ranked it first comes before whoever ranked it second.
    line = [r.attendee_id for r in waitlist(a2.id)]
    assert len(line) == 2
    assert line[0] in {people["Z"].id, people["W"].id}
    assert line[1] in {people["X"].id, people["Y"].id}
    # Everyone affected gets one confirmation email naming their workshops.
    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[before:]
    assert len(mails) == 4 and {m.kind for m in mails} == {"confirmation"}
    assert {m.attendee_id for m in mails} == {a.id for a in people.values()}
    db.session.refresh(event)
    assert event.allocation_published_at == now
    assert db.session.get(AllocationRun, run.id).status == "published"


def test_second_publish_is_refused(programme, now):
    event, *_ = programme
    crowd(programme, now)
    run = allocation.dry_run(event, 3, now=now)
    allocation.publish(event, run, now=now)
    db.session.commit()
    with pytest.raises(AllocationError) as error:
        allocation.publish(event, run, now=now)
    assert error.value.code == "already_published"
    db.session.rollback()
    with pytest.raises(AllocationError):
        allocation.dry_run(event, 3, now=now)


def test_publish_is_all_or_nothing(programme, now):
    """The last workshop loses its seats after the dry run: the guard refuses it after the
    earlier workshops were written, and the rollback leaves no trace of any of it."""
    event, plenary, a1, a2, b1, ra, rb = programme
    crowd(programme, now)
    run = allocation.dry_run(event, 5, now=now)
    db.session.commit()
    db.session.get(EventSession, b1.id).capacity = 0  # an organiser shrinks B1 meanwhile
    db.session.commit()
    registrations, mails = count(Registration), count(OutboxMessage)

    with pytest.raises(AllocationError) as error:
        allocation.publish(event, run, now=now)
    assert error.value.code == "stale" and "B1" in error.value.message
    db.session.rollback()

    assert (count(Registration), count(OutboxMessage)) == (registrations, mails)
    seats = {s.title: s.seats_taken for s in db.session.scalars(select(EventSession))}
    assert seats == {"Opening": 4, "A1": 0, "A2": 0, "B1": 0}
    db.session.refresh(event)
    assert event.allocation_published_at is None
    assert db.session.get(AllocationRun, run.id).status == "dry_run"


def test_publish_refuses_a_run_older_than_the_preferences(programme, now):
    event, plenary, a1, a2, b1, ra, rb = programme
    people = crowd(programme, now)
    run = allocation.dry_run(event, 5, now=now)
    allocation.change_preferences(people["W"], {ra: [a1.id]}, now)
    with pytest.raises(AllocationError) as error:
        allocation.publish(event, run, now=now)
    assert error.value.code == "stale"


def test_after_publication_the_event_is_first_come_first_served(programme, now):
    event, plenary, a1, a2, b1, ra, rb = programme
    crowd(programme, now)
    allocation.publish(event, allocation.dry_run(event, 9, now=now), now=now)
    db.session.commit()

    late = register(
        event,
        RegistrationInput(
            name="Late",
            email="late@example.org",
            session_ids=[plenary.id, a1.id, b1.id],
            waitlist=True,
            consent=True,
        ),
        now,
    ).attendee
    db.session.commit()
    statuses = {r.session_id: r.status for r in late.registrations}
    assert statuses == {plenary.id: "confirmed", a1.id: "waitlisted", b1.id: "confirmed"}
    # Behind everyone the allocation put on A1's waiting list.
    assert [r.attendee_id for r in waitlist(a1.id)][-1] == late.id


def test_the_manage_path_cannot_book_a_workshop_before_publication(programme, now):
    from eventapp.services.registration.register import change_sessions

    event, plenary, a1, a2, b1, ra, rb = programme
    ada = person(event, "Ada", {ra: [a1.id]}, [plenary.id], now)
    with pytest.raises(InvalidInput):
        change_sessions(ada, [plenary.id, a1.id], waitlist=False, now=now)
    db.session.rollback()
    allocation.publish(event, allocation.dry_run(event, 1, now=now), now=now)
    db.session.commit()
    # After publication the attendee may change workshops first come, first served.
    change_sessions(ada, [plenary.id, b1.id], waitlist=False, now=now)
    db.session.commit()
    assert {r.session_id for r in ada.registrations if r.status == "confirmed"} == {
        plenary.id,
        b1.id,
    }


def test_the_deadline_allocates_and_publishes_once(programme, now):
    from eventapp.services.periodic import run_periodic

    event, plenary, a1, a2, b1, ra, rb = programme
    person(event, "Ada", {ra: [a1.id], rb: [b1.id]}, [plenary.id], now)
    person(event, "Bob", {ra: [a1.id, a2.id]}, [plenary.id], now)

    before_deadline = run_periodic(event.registration_closes_at - timedelta(minutes=1))
    assert before_deadline["allocations_published"] == 0
    assert count(AllocationRun) == 0

    at_deadline = run_periodic(event.registration_closes_at)
    again = run_periodic(event.registration_closes_at + timedelta(minutes=1))

    db.session.refresh(event)
    assert at_deadline["allocations_published"] == 1
    assert again["allocations_published"] == 0
    assert event.allocation_published_at is not None
    assert count(AllocationRun, AllocationRun.status == "published") == 1
    assert (
        count(
            Registration,
            Registration.status == "confirmed",
            Registration.session_id.in_([a1.id, a2.id]),
        )
        == 2
    )
    assert confirmed_count_matches_counter(a1.id) and confirmed_count_matches_counter(a2.id)
