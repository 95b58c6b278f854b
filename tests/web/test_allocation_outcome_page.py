"""Transparency for attendees after publication: per round, which of their choices they got,
and where none, how oversubscribed their choices were (demand against seats), in Dutch and in
English."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, Registration
from eventapp.services.allocation import runs as allocation
from eventapp.services.links import manage_token
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
