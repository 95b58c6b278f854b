"""Tests for the pure workshop-allocation core (no app, no database).

Hand-worked cases pin the fairness rule; property tests check the hard rules on random events,
compare against a brute-force oracle on tiny ones, and check the optimum never loses to the
greedy baselines; the lottery is checked for reproducibility and for actually breaking ties.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventapp.services.allocation import solver
from eventapp.services.allocation.baselines import (
    compare,
    first_come_first_served,
    random_serial_dictatorship,
)
from eventapp.services.allocation.problem import Ranking, Workshop
from eventapp.services.allocation.quality import Allocation, AllocationStats, audit_record
from eventapp.services.allocation.solver import allocate

DAY = datetime(2025, 6, 14, 9, 0)


def slot(round_index: int) -> tuple[datetime, datetime]:
    """Round i runs 9:00 + 2h*i for 90 minutes."""
    start = DAY + timedelta(hours=2 * round_index)
    return start, start + timedelta(minutes=90)


def ws(wid: int, round_index: int, capacity: int, *, spans_next: bool = False) -> Workshop:
    start, end = slot(round_index)
    if spans_next:
        end = slot(round_index + 1)[1]
    return Workshop(wid, f"R{round_index}", capacity, start, end)


def rk(attendee: int, round_index: int, *choices: int) -> Ranking:
    return Ranking(attendee, f"R{round_index}", tuple(choices))


# --------------------------------------------------------------------------------------------
# Independent reference implementation (the oracle), deliberately naive
# --------------------------------------------------------------------------------------------


def valid_choices(workshops: list[Workshop], ranking: Ranking) -> list[int]:
    by_id = {w.id: w for w in workshops}
    out: list[int] = []
    for wid in ranking.choices:
        if wid in by_id and by_id[wid].round_key == ranking.round_key and wid not in out:
            out.append(wid)
    return out


def overlap(a: Workshop, b: Workshop) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def assert_feasible(
    workshops: list[Workshop], rankings: list[Ranking], allocation: Allocation
) -> None:
    """Every hard rule, checked from the raw inputs."""
    by_id = {w.id: w for w in workshops}
    assert set(allocation.assignments) == {(r.attendee_id, r.round_key) for r in rankings}
    load: dict[int, int] = {}
    held: dict[int, list[Workshop]] = {}
    for r in rankings:
        wid = allocation.assignments[(r.attendee_id, r.round_key)]
        if wid is None:
            continue
        assert wid in valid_choices(workshops, r), "only the attendee's own ranked choices"
        assert by_id[wid].round_key == r.round_key
        load[wid] = load.get(wid, 0) + 1
        held.setdefault(r.attendee_id, []).append(by_id[wid])
    for wid, n in load.items():
        assert n <= by_id[wid].capacity, f"workshop {wid} over capacity"
    for sessions in held.values():
        for a, b in itertools.combinations(sessions, 2):
            assert not overlap(a, b), f"overlapping sessions {a.id} and {b.id}"


def objective_of(
    workshops: list[Workshop], rankings: list[Ranking], assignments: dict, depth: int
) -> tuple[int, ...]:
    """(-none, #1st, #2nd, ...) computed from scratch, independent of AllocationStats."""
    none = 0
    by_rank = [0] * depth
    by_id = {w.id: w for w in workshops}
    for r in rankings:
        valid = valid_choices(workshops, r)
        wid = assignments[(r.attendee_id, r.round_key)]
        if valid and wid is None and not filled_by_a_double(workshops, assignments, r, by_id):
            none += 1
        elif wid is not None:
            by_rank[valid.index(wid)] += 1
    return (-none, *by_rank)


def filled_by_a_double(workshops, assignments, ranking, by_id) -> bool:
    """Does the attendee hold, from another round, a workshop running through this ranking's
    round from its first start to its last end? Then the round is theirs, filled (finding 3)."""
    here = [w for w in workshops if w.round_key == ranking.round_key]
    first, last = min(w.starts_at for w in here), max(w.ends_at for w in here)
    for (attendee, key), wid in assignments.items():
        mine = attendee == ranking.attendee_id and key != ranking.round_key and wid is not None
        if mine and by_id[wid].starts_at <= first and last <= by_id[wid].ends_at:
            return True
    return False


def depth_of(workshops: list[Workshop], rankings: list[Ranking]) -> int:
    return max((len(valid_choices(workshops, r)) for r in rankings), default=0)


def brute_force_best(
    workshops: list[Workshop], rankings: list[Ranking], allowed=lambda assignments: True
) -> tuple[int, ...] | None:
    """Best lexicographic objective over every feasible allocation that `allowed` keeps (tiny
    inputs only); None when it keeps none."""
    by_id = {w.id: w for w in workshops}
    depth = depth_of(workshops, rankings)
    options = [[None, *valid_choices(workshops, r)] for r in rankings]
    best: tuple[int, ...] | None = None
    for combo in itertools.product(*options):
        load: dict[int, int] = {}
        held: dict[int, list[Workshop]] = {}
        ok = True
        for r, wid in zip(rankings, combo, strict=True):
            if wid is None:
                continue
            load[wid] = load.get(wid, 0) + 1
            if load[wid] > by_id[wid].capacity or any(
                overlap(by_id[wid], h) for h in held.get(r.attendee_id, [])
            ):
                ok = False
                break
            held.setdefault(r.attendee_id, []).append(by_id[wid])
        if not ok:
            continue
        assignments = {
            (r.attendee_id, r.round_key): w for r, w in zip(rankings, combo, strict=True)
        }
        if not allowed(assignments):
            continue
        value = objective_of(workshops, rankings, assignments, depth)
        if best is None or value > best:
            best = value
    return best


# --------------------------------------------------------------------------------------------
# Hand-worked cases
# --------------------------------------------------------------------------------------------


def test_fcfs_leaves_someone_empty_where_the_optimum_seats_everyone():
    # W1 has 1 seat, W2 has 2. Ann (first to register) wants W1 then W2; Bob only W1;
    # Cat only W2. FCFS gives Ann W1 and Bob nothing; the optimum moves Ann to W2.
    workshops = [ws(1, 0, 1), ws(2, 0, 2)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 1), rk(3, 0, 2)]

    fcfs = first_come_first_served(workshops, rankings, [1, 2, 3])
    assert fcfs.assignments == {(1, "R0"): 1, (2, "R0"): None, (3, "R0"): 2}
    assert fcfs.stats.none == 1

    best = allocate(workshops, rankings, seed=0)
    assert best.assignments == {(1, "R0"): 2, (2, "R0"): 1, (3, "R0"): 2}
    assert best.stats.none == 0
    assert best.stats.by_rank == (2, 1)
    assert best.stats.objective() > fcfs.stats.objective()


