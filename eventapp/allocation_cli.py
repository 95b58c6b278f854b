"""flask --app eventapp allocate EVENT [--dry-run] [--seed N]: the fair workshop allocation."""

from __future__ import annotations

import click

from .extensions import db
from .labels import label
from .models.types import utcnow
from .services.allocation import groups as priority_groups
from .services.allocation import runs as allocation
from .services.allocation.quality import RULES_VERSION
from .services.errors import DomainError
from .services.programme import reading as programme

METHOD_LABELS = {
    "optimal": "fair optimum",
    "first_come_first_served": "first come, first served",
    "random_serial_dictatorship": "random serial order",
}


def quality_table(stats: dict) -> str:
    """First/second/third/none, attendees with 2+ misses and the fill rate, per method."""
    header = (
        f"{'method':<26}{'1st':>7}{'2nd':>7}{'3rd':>7}{'none':>7}{'2+ miss':>9}"
        f"{'seats':>12}{'fill':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in allocation.quality_rows(stats):
        two_plus = "-" if row["two_plus"] is None else row["two_plus"]
        seats = f"{row['assigned']}/{row['seats']}"
        lines.append(
            f"{METHOD_LABELS[row['method']]:<26}{row['first']:>7}{row['second']:>7}"
            f"{row['third']:>7}{row['none']:>7}{two_plus:>9}{seats:>12}"
            f"{row['fill_percent']:>6}%"
        )
    return "\n".join(lines)


def misses_lines(stats: dict) -> list[str]:
    """The whole distribution of misses per method: the "2+ miss" column alone can make the
    optimum look worse where seats are scarce (worst-off first gives more people one seat,
    so more have two misses and fewer have four; docs/ALLOCATION.md)."""
    rows = [
        f"  {METHOD_LABELS[method]}: "
        + ", ".join(str(n) for n in stats[method]["misses_per_attendee"])
        for method in METHOD_LABELS
        if stats.get(method, {}).get("misses_per_attendee")
    ]
    if not rows:  # runs made before the fairness level
        return []
    return ["Attendees with nothing in 0, 1, 2, ... of their rounds:", *rows]


def priority_lines(run) -> list[str]:
    """Per priority group: members, how many ranked the workshop, how many got it, and who
    did not, with why (the organiser page's report, as text)."""
    lines = []
    for group in priority_groups.reports_of(run):
        if group.not_applied:
            reason = label("priority_not_applied", group.not_applied)
            lines.append(f"Priority group '{group.name}' ({group.workshop}): {reason}")
            continue
        lines.append(
            f"Priority group '{group.name}' ({group.workshop}, {group.seats} seats): "
            f"{group.members} members, {group.ranked} ranked it, {group.got} got it."
        )
        lines += [
            f"  not placed: {m.email}: {label('priority_reason', m.reason)}" for m in group.missed
        ]
    return lines


@click.command("allocate")
@click.argument("event")
@click.option("--dry-run", is_flag=True, help="Show the result and store it; write no seat.")
@click.option(
    "--seed",
    type=click.IntRange(0, allocation.SEED_MAX),
    default=None,
    help="Lottery seed for ties (random when left out; stored with the run).",
)
@click.option(
    "--verify",
    "verify_run",
    type=int,
    default=None,
    metavar="RUN",
    help="Recompute stored run RUN from its stored inputs and seed; say if it matches.",
)
def allocate(event: str, dry_run: bool, seed: int | None, verify_run: int | None) -> None:
    """Allocate EVENT's workshops from the attendees' ranked preferences.

    Prints how many got their first, second, third choice or none, and the fill rate, for
    the fair optimum beside first come, first served and a random serial order. Without
    --dry-run the optimum is published: seats confirmed, the rest on waiting lists,
    confirmation emails queued; after that the event is first come, first served.
    With --verify RUN nothing is written: the stored run is recomputed and compared seat for
    seat (exit status 1 if it differs).
    """
    if verify_run is not None:
        _verify(event, verify_run)
        return
    try:
        found = programme.get_event(event, public=False)
        now = utcnow()
        run = allocation.dry_run(found, seed, now=now)
        db.session.commit()
        click.echo(f"Allocation run {run.id} for '{found.slug}', seed {run.seed}:")
        click.echo(quality_table(run.stats))
        for line in misses_lines(run.stats) + priority_lines(run):
            click.echo(line)
        if dry_run:
            click.echo("Dry run: nothing published.")
            return
        result = allocation.publish(found, run, now=now)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(
        f"Published: {result.confirmed} seat(s) confirmed, {result.waitlisted} waiting-list "
        f"place(s), {result.emails} email(s) queued."
    )


def _verify(event: str, run_id: int) -> None:
    try:
        found = programme.get_event(event, public=False)
        result = allocation.verify_run(allocation.get_run(found, run_id))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    versions = result.run.inputs.get("versions", {})
    click.echo(
        f"Run {run_id} of '{found.slug}' ({result.run.status}, seed {result.run.seed}, "
        f"numpy {versions.get('numpy', '?')}, scipy {versions.get('scipy', '?')}, "
        f"allocation rules {result.rules}): "
        f"recomputed {result.pairs} (attendee, round) places from the stored inputs."
    )
    if result.matches:
        click.echo("It matches the stored result, seat for seat.")
        return
    if result.earlier_rules:
        click.echo(
            f"Note: this run was made under allocation rules {result.rules}, before today's "
            f'rules {RULES_VERSION} (docs/ALLOCATION.md, "Rules versions"); a replay with '
            "today's solver may differ for that reason alone."
        )
    if result.differences:
        click.echo(f"It does NOT match: {len(result.differences)} place(s) differ.")
    for attendee, key, stored, now in result.differences[:50]:
        click.echo(f"  attendee {attendee}, round {key}: stored {stored}, recomputed {now}")
    if result.figures:
        click.echo(f"The stored figures do NOT match: {len(result.figures)} differ.")
    for method, figure, stored, now in result.figures[:50]:
        click.echo(f"  {METHOD_LABELS[method]}, {figure}: stored {stored}, recomputed {now}")
    raise SystemExit(1)
