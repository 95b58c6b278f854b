"""A workshop that spans two rounds (finding 3 of allocation round two): the rounds stay as
the organiser made them; whoever gets the double workshop is placed in both rounds and counts
as assigned in both. Known optima, worked out by hand."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Registration
from eventapp.services.allocation import runs as allocation
from eventapp.services.registration.register import RegistrationInput, register


@pytest.fixture
def day(make_event, make_session):
    """Round 1 at +2h: Lab (a double, 3.5 h, 1 seat) and Talk (1.5 h, 1 seat).
    Round 2 at +4h: Demo (1.5 h, 1 seat). Lab runs through round 2."""
    event = make_event(allocation_mode="preferences")
    lab = make_session(event, start=2, hours=3.5, capacity=1, title="Lab")
    talk = make_session(event, start=2, hours=1.5, capacity=1, title="Talk")
    demo = make_session(event, start=4, hours=1.5, capacity=1, title="Demo")
    return event, lab, talk, demo


def sign_up(event, name, preferences, now):
    attendee = register(
        event,
        RegistrationInput(
            name=name, email=f"{name.lower()}@example.org", consent=True, preferences=preferences
        ),
        now,
    ).attendee
    db.session.commit()
    return attendee


def test_the_rounds_stay_as_the_organiser_made_them(day):
    event, lab, talk, demo = day
    rounds = allocation.rounds_of(event)
    assert [[s.title for s in r.sessions] for r in rounds] == [["Lab", "Talk"], ["Demo"]]


def test_the_double_workshop_counts_as_assigned_in_both_rounds(day, now):
    """Ann ranks Lab then Talk, and Demo; Bob ranks Talk, and Demo. The only allocation that
    leaves nobody without a workshop: Ann in Lab (which fills her round 2), Bob in Talk and
    Demo. Counted as the double filling round 2, that is 0 misses (before: Ann's round 2
    counted as a miss, so Lab looked no better than nothing)."""
    event, lab, talk, demo = day
    r1, r2 = (r.key for r in allocation.rounds_of(event))
    ann = sign_up(event, "Ann", {r1: [lab.id, talk.id], r2: [demo.id]}, now)
    bob = sign_up(event, "Bob", {r1: [talk.id], r2: [demo.id]}, now)

    for seed in range(5):
        run = allocation.dry_run(event, seed, now=now)
        optimal = run.stats["optimal"]
        assert (optimal["none"], optimal["spanned"], optimal["first"]) == (0, 1, 3)
        assert optimal["misses_per_attendee"] == [2]
    allocation.publish(event, run, now=now)
    db.session.commit()
    confirmed = set(
        db.session.execute(
            select(Registration.attendee_id, Registration.session_id).where(
                Registration.status == "confirmed"
            )
        ).all()
    )
    assert confirmed == {(ann.id, lab.id), (bob.id, talk.id), (bob.id, demo.id)}
    # Ann is on no waiting list for round 2: her round is filled, not missed.
    assert (
        db.session.scalars(select(Registration).where(Registration.status == "waitlisted")).all()
        == []
    )


def test_the_registration_form_asks_for_a_ranking_per_round(client, day):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    event, lab, talk, demo = day
    r1, r2 = (r.key for r in allocation.rounds_of(event))
    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert f'name="rank_{r1}_1"' in page and f'name="rank_{r2}_1"' in page
