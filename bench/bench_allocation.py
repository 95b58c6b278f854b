"""Benchmark: fair workshop allocation on a synthetic event, against the greedy baselines.

Generates a seeded event (default 5,000 attendees, 4 rounds of 8 workshops with 20-60 seats,
skewed popularity so some workshops are heavily oversubscribed, 3 ranked choices per round),
times ``allocate`` and prints, per method, how many (attendee, round) pairs got their 1st, 2nd,
3rd choice or nothing and how the misses fall on people. Prints what it measured; asserts no
timings.

    python bench/bench_allocation.py [--attendees N] [--rounds R] [--workshops W]
                                     [--seed S] [--repeat R] [--scenario 1..4]

The issue's targets: ``--attendees 20000 --rounds 6 --workshops 12 --scenario 2`` under 5 s,
and ``--scenario 3`` (default size) under 2 s. Per method it prints the 1st/2nd/3rd/none
counts, attendees with nothing in 2 or more rounds, the fill rate, and how many attendees
missed out in 0, 1, 2, ... rounds.

Four scenarios: capacities exactly as specified (20-60 seats, so only about 340 of 5,000
attendees fit per round and the result is "fill every seat with a first choice"), the same
workshops scaled to seat 105% of attendees (where the ranking actually matters), and that plus
a double session from round 1 into round 2, which couples the two rounds (the slower path);
and the scarce first scenario with that double, where the coupled rounds' misses must be
spread over people by branching on the coupled columns (the hardest case).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventapp.services.allocation.baselines import compare
from eventapp.services.allocation.problem import Ranking, Workshop
from eventapp.services.allocation.solver import allocate

DAY = datetime(2025, 6, 14, 9, 0)


def synthetic_event(
    attendees: int = 5000,
    rounds: int = 4,
    per_round: int = 8,
    choices: int = 3,
    seed: int = 2025,
    spanning: bool = False,
    seats_per_attendee: float | None = None,
) -> tuple[list[Workshop], list[Ranking], list[int]]:
    """A seeded event: workshops, rankings, and a registration (arrival) order.

    Capacities are drawn from 20-60 seats; with ``seats_per_attendee`` they are then scaled so
    each round has about that many seats per attendee (same proportions), which is what a real
    event sized for its audience looks like.
    """
    rng = np.random.default_rng(seed)
    workshops: list[Workshop] = []
    rankings: list[Ranking] = []
    round_ids: list[list[int]] = []
    for r in range(rounds):
        start = DAY + timedelta(hours=2 * r)
        seats = rng.integers(20, 61, size=per_round)
        if seats_per_attendee is not None:
            seats = np.maximum(1, np.rint(seats * attendees * seats_per_attendee / seats.sum()))
        ids = []
        for i in range(per_round):
            end = start + timedelta(minutes=90)
            if spanning and r == 0 and i == 0 and rounds > 1:
                end = start + timedelta(hours=3, minutes=30)  # a double session into round 2
            wid = len(workshops) + 1
            workshops.append(Workshop(wid, f"R{r + 1}", int(seats[i]), start, end))
            ids.append(wid)
        round_ids.append(ids)
    for r, ids in enumerate(round_ids):
        # Zipf-like popularity: the favourite workshop is wanted ~8x as much as the least.
        popularity = 1.0 / np.arange(1, per_round + 1)
        popularity = popularity[rng.permutation(per_round)]
        popularity /= popularity.sum()
        for a in range(1, attendees + 1):
            picks = rng.choice(per_round, size=min(choices, per_round), replace=False, p=popularity)
            rankings.append(Ranking(a, f"R{r + 1}", tuple(ids[i] for i in picks)))
    arrival = [int(a) for a in rng.permutation(np.arange(1, attendees + 1))]
    return workshops, rankings, arrival


SCENARIOS = {
    "as specified: 20-60 seats per workshop (about 340 seats per round)": {},
    "seats for 105% of attendees per round, same skew": {"seats_per_attendee": 1.05},
    "same, plus a double session running from round 1 into round 2": {
        "seats_per_attendee": 1.05,
        "spanning": True,
    },
    "as specified, plus the double session (scarce seats: most people miss in both rounds)": {
        "spanning": True,
    },
}


def run(
    name: str, attendees: int, rounds: int, per_round: int, seed: int, repeat: int, **kwargs
) -> None:
    workshops, rankings, arrival = synthetic_event(
        attendees=attendees, rounds=rounds, per_round=per_round, seed=seed, **kwargs
    )
    seats = sum(w.capacity for w in workshops)
    print(f"\n== {name}")
    print(
        f"   {attendees} attendees, {rounds} rounds x {per_round} workshops, {seats} seats in "
        f"all, {len(rankings)} rankings of 3, seed {seed}"
    )
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        allocate(workshops, rankings, seed)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(
        f"   allocate: wall median {statistics.median(walls):.2f} s "
        f"(min {min(walls):.2f}, max {max(walls):.2f}), "
        f"CPU median {statistics.median(cpus):.2f} s, {repeat} runs"
    )
    table = compare(workshops, rankings, seed, arrival)
    header = (
        f"   {'method':<28}{'1st':>7}{'2nd':>7}{'3rd':>7}{'none':>7}{'2+ miss':>9}"
        f"{'fill':>7}{'wall s':>8}  attendees by misses (0, 1, 2, ...)"
    )
    print(header)
    print("   " + "-" * (len(header) - 3))
    for method, stats in table.items():
        r = stats["by_rank"] + [0] * (3 - len(stats["by_rank"]))
        capacity = sum(f["capacity"] for f in stats["fill"])
        fill = 100 * stats["assigned"] / capacity if capacity else 0
        print(
            f"   {method:<28}{r[0]:>7}{r[1]:>7}{r[2]:>7}{stats['none']:>7}"
            f"{stats['two_or_more_misses']:>9}{fill:>6.1f}%{stats['wall_time_s']:>8.2f}  "
            f"{stats['misses_per_attendee']}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workshops", type=int, default=8, help="workshops per round")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--scenario",
        choices=range(1, len(SCENARIOS) + 1),
        type=int,
        action="append",
        help="run only these scenarios (1-based; repeatable)",
    )
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"scipy {scipy.__version__}, numpy {np.__version__}"
    )
    for i, (name, kwargs) in enumerate(SCENARIOS.items(), start=1):
        if args.scenario and i not in args.scenario:
            continue
        run(name, args.attendees, args.rounds, args.workshops, args.seed, args.repeat, **kwargs)


if __name__ == "__main__":
    main()
