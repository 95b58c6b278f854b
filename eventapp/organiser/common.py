"""The organiser's programme forms: a domain error on the form, or a conflict report."""

from ..extensions import db
from ..services.errors import Conflict, DomainError
from ..web.form_errors import show_on_form


def show_error(form, error: DomainError) -> dict | None:
    """Put a domain error on the form; return the conflict report for the page, if any.

    The report: {"conflicts": [...], "confirm_required": bool}. Field errors go beside
    their fields, anything else above the form.
    """
    db.session.rollback()
    if isinstance(error, Conflict):
        return {
            "conflicts": error.details.get("conflicts", []),
            "confirm_required": error.details.get("confirm_required", False),
            "message": error.message,
        }
    show_on_form(form, error)
    return None
