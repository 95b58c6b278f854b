"""gunicorn settings for eventapp: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every setting can be changed with an environment variable, so one file serves a laptop,
`make serve-postgres`, `make bench` and a production host:

    GUNICORN_BIND              127.0.0.1:8000   where to listen (a reverse proxy sits in front)
    GUNICORN_WORKERS           2 x cores + 1    processes; each has its own DB pool
    GUNICORN_THREADS           4                threads per process (the gthread worker)
    GUNICORN_TIMEOUT           30               seconds before a stuck worker is restarted
    GUNICORN_GRACEFUL_TIMEOUT  30               seconds to finish requests on restart/stop
    GUNICORN_KEEPALIVE         5                seconds to keep an idle client connection
    GUNICORN_MAX_REQUESTS      2000             restart a worker after this many requests
                                                (with jitter), bounding slow leaks; 0 = never
    GUNICORN_BACKLOG           2048             queued connections during an opening burst
    GUNICORN_ACCESSLOG         -                access log file; "-" is stdout, "" is off
    GUNICORN_LOGLEVEL          info
    GUNICORN_GC_FREEZE         1                freeze start-up objects out of the garbage
                                                collector's walks (post_worker_init); 0 = off

Sizing: a request is mostly waiting on the database, so threads help; each worker process
keeps up to pool_size + max_overflow connections (SQLALCHEMY_ENGINE_OPTIONS in
eventapp/config.py), and workers x that must stay below PostgreSQL's max_connections.
Keep pool_size >= GUNICORN_THREADS so no thread waits for a connection.

The app is not preloaded: each worker builds its own app and connection pool after the
fork, so no database connection is ever shared between processes.
"""

import gc
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
backlog = _int("GUNICORN_BACKLOG", 2048)
preload_app = False

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Behind a reverse proxy on the same host: trust its X-Forwarded-* headers from loopback only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "eventapp"


def post_worker_init(worker) -> None:
    """Freeze the worker's start-up objects out of the garbage collector's reach.

    A full collection in a fresh worker walks about 155,000 objects that live as long as
    the process (models, mappers, templates, catalogs): about 180 ms on the bench machine,
    during which all the worker's threads stand still, perhaps one of them holding the row
    lock of a session every other registration waits for. gc.freeze() moves them to a
    permanent generation, as the CPython documentation advises for pre-forked servers, so
    collections walk only what requests create. See docs/PERFORMANCE.md.
    """
    if os.environ.get("GUNICORN_GC_FREEZE", "1").strip() != "0":
        gc.collect()
        gc.freeze()
