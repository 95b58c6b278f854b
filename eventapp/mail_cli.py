"""flask --app eventapp mail ...: drain the outbox, see what is in it, retry failed mail."""

from __future__ import annotations

import os
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, update

from .extensions import db
from .models import OutboxMessage
from .models.types import utcnow
from .services.mail.loop import run_forever, run_once

mail_cli = AppGroup("mail", help="Send the queued email (the outbox).")


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending as mail is queued, until stopped.")
@click.option(
    "--interval",
    type=float,
    default=None,
    help="Seconds between rounds with --loop (default: OUTBOX_POLL_SECONDS).",
)
def send(loop: bool, interval: float | None) -> None:
    """Send every due message once, or keep doing so with --loop (safe to run several)."""
    if not loop:
        report = run_once()
        waiting = f", {report.postponed} waiting for the mail server" if report.postponed else ""
        click.echo(
            f"{report.sent} sent, {report.retried} to retry, {report.failed} failed{waiting}."
        )
        for error in report.errors[:10]:
            click.echo(f"  {error}", err=True)
        return
    app = current_app._get_current_object()
    stop = threading.Event()

    def request_stop(signum, _frame):
        # Finish the message in hand, then leave: nothing is half-recorded.
        click.echo(f"Signal {signum}: stopping after the current message.", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    pause = interval if interval is not None else float(app.config.get("OUTBOX_POLL_SECONDS", 2))
    eml_dir = app.config.get("MAIL_EML_DIR") or os.path.join(app.instance_path, "mail")
    where = app.config.get("MAIL_SERVER") or os.path.join(eml_dir, "*.eml")
    click.echo(f"Sending queued mail via {where} every {pause:g}s; Ctrl+C stops.")
    db.session.remove()
    run_forever(app, stop, pause)


@mail_cli.command("status")
def status() -> None:
    """How many messages are pending, sending, sent and failed; the latest failures."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    click.echo(
        ", ".join(f"{s}: {counts.get(s, 0)}" for s in ("pending", "sending", "sent", "failed"))
    )
    failed = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc())
        .limit(10)
    )
    for message in failed:
        click.echo(f"  #{message.id} {message.kind} to {message.recipient}: {message.last_error}")


@mail_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
def retry(ids: tuple[int, ...]) -> None:
    """Queue failed messages again (all of them, or the given ids), with fresh attempts."""
    query = update(OutboxMessage).where(OutboxMessage.status == "failed")
    if ids:
        query = query.where(OutboxMessage.id.in_(ids))
    result = db.session.execute(
        query.values(status="pending", attempts=0, next_attempt_at=utcnow(), claimed_until=None)
    )
    db.session.commit()
    click.echo(f"{result.rowcount} message(s) queued again.")