def test_seating_everyone_beats_more_first_choices():
    # One seat each. Max first choices is 2 (Ann->W1, Bob->W2) but leaves Cat, who only
    # wants W1, with nothing. The rule seats all three: Cat W1, Ann W2, Bob W3 (1 first,
    # 2 seconds), so first choices are deliberately given up.
    workshops = [ws(1, 0, 1), ws(2, 0, 1), ws(3, 0, 1)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 2, 3), rk(3, 0, 1)]

    best = allocate(workshops, rankings, seed=7)
    assert best.assignments == {(1, "R0"): 2, (2, "R0"): 3, (3, "R0"): 1}
    assert (best.stats.none, best.stats.first, best.stats.second) == (0, 1, 2)

    fcfs = first_come_first_served(workshops, rankings, [1, 2, 3])
    assert (fcfs.stats.none, fcfs.stats.first) == (1, 2)
    assert best.stats.objective() > fcfs.stats.objective()


def test_more_first_choices_then_more_second_choices():
    # Ann (W1, W2) and Bob (W2, W1), one seat each: both get their first choice rather
    # than both their second.
    workshops = [ws(1, 0, 1), ws(2, 0, 1)]
    best = allocate(workshops, [rk(1, 0, 1, 2), rk(2, 0, 2, 1)], seed=3)
    assert best.assignments == {(1, "R0"): 1, (2, "R0"): 2}

    # Ann (W1, W2, W3) and Bob (W1, W3, W2): one gets W1; the other must get a second
    # choice, not a third: (1 first, 1 second, 0 third) in every lottery outcome.
    workshops = [ws(1, 0, 1), ws(2, 0, 1), ws(3, 0, 1)]
    rankings = [rk(1, 0, 1, 2, 3), rk(2, 0, 1, 3, 2)]
    for seed in range(10):
        assert allocate(workshops, rankings, seed).stats.by_rank == (1, 1, 0)


