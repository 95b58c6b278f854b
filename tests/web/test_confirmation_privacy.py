"""The confirmation page shows the attendee's private manage and feed links: no cache may
keep it, no Referer may carry it away, and the next person on the same browser must not
see it by opening the page again."""

from flask import g


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
