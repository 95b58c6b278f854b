"""Registration questions over HTTP (issue 19.3): on the form, on the private page and in
the API, checked by the service with errors beside each question, nothing written on error."""

import re

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Answer, Attendee
from eventapp.models.types import utcnow
from eventapp.services.registration import answers
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.questions_support import GOOD_ANSWERS, event_asking


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def asked(make_event, make_session, now):
    return event_asking(make_event, make_session, now)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def form_data(session, **answers_given):
    return {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "plenary": [str(session.id)],
        "consent": "y",
        **answers_given,
    }


def sign_up(event, session, given=GOOD_ANSWERS):
    result = registration.register(
        event,
        RegistrationInput(
            name="Ada",
            email="ada@example.org",
            session_ids=[session.id],
            consent=True,
            answers=given,
            locale="en",
        ),
        utcnow(),
    )
    db.session.commit()
    return result.attendee, result.manage_token


def test_the_form_asks_each_question_by_its_kind(client, asked):
    page = client.get("/events/si/register").get_data(as_text=True)

    # Choice groups are fieldsets with the question as legend; optional ones say so.
    assert re.search(r"<legend>Which hub do you belong to\?</legend>", page)
    assert "<legend>Dietary needs (optional)</legend>" in page
    assert '<input id="answers.diet-1" name="answers.diet" type="checkbox" value="vegan">' in page
    assert re.search(r'<input[^>]*name="answers.hub" type="radio" value="south"', page)
    assert 'value="">No answer' not in page.split("answers.hub")[1].split("</fieldset>")[0]
    assert re.search(r'<label for="answers.badge">Name on your badge \(optional\)</label>', page)
    assert re.search(r'<textarea[^>]*name="answers.access"', page)


def test_the_form_in_dutch_asks_in_dutch(client, asked):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    page = client.get("/events/si/register").get_data(as_text=True)
    assert "<legend>Bij welke hub hoor je?</legend>" in page
    assert "Veganistisch" in page and "Dieetwensen (optioneel)" in page


def test_registering_with_answers_stores_them(client, asked):
    _event, session = asked
    data = form_data(
        session,
        **{
            "answers.hub": "east",
            "answers.diet": ["vegetarian", "gluten-free"],
            "answers.photos": "no",
            "answers.badge": "  Ada  ",
            "answers.access": "",
        },
    )
    response = client.post("/events/si/register", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    attendee = db.session.scalar(select(Attendee))
    assert answers.answers_by_key(attendee) == {
        "hub": "east",
        "diet": ["vegetarian", "gluten-free"],
        "photos": False,
        "badge": "Ada",
    }


def test_a_wrong_or_missing_answer_shows_beside_its_question(client, asked):
    _event, session = asked
    data = form_data(session, **{"answers.hub": "west", "answers.badge": "x" * 201})
    response = client.post("/events/si/register", data=data)
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert '<p class="error" id="answers.hub-error">Choose one of the offered answers.</p>' in page
    assert 'id="answers.photos-error">This field is required.' in page
    assert 'id="answers.badge-error">At most 200 characters.' in page
    # The summary links to the first option of a group.
    assert 'href="#answers.hub-0">Which hub do you belong to?: Choose one' in page
    assert count(Attendee) == 0 and count(Answer) == 0


def test_the_private_page_shows_and_changes_the_answers(client, asked):
    event, session = asked
    attendee, token = sign_up(event, session)
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "Your answers" in page
    assert re.search(r'<input checked id="answers.hub-1"[^>]*value="south"', page)
    assert re.search(r'<input checked id="answers.photos-1"[^>]*value="no"', page)

    changed = {
        "answers.hub": "north",
        "answers.photos": "yes",
        "answers.diet": ["vegan", "vegetarian"],
    }
    response = client.post(f"/manage/{token}/answers", data=changed)
    assert response.status_code == 303
    assert answers.answers_by_key(attendee) == {
        "hub": "north",
        "photos": True,
        "diet": ["vegetarian", "vegan"],
    }


def test_a_wrong_change_on_the_private_page_changes_nothing(client, asked):
    event, session = asked
    attendee, token = sign_up(event, session)
    response = client.post(
        f"/manage/{token}/answers", data={"answers.hub": "", "answers.badge": "Ada"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="answers.hub-error">This field is required.' in page
    db.session.expire_all()
    assert answers.answers_by_key(attendee) == GOOD_ANSWERS


def test_an_event_without_questions_has_no_answers_section(client, make_event, make_session):
    event = make_event(slug="plain")
    session = make_session(event)
    _attendee, token = sign_up(event, session, given=None)
    assert "Your answers" not in client.get(f"/manage/{token}").get_data(as_text=True)
    assert client.post(f"/manage/{token}/answers", data={}).status_code == 404


def api_body(session, **overrides):
    return {
        "name": "Ada",
        "email": "ada@example.org",
        "session_ids": [session.id],
        "consent": True,
        **overrides,
    }


def test_the_api_lists_the_questions_and_takes_the_answers(client, asked):
    _event, session = asked
    listed = client.get("/api/v1/events/si/questions").get_json()["questions"]
    assert [q["key"] for q in listed] == ["hub", "diet", "photos", "badge", "access"]
    assert listed[0]["choices"][1] == {"key": "south", "nl": "Zuid", "en": "South"}
    assert listed[0]["required"] is True and listed[0]["kind"] == "one_choice"

    created = client.post(
        "/api/v1/events/si/registrations", json=api_body(session, answers=GOOD_ANSWERS)
    )
    assert created.status_code == 201, created.get_json()
    reply = created.get_json()
    assert reply["answers"] == GOOD_ANSWERS
    token = reply["manage_url"].rsplit("/", 1)[1]

    changed = client.patch(f"/api/v1/registrations/{token}", json={"answers": {"badge": "Ada"}})
    assert changed.status_code == 200
    assert changed.get_json()["answers"] == {**GOOD_ANSWERS, "badge": "Ada"}
    assert client.get(f"/api/v1/registrations/{token}").get_json()["answers"]["badge"] == "Ada"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"diet": ["vegan"]}, "answers.hub"),
        ({**GOOD_ANSWERS, "hub": "west"}, "answers.hub"),
        ({**GOOD_ANSWERS, "photos": "no"}, "answers.photos"),
        ({**GOOD_ANSWERS, "hub": 3}, "answers"),
        ({**GOOD_ANSWERS, "unknown": "x"}, "answers"),
        (["hub"], "answers"),
    ],
)
def test_a_wrong_answer_in_the_api_is_a_422_naming_it(client, asked, given, field):
    _event, session = asked
    response = client.post("/api/v1/events/si/registrations", json=api_body(session, answers=given))
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert count(Attendee) == 0


