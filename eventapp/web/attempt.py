"""One service call per request, committed, or rolled back with the reason shown."""

from collections.abc import Callable
from typing import Any

from flask import flash

from ..extensions import db
from ..services.errors import DomainError
from .form_errors import show_on_form


def attempt(action: Callable[[], Any], *, form=None) -> tuple[bool, Any]:
    """Call `action` (a service call that flushes) and commit: `(True, its result)`.

    On a DomainError roll back and say why, beside the form's fields when a `form` is
    given (web/form_errors.py), else as a flashed error above the next page: `(False, None)`.
    """
    try:
        result = action()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if form is None:
            flash(error.message, "error")
        else:
            show_on_form(form, error)
        return False, None
    return True, result
