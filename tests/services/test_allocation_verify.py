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
