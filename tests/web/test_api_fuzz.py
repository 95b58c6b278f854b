"""schemathesis against /api/v1/openapi.json, in-process through the WSGI app.

Every operation of the API gets valid and invalid requests generated from the document
(with the event's real slug, session ids and private link mixed in, and an admin's bearer
token, so the requests get past the 404s and 401s). The promises: no 5xx ever, and a
rejected request (4xx) leaves every table exactly as it was.
"""

import hashlib

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import text

from eventapp.extensions import db
from eventapp.services.backoffice import accounts
from eventapp.services.registration import questions
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.security_support import end_transaction, other_app

EXAMPLES_PER_OPERATION = 8
# Columns a rejected request may touch without changing anything that matters.
VOLATILE = {("api_token", "last_used_at")}


def snapshot() -> dict[str, str]:
    """Per table: a checksum over every row (volatile columns left out)."""
    db.session.rollback()
    result = {}
    for table in db.metadata.sorted_tables:
        columns = [c.name for c in table.columns if (table.name, c.name) not in VOLATILE]
        rows = db.session.execute(
            text(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY 1")  # noqa: S608
        ).all()
        result[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    db.session.rollback()
    return result


@pytest.fixture
def seeded(app, make_event, make_session, make_room, make_organiser, now):
    event = make_event()
    room = make_room(event)
    sessions = [
        make_session(event, start=0, capacity=3, room=room),
        make_session(event, start=2, kind="plenary", capacity=100),
    ]
    result = registration.register(
        event,
        RegistrationInput(
            name="Ada", email="ada@example.org", session_ids=[s.id for s in sessions], consent=True
        ),
        now,
    )
    question = questions.create_question(
        None,
        event,
        {"kind": "one_choice", "text_en": "Hub?", "choices": [{"en": "North"}, {"en": "South"}]},
        now,
    )
    admin = make_organiser("admin")
    token = accounts.issue_api_token(admin.email, name="fuzz")
    db.session.commit()
    return {
        "slug": event.slug,
        "session_id": sessions[0].id,
        "id": sessions[0].id,
        "token": result.manage_token,
        "room_id": room.id,
        "bearer": token,
        "question_id": question.id,
    }


def with_known_values(known):
    """Half of the cases get path parameters that exist, so they reach the real work."""

    def fix(pair):
        case, use_known = pair
        if use_known and case.path_parameters:
            for name in list(case.path_parameters):
                if name in known:
                    case.path_parameters[name] = known[name]
        return case

    return fix


def test_the_api_never_answers_5xx_and_rejections_change_nothing(app, seeded, tmp_path):
    # Served by a second app, so each request has its own app context and database session
    # as in production (the `app` fixture keeps one context open for the whole test).
    end_transaction()
    with other_app(app, tmp_path) as served:
        fuzz(served, seeded)


def fuzz(served, seeded) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", served)
    headers = {"Authorization": f"Bearer {seeded['bearer']}"}
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
        strategy = st.tuples(cases, st.booleans()).map(with_known_values(seeded))
        run_cases(strategy, headers, failures)
    assert operations >= 10, "the OpenAPI document lists fewer operations than expected"
    assert not failures, "\n".join(failures[:20])


def run_cases(strategy, headers, failures) -> None:
    """Call the API with each generated case; record 5xx answers and 4xx that wrote."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        before = snapshot()
        response = case.call(headers=headers)
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 500:
            failures.append(f"{label}: {response.text[:300]}")
        elif 400 <= response.status_code < 500:
            after = snapshot()
            changed = [name for name in before if before[name] != after[name]]
            if changed:
                failures.append(f"{label} but changed {changed}")

    check()


def test_ids_beyond_the_database_range_are_404_not_an_overflow(client, seeded):
    """Found by the fuzzing above: a 34-digit session id crashed the SQLite driver."""
    headers = {"Authorization": f"Bearer {seeded['bearer']}"}
    huge = "2526194498386122486820017608327168"
    assert client.get(f"/api/v1/sessions/{huge}/waitlist", headers=headers).status_code == 404
    assert client.get(f"/events/{seeded['slug']}/sessions/{2**31}.ics").status_code == 404
    assert client.get(f"/events/{seeded['slug']}/sessions/{2**31 - 1}.ics").status_code == 404
    question = f"/api/v1/events/{seeded['slug']}/questions"
    # 405 for DELETE, as DELETE /sessions/<id> gets: werkzeug's matcher, once the converter
    # refuses the id, reports the other rule of the same path (PATCH). Never the driver's 500.
    assert client.delete(f"{question}/{2**31}", headers=headers).status_code in (404, 405)
    assert client.patch(f"{question}/{2**31}", json={}, headers=headers).status_code == 404
