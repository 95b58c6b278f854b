"""Organiser sessions end: after PERMANENT_SESSION_LIFETIME, on a password change (every
device), and on sign-out; passwords have a minimum length."""

import pytest
from flask import g
from itsdangerous import TimestampSigner

from eventapp.extensions import db
from eventapp.services.backoffice import accounts
from eventapp.services.errors import InvalidInput
from tests.conftest import ORGANISER_PASSWORD


def dashboard_status(client) -> int:
    g.pop("_login_user", None)  # the `app` fixture's context outlives requests
    return client.get("/organiser/").status_code


def test_a_session_expires_after_its_lifetime(app, client, make_organiser, login, monkeypatch):
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    assert lifetime.total_seconds() <= 12 * 3600
    real = TimestampSigner.get_timestamp
    # The cookie is signed as if the sign-in happened one lifetime and a minute ago.
    monkeypatch.setattr(
        TimestampSigner,
        "get_timestamp",
        lambda self: real(self) - int(lifetime.total_seconds()) - 60,
    )
    login(make_organiser())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    assert dashboard_status(client) == 302  # back to the login page


def test_a_fresh_session_is_accepted(client, make_organiser, login):
    login(make_organiser())
    assert dashboard_status(client) == 200


def test_a_password_change_signs_out_every_device(app, make_organiser, login, client):
    organiser = make_organiser()
    email = organiser.email
    login(organiser)
    other_device = app.test_client()
    g.pop("_login_user", None)
    response = other_device.post(
        "/organiser/login", data={"email": email, "password": ORGANISER_PASSWORD}
    )
    assert response.status_code == 302
    assert dashboard_status(client) == 200 and dashboard_status(other_device) == 200
    accounts.set_password(email, "a brand new passphrase")
    db.session.commit()
    assert dashboard_status(client) == 302
    assert dashboard_status(other_device) == 302


def test_logout_all_ends_every_session(app, runner, client, make_organiser, login):
    email = login(make_organiser()).email
    assert dashboard_status(client) == 200
    result = runner.invoke(args=["organiser", "logout-all", email])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert dashboard_status(client) == 302


def test_signing_out_ends_the_session(client, make_organiser, login):
    login(make_organiser())
    assert dashboard_status(client) == 200
    g.pop("_login_user", None)
    client.post("/organiser/logout", data={})
    assert dashboard_status(client) == 302


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_passwords_shorter_than_twelve_characters_are_refused(app, make_organiser, password):
    assert accounts.PASSWORD_MIN_LENGTH >= 12
    with pytest.raises(InvalidInput):
        accounts.create_organiser("new@example.org", password)
    email = make_organiser().email
    with pytest.raises(InvalidInput):
        accounts.set_password(email, password)


def test_the_cli_refuses_a_short_password(runner):
    result = runner.invoke(args=["organiser", "create", "x@example.org", "--password", "short"])
    assert result.exit_code != 0
