"""Priority groups: members of a group get a seat in its workshop before anyone else.

An organiser gives a group of attendees (speakers' guests, a hub's members) priority in one
workshop. The rule the optimum and both baselines honour (docs/ALLOCATION.md, "Priority
groups"): a member who ranked the workshop, and can attend it, is a *candidate*; if the
candidates fit in its seats they all get it, otherwise its seats all go to candidates, and
which candidates is decided by the same levels and lottery as everything else. Nobody who did
not rank it is put in it.

An attendee can be a candidate for at most one workshop per round, and never for two that
overlap: :func:`candidates` keeps, round by round in time order, their best-ranked priority
workshop that does not clash with one kept before. That keeps the rule always satisfiable
together with capacity and overlaps, so priority never breaks a hard rule.

This module knows nothing of the solver's models; it works on the canonical problem's plain
parts (problem.py calls it), and reads a stored run back for the dry run's report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Why a member did not get the group's workshop (the dry run reports these).
GOT = "got"
NOT_RANKED = "not_ranked"
CLASH = "clash"  # it overlaps a seat they hold, or they hold a workshop in that round
OTHER_PRIORITY = "other_priority"  # their priority in another workshop at that time won
FULL = "full"  # more candidates than seats; the allocation chose others
REASONS = (GOT, NOT_RANKED, CLASH, OTHER_PRIORITY, FULL)


@dataclass(frozen=True, slots=True)
class Priority:
    """Attendees with priority in one workshop; ``group_id`` and ``name`` are for people."""

    workshop_id: int
    members: tuple[int, ...]
    group_id: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        for value in (self.workshop_id, self.group_id, *self.members):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Priority ids must be ints, got {value!r}")
        object.__setattr__(self, "members", tuple(sorted(set(self.members))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: a replay needs the groups as much as the rankings."""
        return {
            "group_id": self.group_id,
            "name": self.name,
            "workshop_id": self.workshop_id,
            "members": list(self.members),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Priority:
        return cls(
            int(data["workshop_id"]),
            tuple(int(m) for m in data["members"]),
            int(data.get("group_id", 0)),
            str(data.get("name", "")),
        )


def members_by_attendee(
    groups: Iterable[Priority], workshop_ids: Iterable[int]
) -> dict[int, set[int]]:
    """Attendee -> the workshops they have priority in (workshops that are allocated only)."""
    known = set(workshop_ids)
    by_attendee: dict[int, set[int]] = {}
    for group in groups:
        if not isinstance(group, Priority):
            raise ValueError(f"expected Priority, got {type(group).__name__}")
        if group.workshop_id in known:
            for attendee in group.members:
                by_attendee.setdefault(attendee, set()).add(group.workshop_id)
    return by_attendee


def candidates(
    groups: Iterable[Priority],
    choices: Sequence[tuple[int, ...]],
    pairs_by_attendee: Mapping[int, Sequence[int]],
    conflicts: Mapping[int, frozenset[int]],
) -> dict[int, tuple[int, ...]]:
    """Workshop -> the pair indices with priority in it (see the module docstring).

    ``choices`` are the valid choices per pair (held-seat clashes already removed), so a
    member who cannot attend the workshop is never a candidate; ``pairs_by_attendee`` lists
    each attendee's pairs in time order.
    """
    wanted = members_by_attendee(groups, conflicts)
    seats: dict[int, list[int]] = {}
    for attendee in sorted(wanted.keys() & pairs_by_attendee.keys()):
        mine = wanted[attendee]
        kept: list[int] = []
        for p in pairs_by_attendee[attendee]:
            for wid in choices[p]:
                if wid in mine and not any(wid in conflicts[k] for k in kept):
                    kept.append(wid)
                    seats.setdefault(wid, []).append(p)
                    break
    return {wid: tuple(ps) for wid, ps in sorted(seats.items())}


def seats_owed(capacity: int, candidates_count: int) -> int:
    """How many candidates must get the workshop: all of them, or every seat."""
    return min(capacity, candidates_count)


# --------------------------------------------------------------------------------------------
# The dry run's report, from a run's stored inputs and result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberOutcome:
    attendee_id: int
    reason: str  # one of REASONS
    ranked: bool  # the run's ranking of that round lists the workshop


@dataclass(frozen=True)
class GroupReport:
    group_id: int
    name: str
    workshop_id: int
    seats: int
    members: list[MemberOutcome]

    @property
    def ranked(self) -> int:
        return sum(m.ranked for m in self.members)

    @property
    def got(self) -> int:
        return sum(m.reason == GOT for m in self.members)

    @property
    def missed(self) -> list[MemberOutcome]:
        return [m for m in self.members if m.reason != GOT]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "name": self.name,
            "workshop_id": self.workshop_id,
            "seats": self.seats,
            "members": [
                {"attendee_id": m.attendee_id, "reason": m.reason, "ranked": m.ranked}
                for m in self.members
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupReport:
        return cls(
            int(data["group_id"]),
            str(data["name"]),
            int(data["workshop_id"]),
            int(data["seats"]),
            [
                MemberOutcome(int(m["attendee_id"]), str(m["reason"]), bool(m["ranked"]))
                for m in data["members"]
            ],
        )


def group_reports(
    groups: Iterable[Priority],
    workshops: Mapping[int, Any],
    raw_rankings: Mapping[tuple[int, str], tuple[int, ...]],
    owed: Mapping[int, tuple[int, ...]],
    pairs: Sequence[tuple[int, str]],
    assignments: Mapping[tuple[int, str], int | None],
    held_rounds: set[tuple[int, str]] = frozenset(),
) -> list[GroupReport]:
    """Per group, per member: got it, or why not.

    ``raw_rankings`` are the rankings the run stored; ``owed`` is what :func:`candidates`
    computed for it; ``held_rounds`` the (attendee, round) pairs where they already hold a
    workshop (their ranking there is not the allocation's). A member who ranked the workshop
    but is no candidate either cannot attend it (a held seat) or had priority elsewhere then.
    """
    kept: dict[int, list[int]] = {}
    for wid, ps in owed.items():
        for p in ps:
            kept.setdefault(pairs[p][0], []).append(wid)
    reports = []
    for group in groups:
        workshop = workshops.get(group.workshop_id)
        if workshop is None:
            continue
        outcomes = [
            MemberOutcome(
                attendee,
                _reason(
                    group.workshop_id,
                    attendee,
                    workshops,
                    raw_rankings,
                    kept,
                    assignments,
                    held_rounds,
                ),
                group.workshop_id in raw_rankings.get((attendee, workshop.round_key), ()),
            )
            for attendee in group.members
        ]
        reports.append(
            GroupReport(group.group_id, group.name, group.workshop_id, workshop.capacity, outcomes)
        )
    return reports


def _reason(wid, attendee, workshops, raw_rankings, kept, assignments, held_rounds) -> str:
    this = workshops[wid]
    key = this.round_key
    if assignments.get((attendee, key)) == wid:
        return GOT
    if (attendee, key) in held_rounds:
        return CLASH
    if wid not in raw_rankings.get((attendee, key), ()):
        return NOT_RANKED
    mine = kept.get(attendee, [])
    if wid in mine:
        return FULL
    others = [workshops[k] for k in mine]
    if any(o.round_key == key or o.overlaps(this) for o in others):
        return OTHER_PRIORITY
    return CLASH