def test_cross_round_overlap_is_respected_and_traded_off():
    # W1 in round 0 is a double session running through round 1, so it clashes with W3 and
    # fills round 1 for whoever gets it (finding 3: it counts as assigned in both rounds).
    workshops = [ws(1, 0, 5, spans_next=True), ws(2, 0, 5), ws(3, 1, 5)]
    # Bob wants W1 or W3, never both: W1 seats him in both rounds, W3 only in one.
    # Ann prefers W1 too, but W2 + W3 gives the same seats and a second choice more.
    rankings = [rk(1, 0, 1, 2), rk(1, 1, 3), rk(2, 0, 1), rk(2, 1, 3)]
    best = allocate(workshops, rankings, seed=1)
    assert_feasible(workshops, rankings, best)
    assert best.assignments[(1, "R0")] == 2
    assert best.assignments[(1, "R1")] == 3
    assert (best.assignments[(2, "R0")], best.assignments[(2, "R1")]) == (1, None)
    assert (best.stats.none, best.stats.spanned) == (0, 1)

    # The greedy baselines respect the overlap as well (Ann takes W1, then cannot have W3).
    fcfs = first_come_first_served(workshops, rankings, [1, 2])
    assert_feasible(workshops, rankings, fcfs)
    assert fcfs.assignments[(1, "R0")] == 1
    assert fcfs.assignments[(1, "R1")] is None


def test_sessions_that_only_touch_do_not_overlap():
    start, end = slot(0)
    a = Workshop(1, "A", 1, start, end)
    b = Workshop(2, "B", 1, end, end + timedelta(hours=1))
    best = allocate([a, b], [Ranking(1, "A", (1,)), Ranking(1, "B", (2,))], seed=0)
    assert best.assignments == {(1, "A"): 1, (1, "B"): 2}


def test_overlap_across_rounds_is_found_from_times_not_round_order():
    # Round "B" starts earlier than round "A"; its workshop runs into A's slot.
    early = Workshop(1, "B", 1, DAY, DAY + timedelta(hours=3))
    late = Workshop(2, "A", 1, DAY + timedelta(hours=2), DAY + timedelta(hours=4))
    rankings = [Ranking(1, "A", (2,)), Ranking(1, "B", (1,))]
    best = allocate([early, late], rankings, seed=0)
    assert list(best.assignments.values()).count(None) == 1
    assert best.stats.none == 1


def test_zero_capacity_unranked_and_empty_rankings():
    workshops = [ws(1, 0, 0), ws(2, 0, 1)]
    rankings = [
        rk(1, 0, 1),  # only a full workshop: left with nothing
        rk(2, 0),  # ranked nothing: "none is fine", not counted as none
        rk(3, 0, 99, 5),  # only unknown ids: nothing valid to give
        Ranking(4, "no-such-round", (2,)),  # W2 is not in that round: ignored
        rk(5, 0, 2),
    ]
    best = allocate(workshops, rankings, seed=0)
    assert best.assignments == {
        (1, "R0"): None,
        (2, "R0"): None,
        (3, "R0"): None,
        (4, "no-such-round"): None,
        (5, "R0"): 2,
    }
    assert best.stats.none == 1
    assert best.stats.unranked == 3
    assert best.stats.by_rank == (1,)
    assert best.stats.fill == {1: (0, 0), 2: (1, 1)}
    assert best.stats.total_attendees == 5


