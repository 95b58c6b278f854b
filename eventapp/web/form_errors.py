"""Domain errors on a WTForms form: the one mapping every HTML form uses.

An InvalidInput names fields (services/validation.py FieldErrors): each reason goes beside
the form field of that name, and a reason for a name the form has no field for goes above
the form, so none is lost. Any other domain error is one sentence above the form.
"""

from ..services.errors import DomainError, InvalidInput


def show_on_form(form, error: DomainError) -> None:
    """Put `error` on `form` in plain words, next to the fields it concerns."""
    if not (isinstance(error, InvalidInput) and error.fields):
        form.form_errors.append(error.message)
        return
    for name, reasons in error.fields.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(reasons)
        else:
            field.errors = list(field.errors) + list(reasons)
