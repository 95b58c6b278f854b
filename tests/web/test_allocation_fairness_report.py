"""The fairness figure (attendees with nothing in 2+ rounds) in the dry run, on the page and
in the API, for the optimum and both baselines (finding 1 of allocation round two)."""

import re

import pytest

from eventapp.extensions import db
from eventapp.services.allocation import runs as allocation
from eventapp.services.registration.register import RegistrationInput, register


@pytest.fixture
def event(make_event, make_session, now):
    """Two rounds with one one-seat workshop each; Ann registered first, then Bob; both rank
    both. Serving in registration order gives Ann both seats; the optimum one each."""
    event = make_event(allocation_mode="preferences", slug="twice")
    first = make_session(event, start=2, capacity=1, title="Morning")
    second = make_session(event, start=4, capacity=1, title="Afternoon")
    keys = [r.key for r in allocation.rounds_of(event)]
    for name in ("Ann", "Bob"):
        register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name.lower()}@example.org",
                consent=True,
                preferences={keys[0]: [first.id], keys[1]: [second.id]},
            ),
            now,
        )
    db.session.commit()
    return event


def test_the_dry_run_and_the_page_report_people_with_two_or_more_misses(
    client, login, make_organiser, event
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(make_organiser())
    url = f"/organiser/events/{event.slug}/allocation"
    ran = client.post(url + "/dry-run", data={"seed": "1"})
    assert ran.status_code == 302
    run = allocation.latest_run(event)
    assert run.stats["optimal"]["two_or_more_misses"] == 0
    assert run.stats["optimal"]["misses_per_attendee"] == [0, 2]
    assert run.stats["first_come_first_served"]["two_or_more_misses"] == 1
    assert run.stats["first_come_first_served"]["misses_per_attendee"] == [1, 0, 1]
    page = client.get(ran.headers["Location"]).get_data(as_text=True)
    assert "People with 2+ misses" in page
    cells = dict(re.findall(r'data-method="(\w+)">.*?<td class="two-plus">(\d+)</td>', page, re.S))
    assert cells == {
        "optimal": "0",
        "first_come_first_served": "1",
        "random_serial_dictatorship": "1",
    }
    # The whole distribution too (the trial: "2+" alone hides who got nothing at all).
    assert "People by misses (0, 1, 2, …)" in page
    spread = dict(
        re.findall(r'data-method="(\w+)">.*?<td class="by-misses">([^<]*)</td>', page, re.S)
    )
    assert spread["optimal"] == "0 · 2"
    assert spread["first_come_first_served"] == "1 · 0 · 1"


def test_the_api_returns_the_figure_per_method(client, make_organiser, api_token, event):
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    reply = client.post(f"/api/v1/events/{event.slug}/allocation", json={}, headers=headers)
    assert reply.status_code == 200, reply.get_json()
    stats = reply.get_json()["stats"]
    assert {m: s["two_or_more_misses"] for m, s in stats.items()} == {
        "optimal": 0,
        "first_come_first_served": 1,
        "random_serial_dictatorship": 1,
    }
