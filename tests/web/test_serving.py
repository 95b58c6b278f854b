"""Serving: cache-busted static files, the bench-only baseline, gunicorn's settings."""

import ast
import gc
import runpy
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.baseline_app import BASELINE_TABLE_SQL, create_bench_app, registration_sql
from eventapp import create_app
from eventapp.extensions import db
from eventapp.models import Attendee, EventSession, OutboxMessage, Registration
from eventapp.models.types import utcnow
from tests.registering import register

ROOT = Path(__file__).resolve().parents[2]
A_YEAR = 365 * 24 * 3600


def _stylesheet_url(page: str) -> str:
    start = page.index('href="/static/app.css')
    return page[start + len('href="') : page.index('"', start + len('href="'))]


def test_pages_link_static_files_with_a_content_hash(client, make_event):
    event = make_event()
    page = client.get(f"/events/{event.slug}/").get_data(as_text=True)
    url = _stylesheet_url(page)
    assert "?v=" in url
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == f"public, max-age={A_YEAR}, immutable"


def test_the_version_follows_the_file_content(app, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "site.css").write_text("body { color: black }")
    other = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32},
        instance_path=str(tmp_path / "instance"),
    )
    other.static_folder = str(static)
    from eventapp import static_assets

    static_assets.init_app(other)  # again, for the new folder: the first hook lets this one be
    with other.test_request_context():
        from flask import url_for

        before = url_for("static", filename="site.css")
        (static / "site.css").write_text("body { color: navy }")
        after = url_for("static", filename="site.css")
    assert before != after
    assert before.startswith("/static/site.css?v=") and after.startswith("/static/site.css?v=")


def test_an_unversioned_static_url_is_cached_briefly(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_the_baseline_endpoints_are_mounted_only_by_the_bench_entry_point(client, tmp_path):
    assert client.post("/_bench/baseline", json={}).status_code == 404
    entry_point = (ROOT / "bench" / "wsgi_bench.py").read_text()
    assert "create_bench_app()" in entry_point

    bench = create_bench_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/bench.sqlite",
            "SECRET_KEY": "x" * 32,
            "SERVER_NAME_FOR_LINKS": "http://localhost",
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(tmp_path / "instance"),
    )
    with bench.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(BASELINE_TABLE_SQL["sqlite"]))
        response = bench.test_client().post("/_bench/baseline", json={})
        assert response.status_code == 201
        assert int(response.headers["X-SQL-Queries"]) >= 1
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM bench_baseline")).scalar() == 1
        db.engine.dispose()


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_app_never_imports_the_bench():
    importing = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "eventapp").rglob("*.py")
        if any(name.split(".")[0] == "bench" for name in _imported_modules(path))
    ]
    assert importing == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"bind": "127.0.0.1:8000", "threads": 4, "worker_class": "gthread"}),
        (
            {"GUNICORN_BIND": "0.0.0.0:9000", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "1"},
            {"bind": "0.0.0.0:9000", "workers": 3, "threads": 1, "worker_class": "sync"},
        ),
    ],
)
def test_gunicorn_settings_come_from_the_environment(monkeypatch, env, expected):
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert {key: settings[key] for key in expected} == expected
    assert settings["timeout"] > 0 and settings["preload_app"] is False


@pytest.mark.parametrize(("setting", "frozen"), [(None, True), ("0", False)])
def test_a_worker_freezes_its_start_up_objects_unless_told_not_to(monkeypatch, setting, frozen):
    """gunicorn calls post_worker_init once the worker has built the app: from then on a
    full garbage collection no longer walks the app's start-up objects."""
    if setting is None:
        monkeypatch.delenv("GUNICORN_GC_FREEZE", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_GC_FREEZE", setting)
    hook = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"]
    gc.unfreeze()
    try:
        hook(worker=None)
        assert (gc.get_freeze_count() > 0) is frozen
    finally:
        gc.unfreeze()


def _row_shape(table, where) -> dict:
    """Which of a row's columns are set: what two ways of writing a row must agree on."""
    row = db.session.execute(table.select().where(where)).mappings().one()
    return {column: value is not None for column, value in row.items()}


def test_registration_sql_alone_writes_what_a_registration_writes(app, make_event, make_session):
    """The bench's ceiling (/_bench/registration-sql) is only a fair yardstick if it runs a
    registration's statements to the same effect: the same rows, columns and seats."""
    event = make_event()
    sessions = [make_session(event, start=0), make_session(event, start=2)]
    registered = register(event, sessions, utcnow(), "real@example.org", waitlist=False)
    body = {"name": "Sql", "email": "sql@example.org", "session_ids": [s.id for s in sessions]}
    with app.test_request_context(method="POST", json=body):
        assert registration_sql(event.slug)[1] == 201
    db.session.expire_all()
    by_sql = db.session.query(Attendee).filter_by(email="sql@example.org").one()

    tables = {Attendee: Attendee.id, OutboxMessage: OutboxMessage.attendee_id}
    for model, key in tables.items():
        shapes = [_row_shape(model.__table__, key == a.id) for a in (registered, by_sql)]
        assert shapes[0] == shapes[1], model.__name__
    rows = [sorted((r.session_id, r.status) for r in a.registrations) for a in (registered, by_sql)]
    assert rows[0] == rows[1] == [(s.id, "confirmed") for s in sessions]
    assert by_sql.created_at.tzinfo is not None  # stored as the app stores instants
    seats = db.session.query(EventSession.seats_taken).filter(
        EventSession.id.in_([s.id for s in sessions])
    )
    assert [taken for (taken,) in seats] == [2, 2]
    message = db.session.query(OutboxMessage).filter_by(attendee_id=by_sql.id).one()
    assert (message.kind, message.payload) == ("confirmation", {"session_ids": body["session_ids"]})
    assert db.session.query(Registration).count() == 4