def test_invalid_and_duplicate_choices_are_ignored_and_ranks_close_up():
    # W3 belongs to round 1, 42 does not exist, W1 is repeated: Ann's valid ranking is
    # (W1, W2), so getting W2 counts as her second choice.
    workshops = [ws(1, 0, 0), ws(2, 0, 1), ws(3, 1, 1)]
    rankings = [Ranking(1, "R0", (3, 1, 42, 1, 2))]
    best = allocate(workshops, rankings, seed=0)
    assert best.assignments == {(1, "R0"): 2}
    assert best.stats.by_rank == (0, 1)
    assert best.stats.none == 0


def test_empty_input():
    best = allocate([], [], seed=0)
    assert best.assignments == {}
    assert best.stats.by_rank == ()
    assert best.stats.total_attendees == 0
    assert compare([], [], 0, [])["optimal"]["none"] == 0


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def test_negative_capacity_is_rejected():
    with pytest.raises(ValueError, match="capacity must be >= 0"):
        ws(1, 0, -1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Workshop(1, "R0", 1, DAY, DAY), "ends_at must be after starts_at"),
        (lambda: Workshop(1, "R0", 1.5, DAY, DAY + timedelta(hours=1)), "capacity must be an int"),
        (lambda: Workshop(1, "R0", True, DAY, DAY + timedelta(hours=1)), "capacity must be an int"),
        (lambda: Workshop(1, 7, 1, DAY, DAY + timedelta(hours=1)), "round_key must be a str"),
        (lambda: Workshop(1, "R0", 1, "9:00", DAY), "must be datetimes"),
        (lambda: Ranking(1, "R0", ("a",)), "choices must be workshop ids"),
        (lambda: Ranking("1", "R0", (1,)), "attendee_id must be an int"),
    ],
)
def test_malformed_values_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_structurally_invalid_input_is_rejected():
    with pytest.raises(ValueError, match="duplicate workshop id 1"):
        allocate([ws(1, 0, 1), ws(1, 1, 1)], [], seed=0)
    with pytest.raises(ValueError, match="two rankings for attendee 1"):
        allocate([ws(1, 0, 1)], [rk(1, 0, 1), rk(1, 0, 1)], seed=0)
    aware = Workshop(2, "R1", 1, DAY.replace(tzinfo=UTC), DAY.replace(tzinfo=UTC, hour=10))
    with pytest.raises(ValueError, match="mix naive"):
        allocate([ws(1, 0, 1), aware], [], seed=0)
    for bad_seed in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match="seed must be a non-negative int"):
            allocate([ws(1, 0, 1)], [], seed=bad_seed)
        with pytest.raises(ValueError, match="seed must be a non-negative int"):
            random_serial_dictatorship([ws(1, 0, 1)], [], seed=bad_seed)


def test_ranking_accepts_a_list_and_stores_a_tuple():
    r = Ranking(1, "R0", [3, 2])
    assert r.choices == (3, 2)
    with pytest.raises(AttributeError):
        r.choices = (1,)  # frozen


def test_arrival_order_must_cover_every_attendee_once():
    workshops = [ws(1, 0, 1)]
    rankings = [rk(1, 0, 1), rk(2, 0, 1)]
    with pytest.raises(ValueError, match="missing attendees"):
        first_come_first_served(workshops, rankings, [1])
    with pytest.raises(ValueError, match="more than once"):
        first_come_first_served(workshops, rankings, [1, 2, 1])
    # Ids without rankings are fine (registered, ranked nothing) and simply skipped.
    fcfs = first_come_first_served(workshops, rankings, [9, 2, 1])
    assert fcfs.assignments == {(1, "R0"): None, (2, "R0"): 1}
    assert fcfs.seed is None


# --------------------------------------------------------------------------------------------
# Lottery and reproducibility
# --------------------------------------------------------------------------------------------


