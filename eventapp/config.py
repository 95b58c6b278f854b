"""Defaults. instance/config.py overrides them, then FLASK_* environment variables do."""

from datetime import timedelta


class Config:
    SECRET_KEY = None  # set in instance/config.py or FLASK_SECRET_KEY; create_app makes one
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite:///<instance>/eventapp.sqlite
    # One pool per process (per gunicorn worker): keep pool_size >= the worker's threads, and
    # workers * (pool_size + max_overflow) below PostgreSQL's max_connections. pre_ping replaces
    # connections the server dropped (restart, failover); recycle stays under idle timeouts.
    # Override one key with e.g. FLASK_SQLALCHEMY_ENGINE_OPTIONS__pool_size=20.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {
        "pool_size": 10,
        "max_overflow": 5,
        "pool_timeout": 10,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }
    SQLITE_BUSY_TIMEOUT_MS = 30_000
    SQLITE_DEFERRED_READS = True  # GET/HEAD begin without the write lock (database.py)

    # True on a developer's machine (`make run` sets FLASK_DEVELOPMENT=true): the three
    # development defaults (no SECRET_KEY, links to 127.0.0.1:5000, SQLite in instance/) are
    # accepted. Otherwise, outside debug mode and tests, the app refuses to start with them
    # (eventapp/settings.py; `flask --app eventapp config check` shows what is in force).
    DEVELOPMENT = False

    # Public base URL used in emails and calendar files, where no request is at hand.
    # `make run PORT=N` sets it to http://127.0.0.1:N.
    SERVER_NAME_FOR_LINKS = "http://127.0.0.1:5000"
    # Host names the app answers to (Flask's own setting), e.g. ["events.example.org"] or
    # FLASK_TRUSTED_HOSTS='["events.example.org"]'; another Host header gets 400. None: any.
    TRUSTED_HOSTS = None
    UID_DOMAIN = "eventapp.local"

    WTF_CSRF_TIME_LIMIT = None  # a registration form left open over lunch must still submit
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # Static files: URLs carry ?v=<content hash> (eventapp/static_assets.py), so browsers may
    # keep them a year; an unversioned static URL is cached for an hour only.
    STATIC_VERSIONED_MAX_AGE = 365 * 24 * 3600
    STATIC_UNVERSIONED_MAX_AGE = 3600

    BABEL_DEFAULT_LOCALE = "nl"
    OFFLINE_LOCALE = "en"  # outside a request: CLI output, services called from scripts
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
    MAIL_TIMEOUT = 30  # seconds per SMTP command; Flask-Mail alone would wait forever
    MAIL_SSL_VERIFY = True  # check the server certificate for STARTTLS and SSL
    MAIL_SSL_CAFILE = None  # a private CA bundle for the mail server, if needed
    MAIL_EML_DIR = None
    # The relay offers SMTPUTF8 (RFC 6531): addresses with non-ASCII characters before the @
    # (jürgen@example.org) are accepted at registration and sent with it. False: such
    # addresses are refused at registration (422), as they could never be delivered.
    MAIL_SMTPUTF8 = False  # where .eml files go without MAIL_SERVER; default instance/mail/
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_RETRY_BASE_SECONDS = 60  # then 2, 4, 8, ... times that, at most the maximum
    OUTBOX_RETRY_MAX_SECONDS = 3600
    # The mail server unreachable: messages wait (no attempt used) and are tried this often.
    OUTBOX_OUTAGE_RETRY_SECONDS = 30
    OUTBOX_CLAIM_SECONDS = 300  # a claimed message is retried if not done by then
    OUTBOX_BATCH_SIZE = 100
    OUTBOX_POLL_SECONDS = 2  # the worker loop checks for new mail this often
    # Periodic jobs: `flask --app eventapp periodic` every minute (cron, systemd timer) on any
    # number of machines runs each job once per tick. The mail loop runs them too only when
    # MAIL_LOOP_RUNS_PERIODIC is on (`make run` turns it on; same once-per-tick claim).
    PERIODIC_TICK_SECONDS = 60
    MAIL_LOOP_RUNS_PERIODIC = False

    # The organiser's dashboard serves its figures again for this many seconds per process
    # (the page says how old they are); 0 reads them for every request
    # (organiser/dashboard_copies.py).
    DASHBOARD_FIGURES_MAX_AGE = 2

    RATELIMIT_ENABLED = True
    # Several processes or machines: REDIS_URL=redis://host:6379/0 shares the rate-limit
    # counts (login limits included) between them; RATELIMIT_STORAGE_URI, if set, wins.
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in each process's memory until it is back, rather than answer 500s.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    # None means "Secure when PREFERRED_URL_SCHEME is https" (set FLASK_PREFERRED_URL_SCHEME=https
    # behind TLS); FLASK_SESSION_COOKIE_SECURE=true/false decides explicitly.
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_SECURE = None
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    PASSWORD_MIN_LENGTH = 12
    # The registration form is refused if sent sooner than this after it was served (a bot);
    # 0 switches the check off for every event (public/bot_checks.py).
    REGISTRATION_MIN_FILL_SECONDS = 3
