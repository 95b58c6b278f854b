"""Independent rounds per ranking type, and the coupled rounds' part, as the joint fairness
model (fairness.py) takes them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .model import Model
from .problem import Problem


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


@dataclass
class CoupledPart:
    """Rounds a double session ties together, per attendee (model.py), on their levels'
    optimum (solver.py): the columns that may be non-zero, the rows that are tight, and the
    levels that must be imposed as rows because the face alone does not pin them. ``start``
    is an allocation certified optimal on the levels; it proves their targets are reachable
    and is the fallback if the joint fairness model cannot be certified."""

    model: Model
    variables: list[tuple[int, int]]  # (pair index, workshop id) of each global variable
    keep: np.ndarray  # model columns that may be non-zero (0/1 each)
    tight: np.ndarray  # model rows that are equalities
    levels: list[tuple[np.ndarray, float]]  # rows over model columns, each == its target
    targets: list[tuple[np.ndarray, float]]  # every level's optimum (for the certificate)
    lottery: np.ndarray  # seeded weights of the model's columns
    start: np.ndarray  # a certified optimum on the levels (0/1 per model column)

    def pairs(self) -> list[int]:
        """Pair indices of these rounds with a choice, in canonical order."""
        return list(dict.fromkeys(self.variables[v][0] for v in self.model.var_ids.tolist()))

    def assignments(self, x: np.ndarray) -> dict[int, int | None]:
        """Workshop (or None) per pair index of these rounds, from 0/1 column values."""
        result: dict[int, int | None] = dict.fromkeys(self.pairs())
        for j in np.flatnonzero(x > 0.5):
            p, wid = self.variables[int(self.model.var_ids[j])]
            if result[p] is not None:
                raise RuntimeError("solver gave a pair two workshops")
            result[p] = wid
        return result


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
