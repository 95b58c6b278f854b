"""Organisers choose, per event, how the waiting list promotes, when reminders go and how
long attendees' data is kept: through the API and the event form, checked by one service."""

from eventapp.extensions import db
from eventapp.models import Event


def test_api_sets_and_validates_the_settings(client, make_event, make_organiser, api_token):
    event = make_event()
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}

    response = client.patch(
        f"/api/v1/events/{event.slug}",
        headers=headers,
        json={
            "promotion_mode": "offer",
            "offer_hours": 12,
            "reminder_hours": 48,
            "retention_days": 90,
        },
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (
        body["promotion_mode"],
        body["offer_hours"],
        body["reminder_hours"],
        body["retention_days"],
    ) == ("offer", 12, 48, 90)
    db.session.expire_all()
    assert db.session.get(Event, event.id).promotion_mode == "offer"

    refused = client.patch(
        f"/api/v1/events/{event.slug}",
        headers=headers,
        json={
            "promotion_mode": "lottery",
            "offer_hours": 0,
            "retention_days": -1,
        },
    )
    assert refused.status_code == 422
    assert set(refused.get_json()["fields"]) == {"promotion_mode", "offer_hours", "retention_days"}
    cleared = client.patch(
        f"/api/v1/events/{event.slug}", headers=headers, json={"retention_days": None}
    )
    assert cleared.get_json()["retention_days"] is None


def test_event_form_edits_the_settings(client, make_event, make_organiser, login):
    event = make_event()
    login(make_organiser())
    page = client.get(f"/organiser/events/{event.slug}/edit")
    assert page.status_code == 200 and 'name="promotion_mode"' in page.get_data(as_text=True)

    response = client.post(
        f"/organiser/events/{event.slug}/edit",
        data={
            "name": event.name,
            "slug": event.slug,
            "venue": "",
            "timezone": "Europe/Amsterdam",
            "starts_at": "2027-03-18T09:00",
            "ends_at": "2027-03-18T18:00",
            "registration_opens_at": "",
            "registration_closes_at": "",
            "status": "published",
            "description": "",
            "promotion_mode": "offer",
            "offer_hours": "6",
            "reminder_hours": "24",
            "retention_days": "30",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Event, event.id)
    assert (saved.promotion_mode, saved.offer_hours, saved.retention_days) == ("offer", 6, 30)
