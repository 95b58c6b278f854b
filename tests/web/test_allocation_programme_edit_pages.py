"""The organiser sees how many rankings a programme change touches before it is saved
(finding 4 of allocation round two): on the move/edit form as a warning to confirm, and on
the cancel page."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import EventSession, OutboxMessage
from tests.allocation_support import preference_event


@pytest.fixture
def event(make_event, make_session, now):
    return preference_event(
        make_event, make_session, now, people=3, workshops={"Robots": 1, "Sensors": 1}
    )


def test_moving_a_ranked_workshop_shows_the_count_first(client, login, make_organiser, event):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(make_organiser())
    robots = db.session.scalar(select(EventSession).where(EventSession.title == "Robots"))
    url = f"/organiser/events/{event.slug}/sessions/{robots.id}/move"
    data = {"starts_at": "2027-03-18T15:00", "ends_at": "2027-03-18T16:00", "room_id": 0}

    warned = client.post(url, data=data)
    assert warned.status_code == 409
    assert "3 attendees ranked “Robots”" in warned.get_data(as_text=True)
    db.session.refresh(robots)
    assert robots.starts_at == datetime(2027, 3, 18, 11, 0, tzinfo=UTC)  # not saved

    saved = client.post(url, data={**data, "confirm": "y"})
    assert saved.status_code == 302
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count("ranking_review") == 3

    page = client.get(f"/organiser/events/{event.slug}/sessions/{robots.id}/cancel")
    assert "3 attendees ranked this workshop" in page.get_data(as_text=True)