def test_same_seed_same_result_whatever_the_input_order():
    rng = random.Random(5)
    workshops = [ws(i, i % 3, rng.randint(1, 4)) for i in range(1, 10)]
    ids = {r: [w.id for w in workshops if w.round_key == f"R{r}"] for r in range(3)}
    rankings = [
        rk(a, r, *rng.sample(ids[r], k=rng.randint(0, len(ids[r]))))
        for a in range(1, 25)
        for r in range(3)
    ]
    first = allocate(workshops, rankings, seed=11)
    shuffled_ws, shuffled_rk = workshops[:], rankings[:]
    rng.shuffle(shuffled_ws)
    rng.shuffle(shuffled_rk)
    again = allocate(shuffled_ws, shuffled_rk, seed=11)
    assert again.assignments == first.assignments
    assert again.stats.objective() == first.stats.objective()
    assert again.seed == first.seed == 11


def test_different_seeds_break_a_symmetric_tie_both_ways_and_fairly():
    # Two attendees, one seat, identical rankings: only the lottery decides.
    workshops = [ws(1, 0, 1)]
    rankings = [rk(1, 0, 1), rk(2, 0, 1)]
    winners = []
    for seed in range(100):
        result = allocate(workshops, rankings, seed)
        assert result.stats.by_rank == (1,) and result.stats.none == 1
        (winner,) = [a for (a, _), w in result.assignments.items() if w == 1]
        winners.append(winner)
    again = [
        next(a for (a, _), w in allocate(workshops, rankings, s).assignments.items() if w)
        for s in range(20)
    ]
    assert again == winners[:20], "same seed, same winner"
    # Not biased towards the lower id (a solver picking "the first" optimum would be).
    assert 30 <= winners.count(1) <= 70


def test_lottery_never_outweighs_a_level():
    # Ann and Bob both want W1 first, Cat wants only W1. Whatever the seed, Cat gets W1
    # (seating everyone comes first) and the others share W2/W3 as second choices.
    workshops = [ws(1, 0, 1), ws(2, 0, 1), ws(3, 0, 1)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 1, 3), rk(3, 0, 1)]
    for seed in range(25):
        result = allocate(workshops, rankings, seed)
        assert result.assignments == {(1, "R0"): 2, (2, "R0"): 3, (3, "R0"): 1}


def test_random_serial_dictatorship_is_seeded():
    workshops = [ws(1, 0, 1)]
    rankings = [rk(a, 0, 1) for a in range(1, 6)]
    runs = {
        seed: random_serial_dictatorship(workshops, rankings, seed).assignments
        for seed in range(30)
    }
    assert runs[4] == random_serial_dictatorship(workshops, rankings, 4).assignments
    winners = {next(a for (a, _), w in result.items() if w) for result in runs.values()}
    assert len(winners) > 1


# --------------------------------------------------------------------------------------------
# Stats, audit, compare
# --------------------------------------------------------------------------------------------


def test_stats_are_json_serialisable_and_round_trip():
    workshops = [ws(1, 0, 1), ws(2, 0, 2), ws(3, 1, 1)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 1), rk(3, 0, 2), rk(1, 1, 3), rk(2, 1, 3)]
    result = allocate(workshops, rankings, seed=2)
    data = json.loads(json.dumps(result.stats.to_dict()))
    assert data["method"] == "optimal"
    assert data["first"] == result.stats.first
    assert data["none"] == 1  # round 1 has one seat for two
    assert data["by_rank"] == list(result.stats.by_rank)
    assert AllocationStats.from_dict(data) == result.stats

    record = json.loads(json.dumps(audit_record(workshops, rankings, result)))
    assert record["seed"] == 2
    assert set(record["versions"]) == {"numpy", "scipy", "rules"}
    assert len(record["workshops"]) == 3 and len(record["rankings"]) == 5
    replay = allocate(
        [
            Workshop(
                w["id"],
                w["round_key"],
                w["capacity"],
                datetime.fromisoformat(w["starts_at"]),
                datetime.fromisoformat(w["ends_at"]),
            )
            for w in record["workshops"]
        ],
        [
            Ranking(r["attendee_id"], r["round_key"], tuple(r["choices"]))
            for r in record["rankings"]
        ],
        record["seed"],
    )
    assert replay.to_dict()["assignments"] == record["assignments"]


