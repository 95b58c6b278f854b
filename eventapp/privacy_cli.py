"""flask --app eventapp privacy ...: anonymise a past event, apply the retention periods;
and `flask --app eventapp periodic`: run the time-based jobs once (for cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .extensions import db
from .models.types import utcnow
from .services import privacy
from .services.errors import DomainError
from .services.periodic import SKIPPED, run_periodic, run_tick
from .services.programme import reading as programme

privacy_cli = AppGroup("privacy", help="Anonymise attendees' personal data.")


@privacy_cli.command("anonymise")
@click.argument("event")
def anonymise(event: str) -> None:
    """Anonymise every attendee of EVENT (its slug), once it has ended.

    Seat counts, registrations and check-ins stay for the statistics; names, addresses,
    organisations, private links and the emails sent to them go.
    """
    try:
        found = programme.get_event(event, public=False)
        count = privacy.anonymise_event(found, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"Event '{found.slug}': {count} attendee(s) anonymised.")


@privacy_cli.command("apply-retention")
def apply_retention() -> None:
    """Anonymise the events whose retention period (retention_days after the end) is over."""
    count = privacy.apply_retention(utcnow())
    db.session.commit()
    click.echo(f"{count} event(s) anonymised.")


@click.command("periodic")
@click.option(
    "--force",
    is_flag=True,
    help="Run every job now, even if another node already ran it in this tick.",
)
def periodic(force: bool) -> None:
    """Run the due time-based jobs once: expire waiting-list offers, release seats held
    for unconfirmed email addresses, queue reminders, retention, allocation at the deadline.

    Start it every minute from cron or a systemd timer, on as many machines as you like:
    each job runs once per tick (PERIODIC_TICK_SECONDS) however many nodes start it; the
    others print `skipped`. See services/periodic.py.
    """
    now = utcnow()
    done = run_periodic(now) if force else run_tick(now)
    click.echo(", ".join(f"{name}: {value}" for name, value in done.items()))
    if None in done.values():
        raise click.ClickException("a job failed; see the log")
    if all(value == SKIPPED for value in done.values()):
        click.echo("Every job of this tick ran elsewhere (or is still running).")