def test_a_wrong_patch_changes_neither_answers_nor_details(client, asked):
    event, session = asked
    attendee, token = sign_up(event, session)
    response = client.patch(
        f"/api/v1/registrations/{token}", json={"name": "Mallory", "answers": {"hub": "west"}}
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"answers.hub": ["Choose one of the offered answers."]}
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).name == "Ada"
    assert answers.answers_by_key(attendee) == GOOD_ANSWERS


def test_the_openapi_document_describes_the_answers_and_the_question_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    registration_in = next(v for k, v in schemas.items() if k.startswith("RegistrationIn"))
    assert "question key" in registration_in["properties"]["answers"]["description"]
    assert registration_in["properties"]["answers"]["maxProperties"] == 50
    assert {"get", "post"} <= set(document["paths"]["/api/v1/events/{slug}/questions"])
    assert {"patch", "delete"} <= set(
        document["paths"]["/api/v1/events/{slug}/questions/{question_id}"]
    )
    question_in = next(v for k, v in schemas.items() if k.startswith("QuestionIn"))
    assert question_in["properties"]["kind"]["enum"] == [
        "short_text",
        "long_text",
        "one_choice",
        "several_choices",
        "yes_no",
    ]


@pytest.fixture
def api(client, make_organiser, api_token):
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}

    def call(method, path, json=None):
        return client.open(path, method=method, json=json, headers=headers)

    return call


def test_organisers_manage_questions_through_the_api(api, asked):
    event, session = asked
    made = api(
        "POST",
        "/api/v1/events/si/questions",
        {
            "kind": "one_choice",
            "text_en": "Lunch?",
            "required": True,
            "position": 1,
            "choices": [{"nl": "Ja", "en": "Yes"}, {"key": "none", "en": "No lunch"}],
        },
    )
    assert made.status_code == 201, made.get_json()
    question = made.get_json()
    assert question["key"] == "lunch" and question["position"] == 1
    assert [c["key"] for c in question["choices"]] == ["yes", "none"]

    edited = api("PATCH", f"/api/v1/events/si/questions/{question['id']}", {"text_nl": "Lunch?"})
    assert edited.get_json()["text_nl"] == "Lunch?"
    bad = api("PATCH", f"/api/v1/events/si/questions/{question['id']}", {"kind": "essay"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["fields"]

    sign_up(event, session, given={**GOOD_ANSWERS, "lunch": "none"})
    removed = api("DELETE", f"/api/v1/events/si/questions/{question['id']}")
    assert removed.get_json() == {"id": question["id"], "key": "lunch", "outcome": "archived"}
    listed = api("GET", "/api/v1/events/si/questions/all").get_json()["questions"]
    assert [(q["key"], q["archived"], q["answers"]) for q in listed][-1] == ("lunch", True, 1)
    assert "lunch" not in [
        q["key"] for q in api("GET", "/api/v1/events/si/questions").get_json()["questions"]
    ]
    restored = api("PATCH", f"/api/v1/events/si/questions/{question['id']}", {})
    assert restored.get_json()["archived"] is False

    unused = api("POST", "/api/v1/events/si/questions", {"kind": "yes_no", "text_en": "Parking?"})
    gone = api("DELETE", f"/api/v1/events/si/questions/{unused.get_json()['id']}")
    assert gone.get_json()["outcome"] == "deleted"


def test_the_question_api_is_for_the_events_own_organisers(
    client, asked, make_event, make_organiser, api_token
):
    other_team = make_organiser(email="other@example.org", events=[])
    headers = {"Authorization": f"Bearer {api_token(other_team)}"}
    assert client.get("/api/v1/events/si/questions/all", headers=headers).status_code == 403
    response = client.post(
        "/api/v1/events/si/questions", json={"kind": "yes_no", "text_en": "?"}, headers=headers
    )
    assert response.status_code == 403
    assert client.get("/api/v1/events/si/questions/all").status_code == 401


def test_one_submit_shows_the_answer_errors_with_the_forms_own(client, asked):
    """The name missing (the form's own check) and the hub missing (the service's) together."""
    _event, session = asked
    response = client.post("/events/si/register", data=form_data(session, name=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="name-error">This field is required.' in page
    assert 'id="answers.hub-error">This field is required.' in page
    assert page.count('id="answers.hub-error"') == 1
    assert count(Attendee) == 0
