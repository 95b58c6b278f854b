"""The dashboard's session table one day at a time, with a tab per day and its figures, and
the figures served again for a second or two with their age on the page."""

import re
from datetime import UTC, datetime

import flask_babel
import pytest
from flask import g
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import EventSession
from eventapp.organiser import dashboard_copies
from tests.query_counter import QueryCounter
from tests.web.attendee_factory import add_attendees


@pytest.fixture
def two_days(make_event, make_session, make_room):
    """An event on 18 and 19 March 2027: a full workshop with a waiting list on the first
    day, a half-full one on the second."""
    event = make_event(ends_at=datetime(2027, 3, 19, 17, 0, tzinfo=UTC))
    room = make_room(event, capacity=100)
    first = make_session(event, capacity=2, title="Monday workshop", room=room)
    make_session(event, start=3, kind="other", title="Monday lunch")
    second = make_session(event, start=24, capacity=4, title="Tuesday workshop", room=room)
    add_attendees(event, [first, second], 2)
    add_attendees(event, [first], 3, start=2, status="waitlisted")
    return event


@pytest.fixture
def organiser_in_english(client, make_organiser, login):
    def sign_in():
        login(make_organiser("organiser"))
        client.get("/lang/en")
        flask_babel.refresh()

    return sign_in


def _dashboard(client, event, query=""):
    return client.get(f"/organiser/events/{event.slug}/{query}")


def _tabs(page: str) -> dict[str, str]:
    """Each day tab's text by its data-day, and which one is current ("current")."""
    nav = page.split('id="day-tabs"')[1].split("</nav>")[0]
    tabs = {}
    for attributes, text in re.findall(r"<a ([^>]*)>(.*?)</a>", nav, re.S):
        day = re.search(r'data-day="([^"]+)"', attributes).group(1)
        tabs[day] = " ".join(re.sub(r"<[^>]+>", " ", text).split())
        if "aria-current" in attributes:
            tabs["current"] = day
    return tabs


def _table(page: str) -> str:
    return page.split('id="session-figures"')[1].split("</table>")[0]


def test_before_the_event_the_first_day_is_shown_with_a_tab_per_day(
    client, two_days, organiser_in_english
):
    organiser_in_english()
    page = _dashboard(client, two_days).get_data(as_text=True)
    table = _table(page)
    assert "Monday workshop" in table and "Monday lunch" in table
    assert "Tuesday workshop" not in table
    tabs = _tabs(page)
    assert tabs["current"] == "2027-03-18"
    assert "2 sessions · seats 2 / 2 · 3 waiting · 1 full" in tabs["2027-03-18"]
    assert "1 session · seats 2 / 4 · 0 waiting" in tabs["2027-03-19"]
    assert "full" not in tabs["2027-03-19"]
    assert "3 sessions" in tabs["all"]
    # The totals stay the event's, whatever day the table shows.
    assert "4 / 6" in page.split('id="workshop-fill"')[1].split("</li>")[0]


def test_another_day_and_every_day(client, two_days, organiser_in_english):
    organiser_in_english()
    page = _dashboard(client, two_days, "?day=2027-03-19").get_data(as_text=True)
    assert "Tuesday workshop" in _table(page) and "Monday workshop" not in _table(page)
    assert _tabs(page)["current"] == "2027-03-19"
    page = _dashboard(client, two_days, "?day=all").get_data(as_text=True)
    assert all(t in _table(page) for t in ("Monday workshop", "Monday lunch", "Tuesday workshop"))
    assert _tabs(page)["current"] == "all"


def test_during_the_event_today_is_shown(client, two_days, organiser_in_english, monkeypatch):
    from eventapp.organiser import dashboard as dashboard_view

    monkeypatch.setattr(dashboard_view, "utcnow", lambda: datetime(2027, 3, 19, 10, 0, tzinfo=UTC))
    organiser_in_english()
    page = _dashboard(client, two_days).get_data(as_text=True)
    assert _tabs(page)["current"] == "2027-03-19"
    assert "Tuesday workshop" in _table(page)


@pytest.mark.parametrize(
    "day", ["2027-03-20", "2027-02-30", "tomorrow", "2027-03-18T09:00", "%00", "1" * 300]
)
def test_a_day_the_programme_does_not_have_is_a_clear_404(
    client, two_days, organiser_in_english, day
):
    organiser_in_english()
    response = _dashboard(client, two_days, f"?day={day}")
    assert response.status_code == 404
    assert "This event has no sessions on that day." in response.get_data(as_text=True)


def test_an_empty_day_value_shows_the_default_day(client, two_days, organiser_in_english):
    organiser_in_english()
    page = _dashboard(client, two_days, "?day=").get_data(as_text=True)
    assert _tabs(page)["current"] == "2027-03-18"


def test_one_day_programme_has_no_tabs(client, make_event, make_session, organiser_in_english):
    event = make_event()
    make_session(event, title="Only workshop")
    organiser_in_english()
    page = _dashboard(client, event).get_data(as_text=True)
    assert 'id="day-tabs"' not in page and "Only workshop" in _table(page)


