"""Field rules shared by every entry point, so the form, the API and the CLI agree."""

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

NAME_MAX = 200
EMAIL_MAX = 254
ORGANISATION_MAX = 200
JOB_ROLE_MAX = 200
TITLE_MAX = 300
DESCRIPTION_MAX = 10_000


class FieldErrors(dict):
    """field -> list of reasons, collected so all problems are reported at once."""

    def add(self, field: str, reason: str) -> None:
        self.setdefault(field, []).append(str(reason))


def too_long(limit: int) -> str:
    """Why a text is refused as too long, in the request's language (and its plural)."""
    return ngettext("At most %(num)d character.", "At most %(num)d characters.", limit)


def clean_text(value, field: str, errors: FieldErrors, *, max_length: int, required: bool) -> str:
    """Trim, normalise to NFC, refuse control characters and overlong text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Must be text."))
        return ""
    value = unicodedata.normalize("NFC", value.strip())
    if required and not value:
        errors.add(field, _("This field is required."))
    elif len(value) > max_length:
        errors.add(field, too_long(max_length))
    elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):  # control, surrogate
        errors.add(field, _("Contains characters that are not allowed."))
    return value


def clean_email(value, field: str, errors: FieldErrors) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.add(field, _("This field is required."))
        return ""
    value = value.strip()
    if len(value) > EMAIL_MAX:
        errors.add(field, too_long(EMAIL_MAX))
        return value
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        errors.add(field, _("This is not a valid email address."))
        return value
    if not checked.local_part.isascii() and not current_app.config.get("MAIL_SMTPUTF8"):
        # Deliverable only over SMTPUTF8, which the configured mail server does not offer
        # (MAIL_SMTPUTF8): refused now rather than accepted and never delivered.
        errors.add(
            field,
            _(
                "Our mail server cannot deliver to addresses with accented or other "
                "non-ASCII letters before the @. Please use another address."
            ),
        )
    return checked.normalized


def normalize_email(email: str) -> str:
    return email.strip().lower()


# The largest id an INTEGER column holds; a larger one must not reach a query (a 500).
ID_MAX = 2**31 - 1


def clean_id_list(value, field: str, errors: FieldErrors, *, max_items: int = 100) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        errors.add(field, _("Must be a list of session numbers."))
        return []
    ids = []
    for item in value:
        if isinstance(item, float) and item.is_integer():
            item = int(item)  # JSON's 5.0 is the integer 5
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= ID_MAX:
            errors.add(field, _("Must be a list of session numbers."))
            return []
        if item not in ids:
            ids.append(item)
    return ids


# Past any real page of any list, and small enough that page * per_page stays far inside
# the 64-bit OFFSET a database takes.
PAGE_MAX = 1_000_000
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def whole_number(raw: object) -> int | None:
    """The integer `raw` spells in ASCII digits (an optional minus, at most 18 digits), else None.

    `str.isdigit()` says yes to "²" and "①", which int() refuses (a 500 where it was
    trusted), and int() itself takes Arabic-Indic digits, underscores and spaces: text from
    outside goes through this one door instead.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def database_id(raw: object) -> int | None:
    """A row id from text (a query parameter, a form field), or None if it cannot be one."""
    number = whole_number(raw)
    return number if number is not None and 0 < number <= ID_MAX else None


def page_number(raw: object) -> int:
    """A page number from a query parameter: 1 unless it is a whole number, at most PAGE_MAX."""
    number = whole_number(raw)
    if number is None or number < 1:
        return 1
    return min(number, PAGE_MAX)
