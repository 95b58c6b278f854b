"""The public hot paths cost a fixed number of SQL queries, however big the event.

The programme page, the registration form and a registration (API and form) are what a
crowd hits when registration opens. Their query counts must not grow with the number of
sessions, speakers, rooms or attendees (no query per row hidden in a loop, a lazy
relationship or a template), and a registration costs the same statements however many
sessions it chooses. docs/PERFORMANCE.md has the numbers.
(The organiser pages have their own test: test_organiser_query_counts.py.)
"""

from datetime import UTC, datetime, timedelta

import pytest

from eventapp.extensions import db
from eventapp.models import Event, Speaker
from tests.query_counter import QueryCounter
from tests.web.attendee_factory import add_attendees

# Today's counts (both databases; SQLite's BEGIN IMMEDIATE is not counted). A change that
# needs more must say why here and in docs/PERFORMANCE.md.
PROGRAMME_PAGE_MAX = 6
# A registration: the event with the chosen sessions and whether it asks questions (one
# query; the questions themselves only when it does, services/registration/questions.py),
# then the writes: on PostgreSQL one statement (services/registration/writes.py), on SQLite
# four (attendee, email, rows, seats); and one count of the event's recent registrations
# from the same address or email domain (services/registration/limits.py).
REGISTRATION_MAX = {"postgresql": 3, "sqlite": 6}
# The form's POST: the event, its sessions with rooms, their speakers and the questions (the
# form is built from them, and the registration answers them from the same list), the
# limits' count and the writes; nothing is read back for the redirect to the confirmation.
FORM_POST_MAX = {"postgresql": 5, "sqlite": 8}
# The confirmation: the event, the attendee joined with their registrations and sessions, the
# speakers, and every waiting-list position in one statement (waitlist.waitlist_positions).
CONFIRMATION_MAX = 4


def _fresh_session() -> None:
    """Start each request as production does: the test client shares the test's app
    context, so without this the identity map would carry loaded rows over and hide queries."""
    db.session.remove()


def _build_event(
    make_event, make_session, make_room, *, rounds: int, per_round: int, attendees: int
):
    """A plenary, rounds of workshops in rooms with speakers, attendees and a waiting list."""
    event = make_event()
    rooms = [make_room(event, f"Room {i}", capacity=5000) for i in range(per_round)]
    plenary = make_session(event, kind="plenary", capacity=5000, room=rooms[0], title="Opening")
    workshops = [
        make_session(
            event, start=1 + r * 1.5, capacity=5000, room=rooms[w], title=f"Workshop {r}.{w}"
        )
        for r in range(rounds)
        for w in range(per_round)
    ]
    small = make_session(event, start=1 + rounds * 1.5, capacity=1, title="Tiny workshop")
    for index, session in enumerate([plenary, *workshops]):
        session.speakers = [
            Speaker(event=event, name=f"Speaker {session.id}-{n}") for n in range(1 + index % 2)
        ]
    db.session.commit()
    if attendees:
        add_attendees(event, [plenary, workshops[0]], attendees)
        add_attendees(event, [small], attendees, start=attendees, status="waitlisted")
    # Plain values: the requests below start from an empty session, detaching these objects.
    return event.slug, plenary.id, [w.id for w in workshops]


def _count_get(client, url: str) -> int:
    _fresh_session()
    assert client.get(url).status_code == 200  # warms per-process caches (templates, Babel)
    _fresh_session()
    with QueryCounter(db.engine) as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count


def _count_registration(client, slug: str, session_ids: list[int], email: str) -> int:
    _fresh_session()
    body = {"name": "Ada", "email": email, "consent": True, "session_ids": session_ids}
    with QueryCounter(db.engine) as counter:
        response = client.post(f"/api/v1/events/{slug}/registrations", json=body)
    assert response.status_code == 201, response.get_json()
    return counter.count


@pytest.fixture
def small_and_large(make_event, make_session, make_room):
    small = _build_event(make_event, make_session, make_room, rounds=1, per_round=2, attendees=2)
    large = _build_event(make_event, make_session, make_room, rounds=6, per_round=8, attendees=150)
    return small, large


