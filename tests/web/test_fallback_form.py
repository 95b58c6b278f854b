"""The registration form's "while you wait" choice and what the attendee's pages say about
it (issue 19.4)."""

import re

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, Registration
from eventapp.services import links
from tests.registering import register


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def full_lab(make_event, make_session, now):
    """Round 1 with a full Lab (its one seat taken by Ada) and an open Studio."""
    event = make_event()
    lab = make_session(event, start=1, capacity=1, title="Lab")
    studio = make_session(event, start=1, capacity=10, title="Studio")
    calm = make_session(event, start=3, capacity=10, title="Calm round")
    register(event, [lab], now, "ada@example.org")
    return event, lab, studio, calm


def round_name(session) -> str:
    return "round_" + session.starts_at.strftime("%Y%m%dT%H%M")


def fallback_name(session) -> str:
    return "fallback_" + session.starts_at.strftime("%Y%m%dT%H%M")


def test_only_a_round_with_a_full_workshop_offers_a_fallback(client, full_lab):
    event, lab, studio, calm = full_lab
    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    select_html = re.search(rf'<select[^>]*name="{fallback_name(lab)}".*?</select>', page, re.S)
    assert select_html is not None
    assert f'value="{studio.id}"' in select_html.group(0)
    assert f'value="{lab.id}"' not in select_html.group(0)  # the full one is not a fallback
    assert f'name="{fallback_name(calm)}"' not in page
    assert "While you wait for a full workshop" in page


def test_registering_with_a_fallback_then_the_pages_say_so(client, full_lab):
    event, lab, studio, calm = full_lab
    response = client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Bob",
            "email": "bob@example.org",
            round_name(lab): str(lab.id),
            fallback_name(lab): str(studio.id),
            "waitlist": "y",
            "consent": "y",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    bob = db.session.scalar(select(Attendee).where(Attendee.email == "bob@example.org"))
    held = {r.session.title: r.status for r in bob.registrations}
    assert held == {"Lab": "waitlisted", "Studio": "confirmed"}
    note = "Meanwhile you keep your place in “Studio”; it is given back when you get this one."
    assert note in page and "On the waiting list, position 1" in page

    manage = client.get(f"/manage/{links.manage_token(bob)}").get_data(as_text=True)
    assert note in manage
    # The round's choice on the change form is the workshop waited for, not the fallback.
    assert re.search(rf'<input[^>]*checked[^>]*value="{lab.id}"', manage) or re.search(
        rf'<input[^>]*value="{lab.id}"[^>]*checked', manage
    )


def test_a_fallback_without_a_full_choice_takes_nothing(client, full_lab):
    event, lab, studio, calm = full_lab
    client.post(
        f"/events/{event.slug}/register",
        data={
            "name": "Bob",
            "email": "bob@example.org",
            round_name(lab): str(studio.id),
            fallback_name(lab): str(studio.id),
            "consent": "y",
        },
    )
    bob = db.session.scalar(select(Attendee).where(Attendee.email == "bob@example.org"))
    rows = db.session.scalars(select(Registration).where(Registration.attendee_id == bob.id))
    assert {r.session.title: r.status for r in rows} == {"Studio": "confirmed"}


@pytest.mark.parametrize("blank_field", ["round", "fallback"])
def test_a_blank_fallback_or_round_is_none_not_a_500(client, full_lab, blank_field):
    """Whitespace passes WTForms' Optional() without the choice check; the fallback was
    read as a session id (int(" "): a 500). Blank is "no other workshop"."""
    event, lab, studio, calm = full_lab
    data = {
        "name": "Bob",
        "email": "bob@example.org",
        round_name(lab): str(lab.id),
        fallback_name(lab): str(studio.id),
        round_name(calm): str(calm.id),
        "waitlist": "y",
        "consent": "y",
    }
    data[(round_name if blank_field == "round" else fallback_name)(lab)] = " "
    response = client.post(f"/events/{event.slug}/register", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    bob = db.session.scalar(select(Attendee).where(Attendee.email == "bob@example.org"))
    held = {r.session_id: r.status for r in bob.registrations}
    expected = {calm.id: "confirmed"} | ({} if blank_field == "round" else {lab.id: "waitlisted"})
    assert held == expected
