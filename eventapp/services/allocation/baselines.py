"""The two greedy baselines the optimum is compared with, and the comparison itself.

:func:`first_come_first_served` serves attendees in registration order,
:func:`random_serial_dictatorship` in a seeded random order; each takes, round by round, their
best ranked workshop that still has a seat, after the priority groups' candidates took
theirs (in the same order). :func:`compare` puts the optimum and both side by
side, for the dry-run page and the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .priority import Priority
from .problem import (
    METHOD_FCFS,
    METHOD_OPTIMAL,
    METHOD_RSD,
    HeldSeat,
    Problem,
    Ranking,
    Workshop,
    check_seed,
    prepare,
    verify,
)
from .quality import Allocation, build_stats
from .solver import allocate


def _greedy(problem: Problem, order: Sequence[int]) -> dict[tuple[int, str], int | None]:
    """Each attendee in turn takes, round by round in time order, their best ranked workshop
    that still has a seat and does not overlap what they already hold."""
    remaining = {wid: w.capacity for wid, w in problem.workshops.items()}
    assignments: dict[tuple[int, str], int | None] = dict.fromkeys(problem.pairs)
    seated = _seat_priority(problem, order, remaining, assignments)
    for attendee in order:
        held: list[int] = list(seated.get(attendee, ()))
        for p in problem.pairs_by_attendee.get(attendee, ()):
            if assignments[problem.pairs[p]] is not None:
                continue  # a priority seat, given above
            for wid in problem.choices[p]:
                if remaining[wid] > 0 and not any(h in problem.conflicts[wid] for h in held):
                    remaining[wid] -= 1
                    held.append(wid)
                    assignments[problem.pairs[p]] = wid
                    break
    return assignments


def _seat_priority(problem: Problem, order: Sequence[int], remaining, assignments) -> dict:
    """Priority candidates first: each priority workshop's candidates, in the baseline's own
    order, take its seats (all of them if they fit); returns attendee -> workshops given."""
    seated: dict[int, list[int]] = {}
    if not problem.priority:
        return seated
    position = {a: i for i, a in enumerate(order)}
    for wid, owed in problem.priority.items():
        for p in sorted(owed, key=lambda p: position[problem.pairs[p][0]]):
            if remaining[wid] == 0:
                break
            remaining[wid] -= 1
            assignments[problem.pairs[p]] = wid
            seated.setdefault(problem.pairs[p][0], []).append(wid)
    return seated


def first_come_first_served(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    arrival_order: Sequence[int],
    held: Iterable[HeldSeat] = (),
    priority: Iterable[Priority] = (),
) -> Allocation:
    """Baseline: attendees in ``arrival_order`` each take their best still-available choice
    (priority candidates first take their priority workshop, in the same order).

    ``arrival_order`` must list every attendee that has a ranking exactly once (ids without a
    ranking are ignored), because silently serving someone last would be unfair and unnoticed.
    """
    started = time.perf_counter()
    problem = prepare(workshops, rankings, held, priority)
    order = list(arrival_order)
    if len(set(order)) != len(order):
        raise ValueError("arrival_order lists an attendee more than once")
    missing = sorted(set(problem.pairs_by_attendee) - set(order))
    if missing:
        raise ValueError(f"arrival_order is missing attendees with rankings: {missing[:10]}")
    assignments = _greedy(problem, [a for a in order if a in problem.pairs_by_attendee])
    verify(problem, assignments)
    elapsed = time.perf_counter() - started
    return Allocation(
        assignments=assignments,
        stats=build_stats(problem, assignments, METHOD_FCFS, elapsed),
        seed=None,
    )


def random_serial_dictatorship(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    seed: int,
    held: Iterable[HeldSeat] = (),
    priority: Iterable[Priority] = (),
) -> Allocation:
    """Baseline: a seeded random order of attendees, then the same greedy as FCFS."""
    check_seed(seed)
    started = time.perf_counter()
    problem = prepare(workshops, rankings, held, priority)
    attendees = np.asarray(sorted(problem.pairs_by_attendee), dtype=np.int64)
    order = np.random.default_rng(int(seed)).permutation(attendees).tolist()
    assignments = _greedy(problem, order)
    verify(problem, assignments)
    elapsed = time.perf_counter() - started
    return Allocation(
        assignments=assignments,
        stats=build_stats(problem, assignments, METHOD_RSD, elapsed),
        seed=int(seed),
    )


def compare(
    workshops: Iterable[Workshop],
    rankings: Iterable[Ranking],
    seed: int,
    arrival_order: Sequence[int],
    held: Iterable[HeldSeat] = (),
    priority: Iterable[Priority] = (),
) -> dict[str, dict[str, Any]]:
    """Stats of the optimum and both baselines side by side, keyed by method name.

    Values are :meth:`AllocationStats.to_dict` dicts, ready for a dry-run page or JSON.
    """
    workshops, rankings, held = list(workshops), list(rankings), list(held)
    priority = list(priority)
    return {
        METHOD_OPTIMAL: allocate(workshops, rankings, seed, held, priority).stats.to_dict(),
        METHOD_FCFS: first_come_first_served(
            workshops, rankings, arrival_order, held, priority
        ).stats.to_dict(),
        METHOD_RSD: random_serial_dictatorship(
            workshops, rankings, seed, held, priority
        ).stats.to_dict(),
    }