def test_stats_count_what_was_assigned():
    workshops = [ws(1, 0, 2), ws(2, 0, 2)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 1, 2), rk(3, 0, 1, 2), rk(4, 0, 2)]
    result = allocate(workshops, rankings, seed=0)
    assert result.stats.fill == {1: (2, 2), 2: (2, 2)}
    assert result.stats.assigned == 4
    assert result.stats.by_rank == (3, 1)  # Ann, Bob or Cat is moved to W2
    assert result.stats.rank_count(3) == 0
    assert result.stats.wall_time_s >= 0


def test_compare_puts_the_three_methods_side_by_side():
    workshops = [ws(1, 0, 1), ws(2, 0, 1), ws(3, 0, 1)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 2, 3), rk(3, 0, 1)]
    table = compare(workshops, rankings, seed=0, arrival_order=[1, 2, 3])
    assert list(table) == ["optimal", "first_come_first_served", "random_serial_dictatorship"]
    assert table["optimal"]["none"] == 0
    assert table["first_come_first_served"]["none"] == 1
    json.dumps(table)


# --------------------------------------------------------------------------------------------
# Property-based tests
# --------------------------------------------------------------------------------------------


@st.composite
def events(draw, max_attendees=3, max_rounds=2, max_per_round=3, max_capacity=2):
    """Random small events; some workshops run into the next round."""
    n_rounds = draw(st.integers(1, max_rounds))
    workshops: list[Workshop] = []
    for r in range(n_rounds):
        for _ in range(draw(st.integers(1, max_per_round))):
            spans = r + 1 < n_rounds and draw(st.integers(0, 3)) == 0
            workshops.append(
                ws(len(workshops) + 1, r, draw(st.integers(0, max_capacity)), spans_next=spans)
            )
    all_ids = [w.id for w in workshops] + [999]
    rankings: list[Ranking] = []
    for a in range(1, draw(st.integers(1, max_attendees)) + 1):
        for r in range(n_rounds):
            if draw(st.integers(0, 5)) == 0:
                continue  # no ranking at all for this round
            own = [w.id for w in workshops if w.round_key == f"R{r}"]
            choice = st.one_of(st.sampled_from(own), st.sampled_from(own), st.sampled_from(all_ids))
            rankings.append(rk(a, r, *draw(st.lists(choice, max_size=4))))
    return workshops, rankings


PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(events(), st.integers(0, 2**32 - 1))
def test_optimum_matches_brute_force_on_tiny_events(event, seed):
    workshops, rankings = event
    result = allocate(workshops, rankings, seed)
    assert_feasible(workshops, rankings, result)
    depth = depth_of(workshops, rankings)
    assert objective_of(workshops, rankings, result.assignments, depth) == brute_force_best(
        workshops, rankings
    )
    assert result.stats.objective(depth) == objective_of(
        workshops, rankings, result.assignments, depth
    )


