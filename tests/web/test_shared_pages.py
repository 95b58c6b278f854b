"""The programme, the registration form and the session pages served from shared copies
(eventapp/page_cache.py): right after a programme change (also on a second app server sharing
the Redis), seat figures at most SEAT_FIGURES_MAX_AGE old, per language, per visitor (own CSRF
token and serving time, own marks, own flash messages), and 304s."""

from __future__ import annotations

import gzip
import os
import re
import threading
import time
import uuid

import pytest
import redis

from eventapp.extensions import cache, db
from eventapp.models import Event, EventSession
from eventapp.models.types import utcnow
from eventapp.page_cache import programme_version
from eventapp.services.programme import reading
from eventapp.services.programme.schedule.sessions import set_capacity
from eventapp.services.registration import questions
from tests.query_counter import QueryCounter
from tests.security_support import end_transaction, other_app
from tests.web.conftest import sign_up

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STARTED = re.compile(r'name="started" type="hidden" value="([^"]+)"')


@pytest.fixture
def programme(make_event, make_session):
    event = make_event(name="Smart Industry")
    plenary = make_session(event, kind="plenary", capacity=100, title="Opening")
    workshop = make_session(event, start=1, capacity=5, title="Robots")
    ids = event.slug, plenary.id, workshop.id
    end_transaction()  # on SQLite the other apps below must be able to write
    return ids


@pytest.fixture
def shared(app, tmp_path):
    """An app whose pages are shared (in-process cache), copies living one second."""
    with other_app(app, tmp_path, CACHE_TYPE="SimpleCache", SEAT_FIGURES_MAX_AGE=1) as served:
        yield served


