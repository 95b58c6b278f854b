"""The audit anyone can repeat: a stored run recomputed from its stored inputs and seed.

``flask allocate EVENT --verify RUN`` (allocation_cli.py) calls :func:`verify_run`: the
optimum replayed seat for seat, both baselines and every stored figure recomputed; stored
data that cannot be read any more is an AllocationError that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from ...models import AllocationRun
from .baselines import first_come_first_served, random_serial_dictatorship
from .inputs import stored_inputs
from .preferences import AllocationError
from .problem import METHOD_FCFS, METHOD_OPTIMAL, METHOD_RSD, METHODS
from .quality import RULES_VERSION
from .solver import allocate


def replay(run: AllocationRun):
    """Run the solver again on the run's stored inputs and seed (for audit): an Allocation."""
    inputs = stored_inputs(run)
    return allocate(inputs.workshops, inputs.rankings, run.seed, inputs.held, inputs.priority)


@dataclass(frozen=True)
class Verification:
    """A stored run recomputed from its stored inputs and seed, compared seat for seat, and
    its stored figures (the optimum's and both baselines', as the page, the CLI and the API
    show them) compared with the recomputed ones."""

    run: AllocationRun
    pairs: int
    differences: list[tuple[int, str, int | None, int | None]]  # attendee, round, stored, now
    figures: list[tuple[str, str, object, object]]  # method, figure, stored, recomputed

    @property
    def matches(self) -> bool:
        return not self.differences and not self.figures

    @property
    def rules(self) -> int:
        """The fairness rules the run was made under (runs before numbering: 1)."""
        versions = self.run.inputs.get("versions") if isinstance(self.run.inputs, dict) else None
        rules = versions.get("rules", 1) if isinstance(versions, dict) else 1
        return rules if isinstance(rules, int) and not isinstance(rules, bool) else 1

    @property
    def earlier_rules(self) -> bool:
        """Made under earlier rules than today's solver: a difference may be that alone."""
        return self.rules < RULES_VERSION


# Figures that depend on the machine, not on the inputs: never compared.
_UNREPEATABLE_FIGURES = frozenset({"wall_time_s"})


def verify_run(run: AllocationRun) -> Verification:
    """Anyone can repeat the allocation: the same inputs and seed must give the same result.

    A mismatch means the solver or its libraries changed since (the run stores the NumPy and
    SciPy versions it used), or the stored result or figures were altered. Stored data that
    cannot be read (altered into something the solver refuses) is an AllocationError that
    says so, not a crash."""
    try:
        stored = {
            (int(a["attendee_id"]), str(a["round_key"])): a["workshop_id"]
            for a in run.result["assignments"]
        }
        inputs = stored_inputs(run)
        optimum = replay(run)
        recomputed = {METHOD_OPTIMAL: optimum.stats}
        if "arrival_order" in run.inputs:
            recomputed[METHOD_FCFS] = first_come_first_served(
                inputs.workshops,
                inputs.rankings,
                inputs.arrival_order,
                inputs.held,
                inputs.priority,
            ).stats
        recomputed[METHOD_RSD] = random_serial_dictatorship(
            inputs.workshops, inputs.rankings, run.seed, inputs.held, inputs.priority
        ).stats
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        detail = f"{type(error).__name__}: {error}"
        raise AllocationError(
            _(
                "The stored data of run %(run)d cannot be read (%(error)s): "
                "it was altered or is damaged.",
                run=run.id,
                error=detail,
            ),
            "unreadable_run",
        ) from None
    again = optimum.assignments
    differences = [
        (attendee, key, stored.get((attendee, key)), again.get((attendee, key)))
        for attendee, key in sorted(stored.keys() | again.keys())
        if stored.get((attendee, key)) != again.get((attendee, key))
    ]
    return Verification(run, len(stored), differences, _figure_differences(run, recomputed))


def _figure_differences(run: AllocationRun, recomputed: dict) -> list:
    """(method, figure, stored, recomputed) for every stored figure that differs; a figure a
    run made before it existed is absent from the stored stats and not compared."""
    differences = []
    stored_stats = run.stats if isinstance(run.stats, dict) else {}
    for method in METHODS:
        stored = stored_stats.get(method)
        if method not in recomputed or not isinstance(stored, dict):
            if method in recomputed and stored is not None:
                differences.append((method, "stats", stored, None))
            continue
        again = recomputed[method].to_dict()
        for figure in sorted(stored.keys() - _UNREPEATABLE_FIGURES):
            if figure in again and stored[figure] != again[figure]:
                differences.append((method, figure, stored[figure], again[figure]))
    return differences
