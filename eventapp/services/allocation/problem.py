"""The allocation's inputs and hard rules: workshops, rankings, their canonical form, the check.

:class:`Workshop` and :class:`Ranking` are what callers build; :func:`prepare` validates them
and puts them in one canonical order (so the same inputs in any order give the same result);
:func:`verify` re-checks every hard rule on a result (a ranked workshop only, never above
capacity, never two overlapping sessions, every priority group's seats), whichever method
produced it.

Validation: ranked ids that are not workshops of that ranking's round are ignored, and so are
repeated ids (the first occurrence keeps its rank). Structurally invalid input (negative
capacity, a session that ends before it starts, duplicate workshop ids, two rankings for the
same attendee and round, mixed naive/aware datetimes, a bad seed or arrival order) raises
``ValueError`` with a message that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from .priority import Priority, candidates, seats_owed

METHOD_OPTIMAL = "optimal"
METHOD_FCFS = "first_come_first_served"
METHOD_RSD = "random_serial_dictatorship"
METHODS = (METHOD_OPTIMAL, METHOD_FCFS, METHOD_RSD)


@dataclass(frozen=True, slots=True)
class Workshop:
    """One session that can be allocated.

    ``round_key`` names the round whose ranking lists it; ``starts_at``/``ends_at`` are what
    overlap checks use, so a workshop running into the next round blocks that round's sessions
    it overlaps for whoever gets it.
    """

    id: int
    round_key: str
    capacity: int
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        # Validate at construction so bad data fails where it is built, not deep in a solve.
        if isinstance(self.id, bool) or not isinstance(self.id, int):
            raise ValueError(f"Workshop id must be an int, got {self.id!r}")
        if not isinstance(self.round_key, str):
            raise ValueError(f"Workshop {self.id}: round_key must be a str")
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int):
            raise ValueError(f"Workshop {self.id}: capacity must be an int, got {self.capacity!r}")
        if self.capacity < 0:
            raise ValueError(f"Workshop {self.id}: capacity must be >= 0, got {self.capacity}")
        if not isinstance(self.starts_at, datetime) or not isinstance(self.ends_at, datetime):
            raise ValueError(f"Workshop {self.id}: starts_at and ends_at must be datetimes")
        if (self.starts_at.tzinfo is None) != (self.ends_at.tzinfo is None):
            raise ValueError(f"Workshop {self.id}: starts_at and ends_at mix naive and aware")
        if self.ends_at <= self.starts_at:
            raise ValueError(f"Workshop {self.id}: ends_at must be after starts_at")

    def overlaps(self, other: Workshop) -> bool:
        """True if the two sessions share any instant (touching end/start does not count)."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for storing the solver's inputs next to its result for audit."""
        return {
            "id": self.id,
            "round_key": self.round_key,
            "capacity": self.capacity,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workshop:
        """As to_dict wrote it (a run's stored inputs)."""
        return cls(
            data["id"],
            data["round_key"],
            data["capacity"],
            datetime.fromisoformat(data["starts_at"]),
            datetime.fromisoformat(data["ends_at"]),
        )


@dataclass(frozen=True, slots=True)
class Ranking:
    """An attendee's ranked workshop ids for one round, best first.

    An empty ``choices`` means the attendee is happy with nothing in that round; such a pair
    appears in the result as ``None`` and never counts as "left with nothing".
    """

    attendee_id: int
    round_key: str
    choices: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.attendee_id, bool) or not isinstance(self.attendee_id, int):
            raise ValueError(f"Ranking attendee_id must be an int, got {self.attendee_id!r}")
        if not isinstance(self.round_key, str):
            raise ValueError(f"Ranking of attendee {self.attendee_id}: round_key must be a str")
        choices = tuple(self.choices)  # accept lists from callers, store immutably
        for choice in choices:
            if isinstance(choice, bool) or not isinstance(choice, int):
                raise ValueError(
                    f"Ranking of attendee {self.attendee_id}: choices must be workshop ids "
                    f"(ints), got {choice!r}"
                )
        object.__setattr__(self, "choices", choices)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for audit."""
        return {
            "attendee_id": self.attendee_id,
            "round_key": self.round_key,
            "choices": list(self.choices),
        }


# --------------------------------------------------------------------------------------------
# Canonical problem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldSeat:
    """A seat the attendee already holds (a plenary, a workshop an organiser gave them).

    Nothing that overlaps it in time may be given to them: such a ranked workshop is treated
    like an invalid choice (ignored, the ranks close up), by the optimum and the baselines.
    """

    attendee_id: int
    session_id: int
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        for name in ("attendee_id", "session_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"HeldSeat {name} must be an int, got {value!r}")
        if not isinstance(self.starts_at, datetime) or not isinstance(self.ends_at, datetime):
            raise ValueError(f"HeldSeat {self.session_id}: starts_at and ends_at must be datetimes")
        if self.ends_at <= self.starts_at:
            raise ValueError(f"HeldSeat {self.session_id}: ends_at must be after starts_at")

    def overlaps(self, workshop: Workshop) -> bool:
        return self.starts_at < workshop.ends_at and workshop.starts_at < self.ends_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for audit (a replay needs the held seats as much as the rankings)."""
        return {
            "attendee_id": self.attendee_id,
            "session_id": self.session_id,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeldSeat:
        return cls(
            int(data["attendee_id"]),
            int(data["session_id"]),
            datetime.fromisoformat(data["starts_at"]),
            datetime.fromisoformat(data["ends_at"]),
        )


@dataclass(frozen=True)
class Problem:
    """Validated, canonically ordered input shared by the optimum and the baselines."""

    workshops: dict[int, Workshop]
    round_order: tuple[str, ...]  # chronological, so greedy passes go through the day in order
    pairs: tuple[tuple[int, str], ...]  # sorted (attendee_id, round_key) with a Ranking
    choices: tuple[tuple[int, ...], ...]  # valid, de-duplicated choices per pair
    max_rank: int
    conflicts: dict[int, frozenset[int]]  # workshop -> overlapping workshops of other rounds
    pairs_by_attendee: dict[int, tuple[int, ...]]  # pair indices in chronological round order
    held: dict[int, tuple[HeldSeat, ...]]  # seats each attendee already holds
    # workshop -> other rounds it fills for whoever gets it (it overlaps all their workshops)
    covers: dict[int, frozenset[str]] = field(default_factory=dict)
    # workshop -> pair indices with priority in it (priority.py); pair index -> that workshop
    priority: dict[int, tuple[int, ...]] = field(default_factory=dict)
    priority_of: dict[int, int] = field(default_factory=dict)

    def priority_seats(self, wid: int) -> int:
        """How many of the workshop's priority candidates must get it."""
        return seats_owed(self.workshops[wid].capacity, len(self.priority.get(wid, ())))


def prepare(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    held: Iterable[HeldSeat] = (),
    priority: Iterable[Priority] = (),
) -> Problem:
    workshops = list(workshops)
    rankings = list(rankings)
    held_by: dict[int, list[HeldSeat]] = {}
    for seat in held:
        if not isinstance(seat, HeldSeat):
            raise ValueError(f"expected HeldSeat, got {type(seat).__name__}")
        held_by.setdefault(seat.attendee_id, []).append(seat)
    by_id: dict[int, Workshop] = {}
    for w in workshops:
        if not isinstance(w, Workshop):
            raise ValueError(f"expected Workshop, got {type(w).__name__}")
        if w.id in by_id:
            raise ValueError(f"duplicate workshop id {w.id}")
        by_id[w.id] = w
    if len({w.starts_at.tzinfo is None for w in workshops}) > 1:
        raise ValueError("workshop times mix naive and timezone-aware datetimes")

    round_start: dict[str, datetime] = {}
    for w in by_id.values():
        if w.round_key not in round_start or w.starts_at < round_start[w.round_key]:
            round_start[w.round_key] = w.starts_at
    for r in rankings:
        if not isinstance(r, Ranking):
            raise ValueError(f"expected Ranking, got {type(r).__name__}")
    # Rounds in time order (ties by key); rounds that only rankings mention go last.
    round_order = tuple(
        sorted(round_start, key=lambda k: (round_start[k], k))
        + sorted({r.round_key for r in rankings} - set(round_start))
    )
    round_rank = {k: i for i, k in enumerate(round_order)}

    seen: set[tuple[int, str]] = set()
    for r in rankings:
        key = (r.attendee_id, r.round_key)
        if key in seen:
            raise ValueError(
                f"two rankings for attendee {r.attendee_id} in round {r.round_key!r}; "
                "merge them into one ranked tuple"
            )
        seen.add(key)
    ordered = sorted(rankings, key=lambda r: (r.attendee_id, round_rank[r.round_key]))

    pairs: list[tuple[int, str]] = []
    choices: list[tuple[int, ...]] = []
    pairs_by_attendee: dict[int, list[int]] = {}
    round_of = {wid: w.round_key for wid, w in by_id.items()}
    for r in ordered:
        key = r.round_key
        # Workshops of this round only, first occurrence of a repeated id keeps its rank.
        valid = tuple(dict.fromkeys(w for w in r.choices if round_of.get(w) == key))
        seats = held_by.get(r.attendee_id)
        if seats:
            valid = tuple(w for w in valid if not clashes_with_held(seats, by_id[w]))
        pairs_by_attendee.setdefault(r.attendee_id, []).append(len(pairs))
        pairs.append((r.attendee_id, key))
        choices.append(valid)

    # Cross-round overlaps by a sweep over start times (same-round overlaps need no rows:
    # nobody gets two workshops of one round anyway).
    conflicts: dict[int, set[int]] = {wid: set() for wid in by_id}
    by_start = sorted(by_id.values(), key=lambda w: (w.starts_at, w.id))
    for i, a in enumerate(by_start):
        for b in by_start[i + 1 :]:
            if b.starts_at >= a.ends_at:
                break
            if a.round_key != b.round_key:
                conflicts[a.id].add(b.id)
                conflicts[b.id].add(a.id)

    frozen_conflicts = {wid: frozenset(s) for wid, s in conflicts.items()}
    owed = candidates(priority, choices, pairs_by_attendee, frozen_conflicts)
    return Problem(
        workshops=dict(sorted(by_id.items())),
        round_order=round_order,
        pairs=tuple(pairs),
        choices=tuple(choices),
        max_rank=max((len(c) for c in choices), default=0),
        conflicts=frozen_conflicts,
        pairs_by_attendee={a: tuple(p) for a, p in pairs_by_attendee.items()},
        held={a: tuple(seats) for a, seats in held_by.items()},
        covers=round_covers(by_id.values()),
        priority=owed,
        priority_of={p: wid for wid, ps in owed.items() for p in ps},
    )


def clashes_with_held(seats: Iterable[HeldSeat], workshop: Workshop) -> bool:
    """The workshop overlaps one of the attendee's held seats: the allocation treats it as a
    choice that does not exist (HeldSeat), and the outcome page and the waiting lists after
    publication say and do the same."""
    return any(seat.overlaps(workshop) for seat in seats)


def round_covers(workshops: Iterable[Workshop]) -> dict[int, frozenset[str]]:
    """Workshop -> the other rounds it covers: it runs through their whole span (from the
    round's first start to its last end), a double session. Whoever gets it is placed in
    both rounds (finding 3 of allocation round two)."""
    workshops = list(workshops)
    span: dict[str, tuple[datetime, datetime]] = {}
    for w in workshops:
        first, last = span.get(w.round_key, (w.starts_at, w.ends_at))
        span[w.round_key] = (min(first, w.starts_at), max(last, w.ends_at))
    covers = {}
    for w in workshops:
        rounds = frozenset(
            k
            for k, (first, last) in span.items()
            if k != w.round_key and w.starts_at <= first and last <= w.ends_at
        )
        if rounds:
            covers[w.id] = rounds
    return covers


def spanned_pairs(problem: Problem, assignments: dict[tuple[int, str], int | None]) -> set:
    """Pairs left empty because the attendee holds a double workshop from another round
    that fills theirs: they count as assigned (finding 3 of allocation round two)."""
    spanned: set[tuple[int, str]] = set()
    if not problem.covers:
        return spanned
    for idxs in problem.pairs_by_attendee.values():
        rounds: set[str] = set()
        for p in idxs:
            wid = assignments[problem.pairs[p]]
            if wid is not None:
                rounds |= problem.covers.get(wid, frozenset())
        for p in idxs:
            pair = problem.pairs[p]
            if pair[1] in rounds and assignments[pair] is None and problem.choices[p]:
                spanned.add(pair)
    return spanned


def check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def verify(problem: Problem, assignments: dict[tuple[int, str], int | None]) -> None:
    """Cheap independent check of every hard rule; a solver bug must never reach attendees."""
    load = dict.fromkeys(problem.workshops, 0)
    for pair, valid in zip(problem.pairs, problem.choices, strict=True):
        wid = assignments[pair]
        if wid is not None:
            if wid not in valid:
                raise RuntimeError(f"allocation gave {pair} unranked workshop {wid}")
            load[wid] += 1
    for wid, n in load.items():
        if n > problem.workshops[wid].capacity:
            raise RuntimeError(f"allocation overfills workshop {wid}")
    if any(problem.conflicts.values()):
        for idxs in problem.pairs_by_attendee.values():
            got = [assignments[problem.pairs[p]] for p in idxs]
            got = [w for w in got if w is not None]
            for i, a in enumerate(got):
                if any(b in problem.conflicts[a] for b in got[i + 1 :]):
                    raise RuntimeError("allocation gave an attendee two overlapping sessions")
    for attendee, seats in problem.held.items():
        for p in problem.pairs_by_attendee.get(attendee, ()):
            wid = assignments[problem.pairs[p]]
            if wid is not None and clashes_with_held(seats, problem.workshops[wid]):
                raise RuntimeError(f"allocation gave attendee {attendee} a clash with a held seat")
    for wid, owed in problem.priority.items():
        got = sum(assignments[problem.pairs[p]] == wid for p in owed)
        if got < problem.priority_seats(wid):
            raise RuntimeError(f"allocation broke the priority group of workshop {wid}")
