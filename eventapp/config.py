"""Defaults. instance/config.py overrides them, then FLASK_* environment variables do."""

from datetime import timedelta


class Config:
    SECRET_KEY = None  # set in instance/config.py or FLASK_SECRET_KEY; create_app makes one
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite:///<instance>/eventapp.sqlite
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    # Public base URL used in emails and calendar files, where no request is at hand.
    SERVER_NAME_FOR_LINKS = "http://127.0.0.1:5000"
    UID_DOMAIN = "eventapp.local"

    WTF_CSRF_TIME_LIMIT = None  # a registration form left open over lunch must still submit
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    LANGUAGES = ("nl", "en")

    MAIL_SERVER = None  # None: the outbox worker writes .eml files under instance/mail/
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Smart Industry <noreply@eventapp.local>"
    MAIL_WORKER_IN_PROCESS = False  # `make run` turns it on
    OUTBOX_MAX_ATTEMPTS = 8

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    PASSWORD_MIN_LENGTH = 12
