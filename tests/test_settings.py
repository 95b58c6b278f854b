"""Configuration that refuses to be wrong in production: development defaults stop the start
outside debug, tests and `make run`; `config check` says what is set and where from; the
Host header is checked (TRUSTED_HOSTS) and a malformed one is a 400."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventapp import create_app
from eventapp.settings import ConfigurationError
from tests.mailserver import SmtpServer
from tests.registering import register

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "SECRET_KEY": "a-production-secret-" + "k" * 40,
    "SERVER_NAME_FOR_LINKS": "https://events.example.org",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


def _without(key: str) -> dict:
    return {k: v for k, v in PRODUCTION.items() if k != key}


def _clean_env(tmp_path: Path, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(EVENTAPP_INSTANCE_PATH=str(tmp_path / "instance"), **settings)
    return env


def _flask(tmp_path: Path, *arguments: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "eventapp", *arguments],
        cwd=ROOT,  # `python -m` puts the checkout first on sys.path
        env=_clean_env(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_start(tmp_path):
    app = create_app(dict(PRODUCTION), instance_path=str(tmp_path))
    assert app.config["SERVER_NAME_FOR_LINKS"] == "https://events.example.org"


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_each_development_default_alone_stops_the_start(tmp_path, missing):
    with pytest.raises(ConfigurationError) as refused:
        create_app(_without(missing), instance_path=str(tmp_path))
    message = refused.value.message
    assert message.startswith("eventapp refuses to start with development defaults")
    assert f"- {missing}" in message
    assert [other for other in PRODUCTION if f"- {other}" in message] == [missing]


def test_all_three_are_named_in_one_message(tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        create_app({}, instance_path=str(tmp_path))
    message = refused.value.message
    for key in PRODUCTION:
        assert f"- {key}" in message and f"FLASK_{key}=" in message


@pytest.mark.parametrize("allowed", [{"DEVELOPMENT": True}, {"TESTING": True}, {"DEBUG": True}])
def test_development_defaults_are_fine_in_development(tmp_path, allowed):
    app = create_app(allowed, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"]  # generated into the instance folder
    assert (tmp_path / "secret_key").exists()


def test_the_cli_refuses_with_one_clear_message(tmp_path):
    done = _flask(tmp_path, "mail", "send")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: eventapp refuses to start with development defaults")
    assert not (tmp_path / "instance" / "mail").exists()


def test_a_plugin_command_and_the_wsgi_entry_point_refuse_too(tmp_path):
    upgrade = _flask(tmp_path, "db", "upgrade")
    assert upgrade.returncode == 1 and "refuses to start" in upgrade.stderr
    assert not (tmp_path / "instance" / "eventapp.sqlite").exists()
    wsgi = subprocess.run(
        [sys.executable, "-c", "import eventapp.wsgi"],
        cwd=ROOT,
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wsgi.returncode != 0 and "refuses to start" in wsgi.stderr


def test_config_check_says_what_is_set_and_where_from(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('MAIL_SERVER = "smtp.example.org"\n')
    done = _flask(
        tmp_path,
        "config",
        "check",
        FLASK_SECRET_KEY="s" * 64,
        FLASK_SERVER_NAME_FOR_LINKS="https://events.example.org",
        FLASK_SQLALCHEMY_DATABASE_URI="postgresql+psycopg://app:hunter2@db.example.org/events",
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert "[environment (FLASK_SECRET_KEY)]" in lines["SECRET_KEY"]
    assert "s" * 64 not in done.stdout and "hunter2" not in done.stdout
    assert "app:***@db.example.org/events" in lines["SQLALCHEMY_DATABASE_URI"]
    assert "https://events.example.org  [environment" in lines["SERVER_NAME_FOR_LINKS"]
    assert f"smtp.example.org  [instance config ({instance / 'config.py'})]" in lines["MAIL_SERVER"]
    assert "memory://  [default]" in lines["RATELIMIT_STORAGE_URI"]
    assert "OK: no development defaults in force." in done.stdout


def test_config_check_fails_on_development_defaults_but_still_prints(tmp_path):
    done = _flask(tmp_path, "config", "check", FLASK_SECRET_KEY="s" * 64)
    assert done.returncode == 1
    assert "SERVER_NAME_FOR_LINKS    http://127.0.0.1:5000  [default]" in done.stdout
    assert "- SERVER_NAME_FOR_LINKS" in done.stderr and "- SECRET_KEY" not in done.stderr
    allowed = _flask(tmp_path, "config", "check", FLASK_DEVELOPMENT="true")
    assert allowed.returncode == 0
    assert "allowed by DEVELOPMENT" in allowed.stdout


def test_make_run_port_sets_the_link_port():
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=5081"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    commands = [line for line in plan.stdout.splitlines() if "--app eventapp" in line]
    assert len(commands) == 3  # db upgrade, demo, run
    for command in commands:
        assert "FLASK_SERVER_NAME_FOR_LINKS=http://127.0.0.1:5081" in command
        assert "FLASK_DEVELOPMENT=true" in command
    assert commands[-1].endswith("run --port 5081")


def test_a_malformed_host_header_is_a_400_not_a_500(client):
    long_label = "a" * 64 + ".example.org"
    for path in ("/", "/events/x/", "/api/v1/events"):
        response = client.get(path, headers={"Host": long_label})
        assert response.status_code == 400, path
    page = client.get("/", headers={"Host": long_label})
    assert "Traceback" not in page.get_data(as_text=True)
    api = client.get("/api/v1/events", headers={"Host": long_label})
    assert api.json["error"] == "bad_request"


def test_trusted_hosts_refuses_other_host_names(app, client):
    app.config["TRUSTED_HOSTS"] = ["events.example.org"]
    assert client.get("/", headers={"Host": "evil.example.org"}).status_code == 400
    assert client.get("/", headers={"Host": "events.example.org"}).status_code == 200


def _config_check_against(app, runner, *, offered: bool | None, **settings):
    """`config check` with the mail server a real aiosmtpd that does (or does not) offer
    SMTPUTF8 in its EHLO answer; offered=None: nothing listens on the port."""
    server = SmtpServer(enable_SMTPUTF8=bool(offered))
    if offered is not None:
        server.start()
    server.configure(app)
    app.config.update(settings)
    try:
        return runner.invoke(args=["config", "check"])
    finally:
        server.stop()


def test_config_check_says_the_mail_server_offers_smtputf8(app, runner):
    result = _config_check_against(app, runner, offered=True, MAIL_SMTPUTF8=True)
    assert result.exit_code == 0, result.output
    assert f"127.0.0.1:{app.config['MAIL_PORT']} offers SMTPUTF8" in result.output
    assert "Warning" not in result.output


def test_config_check_warns_when_addresses_need_smtputf8_the_server_lacks(app, runner):
    """Registration takes jürgen@example.org (MAIL_SMTPUTF8), but no mail could reach it."""
    result = _config_check_against(app, runner, offered=False, MAIL_SMTPUTF8=True)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.output.splitlines() if line.startswith("Warning")]
    assert "does not offer SMTPUTF8" in warning and "MAIL_SMTPUTF8" in warning


def test_config_check_warns_about_a_sender_address_that_needs_smtputf8(app, runner):
    result = _config_check_against(
        app,
        runner,
        offered=False,
        MAIL_SMTPUTF8=False,
        MAIL_DEFAULT_SENDER="Büro Events <büro@example.org>",
    )
    [warning] = [line for line in result.output.splitlines() if line.startswith("Warning")]
    assert "MAIL_DEFAULT_SENDER" in warning and "does not offer SMTPUTF8" in warning


def test_config_check_without_smtputf8_and_nothing_needing_it_only_informs(app, runner):
    """Non-ASCII display names go as encoded words: only the part before the @ needs it."""
    result = _config_check_against(
        app,
        runner,
        offered=False,
        MAIL_SMTPUTF8=False,
        MAIL_DEFAULT_SENDER="Smart Industrie – Büro <noreply@example.org>",
    )
    assert result.exit_code == 0, result.output
    assert "does not offer SMTPUTF8" in result.output
    assert "Warning" not in result.output


def test_config_check_warns_when_the_mail_server_cannot_be_reached(app, runner):
    result = _config_check_against(app, runner, offered=None, MAIL_SMTPUTF8=True)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.output.splitlines() if line.startswith("Warning")]
    assert "could not reach the mail server" in warning


def test_config_check_without_a_mail_server_probes_nothing(app, runner):
    app.config["MAIL_SERVER"] = None
    result = runner.invoke(args=["config", "check"])
    assert result.exit_code == 0, result.output
    assert "SMTPUTF8" not in result.output


def test_config_check_warns_about_registered_addresses_that_need_smtputf8(
    app, runner, make_event, make_session, now
):
    """MAIL_SMTPUTF8 was on when Jürgen registered; the relay now in use lacks it."""
    app.config["MAIL_SMTPUTF8"] = True
    event = make_event()
    register(event, [make_session(event)], now, "jürgen@example.org")
    register(event, [make_session(event, start=2)], now, "ada@example.org")
    result = _config_check_against(app, runner, offered=False, MAIL_SMTPUTF8=False)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.output.splitlines() if line.startswith("Warning")]
    assert "1 registered address" in warning and "does not offer SMTPUTF8" in warning
