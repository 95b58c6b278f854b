"""Fairness over people: independent rounds solved per ranking type, then misses spread.

The levels count (attendee, round) pairs, so many allocations tie on all of them; the rule
here picks among those the ones that spread the misses over people (docs/ALLOCATION.md):
lexicographically, fewest attendees with nothing in K or more of their rounds, then K-1, ...,
then 2 (K is the most rounds anyone could miss). Only allocations already optimal on every
level qualify, so this never costs a seat or a better choice.

How. A round that no double session ties to another is a transportation problem, and
attendees with the same ranking are interchangeable, so it is solved per ranking *type*:
``x[t, k]`` is how many attendees of type t get their k-th choice (:class:`RoundModel`). The
solver's levels leave an optimal face per round (columns fixed at 0, rows made tight). On the
product of those faces one joint LP decides who misses: a miss token ``y[a, r]`` per attendee
and round (attendees who can miss at most one round in all share one token column per type,
they cannot reach two misses), and per attendee slack columns ``s[a, j]`` (j = 1, 2, ...) that
count their misses, so that "misses beyond j - 1" is the sum of ``s[a, j:]``. The matrix is
the incidence matrix of a bipartite graph (types against workshops and attendees) plus unit
columns, totally unimodular, so each fairness level is an LP whose optimal face is cut out by
its duals, as the rank levels are, and the final lottery LP (seeded random weights on the
type columns and the miss tokens) has an integral optimum. Within a type, who gets which of
the type's choices is a seeded permutation. Rounds coupled by a double session are solved
first, per attendee (solver.py); their misses count here as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .problem import Problem

_DUAL_THRESHOLD = 0.5
_INTEGRALITY_TOLERANCE = 1e-6


@dataclass
class RoundModel:
    """One independent round per ranking type: rows are types (at most their head count get
    a workshop), then workshops (at most their capacity), then one row per priority workshop
    (its candidates get exactly the seats they are owed, priority.py); columns are (type,
    rank) pairs. A type is a ranking and, for a priority candidate, the workshop they have
    priority in, so candidates never share a type with others."""

    key: str
    members: list[np.ndarray]  # pair indices of each type, canonical order
    matrix: sparse.csr_matrix
    rhs: np.ndarray
    rank: np.ndarray  # 0-based rank of each column
    col_type: np.ndarray
    col_workshop: np.ndarray
    n_types: int
    # Rows that are equalities from the start (the priority rows):
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # The optimal face of the levels, filled in by the solver:
    upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tight: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    targets: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (level, optimum)


def round_models(problem: Problem, keys: list[str]) -> list[RoundModel]:
    """A :class:`RoundModel` for each round in ``keys`` that has a ranked workshop."""
    wanted = set(keys)
    types: dict[str, dict[tuple, list[int]]] = {k: {} for k in keys}
    tag = problem.priority_of
    for p, ((_attendee, key), choices) in enumerate(
        zip(problem.pairs, problem.choices, strict=True)
    ):
        if choices and key in wanted:
            types[key].setdefault((choices, tag.get(p)) if tag else choices, []).append(p)
    models = []
    for key in keys:
        if not types[key]:
            continue
        kinds = list(types[key])
        rankings = [k[0] for k in kinds] if tag else kinds
        lengths = np.fromiter((len(c) for c in rankings), dtype=np.int64, count=len(kinds))
        col_type = np.repeat(np.arange(len(kinds)), lengths)
        col_workshop = np.fromiter((w for c in rankings for w in c), dtype=np.int64)
        rank = np.concatenate([np.arange(n) for n in lengths])
        ws_ids, ws_row = np.unique(col_workshop, return_inverse=True)
        n = col_type.size
        rows = [col_type, len(kinds) + ws_row]
        cols = [np.arange(n), np.arange(n)]
        counts = np.fromiter((len(types[key][c]) for c in kinds), dtype=float, count=len(kinds))
        capacity = np.fromiter(
            (problem.workshops[int(w)].capacity for w in ws_ids), dtype=float, count=ws_ids.size
        )
        rhs = [counts, capacity]
        n_rows = len(kinds) + ws_ids.size
        if tag:
            col_tag = np.asarray([-1 if kinds[t][1] is None else kinds[t][1] for t in col_type])
            owed = [int(w) for w in ws_ids if int(w) in problem.priority]
            for i, wid in enumerate(owed):
                hits = np.flatnonzero((col_workshop == wid) & (col_tag == wid))
                rows.append(np.full(hits.size, n_rows + i))
                cols.append(hits)
            rhs.append(np.asarray([problem.priority_seats(w) for w in owed], dtype=float))
            n_rows += len(owed)
        row_idx, col_idx = np.concatenate(rows), np.concatenate(cols)
        matrix = sparse.csr_matrix((np.ones(row_idx.size), (row_idx, col_idx)), shape=(n_rows, n))
        fixed = np.zeros(n_rows, dtype=bool)
        fixed[len(kinds) + ws_ids.size :] = True
        models.append(
            RoundModel(
                key=key,
                members=[np.asarray(types[key][c], dtype=np.int64) for c in kinds],
                matrix=matrix,
                rhs=np.concatenate(rhs),
                rank=rank,
                col_type=col_type,
                col_workshop=col_workshop,
                n_types=len(kinds),
                fixed=fixed,
            )
        )
    return models


@dataclass
class _Joint:
    """The joint LP over every independent round's optimal face (see the module docstring)."""

    matrix: sparse.csr_matrix
    rhs: np.ndarray
    tight: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    x_cols: list[np.ndarray]  # per round: the joint column of each kept type column
    x_keep: list[np.ndarray]  # per round: which type columns are kept (not fixed at 0)
    y_pair: np.ndarray  # pair index of each individual miss token
    y_col0: int
    absorb: list[tuple[int, int, np.ndarray]]  # (round, type, members who share a column)
    absorb_col0: int
    s_level: np.ndarray  # j of each slack column (1-based)
    s_col0: int


