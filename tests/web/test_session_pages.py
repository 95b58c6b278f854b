"""Session and speaker pages (issue 19.1): the whole description, who, where, when, seats and
waiting list, calendar and register buttons; the programme and the form link to them; breaks
get no calendar buttons."""

import re

import flask_babel
import pytest

from eventapp.extensions import db
from eventapp.models import Speaker
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput

LONG = (
    "Digital twins let a factory try a change before it makes it. "
    "We walk through three cases from the region.\n\n"
    "Bring your own questions: the last half hour is for yours. " * 3
).strip()


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def programme(make_event, make_session, make_room):
    event = make_event(name="Smart Industry 2027")
    studio = make_room(event, "Studio 1", 20)
    opening = make_session(event, start=0, kind="plenary", title="Opening", capacity=100)
    twins = make_session(event, start=1, title="Digital twins", room=studio, description=LONG)
    lab = make_session(event, start=1, title="Cobot lab", capacity=1)
    lunch = make_session(event, start=2, kind="other", title="Lunch", description="Soup.")
    grace = Speaker(event=event, name="Grace Hopper", organisation="Navy")
    twins.speakers = [grace]
    lab.speakers = [grace]
    db.session.commit()
    return event, opening, twins, lab, lunch, grace


def sign_up(event, sessions, email, now):
    data = RegistrationInput(
        name=email.split("@")[0].title(),
        email=email,
        session_ids=[s.id for s in sessions],
        consent=True,
        waitlist=True,
        locale="en",
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result


def test_a_session_page_has_the_whole_description_and_everything_to_decide(client, programme):
    event, opening, twins, lab, lunch, grace = programme
    response = client.get(f"/events/{event.slug}/sessions/{twins.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1" in page and "Digital twins</h1>" in page
    for paragraph in LONG.split("\n\n"):
        assert paragraph.strip() in page  # whole, not cut off
    assert "Studio 1" in page and "Thursday, March 18, 2027, 11:00" in page
    assert f'href="/events/{event.slug}/speakers/{grace.id}"' in page and "Navy" in page
    assert "10 places left" in page
    assert f"/events/{event.slug}/sessions/{twins.id}.ics" in page  # add to calendar
    assert f'href="/events/{event.slug}/register?session={twins.id}"' in page


def test_a_full_session_shows_its_waiting_list_and_offers_to_join_it(client, programme, now):
    event, opening, twins, lab, lunch, grace = programme
    sign_up(event, [lab], "ada@example.org", now)
    sign_up(event, [lab], "bob@example.org", now)  # waits
    page = client.get(f"/events/{event.slug}/sessions/{lab.id}").get_data(as_text=True)
    assert "Full" in page and "1 on the waiting list" in page
    assert "Register and join the waiting list" in page


def test_a_break_has_a_page_without_calendar_or_register_buttons(client, programme):
    event, opening, twins, lab, lunch, grace = programme
    page = client.get(f"/events/{event.slug}/sessions/{lunch.id}").get_data(as_text=True)
    assert "Soup." in page
    assert ".ics" not in page and "register?session" not in page
    programme_page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert f"/sessions/{lunch.id}.ics" not in programme_page
    assert f"/sessions/{twins.id}.ics" in programme_page


def test_the_programme_links_titles_speakers_and_more_to_the_pages(client, programme):
    event, opening, twins, lab, lunch, grace = programme
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    assert f'<a href="/events/{event.slug}/sessions/{twins.id}">Digital twins</a>' in page
    assert f'href="/events/{event.slug}/speakers/{grace.id}">Grace Hopper</a>' in page
    assert "More about this session" in page
    assert "…" not in page


def test_the_form_links_each_option_to_its_page_and_a_session_link_preselects_it(client, programme):
    event, opening, twins, lab, lunch, grace = programme
    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert f'href="/events/{event.slug}/sessions/{lab.id}"' in page
    chosen = client.get(f"/events/{event.slug}/register?session={twins.id}").get_data(as_text=True)
    assert re.search(rf'value="{twins.id}" checked', chosen)
    assert not re.search(rf'value="{twins.id}" checked', page)


def test_a_session_link_to_a_full_workshop_ticks_the_waiting_list(client, programme, now):
    event, opening, twins, lab, lunch, grace = programme
    sign_up(event, [lab], "ada@example.org", now)
    page = client.get(f"/events/{event.slug}/register?session={lab.id}").get_data(as_text=True)
    assert re.search(rf'value="{lab.id}" checked', page)
    [waitlist] = re.findall(r'<input[^>]*id="waitlist"[^>]*>', page)
    assert " checked" in waitlist


def test_a_speaker_page_lists_their_sessions(client, programme):
    event, opening, twins, lab, lunch, grace = programme
    response = client.get(f"/events/{event.slug}/speakers/{grace.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Grace Hopper</h1>" in page and "Navy" in page
    assert "2 sessions at Smart Industry 2027" in page
    assert page.index("Digital twins") < page.index("Cobot lab")  # programme order
    for session in (twins, lab):
        assert f'href="/events/{event.slug}/sessions/{session.id}"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/events/{slug}/sessions/999999",
        "/events/{slug}/speakers/999999",
        "/events/{slug}/sessions/{other}",
        "/events/nope/sessions/{twins}",
    ],
)
def test_unknown_or_foreign_sessions_and_speakers_are_404(
    client, programme, make_event, make_session, path
):
    event, opening, twins, lab, lunch, grace = programme
    other = make_session(make_event(), title="Elsewhere")
    url = path.format(slug=event.slug, other=other.id, twins=twins.id)
    assert client.get(url).status_code == 404


def test_the_pages_speak_dutch(client, programme):
    event, opening, twins, lab, lunch, grace = programme
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    flask_babel.refresh()  # the test's app context outlives requests; Babel caches the locale
    page = client.get(f"/events/{event.slug}/sessions/{twins.id}").get_data(as_text=True)
    assert "Aanmelden voor deze sessie" in page and "Spreker" in page
    page = client.get(f"/events/{event.slug}/speakers/{grace.id}").get_data(as_text=True)
    assert "2 sessies op Smart Industry 2027" in page
