"""Loading the configuration, remembering where each setting came from, and refusing to run
in production on development defaults.

Layers, later wins: eventapp/config.py's defaults, the instance folder's config.py, FLASK_*
environment variables, then the dict given to create_app (tests, scripts). Each setting's
source is kept, so `flask --app eventapp config check` can say what is in force and why.

Three defaults only make sense on a developer's machine: a SECRET_KEY generated into the
instance folder (different on every machine, so private links break behind a load balancer
and after a move), links to http://127.0.0.1:5000 in every email and calendar file, and a
SQLite file in the instance folder. Outside debug mode, tests (TESTING) and `make run`
(DEVELOPMENT=true), the app refuses to start while any of them is in force, with one message
that names each and how to set it. `flask ... config check` still runs, to show them.

`config check` also asks the mail server whether it offers SMTPUTF8 (RFC 6531), and warns
when something needs it that the server lacks: MAIL_SMTPUTF8 on (registration then takes
addresses such as jürgen@example.org), or a sender address with such a part before the @.
Non-ASCII display names never need it (they go as encoded words).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Config as FlaskConfig
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy.exc import SQLAlchemyError

from .config import Config
from .services.mail import delivery, outbox

DEFAULT = "default"
GENERATED = "generated into the instance folder"
ARGUMENT = "create_app(config=...)"
ENV_PREFIX = "FLASK"
# FLASK_* variables that belong to the flask CLI, not to the app's settings.
CLI_VARIABLES = ("APP", "DEBUG", "RUN_", "SKIP_DOTENV", "ENV_FILE")

# What `config check` always shows, besides every setting that is not a default.
SHOWN = (
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "SERVER_NAME_FOR_LINKS",
    "TRUSTED_HOSTS",
    "PREFERRED_URL_SCHEME",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_DEFAULT_SENDER",
    "REDIS_URL",
    "RATELIMIT_STORAGE_URI",
    "DEVELOPMENT",
)
SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN")
HOW_TO_SET = {
    "SECRET_KEY": "FLASK_SECRET_KEY=<64 random hex characters, the same on every machine>",
    "SERVER_NAME_FOR_LINKS": "FLASK_SERVER_NAME_FOR_LINKS=https://events.example.org",
    "SQLALCHEMY_DATABASE_URI": "FLASK_SQLALCHEMY_DATABASE_URI=postgresql+psycopg://...",
}


class ConfigurationError(click.ClickException):
    """The app must not start with this configuration. A ClickException, so the flask CLI
    prints just the message ("Error: ...") and exits 1; gunicorn logs it and stops."""


def load(app: Flask, overrides: dict | None) -> dict[str, str]:
    """Fill app.config from the layers; return {setting: where it came from}."""
    sources = {key: DEFAULT for key in dir(Config) if key.isupper()}
    app.config.from_object(Config)
    instance_file = Path(app.instance_path) / "config.py"
    layer = FlaskConfig(app.instance_path)
    if layer.from_pyfile("config.py", silent=True):
        app.config.update(layer)
        sources.update(dict.fromkeys(layer, f"instance config ({instance_file})"))
    app.config.from_prefixed_env(ENV_PREFIX)
    for name in sorted(os.environ):
        if name.startswith(f"{ENV_PREFIX}_"):
            key = name[len(ENV_PREFIX) + 1 :].split("__")[0]
            if key and not key.startswith(CLI_VARIABLES):
                sources[key] = f"environment ({name})"
    if overrides:
        app.config.update(overrides)
        sources.update(dict.fromkeys(overrides, ARGUMENT))
    return sources


def share_through_redis(config, sources: dict[str, str]) -> None:
    """With REDIS_URL set, rate-limit counts (and so the login limits) live in that Redis,
    shared by every process and machine, unless RATELIMIT_STORAGE_URI names another."""
    if config.get("REDIS_URL") and sources.get("RATELIMIT_STORAGE_URI", DEFAULT) == DEFAULT:
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
        sources["RATELIMIT_STORAGE_URI"] = "REDIS_URL"


def development_defaults(app: Flask, sources: dict[str, str]) -> list[str]:
    """What in force is only fit for a developer's machine, one sentence each."""
    found = []
    if sources.get("SECRET_KEY") in (DEFAULT, GENERATED):
        found.append(
            "SECRET_KEY is not set (a random key is kept in the instance folder: it differs "
            "per machine and private links stop working when it changes)"
        )
    if sources.get("SERVER_NAME_FOR_LINKS") == DEFAULT:
        found.append(
            f"SERVER_NAME_FOR_LINKS is the development default "
            f"{app.config['SERVER_NAME_FOR_LINKS']} (every link in emails and calendar "
            "files would point there)"
        )
    if sources.get("SQLALCHEMY_DATABASE_URI") == DEFAULT:
        found.append(
            "SQLALCHEMY_DATABASE_URI is not set (the development default is a SQLite file "
            "in the instance folder)"
        )
    return found


def development_allowed(app: Flask) -> str | None:
    """Why development defaults are acceptable here, or None in production."""
    if app.debug:
        return "debug mode"
    if app.testing:
        return "TESTING"
    if app.config.get("DEVELOPMENT"):
        return "DEVELOPMENT (make run)"
    return None


def refusal_message(problems: list[str]) -> str:
    keys = [key for key in HOW_TO_SET if any(p.startswith(key) for p in problems)]
    lines = ["eventapp refuses to start with development defaults:"]
    lines += [f"  - {problem}" for problem in problems]
    lines.append("Set them in the instance folder's config.py or as environment variables:")
    lines += [f"  {HOW_TO_SET[key]}" for key in keys]
    lines.append(
        "For development use `make run`, --debug or FLASK_DEVELOPMENT=true. "
        "`flask --app eventapp config check` shows every setting and its source."
    )
    return "\n".join(lines)


