"""On SQLite, page views do not queue behind writers (eventapp/database.py).

Writing transactions begin with BEGIN IMMEDIATE, so writers queue instead of failing. GET
and HEAD requests begin a deferred transaction instead: in WAL mode they read a snapshot and
never wait for the write lock. The control shows that with SQLITE_DEFERRED_READS off, a page
view waits as long as someone else holds the write lock.
"""

import sqlite3
import threading

import pytest
from sqlalchemy.engine import make_url

from eventapp.extensions import db

WAIT_FOR_DONE = 60  # seconds; generous for a loaded machine, never needed when all is well


@pytest.fixture
def sqlite_path(app):
    if app.config["DATABASE_KIND"] != "sqlite":
        pytest.skip("SQLite's locking only")
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database


def _get_in_thread(app, url: str):
    """Request `url` from another thread; returns (done event, result list)."""
    done, result = threading.Event(), []

    def run():
        with app.test_client() as client:
            result.append(client.get(url).status_code)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, result


def _hold_write_lock(path: str) -> sqlite3.Connection:
    """Another writer in the middle of its transaction (a registration, the mail worker)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE event SET name = name")
    return other


def _published_event(make_event, make_session) -> str:
    event = make_event()
    make_session(event)
    slug = event.slug
    db.session.remove()
    return slug


def test_a_page_view_does_not_wait_for_a_writer(app, sqlite_path, make_event, make_session):
    slug = _published_event(make_event, make_session)
    other = _hold_write_lock(sqlite_path)
    try:
        done, result = _get_in_thread(app, f"/events/{slug}/")
        assert done.wait(WAIT_FOR_DONE), "the page view waited for the writer"
        assert result == [200]
    finally:
        other.rollback()
        other.close()


def test_control_with_immediate_reads_the_page_view_waits(
    app, sqlite_path, make_event, make_session
):
    slug = _published_event(make_event, make_session)
    app.config["SQLITE_DEFERRED_READS"] = False
    other = _hold_write_lock(sqlite_path)
    try:
        done, result = _get_in_thread(app, f"/events/{slug}/")
        assert not done.wait(1.0), "the page view did not wait for the write lock"
    finally:
        other.rollback()
        other.close()
    assert done.wait(WAIT_FOR_DONE)
    assert result == [200]


def _register_paused_after_its_checks(app, monkeypatch, slug: str, session_id: int):
    """POST a registration from another thread; it stops once its reads and checks are done
    (before start_writing) until `go` is set. Returns (checked, go, done, statuses)."""
    from eventapp.services.registration import register as registration

    checked, go, done, statuses = threading.Event(), threading.Event(), threading.Event(), []
    real_check = registration.ensure_no_overlap

    def check_then_wait(sessions):
        real_check(sessions)
        checked.set()
        go.wait(WAIT_FOR_DONE)

    monkeypatch.setattr(registration, "ensure_no_overlap", check_then_wait)
    body = {"name": "Ada", "email": "ada@example.org", "consent": True, "session_ids": [session_id]}

    def run():
        with app.test_client() as client:
            statuses.append(
                client.post(f"/api/v1/events/{slug}/registrations", json=body).status_code
            )
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert checked.wait(WAIT_FOR_DONE), "the registration never reached its checks"
    return go, done, statuses


def _another_writer_gets_the_lock(path: str) -> bool:
    """Whether another connection can begin writing within half a second."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0.5, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        other.close()


@pytest.mark.parametrize("deferred_reads", [True, False], ids=["reads-first", "control"])
def test_a_registration_takes_the_write_lock_only_to_write(
    app, sqlite_path, make_event, make_session, monkeypatch, deferred_reads
):
    """While a registration reads the event and sessions and checks the choice, other
    writers go on; the control (SQLITE_DEFERRED_READS off) holds the lock from the start."""
    event = make_event()
    session_id = make_session(event).id
    slug = event.slug
    db.session.remove()
    app.config["SQLITE_DEFERRED_READS"] = deferred_reads

    go, done, statuses = _register_paused_after_its_checks(app, monkeypatch, slug, session_id)
    try:
        assert _another_writer_gets_the_lock(sqlite_path) is deferred_reads
    finally:
        go.set()
    assert done.wait(WAIT_FOR_DONE)
    assert statuses == [201]