def _get(client, path, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code in (200, 304), response.status_code
    return response


def _statements(app, client, path, **headers) -> tuple[int, str]:
    with app.app_context(), QueryCounter(db.engine) as counter:
        body = _get(client, path, **headers).get_data(as_text=True)
    return counter.count, body


def _rename(app, session_id: int, title: str) -> None:
    with app.app_context():
        db.session.get(EventSession, session_id).title = title
        db.session.commit()


def test_a_shared_copy_costs_no_query_and_a_programme_change_shows_at_once(shared, programme):
    slug, _plenary, workshop = programme
    pages = [f"/events/{slug}/", f"/events/{slug}/register", f"/events/{slug}/sessions/{workshop}"]
    client = shared.test_client()
    for page in pages:
        _get(client, page)  # rendered and stored
        queries, body = _statements(shared, client, page)
        assert queries == 0, page
        assert "Robots" in body
    _rename(shared, workshop, "Cobots")
    for page in pages:
        queries, body = _statements(shared, client, page)
        assert queries > 0, page  # rendered again: the version changed
        assert "Cobots" in body and "Robots" not in body, page


def test_seat_figures_are_at_most_the_stated_seconds_old(shared, programme, now):
    slug, plenary, workshop = programme
    client = shared.test_client()
    english = {"Accept-Language": "en"}
    assert "5 places left" in _get(client, f"/events/{slug}/", **english).get_data(as_text=True)
    with shared.app_context():
        version = programme_version()
        event_sessions = [db.session.get(EventSession, i) for i in (plenary, workshop)]
        sign_up(event_sessions[0].event, event_sessions, "ada@example.org", now)
        # A registration moves seats, not the programme: the copies stay in use ...
        assert programme_version() == version
    assert "5 places left" in _get(client, f"/events/{slug}/", **english).get_data(as_text=True)
    time.sleep(shared.config["SEAT_FIGURES_MAX_AGE"] + 0.1)
    # ... for at most SEAT_FIGURES_MAX_AGE seconds.
    for page in (f"/events/{slug}/", f"/events/{slug}/sessions/{workshop}"):
        assert "4 places left" in _get(client, page, **english).get_data(as_text=True), page


def test_an_expired_copy_is_rendered_by_one_request_while_others_get_it(
    shared, programme, monkeypatch
):
    """When a copy expires under load, one request renders the next one and the others are
    served the expired copy meanwhile, instead of every thread rendering at once."""
    slug, _plenary, _workshop = programme
    _get(shared.test_client(), f"/events/{slug}/")
    time.sleep(shared.config["SEAT_FIGURES_MAX_AGE"] + 0.1)  # expired, not yet twice as old
    rendering = threading.Event()
    real = reading.sessions_of

    def slow_sessions_of(event):
        rendering.set()
        time.sleep(0.5)
        return real(event)

    monkeypatch.setattr(reading, "sessions_of", slow_sessions_of)
    renderer = threading.Thread(target=_get, args=(shared.test_client(), f"/events/{slug}/"))
    renderer.start()
    assert rendering.wait(5)
    queries, body = _statements(shared, shared.test_client(), f"/events/{slug}/")
    renderer.join(10)
    assert queries == 0 and "Robots" in body


def test_a_capacity_change_by_statement_changes_the_version(shared, programme):
    slug, _plenary, workshop = programme
    with shared.app_context():
        version = programme_version()
        set_capacity(db.session.get(EventSession, workshop), 7)
        db.session.commit()
        assert programme_version() != version
    english = {"Accept-Language": "en"}
    body = _get(shared.test_client(), f"/events/{slug}/", **english).get_data(as_text=True)
    assert "7 places left" in body


def test_each_language_has_its_own_copy(shared, programme):
    slug, _plenary, _workshop = programme
    client = shared.test_client()
    for _ in range(2):  # the second time from the copies
        dutch = _get(client, f"/events/{slug}/register", **{"Accept-Language": "nl"})
        english = _get(client, f"/events/{slug}/register", **{"Accept-Language": "en"})
        assert "Aanmelden" in dutch.get_data(as_text=True)
        assert "Register for Smart Industry" in english.get_data(as_text=True)
    client.get("/lang/en")  # the visitor's choice wins over the browser's
    chosen = _get(client, f"/events/{slug}/", **{"Accept-Language": "nl"})
    assert 'lang="en"' in chosen.get_data(as_text=True)


def _form(client, slug):
    body = _get(client, f"/events/{slug}/register").get_data(as_text=True)
    return TOKEN.search(body).group(1), STARTED.search(body).group(1), body


def test_each_visitor_gets_their_own_token_and_the_copy_s_form_registers(app, tmp_path, programme):
    slug, plenary, workshop = programme
    with other_app(
        app, tmp_path, CACHE_TYPE="SimpleCache", WTF_CSRF_ENABLED=True, SEAT_FIGURES_MAX_AGE=60
    ) as protected:
        ada, bob = protected.test_client(), protected.test_client()
        ada_token, ada_started, _ = _form(ada, slug)
        time.sleep(1.1)  # the serving time has whole seconds: Bob's is a later one
        with protected.app_context(), QueryCounter(db.engine) as counter:
            bob_token, bob_started, body = _form(bob, slug)
        assert counter.count == 0  # Bob's form came from the copy Ada's request stored
        assert bob_token != ada_token and bob_started != ada_started
        assert ada_token not in body
        # The form's tag is the visitor's too: a 304 keeps a browser's own token, and
        # another browser's tag never gets one.
        tag = _get(bob, f"/events/{slug}/register").headers["ETag"]
        assert (
            bob.get(f"/events/{slug}/register", headers={"If-None-Match": tag}).status_code == 304
        )
        ada_sent = ada.get(f"/events/{slug}/register", headers={"If-None-Match": tag})
        assert ada_sent.status_code == 200
        for client, token, email in ((bob, bob_token, "bob@example.org"), (ada, ada_token, None)):
            if email is None:  # Ada's token is hers: refused in Bob's session, taken in hers
                refused = bob.post(f"/events/{slug}/register", data={"csrf_token": token})
                assert refused.status_code == 400
                email = "ada@example.org"
            response = client.post(
                f"/events/{slug}/register",
                data={
                    "csrf_token": token,
                    "started": STARTED.search(body).group(1),
                    "name": email.split("@")[0],
                    "email": email,
                    "plenary": str(plenary),
                    "round_20270318T1000": str(workshop),
                    "consent": "y",
                },
            )
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]
            assert response.location.endswith(f"/events/{slug}/confirmation")


def test_marks_and_messages_stay_with_their_visitor(shared, programme):
    slug, plenary, workshop = programme
    english = {"Accept-Language": "en"}
    ada, bob = shared.test_client(), shared.test_client()
    _get(bob, f"/events/{slug}/", **english)  # the shared copy exists
    registered = ada.post(
        f"/events/{slug}/register",
        data={"name": "Ada", "email": "ada@example.org", "plenary": str(plenary), "consent": "y"},
        headers=english,
    )
    assert registered.status_code == 302
    ada.get(registered.location, headers=english)
    assert "Your choice" in _get(ada, f"/events/{slug}/", **english).get_data(as_text=True)
    assert "Your choice" not in _get(bob, f"/events/{slug}/", **english).get_data(as_text=True)
    with bob.session_transaction() as cookie:
        cookie["_flashes"] = [("info", "Only for Bob")]
    assert "Only for Bob" in _get(bob, f"/events/{slug}/", **english).get_data(as_text=True)
    assert "Only for Bob" not in _get(shared.test_client(), f"/events/{slug}/").get_data(
        as_text=True
    )