class EventappCli(AppGroup):
    """The app's command group. While the configuration is refused (`refusal` set), every
    command but `config` fails with the refusal message instead of running (`--help` still
    lists them)."""

    refusal: str | None = None

    def get_command(self, ctx: click.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is None or not self.refusal or cmd_name == "config":
            return command
        message = self.refusal

        def refuse(*_args, **_kwargs):
            raise ConfigurationError(message)

        return click.Command(
            cmd_name,
            callback=refuse,
            help="Refused: development defaults in force (see `config check`).",
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        )


def enforce(app: Flask, sources: dict[str, str]) -> None:
    """Refuse development defaults outside development: raise at start-up (gunicorn, a
    script, `flask run`, a plugin command such as `flask db`), or, while the flask CLI only
    loads the app to find one of its own commands, refuse every command but `config check`."""
    problems = development_defaults(app, sources)
    if not problems or development_allowed(app):
        return
    message = refusal_message(problems)
    context = click.get_current_context(silent=True)
    if context is not None and isinstance(context.command, FlaskGroup):
        app.cli.refusal = message
        return
    raise ConfigurationError(message)


def shown_value(key: str, value) -> str:
    """A setting as `config check` prints it: secrets and URL passwords hidden."""
    if value is None:
        return "(not set)"
    if any(word in key for word in SECRET_WORDS):
        return "(set, hidden)"
    text = str(value)
    if "://" in text:
        parts = urlsplit(text)
        if parts.password:
            host = parts.netloc.rsplit("@", 1)[1]
            text = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    return text


def _sender_needs_smtputf8(sender) -> bool:
    """The sender's part before the @ is not ASCII (a display name does not count)."""
    if isinstance(sender, (tuple, list)):
        sender = sender[-1]
    address = str(sender or "").rpartition("<")[2].rstrip(">").strip()
    return not address.rpartition("@")[0].isascii()


def _registered_needing_smtputf8() -> int:
    """Registered addresses that need SMTPUTF8; 0 when the database cannot tell (not
    reachable or not migrated yet: `config check` reports the settings all the same)."""
    try:
        return outbox.addresses_needing_smtputf8()
    except SQLAlchemyError:
        return 0


def smtputf8_report(config) -> tuple[str | None, list[str]]:
    """What the mail server says about SMTPUTF8: (a line to print, warnings). Nothing for
    the .eml files written without MAIL_SERVER."""
    if not config.get("MAIL_SERVER"):
        return None, []
    server = f"{config['MAIL_SERVER']}:{config.get('MAIL_PORT') or 25}"
    try:
        offered = delivery.offers_smtputf8(config)
    except delivery.TransportDown as error:
        return None, [f"could not reach the mail server {server} to check SMTPUTF8 ({error})"]
    if offered:
        line = f"Mail server {server} offers SMTPUTF8."
        if not config.get("MAIL_SMTPUTF8"):
            line += " MAIL_SMTPUTF8 = True would accept addresses with non-ASCII before the @."
        return line, []
    warnings = []
    if config.get("MAIL_SMTPUTF8"):
        warnings.append(
            f"MAIL_SMTPUTF8 is on, so registration accepts addresses with non-ASCII "
            f"characters before the @, but the mail server {server} does not offer SMTPUTF8: "
            "mail to them would fail. Set MAIL_SMTPUTF8 = False or use a relay that offers it."
        )
    registered = _registered_needing_smtputf8()
    if registered:
        warnings.append(
            f"{registered} registered address(es) have non-ASCII characters before the @, "
            f"but the mail server {server} does not offer SMTPUTF8: mail to them would fail."
        )
    if _sender_needs_smtputf8(config.get("MAIL_DEFAULT_SENDER")):
        warnings.append(
            f"MAIL_DEFAULT_SENDER has non-ASCII characters before the @, but the mail server "
            f"{server} does not offer SMTPUTF8: no mail would go out. Use an ASCII address."
        )
    line = None
    if not warnings:
        line = (
            f"Mail server {server} does not offer SMTPUTF8; addresses with non-ASCII "
            "characters before the @ are refused at registration (MAIL_SMTPUTF8 = False)."
        )
    return line, warnings


config_cli = AppGroup("config", help="Inspect the configuration.")


@config_cli.command("check")
def check() -> None:
    """Print the settings in force and where each came from; exit 1 on development defaults
    outside debug/development."""
    app = current_app._get_current_object()
    sources: dict[str, str] = app.extensions["eventapp_config_sources"]
    keys = [k for k in SHOWN if k in app.config]
    keys += sorted(k for k, s in sources.items() if s != DEFAULT and k not in keys)
    width = max(len(k) for k in keys)
    for key in keys:
        value = shown_value(key, app.config.get(key))
        click.echo(f"{key:<{width}}  {value}  [{sources.get(key, DEFAULT)}]")
    mail_line, warnings = smtputf8_report(app.config)
    if mail_line:
        click.echo(mail_line)
    for warning in warnings:
        click.echo(f"Warning: {warning}")
    problems = development_defaults(app, sources)
    allowed = development_allowed(app)
    if not problems:
        click.echo("OK: no development defaults in force.")
    elif allowed:
        click.echo(f"Development defaults in force, allowed by {allowed}:")
        for problem in problems:
            click.echo(f"  - {problem}")
    else:
        raise ConfigurationError(refusal_message(problems))
