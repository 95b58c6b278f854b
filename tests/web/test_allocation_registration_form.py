"""The registration form of an event that collects ranked workshop preferences."""

from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.services.allocation import runs as allocation


def test_form_asks_for_a_ranking_and_records_it(client, make_event, make_session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    event = make_event(allocation_mode="preferences")
    plenary = make_session(event, start=0, kind="plenary", capacity=50, title="Opening")
    robots = make_session(event, start=2, capacity=1, title="Robots")
    sensors = make_session(event, start=2, capacity=1, title="Sensors")
    key = allocation.rounds_of(event)[0].key

    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert f'name="rank_{key}_1"' in page and f'name="rank_{key}_2"' in page
    assert f'name="round_{key}"' not in page  # no direct booking of a workshop

    response = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Ada",
            "email": "ada@example.org",
            "plenary": [str(plenary.id)],
            f"rank_{key}_1": str(sensors.id),
            f"rank_{key}_2": str(robots.id),
            "consent": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    ada = db.session.scalar(select(Attendee))
    assert allocation.preferences_of(ada) == {key: [sensors.id, robots.id]}
    assert [r.session_id for r in db.session.scalars(select(Registration))] == [plenary.id]

    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your workshop preferences are recorded" in confirmation
    assert confirmation.index("Sensors (1st choice)") < confirmation.index("Robots (2nd choice)")


def test_the_same_workshop_twice_is_refused(client, make_event, make_session):
    event = make_event(allocation_mode="preferences")
    plenary = make_session(event, start=0, kind="plenary", capacity=50)
    robots = make_session(event, start=2, capacity=1)
    make_session(event, start=2, capacity=1)
    key = allocation.rounds_of(event)[0].key
    response = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Ada",
            "email": "ada@example.org",
            "plenary": [str(plenary.id)],
            f"rank_{key}_1": str(robots.id),
            f"rank_{key}_2": str(robots.id),
            "consent": "y",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(select(Attendee)) is None


def test_a_blank_ranking_choice_is_none_not_a_500(client, make_event, make_session):
    """A 1st/2nd choice select sent as whitespace passed WTForms' Optional() unchecked and
    was read as a session id: a 500."""
    event = make_event(allocation_mode="preferences")
    plenary = make_session(event, start=0, kind="plenary", capacity=50, title="Opening")
    sensors = make_session(event, start=2, capacity=1, title="Sensors")
    make_session(event, start=2, capacity=1, title="Robots")
    key = allocation.rounds_of(event)[0].key
    response = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Ada",
            "email": "ada@example.org",
            "plenary": [str(plenary.id)],
            f"rank_{key}_1": str(sensors.id),
            f"rank_{key}_2": " ",
            "consent": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    ada = db.session.scalar(select(Attendee))
    assert allocation.preferences_of(ada) == {key: [sensors.id]}
