"""The registration form over HTTP: fields, errors beside them, confirmation, CSRF."""

import re

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee
from eventapp.services.backoffice.demo import DEMO_SLUG, load_demo_event


@pytest.fixture(autouse=True)
def english(client):
    """Pages are asserted in English here; Dutch has tests of its own."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def demo_event():
    """The demo, its registrations confirmed at once: holding seats until the email is
    confirmed (on in the demo) has tests of its own (tests/web/test_holds.py)."""
    event, _ = load_demo_event()
    event.confirm_email_first = False
    db.session.commit()
    return event


def sessions_by_title(event):
    return {s.title: s for s in event.sessions}


def form_data(event, **overrides):
    titles = sessions_by_title(event)
    data = {
        "name": "Ëlise Müller",
        "email": "elise@example.org",
        "organisation": "Fieldlab Campione",
        "job_role": "Engineer",
        "plenary": [str(titles["Plenaire opening"].id)],
        "consent": "y",
    }
    data.update(overrides)
    return data


def round_field(event, title):
    session = sessions_by_title(event)[title]
    return f"round_{session.starts_at.strftime('%Y%m%dT%H%M')}", str(session.id)


def test_form_lists_plenaries_preselected_and_one_choice_per_round(client):
    event = demo_event()
    page = client.get(f"/events/{DEMO_SLUG}/register").get_data(as_text=True)
    opening = sessions_by_title(event)["Plenaire opening"]
    assert re.search(rf'<input[^>]*checked[^>]*value="{opening.id}"', page) or re.search(
        rf'<input[^>]*value="{opening.id}"[^>]*checked', page
    )
    assert page.count("No workshop in this round") == 3
    assert "Lab 4" in page and "12 places left" in page


def test_successful_registration_shows_reference_and_private_link(client):
    event = demo_event()
    name, value = round_field(event, "Fieldlab demo: Flexible Manufacturing")
    response = client.post(
        f"/events/{DEMO_SLUG}/register",
        data=form_data(event, **{name: value}),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    attendee = db.session.scalar(select(Attendee))
    assert response.status_code == 200
    assert attendee.reference in page
    assert "/manage/" in page
    assert "Ëlise Müller" in page
    assert {r.session.title for r in attendee.registrations} == {
        "Plenaire opening",
        "Fieldlab demo: Flexible Manufacturing",
    }


def test_errors_appear_next_to_their_fields(client):
    event = demo_event()
    response = client.post(
        f"/events/{DEMO_SLUG}/register",
        data=form_data(event, name="", email="nope", consent=""),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="name-error"' in page and 'id="email-error"' in page
    assert 'id="consent-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0


def test_same_email_twice_is_reported_on_the_email_field(client):
    event = demo_event()
    client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event))
    response = client.post(
        f"/events/{DEMO_SLUG}/register", data=form_data(event, email=" ELISE@example.org ")
    )
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 1


def test_full_workshop_without_waitlist_names_the_session(client):
    event = demo_event()
    lab = sessions_by_title(event)["Fieldlab demo: Flexible Manufacturing"]
    lab.capacity = 0
    db.session.commit()
    name, value = round_field(event, lab.title)
    response = client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event, **{name: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Full" in page and "Flexible Manufacturing" in page
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0


def test_form_post_without_csrf_token_is_refused(app, client):
    event = demo_event()
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0


def test_form_post_with_csrf_token_is_accepted(app, client):
    event = demo_event()
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/events/{DEMO_SLUG}/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event, csrf_token=token))
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 1


def test_programme_shows_rooms_speakers_and_seats_in_event_time(client):
    demo_event()
    page = client.get(f"/events/{DEMO_SLUG}/").get_data(as_text=True)
    assert "09:30" in page  # opening at 09:30 Amsterdam time
    assert "Mona Keijzer" in page and "Main Hall" in page  # the English name of the Grote Zaal
    assert "12 places left" in page


def test_unknown_event_is_404(client):
    assert client.get("/events/nope/").status_code == 404
    assert client.get("/events/nope/register").status_code == 404


def test_consent_records_the_words_agreed_to(client):
    event = demo_event()
    client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event))
    attendee = db.session.scalar(select(Attendee))
    assert attendee.consent_at is not None
    assert "form [en]" in attendee.consent_text
    assert "We store your name, email address" in attendee.consent_text
    # The event's questions ask for more (a diet, a hub): the notice agreed to says so.
    assert attendee.consent_text.startswith("2026-12 form [en]")
    assert "answers to the event's questions" in attendee.consent_text


def test_already_registered_offers_the_lost_link_form(client):
    event = demo_event()
    client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event))
    page = client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event)).get_data(
        as_text=True
    )
    assert f"/events/{DEMO_SLUG}/lost-link" in page


def test_a_blank_workshop_choice_registers_without_one_not_a_500(client):
    """A round's radio sent as whitespace passed WTForms' Optional() unchecked and was read
    as a session id: a 500 for anyone who posts the form by hand."""
    event = demo_event()
    name, _value = round_field(event, "Fieldlab demo: Flexible Manufacturing")
    response = client.post(f"/events/{DEMO_SLUG}/register", data=form_data(event, **{name: " "}))
    assert response.status_code == 302
    attendee = db.session.scalar(select(Attendee))
    assert {r.session.title for r in attendee.registrations} == {"Plenaire opening"}