def test_if_none_match_gets_304_until_the_page_changes(shared, programme):
    slug, _plenary, workshop = programme
    client = shared.test_client()
    first = _get(client, f"/events/{slug}/")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"] and "no-cache" in first.headers["Cache-Control"]
    again = client.get(f"/events/{slug}/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    _rename(shared, workshop, "Cobots")
    changed = client.get(f"/events/{slug}/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_an_unknown_query_is_rendered_not_stored(shared, programme):
    slug, _plenary, _workshop = programme
    client = shared.test_client()
    for n in range(2):
        queries, _body = _statements(shared, client, f"/events/{slug}/?utm={n}")
        assert queries > 0


def _redis_or_skip(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")


def test_two_servers_sharing_redis_see_a_change_at_once(app, tmp_path, programme):
    _redis_or_skip(REDIS_URL)
    slug, _plenary, workshop = programme
    config = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex}:",
        "SEAT_FIGURES_MAX_AGE": 60,  # longer than the test: only the version can refresh it
    }
    with other_app(app, tmp_path, **config) as one, other_app(app, tmp_path, **config) as two:
        clients = {one: one.test_client(), two: two.test_client()}
        for server, client in clients.items():
            _get(client, f"/events/{slug}/")
            assert _statements(server, client, f"/events/{slug}/")[0] == 0
        _rename(one, workshop, "Cobots")
        for server, client in clients.items():
            assert "Cobots" in _statements(server, client, f"/events/{slug}/")[1]
    keys = redis.Redis.from_url(REDIS_URL)
    keys.delete(*keys.scan_iter(match=config["CACHE_KEY_PREFIX"] + "*"))  # this test's only


def test_pages_still_served_when_redis_is_down(app, tmp_path, programme):
    slug, _plenary, workshop = programme
    down = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://127.0.0.1:1/0"}
    with other_app(app, tmp_path, **down) as served:
        client = served.test_client()
        for page in (f"/events/{slug}/", f"/events/{slug}/register"):
            assert client.get(page).status_code == 200
        _rename(served, workshop, "Cobots")  # the commit stands; only the bump is lost
        assert "Cobots" in client.get(f"/events/{slug}/").get_data(as_text=True)


def test_a_new_registration_question_shows_on_the_form_at_once(shared, programme):
    """The form shows the event's questions (registration/questions.py): adding one replaces
    the programme version like any programme change, not after the copy's lifetime."""
    slug = programme[0]
    client = shared.test_client()
    page = f"/events/{slug}/register"
    _get(client, page)
    assert "Dietary needs" not in _statements(shared, client, page)[1]
    with shared.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == slug))
        questions.create_question(
            None, event, {"kind": "short_text", "text_en": "Dietary needs"}, utcnow()
        )
        db.session.commit()
    queries, body = _statements(shared, client, page)
    assert queries > 0 and "Dietary needs" in body


def test_a_copy_goes_compressed_to_a_browser_that_accepts_gzip(shared, programme):
    slug = programme[0]
    client = shared.test_client()
    page = f"/events/{slug}/"
    plain = _get(client, page).get_data()
    packed = _get(client, page, **{"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == plain
    assert len(packed.get_data()) < len(plain) / 3
    form = f"/events/{slug}/register"
    first, second = (_get(client, form, **{"Accept-Encoding": "gzip"}) for _ in range(2))
    assert second.headers["Content-Encoding"] == "gzip"
    # the serving time is filled in per request, between the copy's compressed pieces
    assert STARTED.search(gzip.decompress(second.get_data()).decode())
    assert _get(client, form).get_data().count(b"Robots") == gzip.decompress(
        first.get_data()
    ).count(b"Robots")


def test_a_server_holding_the_current_render_does_not_fetch_it_again(app, tmp_path, programme):
    """Each process keeps the copies it served; the cache's stamp says whether that is still
    the current render, so a 300 KiB page is not moved out of Redis for every request, and a
    newer render made by another server is fetched."""
    _redis_or_skip(REDIS_URL)
    slug = programme[0]
    page = f"/events/{slug}/"
    config = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex}:",
        "SEAT_FIGURES_MAX_AGE": 1,
    }
    with other_app(app, tmp_path, **config) as one, other_app(app, tmp_path, **config) as two:
        fetched = _whole_copies_fetched(two)
        _get(one.test_client(), page)  # rendered and stored by server one
        reader = two.test_client()
        for _ in range(4):
            assert _statements(two, reader, page)[0] == 0
        assert len(fetched) == 1  # fetched once, then served from its own memory
        time.sleep(1.1)
        _get(one.test_client(), page)  # expired: server one renders the next copy
        assert _statements(two, reader, page)[0] == 0
        assert len(fetched) == 2  # the newer render, not its own older one
    keys = redis.Redis.from_url(REDIS_URL)
    keys.delete(*keys.scan_iter(match=config["CACHE_KEY_PREFIX"] + "*"))


def _whole_copies_fetched(server) -> list[str]:
    """The keys of whole pages `server` reads from its cache, recorded as it reads them."""
    backend = server.extensions["cache"][cache]
    real_get, fetched = backend.get, []

    def get(key):
        if key.startswith("page:") and ":" not in key.removeprefix("page:"):
            fetched.append(key)
        return real_get(key)

    backend.get = get
    return fetched
