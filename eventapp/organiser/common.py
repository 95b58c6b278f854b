"""Helpers shared by the organiser views: loading an event, mapping errors onto forms."""

from flask import abort, g

from ..extensions import db
from ..models import Event
from ..services.errors import Conflict, DomainError, InvalidInput, NotFound
from ..services.programme import schedule


def load_event(slug: str) -> Event:
    """The event (drafts too) or 404; also what pages show times in (g.event)."""
    try:
        event = schedule.get_event_for_organiser(slug)
    except NotFound:
        abort(404)
    g.event = event
    return event


def show_error(form, error: DomainError) -> dict | None:
    """Put a domain error on the form; return the conflict report for the page, if any.

    The report: {"conflicts": [...], "confirm_required": bool}. Field errors go beside
    their fields, anything else above the form.
    """
    db.session.rollback()
    if isinstance(error, InvalidInput):
        for name, reasons in error.fields.items():
            field = form._fields.get(name)
            if field is None:
                form.form_errors.extend(reasons)
            else:
                field.errors = list(field.errors) + list(reasons)
        return None
    if isinstance(error, Conflict):
        return {
            "conflicts": error.details.get("conflicts", []),
            "confirm_required": error.details.get("confirm_required", False),
            "message": error.message,
        }
    form.form_errors.append(error.message)
    return None
