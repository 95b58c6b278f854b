"""Publishing a stale dry run from the organiser page (finding 5 of allocation round two):
nothing is written; the same seed is run again on the event as it is now, and the page
shows that new run with what changed."""

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AllocationRun, EventSession, Registration
from eventapp.services.allocation import runs as allocation
from tests.allocation_support import preference_event


@pytest.fixture
def event(make_event, make_session, now):
    return preference_event(
        make_event, make_session, now, people=3, workshops={"Robots": 1, "Sensors": 1}
    )


def test_a_stale_run_is_run_again_with_its_seed_and_the_difference_shown(
    client, login, make_organiser, event
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(make_organiser())
    url = f"/organiser/events/{event.slug}/allocation"
    client.post(url + "/dry-run", data={"seed": "21"})
    old = allocation.latest_run(event)
    robots = db.session.scalar(select(EventSession).where(EventSession.title == "Robots"))
    robots.capacity = 2  # the organiser adds a seat after the dry run
    db.session.commit()

    published = client.post(
        url + "/publish", data={"run_id": str(old.id), "confirm": "y"}, follow_redirects=True
    )
    text = published.get_data(as_text=True)
    fresh = allocation.latest_run(event)
    assert fresh.id != old.id and fresh.seed == 21 and fresh.status == "dry_run"
    assert f"Not published: the programme or the rankings changed since run {old.id}" in text
    assert "Robots: 1 → 2 seats" in text
    assert f"Result of run {fresh.id} (seed 21)" in text
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert {r.status for r in db.session.scalars(select(AllocationRun))} == {"dry_run"}