@PROPERTY_SETTINGS
@given(
    events(max_attendees=12, max_rounds=4, max_per_round=4, max_capacity=4),
    st.integers(0, 2**32 - 1),
    st.randoms(use_true_random=False),
)
def test_hard_rules_and_never_worse_than_the_baselines(event, seed, rnd):
    workshops, rankings = event
    result = allocate(workshops, rankings, seed)
    assert_feasible(workshops, rankings, result)

    attendees = sorted({r.attendee_id for r in rankings})
    rnd.shuffle(attendees)
    fcfs = first_come_first_served(workshops, rankings, attendees)
    rsd = random_serial_dictatorship(workshops, rankings, seed)
    assert_feasible(workshops, rankings, fcfs)
    assert_feasible(workshops, rankings, rsd)

    depth = depth_of(workshops, rankings)
    best = objective_of(workshops, rankings, result.assignments, depth)
    assert best >= objective_of(workshops, rankings, fcfs.assignments, depth)
    assert best >= objective_of(workshops, rankings, rsd.assignments, depth)
    # Stats agree with an independent recount.
    for allocation in (result, fcfs, rsd):
        assert allocation.stats.objective(depth) == objective_of(
            workshops, rankings, allocation.assignments, depth
        )

    # Reproducible regardless of input order.
    shuffled_ws, shuffled_rk = workshops[:], rankings[:]
    rnd.shuffle(shuffled_ws)
    rnd.shuffle(shuffled_rk)
    assert allocate(shuffled_ws, shuffled_rk, seed).assignments == result.assignments


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    events(max_attendees=10, max_rounds=3, max_per_round=4, max_capacity=3),
    st.integers(0, 2**32 - 1),
)
def test_lp_route_agrees_with_the_exact_milp(event, seed):
    """The fast LP routes (and their certificates) must reach what HiGHS's MILP proves optimal,
    and the MILP fallback itself must be a correct allocation."""
    workshops, rankings = event
    fast = allocate(workshops, rankings, seed)
    saved = (solver._solve_round, solver._solve_coupled)
    try:
        solver._solve_round = solver._solve_coupled = lambda *args: None  # force the fallback
        exact = allocate(workshops, rankings, seed)
    finally:
        solver._solve_round, solver._solve_coupled = saved
    assert_feasible(workshops, rankings, exact)
    depth = depth_of(workshops, rankings)
    assert fast.stats.objective(depth) == exact.stats.objective(depth)


def test_medium_event_with_a_double_session():
    rng = random.Random(3)
    workshops = [ws(1, 0, 15, spans_next=True)] + [
        ws(i, (i - 1) // 6, rng.randint(5, 25)) for i in range(2, 19)
    ]
    ids = {r: [w.id for w in workshops if w.round_key == f"R{r}"] for r in range(3)}
    weights = {r: [rng.random() ** 3 for _ in ids[r]] for r in range(3)}
    rankings = []
    for a in range(1, 301):
        for r in range(3):
            picks: list[int] = []
            while len(picks) < 3:
                (w,) = rng.choices(ids[r], weights[r])
                if w not in picks:
                    picks.append(w)
            rankings.append(rk(a, r, *picks))
    arrival = list(range(1, 301))
    rng.shuffle(arrival)
    result = allocate(workshops, rankings, seed=9)
    assert_feasible(workshops, rankings, result)
    fcfs = first_come_first_served(workshops, rankings, arrival)
    rsd = random_serial_dictatorship(workshops, rankings, seed=9)
    assert result.stats.objective(3) >= fcfs.stats.objective(3)
    assert result.stats.objective(3) >= rsd.stats.objective(3)
    # Oversubscribed: the optimum seats strictly more people than at least one baseline
    # or gives strictly more first choices.
    assert result.stats.objective(3) > min(fcfs.stats.objective(3), rsd.stats.objective(3))


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    events(max_attendees=10, max_rounds=3, max_per_round=4, max_capacity=3),
    st.integers(0, 2**32 - 1),
)
def test_the_coupled_faces_route_agrees_with_the_bound_rows_route(event, seed):
    """Double sessions: the optimal-faces route (fast) and the bound-rows route reach the
    same levels; the brute-force test above checks both against every allocation."""
    workshops, rankings = event
    fast = allocate(workshops, rankings, seed)
    saved = solver._solve_coupled_faces
    try:
        solver._solve_coupled_faces = lambda *args: None  # force the bound rows
        rows = allocate(workshops, rankings, seed)
    finally:
        solver._solve_coupled_faces = saved
    assert_feasible(workshops, rankings, rows)
    depth = depth_of(workshops, rankings)
    assert fast.stats.objective(depth) == rows.stats.objective(depth)
