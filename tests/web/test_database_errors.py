"""Database errors get the answer their cause deserves: a value out of range or a broken
constraint is the client's mistake (422, 409), any other database error is a bug (a
logged 500), and only a database that cannot be reached is a 503 with Retry-After.

Each case runs a real statement against the real database, through routes added to a
fresh app (the production app has no test routes)."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from eventapp.extensions import db
from eventapp.models import Room
from tests.security_support import other_app


def add_routes(app, event_id: int) -> None:
    def out_of_range_number():
        db.session.execute(text("SELECT CAST(:n AS INTEGER) + 1"), {"n": 2**70})
        return "unreachable"

    def overflowing_date():
        return str(datetime(9999, 12, 31, tzinfo=UTC) + timedelta(days=2))

    def broken_constraint():
        db.session.add(Room(event_id=event_id, name="Hall", capacity=-1))
        db.session.flush()
        return "unreachable"

    def bug():
        db.session.execute(text("SELECT no_such_column FROM event"))
        return "unreachable"

    for view in (out_of_range_number, overflowing_date, broken_constraint, bug):
        app.add_url_rule(f"/api/v1/test/{view.__name__}", view.__name__, view)


@pytest.fixture
def probe(app, make_event, tmp_path):
    event_id = make_event().id
    with other_app(app, tmp_path) as fresh:
        add_routes(fresh, event_id)
        yield fresh.test_client()


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("out_of_range_number", 422, "invalid"),
        ("overflowing_date", 422, "invalid"),
        ("broken_constraint", 409, "conflict"),
    ],
)
def test_bad_values_are_the_clients_mistake(probe, case, status, code):
    response = probe.get(f"/api/v1/test/{case}")
    assert (response.status_code, response.json["error"]) == (status, code)
    assert "Retry-After" not in response.headers
    assert "psycopg" not in response.get_data(as_text=True)


def test_a_database_bug_is_a_logged_500(probe, caplog):
    with caplog.at_level(logging.ERROR):
        response = probe.get("/api/v1/test/bug")
    assert (response.status_code, response.json["error"]) == (500, "internal")
    assert "Retry-After" not in response.headers
    assert any("no_such_column" in (r.exc_text or "") or r.exc_info for r in caplog.records)
