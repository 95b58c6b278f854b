"""Finding 2 of the allocation's second round: a seat already held is never overrun.

An attendee who holds a plenary (or any seat) must not be given a ranked workshop that
overlaps it, by the optimum or the baselines; and a ranking that overlaps a held seat is
refused where it is made.
"""

import dataclasses
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Preference, Registration
from eventapp.services.allocation import runs as allocation
from eventapp.services.allocation.baselines import (
    first_come_first_served,
    random_serial_dictatorship,
)
from eventapp.services.allocation.problem import HeldSeat, Ranking, Workshop, prepare, verify
from eventapp.services.allocation.solver import allocate
from eventapp.services.errors import InvalidInput
from eventapp.services.registration.register import (
    RegistrationInput,
    change_sessions,
    register,
)

NINE = datetime(2025, 6, 14, 9, 0)


def at(hour: float, minutes: int = 60) -> tuple[datetime, datetime]:
    start = NINE + timedelta(hours=hour)
    return start, start + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


# --------------------------------------------------------------------------------------------
# The pure core
# --------------------------------------------------------------------------------------------


def test_the_optimum_and_both_baselines_skip_a_workshop_that_overlaps_a_held_seat():
    """Attendees 10 and 11 hold plenary seats overlapping both 11:00 workshops, which have
    seats to spare: neither gets one (before the fix both did), attendee 12 gets theirs."""
    clash = Workshop(1, "R", 5, *at(2))
    free = Workshop(2, "R", 5, *at(2))
    workshops = [clash, free]
    plenary = HeldSeat(10, 99, *at(2, 30))  # 11:00-11:30: overlaps both 11:00 workshops
    later = HeldSeat(11, 98, *at(2.5, 60))  # 11:30-12:30: overlaps both too
    rankings = [Ranking(10, "R", (1, 2)), Ranking(11, "R", (1,)), Ranking(12, "R", (1,))]
    held = [plenary, later]
    for result in (
        allocate(workshops, rankings, 3, held),
        first_come_first_served(workshops, rankings, [10, 11, 12], held),
        random_serial_dictatorship(workshops, rankings, 3, held),
    ):
        assert result.assignments == {(10, "R"): None, (11, "R"): None, (12, "R"): 1}
        # Their rankings hold nothing they can attend: not a miss, nothing to give.
        assert (result.stats.none, result.stats.unranked) == (0, 2)


def test_a_clash_only_removes_the_overlapping_choice():
    morning, noon = Workshop(1, "R", 1, *at(0)), Workshop(2, "R", 1, *at(0, 30))
    # Held 9:30-10:30 overlaps workshop 1 (9:00-10:00) but not workshop 2 (9:00-9:30).
    held = [HeldSeat(5, 77, *at(0.5))]
    result = allocate([morning, noon], [Ranking(5, "R", (1, 2))], 0, held)
    assert result.assignments == {(5, "R"): 2}
    assert result.stats.by_rank == (1,)  # the clash is ignored, so workshop 2 is their first


def test_verify_refuses_an_assignment_that_overlaps_a_held_seat():
    problem = prepare(
        [Workshop(1, "R", 1, *at(0))], [Ranking(5, "R", (1,))], [HeldSeat(6, 77, *at(0))]
    )
    verify(problem, {(5, "R"): 1})  # someone else's seat is no concern
    clash = prepare(
        [Workshop(1, "R", 1, *at(0))], [Ranking(5, "R", (1,))], [HeldSeat(5, 77, *at(0))]
    )
    assert clash.choices == ((),)  # prepare already drops the clash; verify checks anyway
    with pytest.raises(RuntimeError, match="held seat"):
        verify(dataclasses.replace(clash, choices=((1,),)), {(5, "R"): 1})


def test_held_seats_are_validated():
    with pytest.raises(ValueError, match="ends_at"):
        HeldSeat(1, 2, *reversed(at(0)))
    with pytest.raises(ValueError, match="expected HeldSeat"):
        prepare([], [], [("not", "a seat")])


# --------------------------------------------------------------------------------------------
# On the database
# --------------------------------------------------------------------------------------------


@pytest.fixture
def programme(make_event, make_session):
    """Round A (A1, A2 at +2h, one seat each) and a plenary at the same hour."""
    event = make_event(allocation_mode="preferences")
    a1 = make_session(event, start=2, capacity=1, title="A1")
    a2 = make_session(event, start=2, capacity=1, title="A2")
    keynote = make_session(event, start=2.5, kind="plenary", capacity=50, title="Keynote")
    return event, a1, a2, keynote, allocation.rounds_of(event)[0].key


