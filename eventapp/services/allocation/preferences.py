"""Attendees' ranked workshop choices: the rounds, the rules of a ranking, demand.

In an event whose `allocation_mode` is "preferences", registration confirms the plenary
sessions at once and stores the attendee's ranked workshop choices per round as Preference
rows (no seat is taken). This module owns those rows: which rounds there are, what a valid
ranking is (at most MAX_CHOICES distinct workshops of the round), who may change it until
publication, and how much each workshop is wanted. runs.py turns them into an allocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, delete, func, select

from ...extensions import db
from ...models import Attendee, Event, EventSession, Organiser, Preference, Registration
from .. import audit
from ..errors import DomainError, InvalidInput, RegistrationClosed
from ..mail.outbox import enqueue
from ..programme.conflicts import RANKINGS_TOUCHED, ConflictItem
from ..programme.reading import Round, ensure_open, session_summary
from ..registration.capacity import lock_attendee
from ..registration.waitlist import SEAT_HOLDING
from ..validation import FieldErrors

# How many workshops an attendee ranks per round (first, second, third choice).
MAX_CHOICES = 3


class AllocationError(DomainError):
    """The allocation cannot run or be published now (409, with a stable code)."""

    def __init__(self, message: str, code: str = "allocation", **details):
        super().__init__(message, code, 409, details)


# --------------------------------------------------------------------------------------------
# The mode and the rounds
# --------------------------------------------------------------------------------------------


def collects_preferences(event: Event) -> bool:
    """True while the event takes ranked workshop choices instead of seats."""
    return event.allocation_mode == "preferences" and event.allocation_published_at is None


def ensure_still_open(event: Event) -> None:
    """The allocation's inputs (runs, priority groups) may change only while the event
    collects preferences and before its allocation is published."""
    if event.allocation_mode != "preferences":
        raise AllocationError(
            _("This event allocates workshops first come, first served."), "not_preference_mode"
        )
    if event.allocation_published_at is not None:
        raise AllocationError(
            _("The allocation of this event has already been published."), "already_published"
        )


def rounds_of(event: Event) -> list[Round]:
    """The event's workshop rounds, as the organiser laid them out.

    Workshops are taken in order of start; one joins the current round when it starts before
    the round's earliest end (it runs alongside the round's shortest session), else it opens
    the next round. So a double session that starts in round 1 and runs through round 2 stays
    in round 1 and does not merge the two rounds: the allocation places whoever gets it in
    both (solver: a workshop "covers" the rounds it runs through).
    """
    sessions = db.session.scalars(
        select(EventSession)
        .where(
            EventSession.event_id == event.id,
            EventSession.kind == "workshop",
            EventSession.status == "scheduled",
        )
        .order_by(EventSession.starts_at, EventSession.id)
    )
    rounds: list[Round] = []
    first_end = None
    for session in sessions:
        if rounds and session.starts_at < first_end:
            rounds[-1].sessions.append(session)
            rounds[-1].ends_at = max(rounds[-1].ends_at, session.ends_at)
            first_end = min(first_end, session.ends_at)
        else:
            rounds.append(Round(session.starts_at, session.ends_at, [session]))
            first_end = session.ends_at
    return rounds


def workshop_ids(event: Event) -> set[int]:
    return {s.id for r in rounds_of(event) for s in r.sessions}


# --------------------------------------------------------------------------------------------
# Attendees' preferences
# --------------------------------------------------------------------------------------------


def clean_preferences(
    event: Event,
    ranked: object,
    errors: FieldErrors | None = None,
    held: Iterable[EventSession] = (),
) -> dict:
    """Validate `{round_key: [session ids, best first]}`; the cleaned dict, or InvalidInput.

    Each list holds at most MAX_CHOICES distinct workshops of that round, none overlapping a
    session in `held` (seats the attendee already holds: ranking a clash would be a promise
    the allocation cannot keep); an empty list (or a missing round) means "none is fine".
    """
    own_errors = errors is None
    errors = errors if errors is not None else FieldErrors()
    if ranked is None:
        ranked = {}
    if not isinstance(ranked, dict):
        errors.add("preferences", _("Give your choices per round."))
        ranked = {}
    all_rounds = rounds_of(event)
    rounds = {r.key: {s.id for s in r.sessions} for r in all_rounds}
    sessions = {s.id: s for r in all_rounds for s in r.sessions}
    held = list(held)
    cleaned: dict[str, list[int]] = {}
    for key, ids in ranked.items():
        if key not in rounds:
            errors.add("preferences", _("Unknown round: %(round)s.", round=str(key)))
            continue
        if not isinstance(ids, list) or any(
            isinstance(i, bool) or not isinstance(i, int) for i in ids
        ):
            errors.add("preferences", _("Choices must be a list of workshop ids."))
            continue
        if len(set(ids)) != len(ids):
            errors.add("preferences", _("Choose a workshop only once per round."))
            continue
        if len(ids) > MAX_CHOICES:
            errors.add(
                "preferences",
                ngettext(
                    "Rank at most %(num)d workshop per round.",
                    "Rank at most %(num)d workshops per round.",
                    MAX_CHOICES,
                ),
            )
            continue
        unknown = [i for i in ids if i not in rounds[key]]
        if unknown:
            errors.add(
                "preferences",
                _("Not a workshop of this round: %(ids)s.", ids=", ".join(map(str, unknown))),
            )
            continue
        clashes = [(sessions[i], h) for i in ids for h in held if sessions[i].overlaps(h)]
        for workshop, seat in clashes:
            errors.add(
                "preferences",
                _(
                    "“%(workshop)s” overlaps “%(held)s”, where you already have a seat: "
                    "rank another workshop, or none.",
                    workshop=workshop.title,
                    held=seat.title,
                ),
            )
        if ids and not clashes:
            cleaned[key] = ids
    if own_errors and errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return cleaned


def ensure_no_workshops(event: Event, sessions: list[EventSession]) -> None:
    """While preferences are collected, workshops are ranked, not booked."""
    workshops = [s for s in sessions if s.kind == "workshop"]
    if workshops:
        message = _(
            "Workshops of this event are allocated from your ranked preferences: "
            "rank them instead of choosing them."
        )
        raise InvalidInput(message, {"session_ids": [message]})


def held_sessions(attendee: Attendee) -> list[EventSession]:
    """Sessions the attendee holds a seat in (confirmed or offered), plenaries included."""
    return list(
        db.session.scalars(
            select(EventSession)
            .join(Registration, Registration.session_id == EventSession.id)
            .where(Registration.attendee_id == attendee.id, Registration.status.in_(SEAT_HOLDING))
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )


def record_preferences(attendee: Attendee, ranked: object) -> dict[str, list[int]]:
    """Replace the attendee's ranked choices with `ranked` ({round_key: [ids, best first]}).

    Checked against the seats they hold now, so at registration the plenaries just chosen
    count too (an overlapping ranking is refused and the caller rolls the registration back).
    """
    cleaned = clean_preferences(attendee.event, ranked, held=held_sessions(attendee))
    db.session.execute(delete(Preference).where(Preference.attendee_id == attendee.id))
    for ids in cleaned.values():
        for rank, session_id in enumerate(ids, start=1):
            db.session.add(Preference(attendee_id=attendee.id, session_id=session_id, rank=rank))
    db.session.flush()
    return cleaned


def preferences_of(attendee: Attendee) -> dict[str, list[int]]:
    """The attendee's ranked choices per current round key, best first."""
    rows = db.session.execute(
        select(Preference.session_id)
        .where(Preference.attendee_id == attendee.id)
        .order_by(Preference.rank, Preference.id)
    ).scalars()
    ranked = list(rows)
    result: dict[str, list[int]] = {}
    for workshop_round in rounds_of(attendee.event):
        ids = {s.id for s in workshop_round.sessions}
        chosen = [i for i in ranked if i in ids]
        if chosen:
            result[workshop_round.key] = chosen
    return result