def _build_joint(problem: Problem, models: list[RoundModel], fixed: dict[int, int]) -> _Joint:
    attendee_of = np.fromiter((a for a, _k in problem.pairs), dtype=np.int64)
    # Who can miss where: a type whose row is not tight may leave some of its members out.
    can_miss: dict[int, int] = dict(fixed)
    for m in models:
        for t in np.flatnonzero(~m.tight[: m.n_types]):
            for a in attendee_of[m.members[t]]:
                can_miss[int(a)] = can_miss.get(int(a), 0) + 1
    individual = sorted(a for a, n in can_miss.items() if n >= 2)
    attendee_row = {a: i for i, a in enumerate(individual)}

    rows, cols, vals = [], [], []
    rhs, tight, lower, upper = [], [], [], []
    x_cols, x_keep = [], []
    n_rows = n_cols = 0
    type_row0 = []
    for m in models:
        keep = m.upper > 0
        sub = m.matrix[:, keep].tocoo()
        rows.append(sub.row + n_rows)
        cols.append(sub.col + n_cols)
        vals.append(sub.data)
        x_keep.append(keep)
        x_cols.append(n_cols + np.arange(int(keep.sum())))
        n_cols += int(keep.sum())
        lower.append(np.zeros(int(keep.sum())))
        upper.append(np.full(int(keep.sum()), np.inf))
        type_row0.append(n_rows)
        rhs.append(m.rhs)
        row_tight = m.tight.copy()
        row_tight[: m.n_types] = True  # type rows become equalities: the tokens take the slack
        tight.append(row_tight)
        n_rows += m.rhs.size

    y_pair, y_rows, y_att = [], [], []
    absorb = []
    for i, m in enumerate(models):
        for t in np.flatnonzero(~m.tight[: m.n_types]):
            members = m.members[t]
            solo = np.asarray([attendee_of[p] in attendee_row for p in members], dtype=bool)
            y_pair.extend(int(p) for p in members[solo])
            y_rows.extend([type_row0[i] + int(t)] * int(solo.sum()))
            y_att.extend(attendee_row[int(a)] for a in attendee_of[members[solo]])
            if (~solo).any():
                absorb.append((i, int(t), members[~solo]))
    y_col0 = n_cols
    n_y = len(y_pair)
    att_row0 = n_rows
    rows += [np.asarray(y_rows, dtype=np.int64), att_row0 + np.asarray(y_att, dtype=np.int64)]
    cols += [y_col0 + np.arange(n_y)] * 2
    vals += [np.ones(n_y), np.ones(n_y)]
    lower.append(np.zeros(n_y))
    upper.append(np.ones(n_y))
    n_cols += n_y

    absorb_col0 = n_cols
    rows.append(np.asarray([type_row0[i] + t for i, t, _m in absorb], dtype=np.int64))
    cols.append(absorb_col0 + np.arange(len(absorb)))
    vals.append(np.ones(len(absorb)))
    lower.append(np.zeros(len(absorb)))
    upper.append(np.asarray([float(len(mem)) for _i, _t, mem in absorb]))
    n_cols += len(absorb)

    s_col0 = n_cols
    width = np.asarray([can_miss[a] for a in individual], dtype=np.int64)
    s_level = np.concatenate([np.arange(1, w + 1) for w in width]) if individual else np.zeros(0)
    n_s = int(width.sum())
    rows.append(att_row0 + np.repeat(np.arange(len(individual)), width))
    cols.append(s_col0 + np.arange(n_s))
    vals.append(-np.ones(n_s))
    lower.append(np.zeros(n_s))
    upper.append(np.ones(n_s))
    n_cols += n_s
    rhs.append(-np.asarray([float(fixed.get(a, 0)) for a in individual]))
    tight.append(np.ones(len(individual), dtype=bool))
    n_rows += len(individual)

    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )
    return _Joint(
        matrix=matrix,
        rhs=np.concatenate(rhs),
        tight=np.concatenate(tight),
        lower=np.concatenate(lower),
        upper=np.concatenate(upper),
        x_cols=x_cols,
        x_keep=x_keep,
        y_pair=np.asarray(y_pair, dtype=np.int64),
        y_col0=y_col0,
        absorb=absorb,
        absorb_col0=absorb_col0,
        s_level=np.asarray(s_level, dtype=np.int64),
        s_col0=s_col0,
    )


