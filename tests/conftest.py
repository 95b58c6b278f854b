"""Fixtures: an app per database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the schema built by the real migrations once, and emptied between tests; factories so a
test says only what matters to it."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from eventapp import create_app
from eventapp.extensions import db
from eventapp.models import Event, EventSession, Organiser, Room
from eventapp.services.backoffice.accounts import grant_event_role
from tests.catalogs import compile_catalogs
from tests.mailserver import smtp_server  # noqa: F401  (a fixture for every test module)

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
FIXED_NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def _database_url(kind: str, tmp_dir) -> str:
    if kind == "postgresql":
        return os.environ["TEST_DATABASE_URL"]
    return f"sqlite:///{tmp_dir}/test.sqlite"


def _reset_postgres_schema(app) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """Pages in Dutch need the compiled catalogs, even when pytest runs without `make`."""
    compile_catalogs()


@pytest.fixture(scope="session", params=DATABASES)
def database_app(request, tmp_path_factory):
    """One app and one migrated schema per database for the whole run."""
    kind = request.param
    tmp_dir = tmp_path_factory.mktemp(f"db-{kind}")
    instance = tmp_path_factory.mktemp(f"instance-{kind}")
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": _database_url(kind, tmp_dir),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME_FOR_LINKS": "http://localhost",
        "MAIL_SUPPRESS_SEND": False,
        # Tests about other things post the form at once; tests of the bot checks set it.
        "REGISTRATION_MIN_FILL_SECONDS": 0,
        "BOT_CHALLENGE_ENABLED": False,
        # Pages rendered per request; tests of the shared pages choose their cache
        # (tests/web/test_shared_pages.py).
        "CACHE_TYPE": "NullCache",
        # The dashboard's figures read per request; tests of its copies set an age
        # (tests/web/test_dashboard_days.py).
        "DASHBOARD_FIGURES_MAX_AGE": 0,
    }
    app = create_app(config, instance_path=str(instance))
    if kind == "postgresql":
        _reset_postgres_schema(app)
    with app.app_context():
        upgrade()
    app.config["DATABASE_KIND"] = kind
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
        db.session.remove()


@pytest.fixture
def app(database_app):
    """The app with empty tables, its config restored after the test."""
    saved = dict(database_app.config)
    with database_app.app_context():
        yield database_app
        db.session.remove()
    database_app.config.clear()
    database_app.config.update(saved)
    _empty_all_tables(database_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def now():
    return FIXED_NOW


@pytest.fixture
def make_event(app):
    """An open, published event on 2027-03-18 in Amsterdam; override what matters."""

    def make(*, team="all", **overrides) -> Event:
        """`team`: the organiser accounts given their role at the new event (roles are per
        event): "all" existing non-admin accounts, or a list of them ([] for none)."""
        counter = db.session.query(Event).count() + 1
        values = {
            "slug": f"event-{counter}",
            "name": f"Event {counter}",
            "timezone": "Europe/Amsterdam",
            "starts_at": datetime(2027, 3, 18, 8, 0, tzinfo=UTC),
            "ends_at": datetime(2027, 3, 18, 17, 0, tzinfo=UTC),
            "registration_opens_at": datetime(2026, 10, 1, tzinfo=UTC),
            "registration_closes_at": datetime(2027, 3, 17, tzinfo=UTC),
            "status": "published",
            "venue": "Hilversum",
        }
        values.update(overrides)
        event = Event(**values)
        db.session.add(event)
        db.session.flush()
        if team == "all":
            team = db.session.scalars(select(Organiser).where(Organiser.role != "admin")).all()
        for member in team:
            grant_event_role(member, event.id, member.role)
        db.session.commit()
        return event

    return make


@pytest.fixture
def make_session(app):
    """A workshop of the given event; `start` is hours after 09:00 UTC, an hour long."""

    def make(
        event: Event,
        *,
        start: float = 0,
        hours: float = 1,
        capacity: int = 10,
        kind: str = "workshop",
        title: str | None = None,
        room: Room | None = None,
        **overrides,
    ) -> EventSession:
        starts = datetime(2027, 3, 18, 9, 0, tzinfo=UTC) + timedelta(hours=start)
        session = EventSession(
            event=event,
            kind=kind,
            title=title or f"Session at +{start}h",
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            capacity=capacity,
            room=room,
            **overrides,
        )
        db.session.add(session)
        db.session.commit()
        return session

    return make


@pytest.fixture
def make_room(app):
    def make(event: Event, name: str = "Studio 1", capacity: int = 40) -> Room:
        room = Room(event=event, name=name, capacity=capacity)
        db.session.add(room)
        db.session.commit()
        return room

    return make


ORGANISER_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_organiser(app):
    """An organiser account: `make_organiser("checkin")`; password ORGANISER_PASSWORD."""
    from eventapp.services.backoffice.accounts import create_organiser

    def make(role: str = "organiser", email: str | None = None, *, events="all"):
        """`events`: where a non-admin account gets its role (roles are per event): "all"
        existing events, or a list of them ([] for none)."""
        organiser = create_organiser(
            email or f"{role}-{os.urandom(3).hex()}@example.org", ORGANISER_PASSWORD, role=role
        )
        if role != "admin":
            if events == "all":
                events = db.session.scalars(select(Event)).all()
            for event in events:
                grant_event_role(organiser, event.id, role)
        db.session.commit()
        return organiser

    return make


@pytest.fixture
def login(client):
    """Sign the test client in through the real login form: `login(organiser)`."""

    def sign_in(organiser):
        response = client.post(
            "/organiser/login", data={"email": organiser.email, "password": ORGANISER_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return organiser

    return sign_in


@pytest.fixture
def api_token(app):
    """A bearer token for an organiser: `headers = {"Authorization": f"Bearer {api_token(o)}"}`."""
    from eventapp.services.backoffice.accounts import issue_api_token

    def issue(organiser) -> str:
        token = issue_api_token(organiser.email, name="test")
        db.session.commit()
        return token

    return issue