def change_preferences(
    attendee: Attendee, ranked: object, now: datetime, actor: Organiser | None = None
) -> dict[str, list[int]]:
    """The attendee (or an organiser for them) changes their ranking, until publication."""
    event = attendee.event
    if not collects_preferences(event):
        raise AllocationError(
            _("Workshops are no longer chosen by preference for this event."), "not_collecting"
        )
    if attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    if actor is None:
        ensure_open(event, now)
    lock_attendee(attendee)
    return record_preferences(attendee, ranked)


# --------------------------------------------------------------------------------------------
# Demand, for the dashboard and the allocation page
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopDemand:
    session: EventSession
    round_key: str
    first_choice: int
    total: int

    @property
    def capacity(self) -> int:
        return self.session.capacity

    @property
    def oversubscribed(self) -> bool:
        return self.first_choice > self.session.seats_left


def demand(event: Event) -> list[WorkshopDemand]:
    """Per workshop: how many ranked it first, how many ranked it at all (active attendees)."""
    counts = {
        session_id: (first, total)
        for session_id, first, total in db.session.execute(
            select(
                Preference.session_id,
                func.sum(case((Preference.rank == 1, 1), else_=0)),
                func.count(),
            )
            .join(Attendee, Attendee.id == Preference.attendee_id)
            .where(Attendee.event_id == event.id, Attendee.status == "active")
            .group_by(Preference.session_id)
        )
    }
    return [
        WorkshopDemand(s, r.key, int(counts.get(s.id, (0, 0))[0] or 0), counts.get(s.id, (0, 0))[1])
        for r in rounds_of(event)
        for s in r.sessions
    ]


