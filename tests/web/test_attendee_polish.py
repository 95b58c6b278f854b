"""Polish attendees notice (issue 19.7): plurals, a favicon, an "almost full" badge relative
to capacity, the consent error said once, optional fields marked, registering again after a
full cancel, and the timetable's list fallback explained to organisers."""

import re

import flask_babel
import pytest

from eventapp.extensions import db
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def sign_up(event, sessions, now, email="ada@example.org"):
    data = RegistrationInput(
        name="Ada", email=email, session_ids=[s.id for s in sessions], consent=True, locale="en"
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result


def badges_of(page: str, session_id: int) -> str:
    """The badges of one session's card on the programme: their classes and words."""
    card = re.search(rf'id="session-{session_id}".*?</article>', page, re.S).group(0)
    return " ".join(
        f"{kind}: {text}" for kind, text in re.findall(r'class="badge ([^"]+)">(.*?)</span>', card)
    )


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # the ICO header


def test_almost_full_is_relative_to_capacity(client, make_event, make_session, now):
    event = make_event()
    pair = make_session(event, start=0, capacity=2, title="Pair")  # 2 of 2 free
    hall = make_session(event, start=1, capacity=200, title="Hall")
    small = make_session(event, start=2, capacity=10, title="Small")
    hall.seats_taken = 195  # 5 of 200 left
    small.seats_taken = 8  # 2 of 10 left
    db.session.commit()
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert "badge-almost" not in badges_of(page, pair.id)
    assert "2 places left" in badges_of(page, pair.id)
    assert "badge-almost" in badges_of(page, hall.id)
    assert "badge-almost" in badges_of(page, small.id)


def test_plurals_in_both_languages(client, make_event, make_session, now):
    event = make_event()
    one = make_session(event, start=0, capacity=1, title="Solo")
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert "1 place left" in page and "1 places left" not in page
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    flask_babel.refresh()  # the test's app context outlives requests; Babel caches the locale
    page = client.get(f"/events/{event.slug}/sessions/{one.id}").get_data(as_text=True)
    assert "nog 1 plaats" in page and "1 plaatsen" not in page


def test_the_consent_error_does_not_repeat_the_consent_sentence(client, make_event, make_session):
    event = make_event()
    make_session(event, kind="plenary", title="Opening", capacity=10)
    response = client.post(
        f"/events/{event.slug}/register", data={"name": "Ada", "email": "ada@example.org"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div class="form-errors".*?</div>', page, re.S).group(0)
    assert "Please agree to the processing of your data to register." in summary
    assert "I agree that my data is processed" not in summary


def test_optional_fields_are_marked(client, make_event, make_session, now):
    event = make_event()
    opening = make_session(event, kind="plenary", title="Opening", capacity=10)
    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert "Organisation (optional)" in page and "Job role (optional)" in page
    token = sign_up(event, [opening], now).manage_token
    assert "Organisation (optional)" in client.get(f"/manage/{token}").get_data(as_text=True)


def test_register_again_after_a_full_cancel_selects_what_it_says(
    client, make_event, make_session, now
):
    event = make_event()
    opening = make_session(event, kind="plenary", title="Opening", capacity=10)
    closing = make_session(event, start=5, kind="plenary", title="Closing", capacity=10)
    result = sign_up(event, [opening], now)
    service.cancel_registration(result.attendee, now)
    db.session.commit()
    page = client.get(f"/manage/{result.manage_token}").get_data(as_text=True)
    assert "The plenary sessions with places left are selected" in page
    assert "Your current choices are selected" not in page
    for session in (opening, closing):
        assert re.search(rf'<input[^>]*checked[^>]*value="{session.id}"', page) or re.search(
            rf'<input[^>]*value="{session.id}"[^>]*checked', page
        )


def test_organisers_learn_why_a_day_is_a_list(
    client, make_event, make_session, make_room, make_organiser, login
):
    event = make_event()
    room = make_room(event, "Studio 1", 20)
    other = make_room(event, "Studio 2", 20)
    make_session(event, start=0, title="A", room=room)
    make_session(event, start=0.5, title="B", room=room)  # overlaps A in the same room
    make_session(event, start=0, title="C", room=other)
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert "timetable-fallback" not in page  # visitors are not bothered with it
    login(make_organiser())
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert "because of two sessions overlap in one room" in page


def test_a_day_that_fits_the_grid_has_no_warning(
    client, make_event, make_session, make_room, make_organiser, login
):
    event = make_event()
    make_session(event, start=0, title="A", room=make_room(event, "Studio 1", 20))
    make_session(event, start=0, title="C", room=make_room(event, "Studio 2", 20))
    login(make_organiser())
    assert "timetable-fallback" not in client.get(f"/events/{event.slug}/").get_data(as_text=True)
