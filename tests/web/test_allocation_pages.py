"""The organiser's allocation page: roles, demand, dry run with charts, publish with CSRF."""

import re

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AllocationRun, Event, Registration
from eventapp.services.allocation import runs as allocation
from tests.allocation_support import preference_event


@pytest.fixture
def event(make_event, make_session, now):
    return preference_event(
        make_event, make_session, now, people=3, workshops={"Robots": 1, "Sensors": 1}
    )


def test_roles(client, login, make_organiser, event):
    url = f"/organiser/events/{event.slug}/allocation"
    assert client.get(url).status_code == 302  # to the login page
    login(make_organiser("checkin"))
    assert client.get(url).status_code == 403
    assert client.post(url + "/dry-run").status_code == 403
    assert client.post(url + "/publish").status_code == 403


def test_demand_dry_run_and_publish(client, login, make_organiser, event):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages asserted in English
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation"
    page = client.get(url).get_data(as_text=True)
    assert "Robots" in page and 'class="oversubscribed"' in page
    assert "allocation-quality" not in page  # no run yet

    ran = client.post(url + "/dry-run", data={"seed": "8"})
    assert ran.status_code == 302
    run = db.session.scalar(select(AllocationRun))
    assert run.seed == 8 and run.status == "dry_run"
    page = client.get(ran.headers["Location"]).get_data(as_text=True)
    assert "seed 8" in page and "<svg" in page
    assert "count attendee-rounds" in page  # the unit of the choice columns (issue 20)
    optimal = re.search(r'data-method="optimal">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", optimal) == ["1", "1", "0", "1"]
    assert 'data-method="first_come_first_served"' in page
    assert 'data-method="random_serial_dictatorship"' in page

    refused = client.post(url + "/publish", data={"run_id": str(run.id)})  # box not ticked
    assert refused.status_code == 302
    assert db.session.scalar(select(Event.allocation_published_at)) is None

    done = client.post(url + "/publish", data={"run_id": str(run.id), "confirm": "y"})
    assert done.status_code == 302
    assert db.session.scalar(select(Event.allocation_published_at)) is not None
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2 + 2
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Allocation published: 2 seats confirmed" in page

    again = client.post(url + "/publish", data={"run_id": str(run.id), "confirm": "y"})
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already been published" in page


def test_publish_needs_a_csrf_token(app, client, login, make_organiser, event):
    login(make_organiser("organiser"))
    run = allocation.dry_run(event, 1, now=event.starts_at)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        f"/organiser/events/{event.slug}/allocation/publish",
        data={"run_id": str(run.id), "confirm": "y"},
    )
    assert response.status_code in (302, 400)
    assert db.session.scalar(select(Event.allocation_published_at)) is None


def test_event_form_offers_the_allocation_mode(client, login, make_organiser, event):
    login(make_organiser("organiser"))
    page = client.get(f"/organiser/events/{event.slug}/edit").get_data(as_text=True)
    assert '<option selected value="preferences">' in page


def test_an_attendee_changes_their_ranking_on_their_private_page(client, event):
    """The manage page's preferences form: the current ranking filled in, a new one saved,
    the same workshop twice refused with nothing changed."""
    from eventapp.models import Attendee, EventSession
    from eventapp.services.links import manage_token

    ada = db.session.scalar(select(Attendee).where(Attendee.email == "p0@example.org"))
    url = f"/manage/{manage_token(ada)}/preferences"
    robots, sensors = (
        db.session.scalar(select(EventSession.id).where(EventSession.title == title))
        for title in ("Robots", "Sensors")
    )
    key = allocation.rounds_of(event)[0].key

    page = client.get(url)
    assert page.status_code == 200
    assert re.search(rf'<option selected value="{robots}">', page.get_data(as_text=True))

    saved = client.post(url, data={f"rank_{key}_1": str(sensors), f"rank_{key}_2": str(robots)})
    assert saved.status_code == 303
    assert allocation.preferences_of(ada) == {key: [sensors, robots]}

    twice = client.post(url, data={f"rank_{key}_1": str(robots), f"rank_{key}_2": str(robots)})
    assert twice.status_code == 422
    assert allocation.preferences_of(ada) == {key: [sensors, robots]}
