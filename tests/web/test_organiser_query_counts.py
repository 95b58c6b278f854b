"""The organiser's pages cost the same number of SQL queries for 10 attendees as for 1,000:
no query per attendee hides in a loop or a lazy relationship in a template."""

import pytest
from flask import g
from sqlalchemy import event as sa_event

from eventapp.extensions import db
from eventapp.models import Event, EventSession, Registration
from eventapp.services.mail import outbox
from tests.query_counter import QueryCounter as StatementCounter
from tests.web.attendee_factory import add_attendees


class QueryCounter:
    """Counts the statements sent to the database while active (SQLAlchemy's
    before_cursor_execute event, so ORM, Core and lazy loads all count)."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _count(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        sa_event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa_event.remove(self.engine, "before_cursor_execute", self._count)


def _event_with(make_event, make_session, make_room, size: int):
    event = make_event()
    room = make_room(event, "Zaal 1", capacity=2000)
    plenary = make_session(event, kind="plenary", capacity=2000, room=room, title="Opening")
    workshop = make_session(event, start=1, capacity=2000, room=room, title="Workshop A")
    small = make_session(event, start=1, capacity=size, title="Workshop B")
    add_attendees(event, [plenary, workshop], size, checked_in_every=3)
    # A waiting list, cancelled people, failed and pending mail: every panel has rows.
    waiting = add_attendees(event, [small], size, start=size, status="waitlisted")
    for attendee in waiting[: size // 2]:
        attendee.status = "cancelled"
        for registration in attendee.registrations:
            registration.status = "cancelled"
    for attendee in waiting[:: max(size // 5, 1)]:
        message = outbox.enqueue("confirmation", attendee, {"session_ids": [small.id]})
        message.status = "failed"
        message.last_error = "550 mailbox unavailable"
        outbox.enqueue("confirmation", attendee, {})
    db.session.commit()
    registration = db.session.scalars(
        db.select(Registration).where(Registration.status == "waitlisted")
    ).first()
    return event, small, registration


def _fresh_request_state() -> None:
    """Start the next request as production does: an empty session, no user loaded yet.

    (The test client reuses the test's app context, so without this the identity map and
    Flask-Login's cached user would carry over between requests and hide queries.)
    """
    db.session.remove()
    g.pop("_login_user", None)


def _queries_per_page(client, urls) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        _fresh_request_state()
        client.get(url)  # warm what is cached per process (templates, Babel catalogs)
        _fresh_request_state()
        with QueryCounter(db.engine) as counter:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = counter.count
    return counts


def _urls(event, session, registration):
    slug = event.slug
    return {
        "dashboard": "/organiser/",
        "event_dashboard": f"/organiser/events/{slug}/",
        "attendees": f"/organiser/events/{slug}/attendees",
        "attendees_filtered": (
            f"/organiser/events/{slug}/attendees?session={session.id}&status=waitlisted"
        ),
        "attendee": f"/organiser/events/{slug}/attendees/{registration.attendee_id}",
        "waitlists": f"/organiser/events/{slug}/waitlists",
        "export_attendees": f"/organiser/events/{slug}/attendees.csv",
        "export_session": f"/organiser/events/{slug}/sessions/{session.id}/attendees.csv",
        "checkin": f"/organiser/events/{slug}/checkin?q=attendee",
        "checkin_session": f"/organiser/events/{slug}/checkin?session={session.id}&q=org",
        "checkin_missing": f"/organiser/events/{slug}/checkin/missing",
        "messages": f"/organiser/events/{slug}/messages",
    }


@pytest.mark.slow
def test_pages_cost_the_same_queries_for_10_and_1000_attendees(
    app, client, make_event, make_session, make_room, make_organiser, login
):
    login(make_organiser("admin"))
    small = _event_with(make_event, make_session, make_room, 10)
    small_counts = _queries_per_page(client, _urls(*small))
    # The same shape again, a hundred times bigger. The small event goes first (the database
    # cascades), so /organiser/ shows a single event's dashboard both times.
    db.session.execute(db.delete(Event).where(Event.id == small[0].id))
    db.session.commit()
    large = _event_with(make_event, make_session, make_room, 1000)
    large_counts = _queries_per_page(client, _urls(*large))
    assert large_counts == small_counts
    assert all(count < 40 for count in small_counts.values()), small_counts


def test_dashboard_queries_do_not_grow_with_events(
    app, client, make_event, make_session, make_organiser, login
):
    """The all-events overview: a fixed number of queries for 2 events or 12."""
    login(make_organiser("organiser"))
    for _ in range(2):
        make_session(make_event())
    with_two = _queries_per_page(client, {"overview": "/organiser/"})
    for _ in range(10):
        make_session(make_event())
    assert _queries_per_page(client, {"overview": "/organiser/"}) == with_two


@pytest.mark.parametrize("role", ["admin", "organiser"])
def test_the_event_dashboard_takes_at_most_ten_statements(
    app, client, make_event, make_session, make_room, make_organiser, login, role
):
    """Every panel with rows (a waiting list, cancelled people, failed and pending mail, an
    attendee holding two seats at once): the signed-in organiser, the event, its sessions
    with rooms and speakers, the seats, the attendees, the mail and the overlaps."""
    event, small, _registration = _event_with(make_event, make_session, make_room, 40)
    clash = add_attendees(event, [small], 1, start=100)[0]
    workshop = db.session.scalar(db.select(EventSession).where(EventSession.title == "Workshop A"))
    db.session.add(Registration(attendee=clash, session=workshop, status="confirmed"))
    db.session.commit()
    login(make_organiser(role))
    url = f"/organiser/events/{event.slug}/"
    _fresh_request_state()
    client.get(url)
    _fresh_request_state()
    with StatementCounter(db.engine) as counter:
        response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 attendee of" in page or "1 deelnemer van" in page  # the overlap is on the page
    assert counter.count <= 10, "\n".join(s[:120] for s in counter.statements)
