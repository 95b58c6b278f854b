"""Backups restore: `flask backup PATH` while the app runs, then the copy serves the same
attendees (SQLite: the copy is the database; PostgreSQL: pg_restore into a scratch
database)."""

import shutil
import sqlite3
import subprocess

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from eventapp import create_app
from eventapp.backup_cli import libpq_url
from eventapp.extensions import db
from eventapp.models import Attendee
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.security_support import end_transaction


@pytest.fixture
def attendees(app, make_event, make_session, now):
    event = make_event()
    session = make_session(event, kind="plenary", capacity=100)
    results = [
        registration.register(
            event,
            RegistrationInput(
                name=f"P{n}", email=f"p{n}@example.org", session_ids=[session.id], consent=True
            ),
            now,
        )
        for n in range(12)
    ]
    db.session.commit()
    tokens = [r.manage_token for r in results]
    end_transaction()
    return tokens


def assert_restored_app_serves(uri, tmp_path, secret_key, tokens):
    restored = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secret_key,
            "SQLALCHEMY_DATABASE_URI": uri,
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(tmp_path / "restored-instance"),
    )
    try:
        with restored.app_context():
            assert db.session.scalar(select(func.count()).select_from(Attendee)) == len(tokens)
        client = restored.test_client()
        for token in tokens[:3]:
            assert client.get(f"/manage/{token}").status_code == 200
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_sqlite_backup_taken_during_a_write_restores(app, runner, attendees, tmp_path):
    if app.config["DATABASE_KIND"] != "sqlite":
        pytest.skip("the SQLite backup")
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    # A writer is in the middle of a transaction: its row must not be in the copy.
    writer = sqlite3.connect(database, timeout=30, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE attendee SET name = 'half-written' WHERE id = 1")
    target = tmp_path / "backup.sqlite"
    try:
        result = runner.invoke(args=["backup", str(target)])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM attendee WHERE name = 'half-written'").fetchone() == (
        0,
    )
    copy.close()
    assert_restored_app_serves(f"sqlite:///{target}", tmp_path, app.config["SECRET_KEY"], attendees)


def test_a_postgresql_backup_restores_into_another_database(app, runner, attendees, tmp_path):
    if app.config["DATABASE_KIND"] != "postgresql":
        pytest.skip("the PostgreSQL backup")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed")
    target = tmp_path / "backup.dump"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output

    source = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    scratch = source.set(database=f"{source.database}_restore")
    admin_url = libpq_url(source.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{scratch.database}"')
    try:
        restore = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={libpq_url(scratch.render_as_string(hide_password=False))}",
                str(target),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert restore.returncode == 0, restore.stderr
        assert_restored_app_serves(
            scratch.render_as_string(hide_password=False),
            tmp_path,
            app.config["SECRET_KEY"],
            attendees,
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
