"""Organiser accounts and API tokens."""

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import ApiToken, Organiser
from ..models.organiser import ROLES
from . import tokens
from .errors import InvalidInput, NotFound
from .validation import FieldErrors, clean_email

PASSWORD_MIN_LENGTH = 12


def create_organiser(email: str, password: str, *, role: str = "organiser", name: str = "") -> Organiser:
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
    token = tokens.new_api_token()
    db.session.add(ApiToken(organiser=organiser, token_hash=tokens.hash_token(token), name=name))
    db.session.flush()
    return token


def organiser_for_api_token(token: str) -> Organiser | None:
    if not tokens.looks_like_token(token):
        return None
    api_token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == tokens.hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if api_token is None or not api_token.organiser.active:
        return None
    return api_token.organiser
