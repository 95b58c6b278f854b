"""`flask allocate EVENT --verify RUN`, the audit anyone can repeat: a stored run recomputed
from its stored inputs and seed, its places and its figures compared with what is stored;
altered data is named, and data altered beyond reading is a clear error, not a traceback."""

import copy

import pytest
from flask_babel import force_locale

from eventapp.extensions import db
from eventapp.services.allocation import runs as allocation
from eventapp.services.registration.register import RegistrationInput, register


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def run(make_event, make_session, now):
    """One round, A1 and A2 with a seat each; Ann, Bob and Cy rank A1 then A2."""
    event = make_event(allocation_mode="preferences")
    a1 = make_session(event, start=2, capacity=1, title="A1")
    a2 = make_session(event, start=2, capacity=1, title="A2")
    key = allocation.rounds_of(event)[0].key
    for name in ("Ann", "Bob", "Cy"):
        register(
            event,
            RegistrationInput(
                name=name,
                email=f"{name.lower()}@example.org",
                consent=True,
                preferences={key: [a1.id, a2.id]},
            ),
            now,
        )
    run = allocation.dry_run(event, 5, now=now)
    db.session.commit()
    return run


def verify(runner, run):
    return runner.invoke(args=["allocate", run.event.slug, "--verify", str(run.id)])


def test_an_untouched_run_matches(runner, run):
    result = verify(runner, run)
    assert result.exit_code == 0, result.output
    assert "It matches the stored result, seat for seat." in result.output


def test_altered_figures_are_found(runner, run):
    """The stored figures are what the organiser page, the CLI table and the API show, the
    optimum against both baselines: altering one (first come, first served made to look
    worse) must not pass the audit. Before, only the places were compared."""
    stats = copy.deepcopy(run.stats)
    stats["first_come_first_served"]["first"] = 0
    run.stats = stats
    db.session.commit()
    result = verify(runner, run)
    assert result.exit_code == 1
    assert "first come, first served, first: stored 0, recomputed 1" in result.output
    assert not allocation.verify_run(run).differences  # every place still matches


def test_an_altered_place_is_found(runner, run):
    result_data = copy.deepcopy(run.result)
    seated = next(a for a in result_data["assignments"] if a["workshop_id"] is not None)
    seated["workshop_id"] = None
    run.result = result_data
    db.session.commit()
    result = verify(runner, run)
    assert result.exit_code == 1
    assert "It does NOT match: 1 place(s) differ." in result.output


@pytest.mark.parametrize(
    "damage",
    [
        lambda inputs: inputs["workshops"][0].update(capacity=-1),
        lambda inputs: inputs["workshops"][0].pop("round_key"),
        lambda inputs: inputs["rankings"][0].update(choices="A1"),
    ],
    ids=["negative-capacity", "missing-round", "choices-not-a-list"],
)
def test_stored_inputs_altered_beyond_reading_are_a_clear_error(runner, run, damage):
    inputs = copy.deepcopy(run.inputs)
    damage(inputs)
    run.inputs = inputs
    db.session.commit()
    result = verify(runner, run)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert f"The stored data of run {run.id} cannot be read" in result.output


def test_a_run_states_the_allocation_rules_it_was_made_under(runner, run):
    """Allocation round two changed the rules (a double session's rounds join the fairness
    level), so a run made before may replay differently: the run stores its rules' number
    and the audit names it."""
    assert run.inputs["versions"]["rules"] == 2
    result = verify(runner, run)
    assert result.exit_code == 0
    assert "allocation rules 2)" in result.output
    assert "Note:" not in result.output


def test_a_differing_run_made_under_earlier_rules_says_so(runner, run):
    """A run stored before the rules were numbered (no "rules") is rules 1: if it does not
    replay, the audit still fails, but says that earlier rules may be the whole reason."""
    inputs = copy.deepcopy(run.inputs)
    del inputs["versions"]["rules"]
    result_data = copy.deepcopy(run.result)
    seated = next(a for a in result_data["assignments"] if a["workshop_id"] is not None)
    seated["workshop_id"] = None
    run.inputs, run.result = inputs, result_data
    db.session.commit()
    result = verify(runner, run)
    assert result.exit_code == 1
    assert "allocation rules 1)" in result.output
    assert "made under allocation rules 1, before today's rules 2" in result.output
    assert "It does NOT match: 1 place(s) differ." in result.output