@pytest.mark.parametrize("page", ["/events/{slug}/", "/events/{slug}/register"])
def test_public_pages_cost_the_same_queries_for_3_or_50_sessions(client, small_and_large, page):
    (small, *_), (large, *_) = small_and_large
    small_count = _count_get(client, page.format(slug=small))
    large_count = _count_get(client, page.format(slug=large))
    assert large_count == small_count
    assert small_count <= PROGRAMME_PAGE_MAX, small_count


def test_registration_costs_the_same_queries_in_a_small_and_a_large_event(
    app, client, small_and_large
):
    (small, small_plenary, small_workshops), (large, large_plenary, large_workshops) = (
        small_and_large
    )
    in_small = _count_registration(
        client, small, [small_plenary, small_workshops[0]], "ada@example.org"
    )
    in_large = _count_registration(
        client, large, [large_plenary, large_workshops[0]], "ada@example.org"
    )
    assert in_large == in_small
    assert in_small <= REGISTRATION_MAX[app.config["DATABASE_KIND"]], in_small


def test_registration_costs_the_same_queries_for_one_or_seven_sessions(client, small_and_large):
    """All seats in one guarded UPDATE, all new rows in one INSERT: a registration's
    statements do not grow with the sessions chosen (each used to add its own UPDATE)."""
    _, (large, plenary, workshops) = small_and_large
    one_per_round = [workshops[r * 8] for r in range(6)]
    with_one = _count_registration(client, large, [plenary], "one@example.org")
    with_three = _count_registration(
        client, large, [plenary, *one_per_round[:2]], "three@example.org"
    )
    with_seven = _count_registration(client, large, [plenary, *one_per_round], "seven@example.org")
    assert with_one == with_three == with_seven


def test_registration_form_post_costs_the_same_queries_for_3_or_50_sessions(
    app, client, small_and_large
):
    app.config["WTF_CSRF_ENABLED"] = False
    counts = []
    for slug, plenary, _workshops in small_and_large:
        _fresh_session()
        data = {
            "name": "Ada",
            "email": f"ada@{slug}.example.org",
            "consent": "y",
            "organisation": "Fieldlab",
            "job_role": "Engineer",
            "plenary": [str(plenary)],
        }
        with QueryCounter(db.engine) as counter:
            response = client.post(f"/events/{slug}/register", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert counts[0] <= FORM_POST_MAX[app.config["DATABASE_KIND"]], counts[0]


def test_the_confirmation_reads_every_waiting_place_in_one_statement(
    app, client, make_event, make_session
):
    """Someone waiting for several full workshops: their places in line come in one
    statement, not one each (the opening minute's confirmation page, PERFORMANCE.md)."""
    app.config["WTF_CSRF_ENABLED"] = False
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=50, title="Opening")
    full = [make_session(event, start=1 + 1.5 * r, capacity=1, title=f"Full {r}") for r in range(3)]
    db.session.commit()
    slug, plenary_id = event.slug, plenary.id
    rounds = {f"round_{s.starts_at:%Y%m%dT%H%M}": str(s.id) for s in full}
    counts = {}
    for number in (1, 2, 3):
        _fresh_session()
        data = {
            "name": f"Person {number}",
            "email": f"person{number}@example.org",
            "consent": "y",
            "waitlist": "y",
            "plenary": [str(plenary_id)],
            **rounds,
        }
        response = client.post(f"/events/{slug}/register", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        _fresh_session()
        with QueryCounter(db.engine) as counter:
            page = client.get(response.headers["Location"])
        assert page.status_code == 200
        counts[number] = counter.count
        text = page.get_data(as_text=True)
        if number == 3:  # second in line for each of the three workshops
            assert text.count("Op de wachtlijst, plaats 2") == 3, text
    assert counts[2] == counts[3] <= CONFIRMATION_MAX, counts


def test_the_counter_sees_a_query_per_row_when_there_is_one(app, make_event, make_session):
    """The control: lazy-loading each session's speakers in a loop is counted, per session."""
    event = make_event(
        starts_at=datetime(2027, 3, 18, 8, tzinfo=UTC),
        ends_at=datetime(2027, 3, 18, 17, tzinfo=UTC) + timedelta(hours=1),
    )
    for start in range(3):
        make_session(event, start=start)
    event_id = event.id
    _fresh_session()

    with QueryCounter(db.engine) as counter:
        loaded = db.session.get(Event, event_id)
        [s.speakers for s in loaded.sessions]
    assert counter.count == 2 + 3  # the event, its sessions, then one per session