# --------------------------------------------------------------------------------------------
# Programme edits that touch rankings (finding 4 of allocation round two)
# --------------------------------------------------------------------------------------------


def rankers_of(session: EventSession) -> list[Attendee]:
    """Active attendees who ranked this workshop, while the event collects preferences."""
    if session.kind != "workshop" or not collects_preferences(session.event):
        return []
    return list(
        db.session.scalars(
            select(Attendee)
            .join(Preference, Preference.attendee_id == Attendee.id)
            .where(Preference.session_id == session.id, Attendee.status == "active")
            .order_by(Attendee.id)
            .distinct()
        )
    )


def ranking_change(session: EventSession, values: dict) -> str | None:
    """How a planned edit of `session` touches the rankings that name it: "moved" (new
    times), "resized" (new capacity), "cancelled", or None when it leaves them as they are."""
    if values.get("status") == "cancelled" and session.status == "scheduled":
        return "cancelled"
    if any(k in values and values[k] != getattr(session, k) for k in ("starts_at", "ends_at")):
        return "moved"
    if "capacity" in values and values["capacity"] != session.capacity:
        return "resized"
    return None


def rankings_warning(session: EventSession, change: str | None) -> list[ConflictItem]:
    """The warning an organiser confirms before an edit that touches attendees' rankings: a
    soft conflict for programme/schedule.py, so the form and the API show the count first."""
    count = len(rankers_of(session)) if change else 0
    if not count:
        return []
    message = ngettext(
        "%(num)d attendee ranked “%(title)s”: they will be emailed to review their ranking.",
        "%(num)d attendees ranked “%(title)s”: they will be emailed to review their ranking.",
        count,
        title=session.title,
    )
    return [
        ConflictItem(
            RANKINGS_TOUCHED,
            message,
            [session_summary(session)],
            {"rankings": count, "change": change},
        )
    ]


def tell_rankers(
    session: EventSession, change: str, now: datetime, actor: Organiser | None = None
) -> int:
    """After a saved edit that touches rankings: ask everyone who ranked the workshop to
    review their choices (an email through the outbox), and write it in the audit log. The
    rankings themselves are never rewritten; each attendee decides."""
    attendees = rankers_of(session)
    for attendee in attendees:
        enqueue("ranking_review", attendee, {"session_ids": [session.id], "change": change})
    if attendees:
        audit.record(
            actor,
            "preferences.touched",
            session,
            after={"change": change, "attendees": len(attendees)},
            event=session.event,
            now=now,
        )
    return len(attendees)
