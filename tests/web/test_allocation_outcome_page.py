"""Transparency for attendees after publication: per round, which of their choices they got,
and where none, how oversubscribed their choices were (demand against seats), in Dutch and in
English."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, Registration
from eventapp.services.allocation import runs as allocation
from eventapp.services.links import manage_token
from eventapp.services.registration.register import RegistrationInput, change_sessions, register
from tests.allocation_support import preference_event


@pytest.fixture
def published(make_event, make_session, now):
    """Three people rank Robots (1 seat) first and Sensors (1 seat) second."""
    event = preference_event(
        make_event, make_session, now, people=3, workshops={"Robots": 1, "Sensors": 1}
    )
    allocation.publish(event, allocation.dry_run(event, 2, now=now), now=now)
    db.session.commit()
    return event


def seat_of(attendee):
    return db.session.scalar(
        select(EventSession.title)
        .join(Registration, Registration.session_id == EventSession.id)
        .where(Registration.attendee_id == attendee.id, Registration.status == "confirmed")
    )


def test_each_attendee_sees_what_they_got_and_why(client, published):
    people = db.session.scalars(select(Attendee).order_by(Attendee.id)).all()
    seen = {}
    for person in people:
        person.locale = "en"
        db.session.commit()
        url = f"/manage/{manage_token(person)}"
        assert "See which of your choices you got" in client.get(url).get_data(as_text=True)
        page = client.get(url + "/allocation")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        seen[seat_of(person)] = text
        # The demand is shown for every choice: 3 ranked Robots first for 1 seat.
        assert '<td>Robots <span class="badge">oversubscribed</span></td>' in text
        assert "<td>3</td><td>3</td><td>1</td>" in text
    # The demand is counted once, at the dry run, and stored with the run.
    robots = db.session.scalar(select(EventSession.id).where(EventSession.title == "Robots"))
    demand = {d["workshop_id"]: d for d in allocation.latest_run(published).result["demand"]}
    assert (demand[robots]["first_choices"], demand[robots]["ranked"]) == (3, 3)
    assert "You got your choice number 1: Robots." in seen["Robots"]
    assert "You got your choice number 2: Sensors." in seen["Sensors"]
    assert "You got none of your choices" in seen[None]
    assert "each was full with people who ranked it as high or higher" in seen[None]


def test_in_dutch_and_not_before_publication(client, make_event, make_session, now):
    event = preference_event(make_event, make_session, now, people=2, workshops={"Robots": 1})
    ada = db.session.scalars(select(Attendee).order_by(Attendee.id)).first()
    url = f"/manage/{manage_token(ada)}/allocation"
    assert client.get(url).status_code == 303  # nothing to show yet
    allocation.publish(event, allocation.dry_run(event, 1, now=now), now=now)
    db.session.commit()
    text = client.get(url).get_data(as_text=True)
    assert "Je workshopindeling" in text
    got_first = "Je kreeg je keuze nummer 1: Robots." in text
    assert got_first != ("Je kreeg geen van je keuzes" in text)


def test_a_double_workshop_given_to_someone_who_ranked_it_lower_is_not_called_outranked(
    client, make_event, make_session, now
):
    """Seats come before ranks, and a double workshop fills two rounds of whoever gets it.
    Ann ranks Lab (a double, 1 seat) first and nothing after it; Cy ranks Talk then Lab, and
    Demo; Zed ranks Talk, and Demo (1 seat each). Lab to Cy leaves one (attendee, round)
    empty (Ann's), Lab to Ann two (both of Cy's): the optimum gives Lab to Cy, who ranked it
    second. Ann's page said "each was full with people who ranked it as high or higher",
    which is false here; it now says why a lower rank could win (the sentence stays where
    it is true: test_each_attendee_sees_what_they_got_and_why)."""
    event = make_event(allocation_mode="preferences", default_locale="en")
    lab = make_session(event, start=2, hours=3.5, capacity=1, title="Lab")
    talk = make_session(event, start=2, hours=1.5, capacity=1, title="Talk")
    demo = make_session(event, start=4, hours=1.5, capacity=1, title="Demo")
    r1, r2 = (r.key for r in allocation.rounds_of(event))
    ranked = {
        "Zed": {r1: [talk.id], r2: [demo.id]},
        "Ann": {r1: [lab.id]},
        "Cy": {r1: [talk.id, lab.id], r2: [demo.id]},
    }
    people = {
        name: register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name.lower()}@example.org",
                consent=True,
                preferences=prefs,
                locale="en",
            ),
            now,
        ).attendee
        for name, prefs in ranked.items()
    }
    db.session.commit()
    allocation.publish(event, allocation.dry_run(event, 1, now=now), now=now)
    db.session.commit()
    assert seat_of(people["Cy"]) == "Lab" and seat_of(people["Ann"]) is None

    def page(name):
        return client.get(f"/manage/{manage_token(people[name])}/allocation").get_data(as_text=True)

    ann = page("Ann")
    assert "You got none of your choices" in ann
    assert "ranked it as high or higher" not in ann
    assert "a seat can go to someone who ranked it lower" in ann
    cy = page("Cy")
    assert "You got your choice number 2: Lab." in cy
    assert "This time is taken by your workshop Lab, which runs through it." in cy


def test_a_choice_that_overlaps_a_held_seat_is_named_as_such(client, make_event, make_session, now):
    """Ada ranked A1, then took the keynote that overlaps it: the allocation ignored A1 for
    her and publication waitlists her nowhere for it. Her page said she got none of her
    choices because "each was full with people who ranked it as high or higher", while A1
    has a seat nobody took; it now says her choice overlaps a seat she holds, and marks it."""
    event = make_event(allocation_mode="preferences", default_locale="en")
    a1 = make_session(event, start=2, capacity=1, title="A1")
    keynote = make_session(event, start=2.5, kind="plenary", capacity=50, title="Keynote")
    key = allocation.rounds_of(event)[0].key
    ada = register(
        event,
        RegistrationInput(
            name="Ada", email="ada@example.org", consent=True, preferences={key: [a1.id]}
        ),
        now,
    ).attendee
    db.session.commit()
    change_sessions(ada, [keynote.id], waitlist=False, now=now)
    ada.locale = "en"
    db.session.commit()
    allocation.publish(event, allocation.dry_run(event, 1, now=now), now=now)
    db.session.commit()

    text = client.get(f"/manage/{manage_token(ada)}/allocation").get_data(as_text=True)
    assert "ranked it as high or higher" not in text
    assert "Each of your choices overlaps a session where you have a seat" in text
    assert '<span class="badge">overlaps a session where you have a seat</span>' in text
