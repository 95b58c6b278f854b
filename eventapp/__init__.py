"""eventapp: event registration and workshop scheduling."""

import os
import secrets
from pathlib import Path

from flask import Flask
from flask_babel import gettext as _gettext

from . import (
    auth,
    bot_challenge,
    database,
    page_cache,
    ratelimits,
    security,
    settings,
    static_assets,
)
from . import cli as commands
from . import errors as error_pages
from .allocation_cli import allocate
from .api import bp as api_bp
from .calendar import bp as calendar_bp
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from .i18n import register_filters, select_locale, select_timezone
from .manage import bp as manage_bp
from .organiser import bp as organiser_bp
from .public import bp as public_bp
from .services.mail.loop import start_in_process_worker

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_folder(name: str) -> Path:
    """templates/ or migrations/: inside the package when installed from the wheel (setup.py
    copies them there), else the checkout's top-level folder (editable install, tests)."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def N_(message: str) -> str:  # noqa: N802  (the name pybabel extracts by default)
    """Mark a message for translation where it is only translated later, when shown."""
    return message


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then FLASK_* env vars, then `config`.

    The instance folder is `instance_path`, else EVENTAPP_INSTANCE_PATH, else Flask's choice
    (instance/ in a checkout, <venv>/var/eventapp-instance for an installed wheel).
    """
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("EVENTAPP_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(shipped_folder("templates")),
    )
    app.cli = settings.EventappCli(app.name)
    sources = settings.load(app, config)
    _fill_derived_config(app, sources)
    app.extensions["eventapp_config_sources"] = sources
    settings.enforce(app, sources)

    register_extensions(app)
    security.bound_url_integers(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    start_background_work(app)
    return app


def _fill_derived_config(app: Flask, sources: dict[str, str]) -> None:
    """Defaults that depend on where the instance folder is."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_path = Path(app.instance_path) / "eventapp.sqlite"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app)
    settings.share_through_redis(app.config, sources)
    behind_tls = app.config.get("PREFERRED_URL_SCHEME") == "https"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = behind_tls
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
        sources["SECRET_KEY"] = settings.GENERATED


def _engine_options(app: Flask) -> dict:
    """A copy of the pool settings, without the sizing an in-memory SQLite pool refuses."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri in ("sqlite://", "sqlite:///:memory:"):
        for key in ("pool_size", "max_overflow", "pool_timeout"):
            options.pop(key, None)
    return options


def _instance_secret_key(instance: Path) -> str:
    """A random key kept in instance/, so sessions survive restarts without configuration."""
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    database.configure_engines(app)
    migrate.init_app(app, db, directory=str(shipped_folder("migrations")), render_as_batch=True)
    page_cache.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "organiser.login"
    # N_ marks it for the catalog; the callback translates it when it is shown.
    login_manager.login_message = N_("Please sign in to see this page.")
    login_manager.localize_callback = _gettext
    login_manager.user_loader(auth.load_organiser)
    login_manager.request_loader(auth.load_organiser_from_token)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(organiser_bp, url_prefix="/organiser")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def register_security(app: Flask) -> None:
    """Headers, log redaction and rate limits: they read the URL map, so after blueprints."""

    security.init_app(app)
    bot_challenge.init_app(app)
    ratelimits.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    error_pages.register(app)


def register_commands(app: Flask) -> None:
    commands.register(app)
    app.cli.add_command(allocate)
    app.cli.add_command(settings.config_cli)


def start_background_work(app: Flask) -> None:
    """The outbox worker thread, only under `flask run` with MAIL_WORKER_IN_PROCESS."""

    start_in_process_worker(app)


def register_template_helpers(app: Flask) -> None:
    register_filters(app)
    static_assets.init_app(app)
