"""The allocation over the JSON API: preference registrations, dry run, publish, roles."""

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Preference, Registration


@pytest.fixture
def api(client, make_organiser, api_token):
    organiser = make_organiser()
    headers = {"Authorization": f"Bearer {api_token(organiser)}"}

    def call(method, path, json=None):
        return client.open(path, method=method, json=json, headers=headers)

    return call


@pytest.fixture
def event(api):
    """Built through the API: a preference-mode event, a plenary and two one-seat workshops."""
    created = api(
        "POST",
        "/api/v1/events",
        {
            "slug": "expo",
            "name": "Expo",
            "starts_at": "2027-03-18T09:00",
            "ends_at": "2027-03-18T18:00",
            "status": "published",
            "allocation_mode": "preferences",
            # The private link must be in the 201 answer here (tests/web/test_holds.py
            # covers held registrations, whose link travels only by email).
            "confirm_email_first": False,
        },
    )
    assert created.status_code == 201 and created.get_json()["allocation_mode"] == "preferences"
    ids = {}
    for title, kind, start in (
        ("Opening", "plenary", "09:00"),
        ("A1", "workshop", "11:00"),
        ("A2", "workshop", "11:00"),
    ):
        made = api(
            "POST",
            "/api/v1/events/expo/sessions",
            {
                "title": title,
                "kind": kind,
                "starts_at": f"2027-03-18T{start}",
                "ends_at": f"2027-03-18T{start[:2]}:45",
                "capacity": 1 if kind == "workshop" else 50,
            },
        )
        assert made.status_code == 201, made.get_json()
        ids[title] = made.get_json()["id"]
    return ids


ROUND = "20270318T1000"  # 11:00 in Amsterdam is 10:00 UTC


def register(client, name, ids, preferences):
    return client.post(
        "/api/v1/events/expo/registrations",
        json={
            "name": name,
            "email": f"{name.lower()}@example.org",
            "session_ids": [ids["Opening"]],
            "consent": True,
            "preferences": preferences,
        },
    )


def test_registration_takes_preferences_in_preference_mode(client, event):
    response = register(client, "Ada", event, {ROUND: [event["A2"], event["A1"]]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["preferences"] == {ROUND: [event["A2"], event["A1"]]}
    assert [s["id"] for s in body["sessions"]] == [event["Opening"]]
    assert db.session.scalar(select(func.count()).select_from(Preference)) == 2

    bad = register(client, "Bob", event, {ROUND: [event["Opening"]]})
    assert bad.status_code == 422 and "preferences" in bad.get_json()["fields"]


def test_dry_run_then_publish_then_refuse(client, api, event):
    for name in ("Ada", "Bob", "Cyd"):
        assert register(client, name, event, {ROUND: [event["A1"], event["A2"]]}).status_code == 201

    dry = api("POST", "/api/v1/events/expo/allocation", {"dry_run": True, "seed": 4})
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert body["seed"] == 4 and body["status"] == "dry_run" and body["published"] is None
    assert body["stats"]["optimal"]["by_rank"] == [1, 1] and body["stats"]["optimal"]["none"] == 1
    assert set(body["stats"]) == {
        "optimal",
        "first_come_first_served",
        "random_serial_dictatorship",
    }
    workshop_rows = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.session_id.in_([event["A1"], event["A2"]]))
    )
    assert db.session.scalar(workshop_rows) == 0

    published = api("POST", "/api/v1/events/expo/allocation", {"dry_run": False, "seed": 4})
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["published"] == {"confirmed": 2, "waitlisted": 2, "emails": 3}
    assert db.session.scalar(workshop_rows) == 4

    again = api("POST", "/api/v1/events/expo/allocation", {"dry_run": False})
    assert again.status_code == 409 and again.get_json()["error"] == "already_published"


@pytest.mark.parametrize("body", [{"dry_run": "yes"}, {"seed": -1}, {"seed": "1"}])
def test_bad_bodies_are_422(api, event, body):
    response = api("POST", "/api/v1/events/expo/allocation", body)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) <= {"dry_run", "seed"}


def test_roles(client, event, make_organiser, api_token):
    assert client.post("/api/v1/events/expo/allocation", json={}).status_code == 401
    checkin = make_organiser("checkin")
    headers = {"Authorization": f"Bearer {api_token(checkin)}"}
    assert (
        client.post("/api/v1/events/expo/allocation", json={}, headers=headers).status_code == 403
    )


def test_an_attendee_changes_their_ranking_with_their_private_link(client, api, event):
    """PATCH /registrations/<token> takes `preferences` as the manage page does: the new
    ranking replaces the old; a bad one changes nothing; after publication it is refused."""
    made = register(client, "Ada", event, {ROUND: [event["A1"], event["A2"]]})
    token = made.get_json()["manage_url"].rsplit("/", 1)[-1]
    path = f"/api/v1/registrations/{token}"

    changed = client.patch(path, json={"preferences": {ROUND: [event["A2"]]}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["preferences"] == {ROUND: [event["A2"]]}
    ranked = db.session.scalars(select(Preference.session_id).order_by(Preference.rank)).all()
    assert ranked == [event["A2"]]

    bad = client.patch(path, json={"preferences": {ROUND: [event["Opening"]]}})
    assert bad.status_code == 422 and "preferences" in bad.get_json()["fields"]
    assert db.session.scalars(select(Preference.session_id)).all() == [event["A2"]]

    published = api("POST", "/api/v1/events/expo/allocation", {"dry_run": False, "seed": 1})
    assert published.status_code == 200, published.get_json()
    late = client.patch(path, json={"preferences": {ROUND: [event["A1"]]}})
    assert late.status_code == 409 and late.get_json()["error"] == "not_collecting"


def test_the_fairness_figures_are_in_the_openapi_document(client):
    """The replies carried misses_per_attendee, two_or_more_misses and spanned, but the
    document named only method, by_rank, none, assigned and fill."""
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    fields = schemas["AllocationStats"]["properties"]
    assert {"misses_per_attendee", "two_or_more_misses", "spanned"} <= set(fields)
