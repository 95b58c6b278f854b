"""An API token's `last_used_at`: stamped when the token authenticates a request, at most once
per TOKEN_USE_RESOLUTION, committed even for GET requests, never failing the request."""

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from eventapp.extensions import db
from eventapp.models import ApiToken, Room
from eventapp.models.types import utcnow
from eventapp.services import links
from eventapp.services.backoffice import accounts


class TokenUpdates:
    """The UPDATE statements sent for the api_token table while the block runs."""

    def __init__(self, engine, fail: bool = False):
        self.engine = engine
        self.fail = fail
        self.statements: list[str] = []

    def _seen(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            self.statements.append(statement)
            if self.fail:
                raise OperationalError(statement, {}, Exception("database is locked"))

    def __enter__(self):
        sa_event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        sa_event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def organiser_api(client, make_event, make_organiser, api_token):
    """call(method, path, json=None) with a fresh session per request, as in production."""
    slug = make_event().slug
    organiser = make_organiser()
    token = api_token(organiser)
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, path, json=None, headers=headers):
        db.session.remove()
        response = client.open(path.format(slug=slug), method=method, json=json, headers=headers)
        db.session.remove()
        return response

    call.slug, call.token, call.email = slug, token, organiser.email
    return call


def stored_last_use(token: str):
    """What the database holds, read in a fresh session (so only committed values count)."""
    db.session.remove()
    return db.session.scalar(
        select(ApiToken.last_used_at).where(ApiToken.token_hash == links.hash_token(token))
    )


READ = ("GET", "/api/v1/events/{slug}/conflicts", None, 200)
WRITE = ("POST", "/api/v1/events/{slug}/rooms", {"name": "Zaal 1", "capacity": 80}, 201)


@pytest.mark.parametrize(("method", "path", "body", "status"), [READ, WRITE], ids=["get", "post"])
def test_using_a_token_records_its_last_use(organiser_api, method, path, body, status):
    assert stored_last_use(organiser_api.token) is None
    before = utcnow()
    assert organiser_api(method, path, body).status_code == status
    assert stored_last_use(organiser_api.token) >= before


def test_a_get_records_the_use_with_immediate_sqlite_reads_too(app, organiser_api):
    """With SQLITE_DEFERRED_READS off a GET holds SQLite's write lock itself; the stamp must
    neither wait for that lock nor be lost with the GET's uncommitted transaction."""
    app.config["SQLITE_DEFERRED_READS"] = False
    assert organiser_api(*READ[:3]).status_code == 200
    assert stored_last_use(organiser_api.token) is not None


def test_a_second_use_within_the_window_writes_nothing(app, organiser_api):
    assert organiser_api(*READ[:3]).status_code == 200
    first = stored_last_use(organiser_api.token)
    with TokenUpdates(db.engine) as updates:
        assert organiser_api(*READ[:3]).status_code == 200
        assert organiser_api(*WRITE[:3]).status_code == 201
    assert updates.statements == []
    assert stored_last_use(organiser_api.token) == first


def test_a_use_after_the_window_is_recorded_again(app, organiser_api):
    long_ago = utcnow() - accounts.TOKEN_USE_RESOLUTION - timedelta(minutes=1)
    db.session.execute(update(ApiToken).values(last_used_at=long_ago))
    db.session.commit()
    with TokenUpdates(db.engine) as updates:
        assert organiser_api(*READ[:3]).status_code == 200
    assert len(updates.statements) == 1
    assert stored_last_use(organiser_api.token) > long_ago + accounts.TOKEN_USE_RESOLUTION


@pytest.mark.parametrize("what", ["revoked", "unknown", "inactive organiser"])
def test_a_token_that_does_not_authenticate_touches_nothing(app, organiser_api, now, what):
    headers = {"Authorization": f"Bearer {organiser_api.token}"}
    if what == "revoked":
        accounts.revoke_api_tokens(organiser_api.email, now)
    elif what == "unknown":
        headers = {"Authorization": f"Bearer {'x' * len(organiser_api.token)}"}
    else:
        accounts.find_organiser(organiser_api.email).active = False
    db.session.commit()
    with TokenUpdates(db.engine) as updates:
        assert organiser_api(*READ[:3], headers=headers).status_code == 401
    assert updates.statements == []
    assert stored_last_use(organiser_api.token) is None


@pytest.mark.parametrize(("method", "path", "body", "status"), [READ, WRITE], ids=["get", "post"])
def test_a_failed_stamp_does_not_fail_the_request(app, organiser_api, method, path, body, status):
    with TokenUpdates(db.engine, fail=True) as updates:
        response = organiser_api(method, path, body)
    assert updates.statements, "the stamp was not even tried"
    assert response.status_code == status, response.get_json()
    assert stored_last_use(organiser_api.token) is None
    if method == "POST":  # the request's own work is committed as usual
        assert db.session.scalar(select(Room.name)) == "Zaal 1"


def test_of_requests_that_all_found_the_stamp_stale_only_the_first_writes(app, organiser_api):
    """Two requests loaded the token before either stamped it; the second stamp matches no
    row, so the first one's time stays (and on PostgreSQL it waits for no long lock)."""
    stale_one = db.session.scalar(select(ApiToken))
    db.session.remove()
    stale_two = db.session.scalar(select(ApiToken))
    db.session.remove()  # both keep what they loaded; this test's transaction ends
    first = utcnow()
    with db.engine.begin() as connection:
        accounts.record_api_token_use(connection, stale_one, first)
    assert accounts.api_token_use_due(stale_two, first + timedelta(seconds=1))
    with db.engine.begin() as connection:
        accounts.record_api_token_use(connection, stale_two, first + timedelta(seconds=1))
    assert stored_last_use(organiser_api.token) == first


def test_the_cli_lists_the_last_use(runner, organiser_api):
    listing = runner.invoke(args=["organiser", "tokens", organiser_api.email]).output
    assert "used never" in listing
    assert organiser_api(*READ[:3]).status_code == 200
    stamp = stored_last_use(organiser_api.token)
    listing = runner.invoke(args=["organiser", "tokens", organiser_api.email]).output
    assert f"used {stamp:%Y-%m-%d %H:%M} UTC" in listing