def test_day_tabs_in_dutch(client, two_days, make_organiser, login):
    login(make_organiser("organiser"))
    client.get("/lang/nl")
    flask_babel.refresh()
    page = _dashboard(client, two_days).get_data(as_text=True)
    tabs = _tabs(page)
    assert "2 sessies · plaatsen 2 / 2 · 3 wachtend · 1 vol" in tabs["2027-03-18"]
    assert "Alle dagen" in tabs["all"]
    assert "Cijfers van" in page.split('id="figures-age"')[1].split("</p>")[0]
    response = _dashboard(client, two_days, "?day=gisteren")
    assert "Dit evenement heeft geen sessies op die dag." in response.get_data(as_text=True)


# ---------------------------------------------------------------- the figures' copies


@pytest.fixture
def copies(app):
    """Figures kept for 2 seconds, as in production; none left from another test."""
    app.config["DASHBOARD_FIGURES_MAX_AGE"] = 2
    dashboard_copies.forget_all()
    yield
    dashboard_copies.forget_all()


def _monday_workshop(event):
    return db.session.scalar(
        select(EventSession).where(
            EventSession.event_id == event.id, EventSession.title == "Monday workshop"
        )
    )


def _waiting_on_monday(page: str) -> str:
    return _tabs(page)["2027-03-18"]


def test_figures_are_served_again_for_two_seconds_and_say_how_old(
    client, two_days, organiser_in_english, copies, make_session, monkeypatch
):
    organiser_in_english()
    clock = [1_900_000_000.0]
    monkeypatch.setattr(dashboard_copies, "_clock", lambda: clock[0])
    first = _dashboard(client, two_days).get_data(as_text=True)
    assert "3 waiting" in _waiting_on_monday(first)
    add_attendees(two_days, [_monday_workshop(two_days)], 1, start=9, status="waitlisted")

    clock[0] += 2  # within the age: the copy, and the page says how old it is
    again = _dashboard(client, two_days).get_data(as_text=True)
    assert "3 waiting" in _waiting_on_monday(again)
    age = again.split('id="figures-age"')[1].split("</p>")[0]
    assert "(2 seconds ago)" in age

    clock[0] += 0.5  # older than 2 seconds: read again
    fresh = _dashboard(client, two_days).get_data(as_text=True)
    assert "4 waiting" in _waiting_on_monday(fresh)
    assert "(0 seconds ago)" in fresh.split('id="figures-age"')[1].split("</p>")[0]


def test_an_expired_copy_is_served_only_while_its_successor_renders(
    client, two_days, organiser_in_english, copies, monkeypatch
):
    """One request per process renders the next copy; the others get the expired one, with
    its true age, for at most another two seconds."""
    organiser_in_english()
    clock = [1_900_000_000.0]
    monkeypatch.setattr(dashboard_copies, "_clock", lambda: clock[0])
    _dashboard(client, two_days)
    add_attendees(two_days, [_monday_workshop(two_days)], 1, start=9, status="waitlisted")
    (key,) = dashboard_copies._store().copies
    dashboard_copies._claim(key)  # another request is rendering the successor

    clock[0] += 3.5
    page = _dashboard(client, two_days).get_data(as_text=True)
    assert "3 waiting" in _waiting_on_monday(page)
    assert "(3 seconds ago)" in page.split('id="figures-age"')[1].split("</p>")[0]

    clock[0] += 1  # 4.5 seconds: too old even for that, read again
    page = _dashboard(client, two_days).get_data(as_text=True)
    assert "4 waiting" in _waiting_on_monday(page)


def test_copies_per_day_and_language_and_fresh_after_an_action(
    client, two_days, organiser_in_english, copies
):
    organiser_in_english()
    monday = _dashboard(client, two_days).get_data(as_text=True)
    tuesday = _dashboard(client, two_days, "?day=2027-03-19").get_data(as_text=True)
    assert "Monday workshop" in _table(monday) and "Tuesday workshop" in _table(tuesday)
    client.get("/lang/nl")
    flask_babel.refresh()
    assert "sessies" in _tabs(_dashboard(client, two_days).get_data(as_text=True))["all"]
    client.get("/lang/en")
    flask_babel.refresh()

    add_attendees(two_days, [_monday_workshop(two_days)], 1, start=9, status="waitlisted")
    with client.session_transaction() as cookie_session:  # an action's message waits
        cookie_session["_flashes"] = [("success", "Saved.")]
    page = _dashboard(client, two_days).get_data(as_text=True)
    assert "Saved." in page and "4 waiting" in _waiting_on_monday(page)


def test_without_an_age_every_request_reads_the_figures(client, two_days, organiser_in_english):
    organiser_in_english()  # the tests' setting: DASHBOARD_FIGURES_MAX_AGE = 0
    assert "3 waiting" in _waiting_on_monday(_dashboard(client, two_days).get_data(as_text=True))
    add_attendees(two_days, [_monday_workshop(two_days)], 1, start=9, status="waitlisted")
    db.session.expire_all()
    assert "4 waiting" in _waiting_on_monday(_dashboard(client, two_days).get_data(as_text=True))


def test_figures_from_a_copy_cost_three_statements(client, two_days, make_organiser, login, copies):
    """The organiser, the event with their role, the event: nothing of the figures."""
    login(make_organiser("organiser"))
    _dashboard(client, two_days)
    db.session.remove()
    g.pop("_login_user", None)  # the next request loads its organiser, as in production
    with QueryCounter(db.engine) as counter:
        response = _dashboard(client, two_days)
    assert response.status_code == 200 and 'id="session-figures"' in response.get_data(True)
    assert counter.count <= 3, counter.statements
