"""Benchmark: fair workshop allocation on a synthetic event, against the greedy baselines.

Generates a seeded event (default 5,000 attendees, 4 rounds of 8 workshops with 20-60 seats,
skewed popularity so some workshops are heavily oversubscribed, 3 ranked choices per round),
times ``allocate`` and prints, per method, how many (attendee, round) pairs got their 1st, 2nd,
3rd choice or nothing. Prints what it measured; asserts no timings.

    python bench/bench_allocation.py [--attendees N] [--seed S] [--repeat R] [--spanning]

``--spanning`` makes one workshop of round 1 run into round 2, which couples those rounds and
exercises the MILP path instead of the per-round transportation LPs.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventapp.services.allocation_solver import (  # noqa: E402
    Ranking,
    Workshop,
    allocate,
    compare,
)

DAY = datetime(2025, 6, 14, 9, 0)


def synthetic_event(
    attendees: int = 5000,
    rounds: int = 4,
    per_round: int = 8,
    choices: int = 3,
    seed: int = 2025,
    spanning: bool = False,
) -> tuple[list[Workshop], list[Ranking], list[int]]:
    """A seeded event: workshops, rankings, and a registration (arrival) order."""
    rng = np.random.default_rng(seed)
    workshops: list[Workshop] = []
    rankings: list[Ranking] = []
    wid = 1
    round_ids: list[list[int]] = []
    for r in range(rounds):
        start = DAY + timedelta(hours=2 * r)
        ids = []
        for i in range(per_round):
            end = start + timedelta(minutes=90)
            if spanning and r == 0 and i == 0 and rounds > 1:
                end = start + timedelta(hours=3, minutes=30)  # a double session into round 2
            workshops.append(Workshop(wid, f"R{r + 1}", int(rng.integers(20, 61)), start, end))
            ids.append(wid)
            wid += 1
        round_ids.append(ids)
    for r, ids in enumerate(round_ids):
        # Zipf-like popularity: the favourite workshop is wanted ~8x as much as the least.
        popularity = 1.0 / np.arange(1, per_round + 1) ** 1.0
        popularity = popularity[rng.permutation(per_round)]
        popularity /= popularity.sum()
        for a in range(1, attendees + 1):
            picks = rng.choice(per_round, size=min(choices, per_round), replace=False, p=popularity)
            rankings.append(Ranking(a, f"R{r + 1}", tuple(ids[i] for i in picks)))
    arrival = [int(a) for a in rng.permutation(np.arange(1, attendees + 1))]
    return workshops, rankings, arrival


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spanning", action="store_true")
    args = parser.parse_args(argv)

    workshops, rankings, arrival = synthetic_event(
        attendees=args.attendees, seed=args.seed, spanning=args.spanning
    )
    seats = sum(w.capacity for w in workshops)
    print(
        f"event: {args.attendees} attendees, 4 rounds x 8 workshops, {seats} seats, "
        f"{len(rankings)} rankings, seed {args.seed}, spanning={args.spanning}"
    )
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")

    times = []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = allocate(workshops, rankings, args.seed)
        times.append(time.perf_counter() - t0)
    assert result is not None
    print(
        f"allocate: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s over {len(times)} runs"
    )

    table = compare(workshops, rankings, args.seed, arrival)
    print()
    header = f"{'method':<28}{'1st':>8}{'2nd':>8}{'3rd':>8}{'none':>8}{'time s':>9}"
    print(header)
    print("-" * len(header))
    for method, stats in table.items():
        r = stats["by_rank"] + [0] * (3 - len(stats["by_rank"]))
        print(
            f"{method:<28}{r[0]:>8}{r[1]:>8}{r[2]:>8}{stats['none']:>8}"
            f"{stats['wall_time_s']:>9.3f}"
        )
    full = sum(
        1 for s in table[next(iter(table))]["fill"] if s["assigned"] >= s["capacity"]
    )
    print(f"\nworkshops full in the optimum: {full} of {len(workshops)}")


if __name__ == "__main__":
    main()