def integral_solution(res: Any) -> np.ndarray | None:
    """The LP's solution rounded, if HiGHS found one and it is integral (as a vertex of these
    totally unimodular models is); else None, and the caller falls back."""
    if res.status != 0 or res.x is None:
        return None
    x = np.asarray(res.x)
    rounded = np.rint(x)
    if np.abs(x - rounded).max(initial=0.0) > _INTEGRALITY_TOLERANCE:
        return None
    return rounded


def highs_lp(c, matrix, rhs, tight, lower, upper, method: str = "highs-ipm") -> Any:
    """Maximise ``c @ x`` s.t. rows <= rhs (== where ``tight``), lower <= x <= upper.

    Both HiGHS methods end on a vertex (basic duals, integral for these totally unimodular
    models): the dual simplex directly, the interior point method after crossover, measured
    two to three times faster here; the simplex is the fallback when it stalls.
    """
    loose = ~tight
    res = linprog(
        -c,
        A_ub=matrix[loose] if loose.any() else None,
        b_ub=rhs[loose] if loose.any() else None,
        A_eq=matrix[tight] if tight.any() else None,
        b_eq=rhs[tight] if tight.any() else None,
        bounds=np.column_stack([lower, upper]),
        method=method,
    )
    if res.status != 0 and method != "highs-ds":
        return highs_lp(c, matrix, rhs, tight, lower, upper, "highs-ds")
    return res


def fairness_levels(s_level: np.ndarray, s_col0: int, n_cols: int) -> list[np.ndarray]:
    """Maximisation objectives, worst first: minus the misses beyond K-1, ..., beyond 1."""
    levels = []
    for k in range(int(s_level.max(initial=0)), 1, -1):
        c = np.zeros(n_cols)
        c[s_col0 + np.flatnonzero(s_level >= k)] = -1.0
        levels.append(c)
    return levels


