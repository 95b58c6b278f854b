"""The confirmation page shows the attendee's private manage and feed links: no cache may
keep it, no Referer may carry it away, and the next person on the same browser must not
see it by opening the page again."""

import time

from flask import g

from eventapp.public import views as public_views


def register(client, make_event, make_session):
    event = make_event(slug="si")
    plenary = make_session(event, kind="plenary", capacity=10, title="Opening")
    response = client.post(
        "/events/si/register",
        data={
            "name": "Ada",
            "email": "ada@example.org",
            "plenary": [str(plenary.id)],
            "consent": "y",
        },
    )
    assert response.status_code == 302
    return response.headers["Location"]


def test_the_confirmation_is_not_stored_nor_referred(client, make_event, make_session):
    page = client.get(register(client, make_event, make_session))
    assert page.status_code == 200
    assert "/manage/" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_next_person_on_the_browser_does_not_see_it(client, make_event, make_session):
    location = register(client, make_event, make_session)
    assert "/manage/" in client.get(location).get_data(as_text=True)
    g.pop("_login_user", None)
    again = client.get(location)
    assert "/manage/" not in again.get_data(as_text=True)
    assert again.status_code == 302


def test_the_language_switch_shows_it_once_more_right_after(
    client, make_event, make_session, monkeypatch
):
    """Reading the confirmation in the other language is the same person, minutes later;
    after ten minutes the switch opens nothing."""
    location = register(client, make_event, make_session)
    assert client.get(location).status_code == 200
    g.pop("_login_user", None)
    switched = client.get(f"/lang/nl?next={location}", follow_redirects=True)
    assert "/manage/" in switched.get_data(as_text=True)
    assert switched.request.path == location

    g.pop("_login_user", None)
    later = time.time() + public_views.CONFIRMATION_RELANGUAGE_SECONDS + 1
    monkeypatch.setattr(public_views.time, "time", lambda: later)
    again = client.get(f"/lang/en?next={location}", follow_redirects=True)
    assert "/manage/" not in again.get_data(as_text=True)
