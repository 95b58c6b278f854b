"""What every command that changes something shares: one transaction, and a domain error
said as the command's own error (exit status 1), with nothing half-written."""

from collections.abc import Callable
from typing import TypeVar

import click

from .extensions import db
from .services.errors import DomainError

T = TypeVar("T")


def committed(action: Callable[[], T]) -> T:
    """Run a service call and commit; on a DomainError roll back and fail with its message."""
    try:
        result = action()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    return result