def spread_misses(
    problem: Problem,
    models: list[RoundModel],
    fixed: dict[int, int],
    rng: np.random.Generator,
) -> dict[int, int | None] | None:
    """Workshop (or None) per pair index of the independent rounds, or None if the LP route
    cannot certify an integral optimum (the caller then uses :func:`milp_rounds`)."""
    if not models:
        return {}
    joint = _build_joint(problem, models, fixed)
    n = joint.matrix.shape[1]
    if n == 0:
        return _distribute(models, joint, np.zeros(0), rng)
    lower, upper, tight = joint.lower.copy(), joint.upper.copy(), joint.tight.copy()
    targets = []
    for c in fairness_levels(joint.s_level, joint.s_col0, n):
        res = highs_lp(c, joint.matrix, joint.rhs, tight, lower, upper)
        if res.status != 0:
            return None
        targets.append((c, -res.fun))
        at_lower = np.asarray(res.lower.marginals) > _DUAL_THRESHOLD
        at_upper = np.asarray(res.upper.marginals) < -_DUAL_THRESHOLD
        upper = np.where(at_lower, lower, upper)
        lower = np.where(at_upper, upper, lower)
        if (~tight).any():
            duals = np.zeros(tight.size)
            duals[~tight] = res.ineqlin.marginals
            tight = tight | (np.abs(duals) > _DUAL_THRESHOLD)
    lottery = np.zeros(n)
    lottery[: joint.s_col0] = rng.random(joint.s_col0)
    res = highs_lp(lottery, joint.matrix, joint.rhs, tight, lower, upper)
    rounded = integral_solution(res)
    if rounded is None:
        return None
    if np.any(joint.matrix @ rounded > joint.rhs + 0.5) or np.any(
        np.abs(joint.matrix[joint.tight] @ rounded - joint.rhs[joint.tight]) > 0.5
    ):
        return None
    if any(c @ rounded < best - 0.5 for c, best in targets):
        return None
    for m, cols, keep in zip(models, joint.x_cols, joint.x_keep, strict=True):
        counts = np.zeros(m.rank.size)
        counts[keep] = rounded[cols]
        if any(c @ counts < best - 0.5 for c, best in m.targets):
            return None  # a misread dual cut a level below its optimum
    return _distribute(models, joint, rounded, rng)


def _distribute(models, joint: _Joint, x: np.ndarray, rng) -> dict[int, int | None]:
    """Turn type counts and miss tokens into one workshop (or None) per pair."""
    missing = set(joint.y_pair[x[joint.y_col0 : joint.y_col0 + joint.y_pair.size] > 0.5].tolist())
    for j, (_i, _t, members) in enumerate(joint.absorb):
        count = int(x[joint.absorb_col0 + j])
        missing.update(rng.permutation(members)[:count].tolist())
    result: dict[int, int | None] = {}
    for m, cols, keep in zip(models, joint.x_cols, joint.x_keep, strict=True):
        counts = np.zeros(m.rank.size, dtype=np.int64)
        counts[keep] = np.rint(x[cols]).astype(np.int64)
        gets_all = np.repeat(m.col_workshop, counts).tolist()
        ends = np.cumsum(np.bincount(m.col_type, weights=counts, minlength=m.n_types)).astype(int)
        start = 0
        for t, members in enumerate(m.members):
            gets = gets_all[start : ends[t]]
            start = ends[t]
            listed = members.tolist()
            result.update(dict.fromkeys(listed))
            seated = [p for p in listed if p not in missing] if missing else listed
            if len(seated) != len(gets):
                raise RuntimeError("fairness LP seats a type's members inconsistently")
            if gets:
                order = rng.permutation(len(seated)).tolist()
                result.update({seated[i]: w for i, w in zip(order, gets, strict=True)})
    return result


