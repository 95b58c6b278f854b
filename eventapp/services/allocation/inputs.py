"""The solver's inputs from the database, as stored with a run, and what changed since.

build_inputs() reads an event as the solver sees it now (seats left per workshop, everyone's
rankings, the seats they already hold, the priority groups); a dry run stores exactly that,
stored_inputs() reads it back, and input_changes() says in words what differs, so publication
never writes a result computed from a programme or rankings that are no longer true.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ...extensions import db
from ...models import AllocationRun, Attendee, Event, EventSession, Preference, Registration
from ..registration.waitlist import SEAT_HOLDING
from .groups import priorities_of
from .preferences import rounds_of
from .priority import Priority
from .problem import HeldSeat, Ranking, Workshop


@dataclass
class SolverInputs:
    workshops: list[Workshop]
    rankings: list[Ranking]
    arrival_order: list[int]  # attendees in registration order, for the FCFS baseline
    held: list[HeldSeat]  # seats attendees with a ranking already hold (plenaries too)
    held_known: bool = True  # False for runs stored before held seats were
    priority: list[Priority] = field(default_factory=list)  # the organiser's priority groups


def build_inputs(event: Event) -> SolverInputs:
    """The solver's view of the event now: seats left per workshop and everyone's rankings.

    A round in which an attendee already holds a workshop (an organiser seated them) is left
    out for them, so nobody gets two workshops in one round; every seat they hold (a plenary
    too) goes to the solver, which never gives them anything overlapping it.
    """
    rounds = rounds_of(event)
    round_of = {s.id: r.key for r in rounds for s in r.sessions}
    workshops = [
        Workshop(s.id, r.key, s.seats_left, s.starts_at, s.ends_at)
        for r in rounds
        for s in r.sessions
    ]
    seats = db.session.execute(
        select(
            Registration.attendee_id,
            Registration.session_id,
            EventSession.starts_at,
            EventSession.ends_at,
        )
        .join(Attendee, Attendee.id == Registration.attendee_id)
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(Attendee.event_id == event.id, Registration.status.in_(SEAT_HOLDING))
        .order_by(Registration.attendee_id, Registration.session_id)
    ).all()
    held_rounds = {(a, round_of[s]) for a, s, _start, _end in seats if s in round_of}
    rows = db.session.execute(
        select(Preference.attendee_id, Preference.session_id)
        .join(Attendee, Attendee.id == Preference.attendee_id)
        .where(Attendee.event_id == event.id, Attendee.status == "active")
        .order_by(Preference.attendee_id, Preference.rank, Preference.id)
    ).all()
    choices: dict[tuple[int, str], list[int]] = defaultdict(list)
    for attendee_id, session_id in rows:
        key = round_of.get(session_id)
        if key is not None and (attendee_id, key) not in held_rounds:
            choices[(attendee_id, key)].append(session_id)
    rankings = [Ranking(a, key, tuple(ids)) for (a, key), ids in sorted(choices.items())]
    ranked_attendees = {a for a, _key in choices}
    held = [HeldSeat(a, s, start, end) for a, s, start, end in seats if a in ranked_attendees]
    arrival_order = [
        a
        for a in db.session.scalars(
            select(Attendee.id)
            .where(Attendee.event_id == event.id)
            .order_by(Attendee.created_at, Attendee.id)
        )
        if a in ranked_attendees
    ]
    priority = priorities_of(event, {w.id for w in workshops})
    return SolverInputs(workshops, rankings, arrival_order, held, priority=priority)


def stored_inputs(run: AllocationRun) -> SolverInputs:
    """The solver's inputs as the run stored them (runs from before held seats have none)."""
    workshops = [Workshop.from_dict(w) for w in run.inputs["workshops"]]
    rankings = [
        Ranking(r["attendee_id"], r["round_key"], tuple(r["choices"]))
        for r in run.inputs["rankings"]
    ]
    held = [HeldSeat.from_dict(h) for h in run.inputs.get("held", [])]
    arrival_order = list(run.inputs.get("arrival_order", []))
    priority = [Priority.from_dict(g) for g in run.inputs.get("priority", [])]
    return SolverInputs(workshops, rankings, arrival_order, held, "held" in run.inputs, priority)


def input_changes(stored: SolverInputs, current: SolverInputs, titles: dict[int, str]) -> list:
    """What differs between a run's inputs and the event now, one sentence per change."""
    changes: list[str] = []
    before = {w.id: w for w in stored.workshops}
    after = {w.id: w for w in current.workshops}

    def title(wid: int) -> str:
        return titles.get(wid, f"#{wid}")

    for wid in sorted(before.keys() - after.keys()):
        changes.append(_("%(title)s is no longer a workshop to allocate", title=title(wid)))
    for wid in sorted(after.keys() - before.keys()):
        changes.append(_("%(title)s was added", title=title(wid)))
    for wid in sorted(before.keys() & after.keys()):
        old, new = before[wid], after[wid]
        if old.capacity != new.capacity:
            changes.append(
                _(
                    "%(title)s: %(old)d → %(new)d seats",
                    title=title(wid),
                    old=old.capacity,
                    new=new.capacity,
                )
            )
        if (old.starts_at, old.ends_at, old.round_key) != (
            new.starts_at,
            new.ends_at,
            new.round_key,
        ):
            changes.append(_("%(title)s moved", title=title(wid)))
    ranked_before = {(r.attendee_id, r.round_key): r.choices for r in stored.rankings}
    ranked_after = {(r.attendee_id, r.round_key): r.choices for r in current.rankings}
    moved = sum(
        ranked_before.get(k) != ranked_after.get(k) for k in ranked_before.keys() | ranked_after
    )
    if moved:
        changes.append(ngettext("%(num)d ranking changed", "%(num)d rankings changed", moved))
    held_before = {(h.attendee_id, h.session_id) for h in stored.held}
    held_after = {(h.attendee_id, h.session_id) for h in current.held}
    if stored.held_known and held_before != held_after:
        n = len(held_before ^ held_after)
        changes.append(ngettext("%(num)d seat held changed", "%(num)d seats held changed", n))
    groups_before = {(g.workshop_id, g.members) for g in stored.priority}
    groups_after = {(g.workshop_id, g.members) for g in current.priority}
    if groups_before != groups_after:
        changes.append(_("the priority groups changed"))
    return changes
