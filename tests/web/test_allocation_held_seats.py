"""A ranking that overlaps a seat the attendee holds is refused with 422 and the field, on the
registration form, the manage page and the JSON API (finding 2 of allocation round two)."""

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Preference
from eventapp.services.allocation import runs as allocation
from eventapp.services.links import manage_token
from eventapp.services.registration.register import RegistrationInput, register


@pytest.fixture
def programme(make_event, make_session):
    event = make_event(allocation_mode="preferences")
    robots = make_session(event, start=2, capacity=5, title="Robots")
    sensors = make_session(event, start=2, capacity=5, title="Sensors")
    keynote = make_session(event, start=2, kind="plenary", capacity=50, title="Keynote")
    return event, robots, sensors, keynote, allocation.rounds_of(event)[0].key


def test_the_registration_form_refuses_a_ranking_that_overlaps_a_chosen_plenary(client, programme):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    event, robots, sensors, keynote, key = programme
    response = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Ada",
            "email": "ada@example.org",
            "plenary": [str(keynote.id)],
            f"rank_{key}_1": str(robots.id),
            "consent": "y",
        },
    )
    assert response.status_code == 422
    assert "“Robots” overlaps “Keynote”" in response.get_data(as_text=True)
    assert db.session.scalar(select(Attendee)) is None


def test_the_manage_page_and_the_api_refuse_it_and_change_nothing(client, programme, now):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    event, robots, sensors, keynote, key = programme
    ada = register(
        event,
        RegistrationInput(
            name="Ada", email="ada@example.org", session_ids=[keynote.id], consent=True
        ),
        now,
    ).attendee
    db.session.commit()
    token = manage_token(ada)

    page = client.post(f"/manage/{token}/preferences", data={f"rank_{key}_1": str(sensors.id)})
    assert page.status_code == 422
    assert "“Sensors” overlapt met “Keynote”" in page.get_data(as_text=True)  # Ada reads Dutch

    api = client.patch(f"/api/v1/registrations/{token}", json={"preferences": {key: [robots.id]}})
    assert api.status_code == 422
    body = api.get_json()
    assert body["error"] == "invalid"
    assert "Keynote" in " ".join(body["fields"]["preferences"])
    assert db.session.scalars(select(Preference)).all() == []
