"""The CLI of the public contract."""

from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import ApiToken, Event, EventSession, Organiser


def test_demo_is_idempotent(runner):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and "loaded" in first.output
    assert second.exit_code == 0 and "already present" in second.output
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1
    sessions = db.session.scalars(select(EventSession)).all()
    workshops = [s for s in sessions if s.kind == "workshop"]
    assert len({s.starts_at for s in workshops}) >= 3
    assert min(s.capacity for s in workshops) == 12
    assert any("Mona Keijzer" in [sp.name for sp in s.speakers] for s in sessions)


def test_organiser_create_and_token_store_only_hashes(runner):
    created = runner.invoke(
        args=[
            "organiser",
            "create",
            "Admin@Example.org",
            "--password",
            "a-long-passphrase",
            "--role",
            "admin",
        ]
    )
    assert created.exit_code == 0, created.output
    organiser = db.session.scalar(select(Organiser))
    assert organiser.email == "admin@example.org" and organiser.role == "admin"
    assert "a-long-passphrase" not in organiser.password_hash

    issued = runner.invoke(args=["organiser", "token", "admin@example.org"])
    token = issued.output.strip()
    assert issued.exit_code == 0 and len(token) >= 43
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != token and token not in stored.token_hash


def test_organiser_create_refuses_short_password_and_duplicates(runner):
    short = runner.invoke(args=["organiser", "create", "a@example.org", "--password", "short"])
    assert short.exit_code != 0 and "12" in short.output
    runner.invoke(args=["organiser", "create", "a@example.org", "--password", "long-enough-pw"])
    again = runner.invoke(args=["organiser", "create", "a@example.org", "--password", "x" * 20])
    assert again.exit_code != 0 and "email" in again.output


def test_token_for_unknown_organiser_fails_clearly(runner):
    result = runner.invoke(args=["organiser", "token", "nobody@example.org"])
    assert result.exit_code != 0 and "Error" in result.output
