"""Domain errors, mapped once to form errors, JSON errors and CLI messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DomainError(Exception):
    """Base: `code` is the stable API error code, `message` a sentence for people."""

    message: str
    code: str = "error"
    http_status: int = 400
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message, **self.details}


class NotFound(DomainError):
    def __init__(self, message: str, **details):
        super().__init__(message, "not_found", 404, details)


class InvalidInput(DomainError):
    """Input that breaks a rule of a field; `fields` maps field name to reasons."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message, "invalid", 422, {"fields": fields or {}})

    @property
    def fields(self) -> dict[str, list[str]]:
        return self.details["fields"]


class RegistrationClosed(DomainError):
    def __init__(self, message: str):
        super().__init__(message, "registration_closed", 409)


class AlreadyRegistered(DomainError):
    def __init__(self, message: str):
        super().__init__(message, "already_registered", 409)


class SessionFull(DomainError):
    def __init__(self, message: str, sessions: list[dict]):
        super().__init__(message, "full", 409, {"sessions": sessions})


class ScheduleConflict(DomainError):
    def __init__(self, message: str, sessions: list[dict]):
        super().__init__(message, "schedule_conflict", 409, {"sessions": sessions})


class Conflict(DomainError):
    """An organiser change that clashes with the programme (room, speaker, capacity...)."""

    def __init__(self, message: str, conflicts: list[dict]):
        super().__init__(message, "conflict", 409, {"conflicts": conflicts})


class Forbidden(DomainError):
    def __init__(self, message: str):
        super().__init__(message, "forbidden", 403)


class OfferExpired(DomainError):
    """A waiting-list offer that was accepted too late, or is no longer open."""

    def __init__(self, message: str):
        super().__init__(message, "offer_expired", 409)


class AlreadyExists(InvalidInput):
    """A name that must be unique is taken (a slug, a room name): 409, with the field."""

    def __init__(self, message: str, fields: dict[str, list[str]]):
        super().__init__(message, fields)
        self.code = "already_exists"
        self.http_status = 409
