"""Bench-only endpoints, registered only when BENCH_BASELINE is true (`make bench` sets it).

- `POST /_bench/baseline`: one INSERT into the trivial table `bench_baseline`, committed: the
  cheapest useful write this app and server can do, so `make bench` can report registration
  throughput as a ratio to it. The table is created by the bench setup (bench/seed.py), never
  by the app's migrations; without it the endpoint fails, as it should outside a benchmark.
- Every response carries `X-SQL-Queries`: the number of SQL statements the request ran, so
  the bench reads queries per request from the real server.

Never enable this in production: the endpoint is unauthenticated and CSRF-exempt.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Flask, jsonify, request_started
from sqlalchemy import event, text

from .extensions import csrf, db
from .models.types import utcnow

bp = Blueprint("bench_baseline", __name__)

BASELINE_TABLE_SQL = {
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS bench_baseline ("
        "id BIGSERIAL PRIMARY KEY, note VARCHAR(64) NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
    ),
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS bench_baseline ("
        "id INTEGER PRIMARY KEY, note VARCHAR(64) NOT NULL, created_at VARCHAR(40) NOT NULL)"
    ),
}


@bp.post("/_bench/baseline")
def baseline_insert():
    db.session.execute(
        text("INSERT INTO bench_baseline (note, created_at) VALUES (:note, :created_at)"),
        {"note": "baseline", "created_at": utcnow()},
    )
    db.session.commit()
    return jsonify({"status": "ok"}), 201


def init_app(app: Flask) -> None:
    if not app.config.get("BENCH_BASELINE"):
        return
    csrf.exempt(bp)
    app.register_blueprint(bp)

    with app.app_context():
        engine = db.engine

    # A thread-local counter, not flask.g: the listener runs for every statement, and each
    # lookup through g's context proxy costs more than the counting; the instrument should
    # not weigh on a registration (several statements) more than on the baseline (one).
    counter = threading.local()

    def start_counting(*_args, **_kwargs):
        counter.queries = 0

    # At the request's start, before any before_request hook could run a query.
    request_started.connect(start_counting, app, weak=False)

    @event.listens_for(engine, "before_cursor_execute")
    def count_query(*_args, **_kwargs):
        counter.queries = getattr(counter, "queries", 0) + 1

    @app.after_request
    def report_query_count(response):
        response.headers["X-SQL-Queries"] = str(getattr(counter, "queries", 0))
        return response
