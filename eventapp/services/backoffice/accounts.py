"""Organiser accounts and API tokens."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.orm import attributes
from werkzeug.security import check_password_hash, generate_password_hash

from ...extensions import db
from ...models import ApiToken, Event, EventRole, Organiser
from ...models.organiser import EVENT_ROLES, ROLES
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
        errors.add("password", _password_too_short())
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
# One answer for every refused sign-in: a wrong password, an unknown address, a locked
# account and a right password refused because other attempts came in meanwhile. A second
# wording told an attacker which addresses are accounts (five wrong tries lock only those)
# and which guess sent with a wrong one was the password.
WRONG_CREDENTIALS = _l(
    "Wrong email address or password, or too many failed attempts. Try again in a few "
    "minutes, or ask an admin."
)


@dataclass(frozen=True)
class LoginAttempt:
    """One counted sign-in attempt: the account (None for an unknown email) and the
    attempt's number in the account's current streak of unproven attempts."""

    organiser: Organiser | None
    number: int


def begin_login(email: object, now: datetime) -> LoginAttempt:
    """Count a sign-in attempt before its password is checked; the caller commits at once.

    The count is one conditional UPDATE on the row, not a read then a write: ten attempts
    at once each add one (a read-then-write lets them all read 0 and write 1). The attempt
    that brings the streak to MAX_FAILED_LOGINS locks the account for LOCKOUT in the same
    statement; attempts after it, during the lock, still count but are refused without a
    password check. An expired lock starts a new streak. Committing the count before the
    slow password check is what makes the attempts of a burst see each other.
    """
    if not isinstance(email, str):
        return LoginAttempt(None, 0)
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))
    if organiser is None:
        return LoginAttempt(None, 0)
    table = Organiser.__table__
    expired = and_(table.c.locked_until.is_not(None), table.c.locked_until <= now)
    db.session.execute(
        update(table)
        .where(table.c.id == organiser.id)
        .values(
            failed_logins=case((expired, 1), else_=table.c.failed_logins + 1),
            locked_until=case(
                (expired, None),
                (table.c.failed_logins + 1 == MAX_FAILED_LOGINS, now + LOCKOUT),
                else_=table.c.locked_until,
            ),
        )
    )
    number = db.session.scalar(select(table.c.failed_logins).where(table.c.id == organiser.id))
    db.session.refresh(organiser)
    return LoginAttempt(organiser, number)


def finish_login(attempt: LoginAttempt, password: object, now: datetime) -> Organiser:
    """The attempt's organiser if the password is right, else InvalidCredentials.

    A right password signs in only if no other attempt was counted since this one (the
    streak still stands at this attempt's number): a correct password hidden in a burst of
    wrong ones does not get through, and a lock set meanwhile holds. Sequential sign-ins
    behave as always: four wrong, then the right one, signs in; five wrong lock.
    """
    organiser = attempt.organiser
    if organiser is None or not isinstance(password, str):
        check_password_hash(_DUMMY_HASH, password if isinstance(password, str) else "")
        raise InvalidCredentials(str(WRONG_CREDENTIALS))
    if attempt.number > MAX_FAILED_LOGINS:
        # Locked: refused without looking at the password, in the time a check takes.
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials(str(WRONG_CREDENTIALS))
    if not check_password_hash(organiser.password_hash, password) or not organiser.active:
        raise InvalidCredentials(str(WRONG_CREDENTIALS))
    table = Organiser.__table__
    cleared = db.session.execute(
        update(table)
        .where(table.c.id == organiser.id, table.c.failed_logins == attempt.number)
        .values(failed_logins=0, locked_until=None)
    )
    if cleared.rowcount != 1:
        raise InvalidCredentials(str(WRONG_CREDENTIALS))
    db.session.refresh(organiser)
    return organiser


def authenticate(email: object, password: object, now: datetime) -> Organiser:
    """begin_login then finish_login in one transaction (the CLI, scripts): the caller
    that serves concurrent sign-ins commits between the two, as the login view does."""
    return finish_login(begin_login(email, now), password, now)


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
            _password_too_short(),
            {"password": [_password_too_short()]},
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
    end_sessions_of(organiser)
    return organiser


def end_sessions_of(organiser: Organiser) -> None:
    """Make every cookie naming the organiser's current session version worthless.

    Sign-out calls this: a session cookie is signed, not stored, so the only way for the
    server to end it is to stop accepting the version it carries (auth.load_organiser).
    The organiser's other devices sign in again too; that is the price of a server-side
    end without a session table. One UPDATE adding one, so two sign-outs at once both count.
    """
    table = Organiser.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == organiser.id)
        .values(session_version=table.c.session_version + 1)
    )
    db.session.refresh(organiser)


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


# -- roles per event ------------------------------------------------------------------


def role_allows(role: str | None, roles: tuple[str, ...]) -> bool:
    """Whether an account with `role` at an event (None: no role there; admins are not
    asked, they act everywhere) may act in one of `roles`: an event's "organiser" role also
    covers what its check-in accounts do there."""
    return role is not None and (role in roles or role == "organiser")


def acts_at_event(organiser: Organiser, event_id: int, role: str) -> bool:
    """Whether the account acts as `role` at the event: an admin at every event, another
    account only where it holds that role (an organiser role covers check-in). For the
    API's exceptions that have no URL decorator to ask: drafts an organiser may read, and
    the organiser clients the bot defences leave alone."""
    if organiser.role == "admin":
        return True
    held = db.session.scalar(
        select(EventRole.role).where(
            EventRole.organiser_id == organiser.id, EventRole.event_id == event_id
        )
    )
    return role_allows(held, (role,))


def event_ids_of(organiser: Organiser) -> set[int] | None:
    """The events the account has a role at; None for an admin (every event)."""
    if organiser.role == "admin":
        return None
    return set(
        db.session.scalars(select(EventRole.event_id).where(EventRole.organiser_id == organiser.id))
    )


def grant_event_role(organiser: Organiser, event_id: int, role: str) -> EventRole:
    """Give the account `role` at the event (replacing the role it had there)."""
    if role not in EVENT_ROLES:
        raise InvalidInput(_("Unknown role."), {"role": [_("Unknown role.")]})
    existing = db.session.scalar(
        select(EventRole).where(
            EventRole.organiser_id == organiser.id, EventRole.event_id == event_id
        )
    )
    if existing is None:
        existing = EventRole(organiser_id=organiser.id, event_id=event_id, role=role)
        db.session.add(existing)
    existing.role = role
    db.session.flush()
    return existing


def revoke_event_role(organiser: Organiser, event_id: int) -> bool:
    """Take the account's role at the event away; True if it had one."""
    result = db.session.execute(
        delete(EventRole).where(
            EventRole.organiser_id == organiser.id, EventRole.event_id == event_id
        )
    )
    return result.rowcount > 0


def set_event_role(email: str, slug: str, role: str | None) -> str:
    """Give the account `role` at the event named by `slug`, or take it away (None); for
    the CLI. Returns what was done, for people."""
    organiser = find_organiser(email)
    event_id = db.session.scalar(select(Event.id).where(Event.slug == slug))
    if event_id is None:
        raise NotFound(_("No event with this slug."))
    if organiser.role == "admin":
        return f"{organiser.email} is an admin: every event, no role needed."
    if role is None:
        removed = revoke_event_role(organiser, event_id)
        return f"{organiser.email}: {'no role' if removed else 'had no role'} at {slug}."
    grant_event_role(organiser, event_id, role)
    return f"{organiser.email}: {role} at {slug}."


def _password_too_short() -> str:
    return ngettext(
        "At least %(num)d character.", "At least %(num)d characters.", PASSWORD_MIN_LENGTH
    )
