"""Priority groups in the pure allocation core: the optimum and both baselines honour them.

Hand-worked cases pin the rule (candidates who fit all get the workshop; an over-full group
fills it with candidates chosen by the levels; a member who did not rank it is not placed;
a member cannot be owed two workshops at one time); property tests check every hard rule
and the optimum against brute force over the allocations that honour the groups.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventapp.services.allocation import solver
from eventapp.services.allocation.baselines import (
    first_come_first_served,
    random_serial_dictatorship,
)
from eventapp.services.allocation.priority import Priority
from eventapp.services.allocation.problem import HeldSeat, Workshop
from eventapp.services.allocation.solver import allocate
from tests.services.test_allocation_solver import (
    assert_feasible,
    brute_force_best,
    depth_of,
    events,
    objective_of,
    overlap,
    rk,
    slot,
    valid_choices,
    ws,
)


def members_in(allocation, workshop_id: int, members) -> list[int]:
    return sorted(
        a for (a, _k), w in allocation.assignments.items() if w == workshop_id and a in members
    )


def all_three(workshops, rankings, groups, seed=0, held=()):
    attendees = sorted({r.attendee_id for r in rankings})
    return [
        allocate(workshops, rankings, seed, held, groups),
        first_come_first_served(workshops, rankings, attendees, held, groups),
        random_serial_dictatorship(workshops, rankings, seed, held, groups),
    ]


def test_a_group_that_fits_all_get_the_workshop_even_as_a_later_choice():
    # W1 has 2 seats; five people rank it first. Guests 4 and 5 rank it second (W2 first):
    # with priority they get W1, before anyone else, whatever the method.
    workshops = [ws(1, 0, 2), ws(2, 0, 5)]
    rankings = [rk(a, 0, 1, 2) for a in (1, 2, 3)] + [rk(a, 0, 2, 1) for a in (4, 5)]
    group = Priority(1, (4, 5), 1, "guests")
    without = allocate(workshops, rankings, 0)
    assert members_in(without, 1, {4, 5}) == []
    for result in all_three(workshops, rankings, [group]):
        assert_feasible(workshops, rankings, result)
        assert members_in(result, 1, {4, 5}) == [4, 5]
        assert result.stats.fill[1] == (2, 2)


def test_an_over_full_group_fills_every_seat_and_the_levels_choose_whom():
    # W1 has 2 seats, three members rank it. Member 3 ranked only W1; members 1 and 2 have
    # W2 as a second choice. Seats first: 3 must be one of the two, and nobody else gets W1.
    workshops = [ws(1, 0, 2), ws(2, 0, 5)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 1, 2), rk(3, 0, 1), rk(4, 0, 1)]
    group = Priority(1, (1, 2, 3), 1, "hub")
    seen = set()
    for seed in range(12):
        result = allocate(workshops, rankings, seed, priority=[group])
        got = members_in(result, 1, {1, 2, 3})
        assert len(got) == 2 and 3 in got
        assert result.assignments[(4, "R0")] is None  # not a member: no seat left for them
        assert result.stats.none == 1
        seen.add(tuple(got))
    assert seen == {(1, 3), (2, 3)}  # the lottery decides between equals
    for result in all_three(workshops, rankings, [group])[1:]:
        assert len(members_in(result, 1, {1, 2, 3})) == 2
        assert result.assignments[(4, "R0")] is None


def test_a_member_who_did_not_rank_the_workshop_is_not_placed_in_it():
    workshops = [ws(1, 0, 3), ws(2, 0, 3)]
    rankings = [rk(1, 0, 2), rk(2, 0), rk(3, 0, 1)]
    group = Priority(1, (1, 2, 9), 1, "guests")  # 9 has no ranking at all
    for result in all_three(workshops, rankings, [group]):
        assert result.assignments[(1, "R0")] == 2
        assert result.assignments[(2, "R0")] is None
        assert result.assignments[(3, "R0")] == 1


def test_a_workshop_clashing_with_a_held_seat_is_not_forced():
    workshops = [ws(1, 0, 3), ws(2, 0, 3)]
    start, end = slot(0)
    plenary = HeldSeat(1, 50, start, end)
    rankings = [rk(1, 0, 1, 2)]
    for result in all_three(workshops, rankings, [Priority(1, (1,))], held=[plenary]):
        assert result.assignments[(1, "R0")] is None


def test_priority_in_two_workshops_at_one_time_keeps_the_better_ranked_one():
    # Same round: W1 and W2 both give member 1 priority; they ranked W2 first.
    workshops = [ws(1, 0, 1), ws(2, 0, 1), ws(3, 1, 1, spans_next=False)]
    rankings = [rk(1, 0, 2, 1), rk(2, 0, 1, 2)]
    groups = [Priority(1, (1,), 1, "a"), Priority(2, (1,), 2, "b")]
    for result in all_three(workshops, rankings, groups):
        assert result.assignments[(1, "R0")] == 2
        assert result.assignments[(2, "R0")] == 1
    # A double session in round 0 overlaps round 1's workshop: priority in both keeps the
    # earlier one, and the member never gets two overlapping sessions.
    workshops = [ws(1, 0, 2, spans_next=True), ws(2, 1, 2), ws(3, 0, 2)]
    rankings = [rk(1, 0, 1, 3), rk(1, 1, 2)]
    groups = [Priority(1, (1,)), Priority(2, (1,))]
    for result in all_three(workshops, rankings, groups):
        assert_feasible(workshops, rankings, result)
        assert result.assignments[(1, "R0")] == 1
        assert result.assignments[(1, "R1")] is None


def test_groups_for_unknown_workshops_are_ignored_and_no_groups_change_nothing():
    workshops = [ws(1, 0, 1), ws(2, 0, 1)]
    rankings = [rk(1, 0, 1, 2), rk(2, 0, 1, 2)]
    plain = allocate(workshops, rankings, 4)
    ignored = allocate(workshops, rankings, 4, priority=[Priority(99, (1, 2))])
    assert ignored.assignments == plain.assignments
    assert allocate(workshops, rankings, 4, priority=[]).assignments == plain.assignments


def test_the_exact_milp_fallback_honours_priority_too():
    workshops = [ws(1, 0, 2), ws(2, 0, 5), ws(3, 1, 1), ws(4, 1, 3)]
    rankings = [rk(a, 0, 1, 2) for a in range(1, 7)] + [rk(a, 1, 3, 4) for a in range(1, 7)]
    groups = [Priority(2, (5, 6)), Priority(3, (1, 2, 3))]
    saved = (solver._solve_round, solver._solve_coupled)
    try:
        solver._solve_round = solver._solve_coupled = lambda *args: None
        exact = allocate(workshops, rankings, 3, priority=groups)
    finally:
        solver._solve_round, solver._solve_coupled = saved
    fast = allocate(workshops, rankings, 3, priority=groups)
    for result in (exact, fast):
        assert_feasible(workshops, rankings, result)
        assert members_in(result, 2, {5, 6}) == [5, 6]
        assert len(members_in(result, 3, {1, 2, 3})) == 1
    assert exact.stats.objective(2) == fast.stats.objective(2)


# --------------------------------------------------------------------------------------------
# Property tests: an independent, naive statement of the rule, and brute force
# --------------------------------------------------------------------------------------------


def naive_candidates(workshops: list[Workshop], rankings, groups) -> dict[int, set[int]]:
    """Workshop -> attendees owed priority in it, from the rule as docs/ALLOCATION.md says."""
    by_id = {w.id: w for w in workshops}
    wanted: dict[int, set[int]] = {}
    for g in groups:
        if g.workshop_id in by_id:
            for a in g.members:
                wanted.setdefault(a, set()).add(g.workshop_id)
    owed: dict[int, set[int]] = {}
    rounds = sorted(
        {w.round_key for w in workshops},
        key=lambda k: (min(w.starts_at for w in workshops if w.round_key == k), k),
    )
    for a in sorted(wanted):
        kept: list[Workshop] = []
        mine = {r.round_key: r for r in rankings if r.attendee_id == a}
        for key in rounds:
            if key not in mine:
                continue
            for wid in valid_choices(workshops, mine[key]):
                w = by_id[wid]
                if wid in wanted[a] and not any(overlap(w, k) for k in kept):
                    kept.append(w)
                    owed.setdefault(wid, set()).add(a)
                    break
    return owed


def honours(workshops, owed, assignments) -> bool:
    caps = {w.id: w.capacity for w in workshops}
    for wid, people in owed.items():
        got = sum(1 for (a, _k), w in assignments.items() if w == wid and a in people)
        if got < min(caps[wid], len(people)):
            return False
    return True


@st.composite
def events_with_groups(draw, **sizes):
    workshops, rankings = draw(events(**sizes))
    attendees = sorted({r.attendee_id for r in rankings}) or [1]
    groups = [
        Priority(
            draw(st.sampled_from([w.id for w in workshops] + [999])),
            tuple(draw(st.lists(st.sampled_from(attendees + [77]), max_size=4))),
            i,
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return workshops, rankings, groups


PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(events_with_groups(), st.integers(0, 2**32 - 1))
def test_the_optimum_is_best_among_allocations_that_honour_the_groups(event, seed):
    workshops, rankings, groups = event
    owed = naive_candidates(workshops, rankings, groups)
    result = allocate(workshops, rankings, seed, priority=groups)
    assert_feasible(workshops, rankings, result)
    assert honours(workshops, owed, result.assignments)
    depth = depth_of(workshops, rankings)
    assert objective_of(workshops, rankings, result.assignments, depth) == (
        brute_force_best(
            workshops, rankings, lambda assignments: honours(workshops, owed, assignments)
        )
    )


@PROPERTY_SETTINGS
@given(
    events_with_groups(max_attendees=12, max_rounds=4, max_per_round=4, max_capacity=4),
    st.integers(0, 2**32 - 1),
    st.randoms(use_true_random=False),
)
def test_hard_rules_and_priority_hold_for_every_method(event, seed, rnd):
    """Never above capacity, never an overlap, only ranked workshops, and every group gets
    the seats it is owed: the optimum (LP route and exact MILP) and both baselines."""
    workshops, rankings, groups = event
    owed = naive_candidates(workshops, rankings, groups)
    attendees = sorted({r.attendee_id for r in rankings})
    rnd.shuffle(attendees)
    results = [
        allocate(workshops, rankings, seed, priority=groups),
        first_come_first_served(workshops, rankings, attendees, priority=groups),
        random_serial_dictatorship(workshops, rankings, seed, priority=groups),
    ]
    for result in results:
        assert_feasible(workshops, rankings, result)
        assert honours(workshops, owed, result.assignments)
        # Nobody who did not rank a workshop is in it (assert_feasible), and nobody outside
        # an over-full group takes one of its seats.
        for wid, people in owed.items():
            cap = next(w.capacity for w in workshops if w.id == wid)
            if len(people) >= cap:
                assert all(a in people for (a, _k), w in result.assignments.items() if w == wid)
    depth = depth_of(workshops, rankings)
    best = objective_of(workshops, rankings, results[0].assignments, depth)
    assert best >= objective_of(workshops, rankings, results[1].assignments, depth)
    assert best >= objective_of(workshops, rankings, results[2].assignments, depth)
    shuffled_ws, shuffled_rk, shuffled_groups = workshops[:], rankings[:], groups[:]
    rnd.shuffle(shuffled_ws)
    rnd.shuffle(shuffled_rk)
    rnd.shuffle(shuffled_groups)
    again = allocate(shuffled_ws, shuffled_rk, seed, priority=shuffled_groups)
    assert again.assignments == results[0].assignments


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    events_with_groups(max_attendees=10, max_rounds=3, max_per_round=4, max_capacity=3),
    st.integers(0, 2**32 - 1),
)
def test_every_solver_route_honours_the_groups_and_agrees(event, seed):
    """The LP routes (independent rounds, coupled faces, coupled bound rows) and the exact
    MILP fallback all honour the groups and reach the same levels."""
    workshops, rankings, groups = event
    owed = naive_candidates(workshops, rankings, groups)
    fast = allocate(workshops, rankings, seed, priority=groups)
    saved = (solver._solve_round, solver._solve_coupled, solver._solve_coupled_faces)
    try:
        solver._solve_coupled_faces = lambda *args: None  # the bound rows
        rows = allocate(workshops, rankings, seed, priority=groups)
        solver._solve_round = solver._solve_coupled = lambda *args: None  # the MILP
        exact = allocate(workshops, rankings, seed, priority=groups)
    finally:
        solver._solve_round, solver._solve_coupled, solver._solve_coupled_faces = saved
    depth = depth_of(workshops, rankings)
    for result in (rows, exact):
        assert_feasible(workshops, rankings, result)
        assert honours(workshops, owed, result.assignments)
        assert result.stats.objective(depth) == fast.stats.objective(depth)
