"""Organiser accounts and API tokens."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import attributes
from werkzeug.security import check_password_hash, generate_password_hash

from ...extensions import db
from ...models import ApiToken, Organiser
from ...models.organiser import ROLES
from .. import links
from ..errors import DomainError, InvalidInput, NotFound
from ..validation import FieldErrors, clean_email

PASSWORD_MIN_LENGTH = 12


class InvalidCredentials(DomainError):
    def __init__(self, message: str):
        super().__init__(message, "invalid_credentials", 401)


def create_organiser(
    email: str, password: str, *, role: str = "organiser", name: str = ""
) -> Organiser:
    errors = FieldErrors()
    email = clean_email(email, "email", errors).lower()
    if role not in ROLES:
        errors.add("role", _("Unknown role."))
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_LENGTH:
        errors.add("password", _("At least %(n)d characters.", n=PASSWORD_MIN_LENGTH))
    if not errors and db.session.scalar(select(Organiser.id).where(Organiser.email == email)):
        errors.add("email", _("An organiser with this email address already exists."))
    if errors:
        raise InvalidInput("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors)
    organiser = Organiser(
        email=email, name=name, role=role, password_hash=generate_password_hash(password)
    )
    db.session.add(organiser)
    db.session.flush()
    return organiser


def issue_api_token(email: str, *, name: str = "") -> str:
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))
    if organiser is None:
        raise NotFound(_("No organiser with this email address."))
    token = links.new_api_token()
    db.session.add(ApiToken(organiser=organiser, token_hash=links.hash_token(token), name=name))
    db.session.flush()
    return token


def find_api_token(token: str) -> ApiToken | None:
    """The live token for this bearer value: not revoked, and its organiser still active."""
    if not links.looks_like_token(token):
        return None
    api_token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == links.hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if api_token is None or not api_token.organiser.active:
        return None
    return api_token


# `last_used_at` is kept to this resolution. Stamping it on every request would make every
# API call a write, and a burst of registrations pushed through one integration's token
# would all queue for the same row; to say whether a token is still in use, five minutes
# are precise enough.
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def api_token_use_due(api_token: ApiToken, now: datetime) -> bool:
    """Whether the stored last use is missing or older than TOKEN_USE_RESOLUTION.

    Read from the row the token lookup loaded anyway, so a use within the resolution costs
    no statement at all.
    """
    last_used_at = api_token.last_used_at
    return last_used_at is None or last_used_at < now - TOKEN_USE_RESOLUTION


def record_api_token_use(executor, api_token: ApiToken, now: datetime) -> None:
    """Stamp the token's last use on `executor` (a Session or a Connection; the caller commits).

    One conditional UPDATE: of several concurrent requests that all found the stamp out of
    date, the first changes the row and the others match nothing, so the row is written
    once per TOKEN_USE_RESOLUTION however many requests arrive together.
    """
    table = ApiToken.__table__
    executor.execute(
        update(table)
        .where(
            table.c.id == api_token.id,
            or_(
                table.c.last_used_at.is_(None),
                table.c.last_used_at < now - TOKEN_USE_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
    # The loaded object agrees with the row without being marked changed, so a second
    # lookup in this request sees a recent stamp and the unit of work writes nothing more.
    attributes.set_committed_value(api_token, "last_used_at", now)


MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Checked when the email is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-only-for-timing")


def authenticate(email: object, password: object, now: datetime) -> Organiser:
    """The organiser with this email and password, or InvalidCredentials.

    After MAX_FAILED_LOGINS wrong passwords in a row the account is locked for LOCKOUT;
    the message does not say whether the email exists.
    """
    if not isinstance(email, str) or not isinstance(password, str):
        raise InvalidCredentials(_("Wrong email address or password."))
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))
    if organiser is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials(_("Wrong email address or password."))
    if organiser.locked_until is not None and organiser.locked_until > now:
        raise InvalidCredentials(
            _("Too many failed attempts. Try again in a few minutes, or ask an admin.")
        )
    if not check_password_hash(organiser.password_hash, password) or not organiser.active:
        organiser.failed_logins += 1
        if organiser.failed_logins >= MAX_FAILED_LOGINS:
            organiser.locked_until = now + LOCKOUT
            organiser.failed_logins = 0
        db.session.flush()
        raise InvalidCredentials(_("Wrong email address or password."))
    organiser.failed_logins = 0
    organiser.locked_until = None
    db.session.flush()
    return organiser


def find_organiser(email: str) -> Organiser:
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))
    if organiser is None:
        raise NotFound(_("No organiser with this email address."))
    return organiser


def set_password(email: str, password: str) -> Organiser:
    """A new password; every open session of the organiser ends (session_version bumps)."""
    organiser = find_organiser(email)
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            _("At least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
            {"password": [_("At least %(n)d characters.", n=PASSWORD_MIN_LENGTH)]},
        )
    organiser.password_hash = generate_password_hash(password)
    organiser.session_version += 1
    organiser.failed_logins = 0
    organiser.locked_until = None
    db.session.flush()
    return organiser


def end_all_sessions(email: str) -> Organiser:
    """Sign the organiser out on every device (a lost laptop, a shared computer)."""
    organiser = find_organiser(email)
    organiser.session_version += 1
    db.session.flush()
    return organiser


def list_api_tokens(email: str) -> list[ApiToken]:
    organiser = find_organiser(email)
    return sorted(organiser.tokens, key=lambda t: t.id)


def revoke_api_tokens(email: str, now: datetime, *, token_id: int | None = None) -> int:
    """Revoke one token (by id) or all live tokens of the organiser; returns how many."""
    revoked = 0
    for api_token in list_api_tokens(email):
        if api_token.revoked_at is None and token_id in (None, api_token.id):
            api_token.revoked_at = now
            revoked += 1
    db.session.flush()
    return revoked
