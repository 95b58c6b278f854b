"""Building the programme through the organiser pages: forms, conflicts, import, audit."""

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import AuditEntry, Event, EventSession, OutboxMessage


@pytest.fixture
def organiser(make_organiser, login, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return login(make_organiser())


def create_event(client):
    response = client.post(
        "/organiser/events/new",
        data={
            "name": "Expo",
            "slug": "expo",
            "timezone": "Europe/Amsterdam",
            "starts_at": "2027-03-18T09:00",
            "ends_at": "2027-03-18T18:00",
            "status": "draft",
            "venue": "Utrecht",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(Event).where(Event.slug == "expo"))


def add_room(client, name="Studio 1", capacity=40):
    response = client.post(
        "/organiser/events/expo/rooms/new", data={"name": name, "capacity": capacity}
    )
    assert response.status_code == 302
    return next(r for r in db.session.scalar(select(Event)).rooms if r.name == name)


SESSION = {
    "title": "Digital twins",
    "kind": "workshop",
    "starts_at": "2027-03-18T10:00",
    "ends_at": "2027-03-18T11:00",
    "speakers": "Ada\nBob",
}


def test_create_event_room_and_session_through_the_forms(client, organiser):
    event = create_event(client)
    assert event.starts_at == datetime(2027, 3, 18, 8, 0, tzinfo=UTC)
    room = add_room(client)
    response = client.post(
        "/organiser/events/expo/sessions/new", data={**SESSION, "room_id": room.id}
    )
    assert response.status_code == 302
    session = db.session.scalars(select(EventSession)).one()
    assert (session.capacity, [s.name for s in session.speakers]) == (40, ["Ada", "Bob"])
    page = client.get("/organiser/events/expo/programme").get_data(as_text=True)
    assert "Digital twins" in page and "No conflicts." in page


def test_hard_conflict_blocks_the_form_without_a_confirm_box(client, organiser):
    create_event(client)
    room = add_room(client)
    client.post("/organiser/events/expo/sessions/new", data={**SESSION, "room_id": room.id})
    response = client.post(
        "/organiser/events/expo/sessions/new",
        data={**SESSION, "title": "Clash", "speakers": "", "room_id": room.id, "confirm": "y"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "already holds “Digital twins”" in page
    assert 'name="confirm"' in page  # ticked before, so shown: it does not help
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 1


def test_soft_conflict_asks_then_saves_with_the_box_ticked(client, organiser):
    create_event(client)
    client.post("/organiser/events/expo/sessions/new", data={**SESSION, "capacity": 10})
    data = {**SESSION, "title": "Panel", "speakers": "Ada", "capacity": 10}
    first = client.post("/organiser/events/expo/sessions/new", data=data)
    assert first.status_code == 409
    page = first.get_data(as_text=True)
    assert "Ada also speaks at “Digital twins”" in page and 'name="confirm"' in page
    second = client.post("/organiser/events/expo/sessions/new", data={**data, "confirm": "y"})
    assert second.status_code == 302
    conflicts = client.get("/organiser/events/expo/conflicts").get_data(as_text=True)
    assert "Ada speaks at “Digital twins” and “Panel” at the same time" in conflicts


def test_move_and_cancel_pages(client, organiser, now):
    from eventapp.services.registration import register as registration
    from eventapp.services.registration.register import RegistrationInput

    event = create_event(client)
    client.post("/organiser/events/expo/sessions/new", data={**SESSION, "capacity": 10})
    session = db.session.scalars(select(EventSession)).one()
    event.status = "published"
    registration.register(
        event,
        RegistrationInput(
            name="Ada", email="ada@example.org", session_ids=[session.id], consent=True
        ),
        now,
    )
    db.session.commit()

    new_time = {"starts_at": "2027-03-18T14:00", "ends_at": "2027-03-18T15:00", "room_id": 0}
    move = client.post(f"/organiser/events/expo/sessions/{session.id}/move", data=new_time)
    shown = move.get_data(as_text=True)
    assert "This change emails 1 person." in shown  # asked first
    reviewed = re.search(r'name="reviewed" type="hidden" value="([^"]*)"', shown).group(1)
    move = client.post(
        f"/organiser/events/expo/sessions/{session.id}/move",
        data={**new_time, "reviewed": reviewed},
    )
    assert move.status_code == 302
    db.session.refresh(session)
    assert session.starts_at == datetime(2027, 3, 18, 13, 0, tzinfo=UTC)

    page = client.get(f"/organiser/events/expo/sessions/{session.id}/cancel")
    assert "This change emails 1 person." in page.get_data(as_text=True)
    assert client.post(f"/organiser/events/expo/sessions/{session.id}/cancel").status_code == 422
    done = client.post(
        f"/organiser/events/expo/sessions/{session.id}/cancel", data={"confirm": "y"}
    )
    assert done.status_code == 302
    db.session.refresh(session)
    assert session.status == "cancelled"
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["confirmation", "session_moved", "session_cancelled"]


def test_audit_page_shows_who_changed_what(client, organiser):
    create_event(client)
    room = add_room(client)
    client.post(
        f"/organiser/events/expo/rooms/{room.id}/edit", data={"name": "Studio One", "capacity": 40}
    )
    page = client.get("/organiser/events/expo/audit").get_data(as_text=True)
    assert "room.updated" in page and "Studio One" in page and organiser.email in page
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["event.created", "room.created", "room.updated"]


def test_edit_pages_show_times_in_the_event_timezone(client, organiser):
    create_event(client)
    page = client.get("/organiser/events/expo/edit").get_data(as_text=True)
    assert 'value="2027-03-18T09:00"' in page


CSV = (
    "title,kind,start,end,room,capacity,speakers\n"
    "Opening,plenary,2027-03-18 09:30,10:30,Grote Zaal,600,Ada\n"
    "Late drinks,other,2027-03-18 19:00,20:00,,,\n"
)


def upload(client, content, action, **extra):
    data = {"file": (io.BytesIO(content.encode()), "programme.csv"), "action": action, **extra}
    return client.post(
        "/organiser/events/expo/import", data=data, content_type="multipart/form-data"
    )


def test_import_dry_run_then_confirmed_import(client, organiser):
    create_event(client)
    check = upload(client, CSV, "check")
    page = check.get_data(as_text=True)
    assert check.status_code == 200 and "Late drinks" in page  # the warning names it
    assert "outside the event" in page
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 0

    unconfirmed = upload(client, CSV, "import")
    assert unconfirmed.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 0

    done = upload(client, CSV, "import", confirm="y")
    assert done.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 2


def test_import_with_an_error_writes_nothing(client, organiser):
    create_event(client)
    bad = CSV + "Broken,workshop,someday,10:00,,10,\n"
    response = upload(client, bad, "import", confirm="y")
    assert response.status_code == 422
    assert "Not a date and time" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 0


def test_import_after_a_dry_run_uses_the_checked_content(client, organiser):
    create_event(client)
    page = upload(client, CSV, "check").get_data(as_text=True)
    assert 'name="content"' in page and "Late drinks" in page
    response = client.post(
        "/organiser/events/expo/import",
        data={"content": CSV, "filename": "programme.csv", "action": "import", "confirm": "y"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(EventSession)) == 2


def test_move_and_cancel_the_whole_event(client, organiser):
    create_event(client)
    client.post("/organiser/events/expo/sessions/new", data={**SESSION, "capacity": 10})
    moved = client.post("/organiser/events/expo/move", data={"starts_at": "2027-03-19T09:00"})
    assert moved.status_code == 302
    session = db.session.scalars(select(EventSession)).one()
    assert session.starts_at == datetime(2027, 3, 19, 9, 0, tzinfo=UTC)  # 10:00 CET
    page = client.get("/organiser/events/expo/cancel").get_data(as_text=True)
    assert 'name="confirm"' in page
    assert client.post("/organiser/events/expo/cancel").status_code == 422
    assert client.post("/organiser/events/expo/cancel", data={"confirm": "y"}).status_code == 302
    db.session.refresh(session)
    assert session.status == "cancelled" and session.event.status == "closed"


def test_a_date_outside_the_years_allowed_says_so(client, organiser):
    """Issue 20: moving the event to 1999-01-01 09:00 answered "Not a date and time", which
    it is: the reason is the year."""
    create_event(client)
    response = client.post("/organiser/events/expo/move", data={"starts_at": "1999-01-01T09:00"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "years 2000 to 2999" in text and "Not a date and time" not in text
    nonsense = client.post("/organiser/events/expo/move", data={"starts_at": "soon"})
    assert nonsense.status_code == 422 and "years 2000" not in nonsense.get_data(as_text=True)