def sign_up(event, name, preferences, now, session_ids=()):
    result = register(
        event,
        RegistrationInput(
            name=name,
            email=f"{name.lower()}@example.org",
            session_ids=list(session_ids),
            consent=True,
            preferences=preferences,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


def test_publish_never_confirms_a_workshop_that_overlaps_a_held_plenary(programme, now):
    """Ada ranked A1, then took the keynote that overlaps it: the allocation gives A1 to
    Bob (who ranked it second) rather than to her, and her calendar has no clash."""
    event, a1, a2, keynote, key = programme
    ada = sign_up(event, "Ada", {key: [a1.id]}, now)
    bob = sign_up(event, "Bob", {key: [a2.id, a1.id]}, now)
    cy = sign_up(event, "Cy", {key: [a2.id]}, now)
    change_sessions(ada, [keynote.id], waitlist=False, now=now)
    db.session.commit()

    run = allocation.dry_run(event, 1, now=now)
    assert run.inputs["held"] == [
        {
            "attendee_id": ada.id,
            "session_id": keynote.id,
            "starts_at": keynote.starts_at.isoformat(),
            "ends_at": keynote.ends_at.isoformat(),
        }
    ]
    allocation.publish(event, run, now=now)
    db.session.commit()
    confirmed = set(
        db.session.execute(
            select(Registration.attendee_id, Registration.session_id).where(
                Registration.status == "confirmed"
            )
        ).all()
    )
    assert (ada.id, a1.id) not in confirmed
    assert (ada.id, keynote.id) in confirmed
    assert {(bob.id, a1.id), (cy.id, a2.id)} <= confirmed
    # The stored run replays to the same result from its stored inputs (held seats included).
    assert allocation.replay(run).to_dict()["assignments"] == run.result["assignments"]


def test_publish_puts_nobody_on_the_waiting_list_of_a_workshop_that_overlaps_a_held_seat(
    programme, make_session, now
):
    """Ada ranked A1 and A3, then took the keynote that overlaps A1: the allocation ignored
    A1 for her (a choice that does not exist), and A3 went to Cy. Publication put her on the
    waiting list of A1 too, a place the waiting list can never fill (promotion skips a
    clash) and that her page and email showed as a wait. Now A1 is left out; A3 is hers or
    she waits for it."""
    event, a1, a2, keynote, key = programme
    a3 = make_session(event, start=3.5, capacity=1, title="A3")  # 12:30: after the keynote
    later = allocation.rounds_of(event)[1].key
    ada = sign_up(event, "Ada", {key: [a1.id], later: [a3.id]}, now)
    sign_up(event, "Bob", {key: [a1.id]}, now)
    sign_up(event, "Cy", {later: [a3.id]}, now)
    change_sessions(ada, [keynote.id], waitlist=False, now=now)
    db.session.commit()

    run = allocation.dry_run(event, 1, now=now)
    assert run.stats["optimal"]["misses_per_attendee"][1] >= 1  # Ada or Cy misses A3
    allocation.publish(event, run, now=now)
    db.session.commit()
    ada_rows = set(
        db.session.execute(
            select(Registration.session_id, Registration.status).where(
                Registration.attendee_id == ada.id
            )
        ).all()
    )
    assert (a1.id, "waitlisted") not in ada_rows
    assert (keynote.id, "confirmed") in ada_rows
    assert ada_rows - {(keynote.id, "confirmed")} in (
        {(a3.id, "confirmed")},
        {(a3.id, "waitlisted")},
    )


def test_a_ranking_that_overlaps_a_held_seat_is_refused_at_registration(programme, now):
    event, a1, a2, keynote, key = programme
    with pytest.raises(InvalidInput) as error:
        sign_up(event, "Ada", {key: [a1.id]}, now, session_ids=[keynote.id])
    db.session.rollback()
    assert "Keynote" in " ".join(error.value.fields["preferences"])
    assert db.session.scalars(select(Registration)).all() == []


def test_a_ranking_that_overlaps_a_held_seat_is_refused_when_changed(programme, now):
    event, a1, a2, keynote, key = programme
    ada = sign_up(event, "Ada", {}, now, session_ids=[keynote.id])
    with pytest.raises(InvalidInput) as error:
        allocation.change_preferences(ada, {key: [a2.id]}, now)
    assert list(error.value.fields) == ["preferences"]
    assert "A2" in error.value.fields["preferences"][0]
    db.session.rollback()
    assert db.session.scalars(select(Preference)).all() == []
