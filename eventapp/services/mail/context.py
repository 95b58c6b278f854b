"""What a mail template gets (MailContext) and the registry of kinds (`mail_kind`).

Other parts of the app add kinds with `mail_kind()`:

    mail_kind("reminder", subject=lambda ctx: _("Tomorrow: %(event)s", event=ctx.event.name))

and the two templates `templates/mail/<kind>.txt` and `.html`. A kind without a registration
still renders from its templates, with `payload["subject"]` (or the event's name) as the
subject and no calendar data. kinds.py registers every kind the app sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ...models import Attendee, EventSession, OutboxMessage, Registration
from ...models import Event as EventModel
from .transport import CalendarPart


class RecipientGone(Exception):
    """The attendee was deleted: there is nobody to send this to, now or later."""


@dataclass(frozen=True)
class ErasedAddressee:
    """Who an erasure's cancellations go to, once the attendee row no longer says: the
    name and address the outbox row holds until it is sent (privacy.erase_attendee)."""

    name: str
    email: str
    checkin_code: str = ""


@dataclass
class PlannedPart:
    """A calendar object an email may carry, built only when the email does carry it (a
    confirmation of several sessions carries one schedule file instead of its invitations,
    so building those would be wasted)."""

    method: str  # REQUEST or CANCEL
    session_id: int
    build: Callable[[], bytes]

    @property
    def filename(self) -> str:
        return "cancel.ics" if self.method == "CANCEL" else "invite.ics"

    def part(self) -> CalendarPart:
        return CalendarPart(self.filename, self.method, self.build(), self.session_id)


@dataclass
class MailContext:
    """What every mail template gets (as variables of the same names)."""

    message: OutboxMessage
    attendee: Attendee | ErasedAddressee
    event: EventModel
    now: datetime
    sessions: list[EventSession]  # the payload's session_ids, in programme order
    registrations: list[Registration]  # the attendee's current ones (not cancelled)
    positions: dict[int, int | None] = field(default_factory=dict)  # registration id -> place
    manage_url: str = ""
    feed_url: str = ""
    webcal_url: str = ""
    programme_url: str = ""
    qr_cid: str | None = None
    by_session: dict[int, Registration] = field(default_factory=dict)  # cancelled ones too
    # The id of the attendee's first message of this kind (read for the whole batch).
    first_of_kind: int | None = None

    @property
    def payload(self) -> dict:
        return self.message.payload or {}

    def registration_for(self, session: EventSession) -> Registration | None:
        return self.by_session.get(session.id)

    def template_vars(self) -> dict:
        names = (
            "message",
            "attendee",
            "event",
            "now",
            "sessions",
            "registrations",
            "positions",
            "manage_url",
            "feed_url",
            "webcal_url",
            "programme_url",
            "qr_cid",
        )
        values = {name: getattr(self, name) for name in names}
        values.update(
            payload=self.payload,
            registration_for=self.registration_for,
            previous=self.previous,
            is_update=self.is_update,
        )
        return values

    def is_update(self) -> bool:
        """A confirmation after the first one: sessions added to an existing registration."""
        return self.first_of_kind is not None and self.first_of_kind < self.message.id

    @property
    def previous(self) -> dict | None:
        """Where and when a moved session was before (payload "previous"), parsed."""
        before = self.payload.get("previous")
        if not isinstance(before, dict):
            return None
        try:
            return {
                "starts_at": datetime.fromisoformat(before["starts_at"]),
                "ends_at": datetime.fromisoformat(before["ends_at"]),
                "room": before.get("room") or "",
            }
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class MailKind:
    subject: Callable[[MailContext], str]
    calendar: Callable[[MailContext], list[PlannedPart]] | None = None
    qr_code: bool = False
    # Several invitations become one PUBLISH file to add (a confirmation), rather than one
    # iTIP email per session (a change, which must apply by itself): docs/CALENDAR.md.
    schedule_several: bool = False


KINDS: dict[str, MailKind] = {}


def mail_kind(
    kind: str,
    *,
    subject: Callable[[MailContext], str],
    calendar: Callable[[MailContext], list[PlannedPart]] | None = None,
    qr_code: bool = False,
    schedule_several: bool = False,
) -> None:
    """Register how a kind of message is titled and what it carries besides its templates."""
    KINDS[kind] = MailKind(subject, calendar, qr_code, schedule_several)