def milp_rounds(
    problem: Problem, keys: list[str], fixed: dict[int, int], rng: np.random.Generator
) -> dict[int, int | None]:
    """Exact fallback for the independent rounds, per attendee: seats, ranks, then the
    fairness levels, then a lottery, each a MILP (HiGHS) with the levels above as constraints.
    """
    wanted = set(keys)
    pairs = [p for p, (_a, k) in enumerate(problem.pairs) if k in wanted and problem.choices[p]]
    if not pairs:
        return {}
    var_pair = np.asarray([p for p in pairs for _ in problem.choices[p]], dtype=np.int64)
    var_rank = np.asarray([k for p in pairs for k in range(len(problem.choices[p]))])
    var_ws = [w for p in pairs for w in problem.choices[p]]
    attendees = sorted({problem.pairs[p][0] for p in pairs})
    a_index = {a: i for i, a in enumerate(attendees)}
    per_attendee = np.bincount(
        [a_index[problem.pairs[p][0]] for p in pairs], minlength=len(attendees)
    )
    width = np.asarray([per_attendee[i] + fixed.get(a, 0) for i, a in enumerate(attendees)])
    nx, ns = var_pair.size, int(width.sum())
    s_level = np.concatenate([np.arange(1, w + 1) for w in width]) if attendees else np.zeros(0)
    ws_ids = sorted(set(var_ws))
    ws_row = {w: i for i, w in enumerate(ws_ids)}
    pair_row = {p: i for i, p in enumerate(pairs)}
    own = sparse.csr_matrix(
        (np.ones(nx), ([pair_row[int(p)] for p in var_pair], np.arange(nx))),
        shape=(len(pairs), nx + ns),
    )
    cap = sparse.csr_matrix(
        (np.ones(nx), ([ws_row[w] for w in var_ws], np.arange(nx))),
        shape=(len(ws_ids), nx + ns),
    )
    att_rows = np.concatenate(
        [
            [a_index[problem.pairs[int(p)][0]] for p in var_pair],
            np.repeat(np.arange(len(width)), width),
        ]
    )
    people = sparse.csr_matrix(
        (np.ones(nx + ns), (att_rows.astype(np.int64), np.arange(nx + ns))),
        shape=(len(attendees), nx + ns),
    )
    constraints = [
        LinearConstraint(own, -np.inf, 1),
        LinearConstraint(cap, -np.inf, [problem.workshops[w].capacity for w in ws_ids]),
        LinearConstraint(people, width, width),  # seats + misses (incl. fixed) = width
        *_priority_constraints(problem, var_pair, var_ws, nx + ns),
    ]
    levels = [np.concatenate([np.ones(nx), np.zeros(ns)])]
    for k in range(problem.max_rank - 1):
        levels.append(np.concatenate([(var_rank == k).astype(float), np.zeros(ns)]))
    levels += [np.concatenate([np.zeros(nx), c[:ns]]) for c in fairness_levels(s_level, 0, ns)]
    lottery = np.concatenate([rng.random(nx), np.zeros(ns)])
    x = np.zeros(nx + ns)
    for c in [*levels, lottery]:
        res = milp(
            -c,
            integrality=np.ones(nx + ns),
            bounds=Bounds(0, 1),
            constraints=constraints,
            options={"mip_rel_gap": 0.0},
        )
        if res.status != 0 or res.x is None:
            raise RuntimeError(f"HiGHS MILP failed: {res.message}")
        x = np.rint(res.x)
        if c is not lottery:
            constraints.append(LinearConstraint(sparse.csr_matrix(c), float(c @ x), np.inf))
    result: dict[int, int | None] = dict.fromkeys(pairs)
    for j in np.flatnonzero(x[:nx] > 0.5):
        result[int(var_pair[j])] = var_ws[j]
    return result


def _priority_constraints(problem: Problem, var_pair, var_ws, n: int) -> list[LinearConstraint]:
    """Each priority workshop's candidates get exactly the seats they are owed."""
    constraints = []
    ws = np.asarray(var_ws, dtype=np.int64)
    for wid, owed in problem.priority.items():
        hits = np.flatnonzero((ws == wid) & np.isin(var_pair, owed))
        if hits.size:
            row = sparse.csr_matrix((np.ones(hits.size), (np.zeros(hits.size), hits)), shape=(1, n))
            seats = problem.priority_seats(wid)
            constraints.append(LinearConstraint(row, seats, seats))
    return constraints
