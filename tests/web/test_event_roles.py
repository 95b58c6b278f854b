"""Roles per event: an organiser or check-in account covers only the events where it has a
role, in pages, the API and exports; admins cover every event."""

import pytest
from flask import g

from eventapp.extensions import db
from eventapp.models import EventRole


@pytest.fixture
def two_events(make_event, make_session, make_organiser, api_token):
    ours = make_event(slug="ours", team=[])
    theirs = make_event(slug="theirs", team=[])
    ours_session = make_session(ours, capacity=5)
    theirs_session = make_session(theirs, capacity=5)
    organiser = make_organiser("organiser", events=[ours])
    checker = make_organiser("checkin", events=[ours])
    return {
        "organiser": organiser,
        "checker": checker,
        "token": api_token(organiser),
        "ours_session": ours_session.id,
        "theirs_session": theirs_session.id,
    }


def get(client, path, **kwargs):
    g.pop("_login_user", None)  # the `app` fixture's context outlives requests
    return client.get(path, **kwargs)


PAGES = [
    "/organiser/events/{slug}/",
    "/organiser/events/{slug}/attendees",
    "/organiser/events/{slug}/attendees.csv",
    "/organiser/events/{slug}/waitlists",
    "/organiser/events/{slug}/programme",
    "/organiser/events/{slug}/audit",
    "/organiser/events/{slug}/messages",
    "/organiser/events/{slug}/checkin",
    "/organiser/events/{slug}/sessions/{session}/attendees.csv",
]


def test_an_organiser_sees_only_their_own_events_pages(client, login, two_events):
    login(two_events["organiser"])
    for page in PAGES:
        ours = page.format(slug="ours", session=two_events["ours_session"])
        theirs = page.format(slug="theirs", session=two_events["theirs_session"])
        assert get(client, ours).status_code == 200, ours
        assert get(client, theirs).status_code == 403, theirs


def test_the_dashboard_lists_only_their_events(client, login, two_events):
    login(two_events["organiser"])
    page = get(client, "/organiser/").get_data(as_text=True)
    assert "/organiser/events/ours/" in page
    assert "/organiser/events/theirs/" not in page


def test_a_checkin_account_checks_in_only_at_its_event(client, login, two_events):
    login(two_events["checker"])
    assert get(client, "/organiser/events/ours/checkin").status_code == 200
    assert get(client, "/organiser/events/theirs/checkin").status_code == 403
    assert get(client, "/organiser/events/ours/attendees").status_code == 403  # not its role


def test_the_api_keeps_to_the_tokens_events(client, two_events):
    headers = {"Authorization": f"Bearer {two_events['token']}"}
    assert get(client, "/api/v1/events/ours/registrations", headers=headers).status_code == 200
    theirs = get(client, "/api/v1/events/theirs/registrations", headers=headers)
    assert theirs.status_code == 403 and theirs.json["error"] == "forbidden"
    assert (
        get(
            client, f"/api/v1/sessions/{two_events['theirs_session']}/waitlist", headers=headers
        ).status_code
        == 403
    )
    patched = client.patch(
        f"/api/v1/sessions/{two_events['theirs_session']}",
        json={"capacity": 50},
        headers=headers,
    )
    assert patched.status_code == 403


def test_an_admin_covers_every_event(client, login, make_organiser, two_events):
    login(make_organiser("admin"))
    for slug in ("ours", "theirs"):
        assert get(client, f"/organiser/events/{slug}/attendees").status_code == 200


def test_creating_an_event_gives_its_creator_the_organiser_role(client, two_events):
    headers = {"Authorization": f"Bearer {two_events['token']}"}
    created = client.post(
        "/api/v1/events",
        json={
            "slug": "new-one",
            "name": "New",
            "timezone": "Europe/Amsterdam",
            "starts_at": "2027-05-01T09:00",
            "ends_at": "2027-05-01T17:00",
            "status": "draft",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert get(client, "/api/v1/events/new-one/registrations", headers=headers).status_code == 200
    roles = db.session.query(EventRole).filter_by(organiser_id=two_events["organiser"].id).count()
    assert roles == 2


def view_chain(view):
    while view is not None:
        yield view
        view = getattr(view, "__wrapped__", None)


def test_every_event_url_of_the_organiser_and_the_api_checks_the_event_role(app):
    """Walks the URL map: a new organiser view naming an event must use event_role_required."""
    unchecked = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("organiser.", "api.")):
            continue
        if not ({"slug", "session_id"} & set(rule.arguments)):
            continue
        view = app.view_functions[rule.endpoint]
        guarded = any(getattr(v, "required_roles", None) for v in view_chain(view))
        if guarded and not any(getattr(v, "event_scoped", False) for v in view_chain(view)):
            unchecked.append(rule.rule)
    assert not unchecked


def test_the_cli_grants_and_takes_away_a_role(client, runner, login, make_event, make_organiser):
    make_event(slug="later", team=[])
    organiser = make_organiser("organiser", events=[])
    login(organiser)
    assert get(client, "/organiser/events/later/attendees").status_code == 403
    granted = runner.invoke(args=["organiser", "grant", organiser.email, "later"])
    assert granted.exit_code == 0, granted.output
    assert get(client, "/organiser/events/later/attendees").status_code == 200
    taken = runner.invoke(args=["organiser", "ungrant", organiser.email, "later"])
    assert taken.exit_code == 0, taken.output
    assert get(client, "/organiser/events/later/attendees").status_code == 403


def test_another_events_draft_stays_hidden_from_the_api(client, make_event, two_events):
    """A draft is read through the API by its own team only (and admins); an organiser of
    another event got it, its sessions and its questions."""
    make_event(slug="secret", status="draft", team=[])
    headers = {"Authorization": f"Bearer {two_events['token']}"}
    for path in ("/api/v1/events/secret", "/api/v1/events/secret/sessions"):
        assert get(client, path, headers=headers).status_code == 404
    assert get(client, "/api/v1/events/secret/questions", headers=headers).status_code == 404
    make_event(slug="own-draft", status="draft", team=[two_events["organiser"]])
    assert get(client, "/api/v1/events/own-draft", headers=headers).status_code == 200
