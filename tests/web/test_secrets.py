"""Private links and API tokens: at least 128 random bits, stored only as hashes, compared in
constant time, revocable, and never written to a log (werkzeug's request log, gunicorn's
access log, the app's own log)."""

import base64
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from eventapp.extensions import db
from eventapp.services import links
from eventapp.services.backoffice import accounts
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.mailserver import free_port
from tests.security_support import end_transaction


def random_bits(token: str) -> int:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


@pytest.fixture
def registered(app, make_event, make_session, now):
    event = make_event()
    session = make_session(event, kind="plenary")
    result = registration.register(
        event,
        RegistrationInput(
            name="Ada", email="ada@example.org", session_ids=[session.id], consent=True
        ),
        now,
    )
    db.session.commit()
    return result


def test_links_and_api_tokens_carry_at_least_128_random_bits(registered, make_organiser):
    api_token = accounts.issue_api_token(make_organiser().email)
    for token in (registered.manage_token, registered.feed_token, api_token):
        assert random_bits(token) >= 128
    assert len(registered.attendee.token_nonce) * 4 >= 128  # hex: 4 bits a character
    many = {links.new_api_token() for _ in range(1000)} | {links.new_nonce() for _ in range(1000)}
    assert len(many) == 2000


def test_the_database_holds_no_token_in_the_clear(app, registered, make_organiser):
    api_token = accounts.issue_api_token(make_organiser().email)
    db.session.commit()
    secrets_given = [registered.manage_token, registered.feed_token, api_token]
    everything = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608
            everything.extend(str(value) for value in row)
    dump = "\n".join(everything)
    assert registered.attendee.token_hash in dump  # the dump is real
    for secret in secrets_given:
        assert secret not in dump


def test_links_are_compared_in_constant_time(app, registered, monkeypatch):
    compared = []
    real = links.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(links.hmac, "compare_digest", spy)
    assert registration.find_by_token(registered.manage_token).id == registered.attendee.id
    assert compared, "the link was accepted without a constant-time comparison"


def test_a_new_link_revokes_the_old_one(app, client, registered):
    old = registered.manage_token
    attendee = registered.attendee
    assert client.get(f"/manage/{old}").status_code == 200
    links.issue_tokens(attendee)
    db.session.commit()
    assert client.get(f"/manage/{old}").status_code == 404
    assert client.get(f"/manage/{links.manage_token(attendee)}").status_code == 200
    assert client.get(f"/calendar/{registered.feed_token}.ics").status_code == 404


def test_a_revoked_api_token_is_refused(app, client, make_organiser, now):
    organiser = make_organiser()
    token = accounts.issue_api_token(organiser.email)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/events/x/registrations", headers=headers).status_code == 404
    assert accounts.revoke_api_tokens(organiser.email, now) == 1
    db.session.commit()
    assert client.get("/api/v1/events/x/registrations", headers=headers).status_code == 401


def test_a_changed_secret_key_revokes_every_link(app, client, registered):
    assert client.get(f"/manage/{registered.manage_token}").status_code == 200
    app.config["SECRET_KEY"] = "rotated-" + os.urandom(8).hex()
    assert client.get(f"/manage/{registered.manage_token}").status_code == 404


# -- Logs ------------------------------------------------------------------------------


def _urls_with_secrets(result, api_token):
    manage, feed = result.manage_token, result.feed_token
    return [
        (f"/manage/{manage}", {}),
        (f"/manage/{manage}/cancel", {}),
        (f"/calendar/{feed}.ics", {}),
        (f"/api/v1/registrations/{manage}", {}),
        (f"/manage/{manage}?token={manage}", {}),
        ("/api/v1/events", {"Authorization": f"Bearer {api_token}"}),
        (f"/manage/{manage[:-2]}xx", {}),  # a mistyped link is a secret too
    ]


def _get(url, headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http on loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_no_secret_reaches_werkzeugs_request_log_or_the_app_log(
    app, registered, make_organiser, caplog
):
    api_token = accounts.issue_api_token(make_organiser().email)
    db.session.commit()
    secrets_given = [registered.manage_token, registered.feed_token, api_token]
    end_transaction()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.DEBUG):
            statuses = [
                _get(base + path, headers)
                for path, headers in _urls_with_secrets(registered, api_token)
            ]
            app.logger.warning("opened /manage/%s", registered.manage_token)
            time.sleep(0.2)  # the request log line is written after the response
    finally:
        server.shutdown()
        thread.join(10)
    assert statuses[0] == 200 and statuses[2] == 200
    request_lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/manage/[redacted]" in line for line in request_lines), request_lines
    assert any("/calendar/[redacted].ics" in line for line in request_lines)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets_given:
        assert secret not in logged
        assert secret[:-2] not in logged


GUNICORN_CONFIG = """
accesslog = "-"
errorlog = "-"
loglevel = "info"
workers = 1
"""


def test_no_secret_reaches_gunicorns_access_log(app, registered, tmp_path):
    if app.config["DATABASE_KIND"] != "sqlite":
        pytest.skip("one database is enough for the access log")
    end_transaction()
    port = free_port()
    (tmp_path / "gunicorn.conf.py").write_text(GUNICORN_CONFIG)
    env = {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "FLASK_SECRET_KEY": app.config["SECRET_KEY"],
        "FLASK_SERVER_NAME_FOR_LINKS": app.config["SERVER_NAME_FOR_LINKS"],
        "FLASK_RATELIMIT_ENABLED": "false",
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(tmp_path / "gunicorn.conf.py"),
                "-b",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    _get(base + "/api/v1/events", {})
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.3)
            assert _get(base + f"/manage/{registered.manage_token}", {}) == 200
            assert _get(base + f"/calendar/{registered.feed_token}.ics", {}) == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    output = log_path.read_text()
    assert "GET /manage/[redacted]" in output, output[-2000:]
    assert registered.manage_token not in output
    assert registered.feed_token not in output


def test_the_redaction_covers_every_route_with_a_token(app):
    log_filter = app.extensions["eventapp_log_redaction"]
    for rule in app.url_map.iter_rules():
        if "token" not in rule.arguments:
            continue
        secret = "S3cret-" + "x" * 36
        path = rule.rule.replace("<token>", secret)
        path = path.replace("<int:session_id>", "7").replace("<slug>", "expo")
        line = f'127.0.0.1 - - "GET {path} HTTP/1.1" 200 -'
        assert secret not in log_filter.redact(line), rule.rule
