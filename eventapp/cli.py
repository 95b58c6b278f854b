"""flask --app eventapp ... commands: demo data, organisers and their API tokens."""

import click
from flask import Flask
from flask.cli import AppGroup

from .backup_cli import backup
from .cli_support import committed
from .extensions import db
from .mail_cli import mail_cli
from .models.types import utcnow
from .privacy_cli import periodic, privacy_cli
from .services.backoffice import accounts, demo
from .services.errors import DomainError

organiser_cli = AppGroup("organiser", help="Create organisers and API tokens.")


@organiser_cli.command("create")
@click.argument("email")
@click.option("--password", help="At least 12 characters; asked for when left out.")
@click.option(
    "--role",
    type=click.Choice(["admin", "organiser", "checkin"]),
    default="organiser",
    show_default=True,
)
@click.option("--name", default="", help="Display name.")
def create_organiser(email: str, password: str | None, role: str, name: str) -> None:
    """Create an organiser account (the first one should be an admin)."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    organiser = committed(lambda: accounts.create_organiser(email, password, role=role, name=name))
    click.echo(f"Created {organiser.role} {organiser.email}.")


@organiser_cli.command("grant")
@click.argument("email")
@click.argument("event")
@click.option("--role", type=click.Choice(["organiser", "checkin"]), help="Default: the account's.")
def grant_event_role(email: str, event: str, role: str | None) -> None:
    """Give EMAIL a role at EVENT (a slug): non-admin accounts see only such events."""
    try:
        role = role or accounts.find_organiser(email).role
        click.echo(accounts.set_event_role(email, event, role))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None


@organiser_cli.command("ungrant")
@click.argument("email")
@click.argument("event")
def ungrant_event_role(email: str, event: str) -> None:
    """Take EMAIL's role at EVENT (a slug) away."""
    click.echo(committed(lambda: accounts.set_event_role(email, event, None)))


@organiser_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def create_token(email: str, name: str) -> None:
    """Print a new API token for EMAIL. It is shown once; only its hash is stored."""
    token = committed(lambda: accounts.issue_api_token(email, name=name))
    click.echo(token)


@organiser_cli.command("tokens")
@click.argument("email")
def list_tokens(email: str) -> None:
    """List EMAIL's API tokens (id, label, created, last used, revoked); never the token."""
    try:
        api_tokens = accounts.list_api_tokens(email)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for api_token in api_tokens:
        state = f"revoked {api_token.revoked_at:%Y-%m-%d}" if api_token.revoked_at else "active"
        # Stamped at most every few minutes (accounts.TOKEN_USE_RESOLUTION), hence no seconds.
        used = f"{api_token.last_used_at:%Y-%m-%d %H:%M} UTC" if api_token.last_used_at else "never"
        click.echo(
            f"{api_token.id}\t{api_token.name}\tcreated {api_token.created_at:%Y-%m-%d}"
            f"\tused {used}\t{state}"
        )


@organiser_cli.command("revoke")
@click.argument("email")
@click.option("--id", "token_id", type=int, help="Only this token (see `organiser tokens`).")
def revoke_tokens(email: str, token_id: int | None) -> None:
    """Revoke EMAIL's API tokens: all of them, or the one given with --id."""

    count = committed(lambda: accounts.revoke_api_tokens(email, utcnow(), token_id=token_id))
    click.echo(f"Revoked {count} token(s).")


@organiser_cli.command("password")
@click.argument("email")
@click.option("--password", help="At least 12 characters; asked for when left out.")
def set_password(email: str, password: str | None) -> None:
    """Set a new password for EMAIL; their open sessions end and a lockout is lifted."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    committed(lambda: accounts.set_password(email, password))
    click.echo(f"Password changed for {email.strip().lower()}.")


@organiser_cli.command("logout-all")
@click.argument("email")
def logout_all(email: str) -> None:
    """Sign EMAIL out on every device (their API tokens stay; see `organiser revoke`)."""
    committed(lambda: accounts.end_all_sessions(email))
    click.echo(f"Every session of {email.strip().lower()} has ended.")


@click.command("demo")
@click.option("--empty", is_flag=True, help="Only the programme, without the demo's registrations.")
def load_demo(empty: bool) -> None:
    """Load the Smart Industry demo event (safe to run again: it changes nothing twice),
    with registrations that fill one workshop and start its waiting list."""
    event, created = demo.load_demo_event()
    db.session.commit()
    state = "loaded" if created else "already present"
    click.echo(f"Demo event '{event.slug}' {state}: {len(event.sessions)} sessions.")
    if created and not empty:
        filled = demo.load_demo_registrations(event, utcnow())
        db.session.commit()
        if filled is not None:
            click.echo(
                f"{filled.attendees} demo registrations (@example.org): "
                f"'{filled.full_session}' is full, {filled.waiting} on its waiting list."
            )


def register(app: Flask) -> None:
    app.cli.add_command(organiser_cli)
    app.cli.add_command(load_demo)

    app.cli.add_command(mail_cli)

    app.cli.add_command(backup)

    app.cli.add_command(privacy_cli)
    app.cli.add_command(periodic)
