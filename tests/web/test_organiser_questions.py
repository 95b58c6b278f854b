"""The organiser's side of registration questions (issue 19.3): the questions page (add,
edit, reorder, remove or archive) behind the event's organiser role, the answers on the
attendee pages, and one column per question in the CSV and XLSX exports."""

import csv
import io
import re

import openpyxl
import pytest
from flask_babel import refresh
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry, Question
from eventapp.models.types import utcnow
from eventapp.services.registration import questions
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.questions_support import GOOD_ANSWERS, event_asking


@pytest.fixture
def asked(make_event, make_session, now):
    return event_asking(make_event, make_session, now)


@pytest.fixture
def organiser(client, make_organiser, login):
    client.get("/lang/en")
    return login(make_organiser("organiser"))


def sign_up(event, session, email, name, given):
    result = registration.register(
        event,
        RegistrationInput(
            name=name, email=email, session_ids=[session.id], consent=True, answers=given
        ),
        utcnow(),
    )
    db.session.commit()
    return result.attendee


def keys(event):
    db.session.expire_all()
    return [q.key for q in questions.questions_of(event)]


def test_the_questions_page_adds_edits_and_reorders(client, organiser, asked):
    event, _session = asked
    page = client.get("/organiser/events/si/questions").get_data(as_text=True)
    assert "Which hub do you belong to?" in page and "Bij welke hub hoor je?" in page
    assert 'aria-current="page">Questions' in page

    form = client.get("/organiser/events/si/questions/new").get_data(as_text=True)
    assert 'name="choices"' in form and 'name="key"' in form
    response = client.post(
        "/organiser/events/si/questions/new",
        data={
            "text_nl": "Lunch?",
            "text_en": "Lunch?",
            "kind": "one_choice",
            "choices": "Ja, graag | Yes, please\nNee | No",
            "required": "y",
        },
    )
    assert response.status_code == 303
    lunch = db.session.scalar(select(Question).where(Question.key == "lunch"))
    assert lunch.required and [c["key"] for c in lunch.choices] == ["yes-please", "no"]

    edit = client.get(f"/organiser/events/si/questions/{lunch.id}/edit").get_data(as_text=True)
    assert "yes-please = Ja, graag | Yes, please" in edit
    client.post(
        f"/organiser/events/si/questions/{lunch.id}/edit",
        data={
            "text_en": "Lunch",
            "kind": "one_choice",
            "choices": "yes-please = Ja | Yes\nno = Nee | No",
        },
    )
    db.session.expire_all()
    assert lunch.text_en == "Lunch" and not lunch.required
    assert lunch.choices[0] == {"key": "yes-please", "nl": "Ja", "en": "Yes"}

    assert client.post(f"/organiser/events/si/questions/{lunch.id}/up").status_code == 303
    assert keys(event)[-2:] == ["lunch", "access"]
    client.post(f"/organiser/events/si/questions/{lunch.id}/down")
    assert keys(event)[-1] == "lunch"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"question.created", "question.changed", "question.moved"} <= set(actions)


def test_a_wrong_question_shows_its_errors_and_saves_nothing(client, organiser, asked):
    response = client.post(
        "/organiser/events/si/questions/new",
        data={"text_nl": "", "text_en": "", "kind": "one_choice", "choices": "Only one"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="text_nl-error">Write the question in Dutch, English or both.' in page
    assert 'id="choices-error">Give at least two choices.' in page
    assert len(keys(asked[0])) == 5


def test_removing_deletes_an_unanswered_question_and_archives_an_answered_one(
    client, organiser, asked
):
    event, session = asked
    sign_up(event, session, "ada@example.org", "Ada", GOOD_ANSWERS)
    by_key = {q.key: q.id for q in questions.questions_of(event)}

    client.post(f"/organiser/events/si/questions/{by_key['badge']}/remove")
    client.post(f"/organiser/events/si/questions/{by_key['hub']}/remove")
    page = client.get("/organiser/events/si/questions").get_data(as_text=True)
    assert "the question is archived, their answers are kept" in page
    assert keys(event) == ["diet", "photos", "access"]
    assert db.session.get(Question, by_key["badge"]) is None
    archived = page.split("Archived questions")[1]
    assert "Which hub do you belong to?" in archived

    # Changing a chosen choice away is refused with the reason beside the choices.
    response = client.post(
        f"/organiser/events/si/questions/{by_key['diet']}/edit",
        data={"text_en": "Diet", "kind": "several_choices", "choices": "Vlees | Meat\nVis | Fish"},
    )
    assert response.status_code == 422
    assert "Attendees chose “Veganistisch”" in response.get_data(as_text=True)

    client.post(f"/organiser/events/si/questions/{by_key['hub']}/restore")
    assert keys(event)[-1] == "hub"


def test_the_questions_page_is_for_the_events_own_organisers(client, make_organiser, login, asked):
    question = questions.questions_of(asked[0])[0]
    assert client.get("/organiser/events/si/questions").status_code == 302  # to the login
    login(make_organiser("organiser", email="other@example.org", events=[]))
    for url in ("/organiser/events/si/questions", "/organiser/events/si/questions/new"):
        assert client.get(url).status_code == 403
    assert client.post(f"/organiser/events/si/questions/{question.id}/remove").status_code == 403
    assert len(keys(asked[0])) == 5


def test_answers_show_on_the_attendee_list_and_page(client, organiser, asked):
    event, session = asked
    ada = sign_up(event, session, "ada@example.org", "Ada", {**GOOD_ANSWERS, "badge": "<b>Ada</b>"})
    listed = client.get("/organiser/events/si/attendees").get_data(as_text=True)
    assert "Which hub do you belong to?:</span> South" in listed
    assert "&lt;b&gt;Ada&lt;/b&gt;" in listed and "<b>Ada</b>" not in listed

    page = client.get(f"/organiser/events/si/attendees/{ada.id}").get_data(as_text=True)
    assert re.search(r"<dt>May we take photos of you\?</dt>\s*<dd>no</dd>", page)
    assert re.search(r"<dt>Dietary needs</dt>\s*<dd>Vegan</dd>", page)


def rows_of_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_exports_have_a_column_per_question_localised_and_formula_safe(client, organiser, asked):
    event, session = asked
    sign_up(
        event,
        session,
        "ada@example.org",
        "Ada",
        {**GOOD_ANSWERS, "diet": ["vegetarian", "gluten-free"], "badge": '=HYPERLINK("x")'},
    )
    sign_up(event, session, "bob@example.org", "Bob", {"hub": "north", "photos": True})
    hub = next(q for q in questions.questions_of(event) if q.key == "hub")
    sign_up(event, session, "cy@example.org", "Cy", GOOD_ANSWERS)
    questions.remove_question(None, questions.get_question(event, hub.id), utcnow())
    db.session.commit()

    rows = rows_of_csv(client.get("/organiser/events/si/attendees.csv").data)
    header = rows[0]
    assert header[-5:] == [
        "Dietary needs",
        "May we take photos of you?",
        "Name on your badge",
        "Accessibility: what do you need?",
        "Which hub do you belong to? (archived)",
    ]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_name["Ada"]["Dietary needs"] == "Vegetarian | Gluten-free"
    assert by_name["Ada"]["Name on your badge"] == '\'=HYPERLINK("x")'
    assert by_name["Bob"]["May we take photos of you?"] == "yes"
    assert by_name["Bob"]["Dietary needs"] == ""
    assert by_name["Cy"]["Which hub do you belong to? (archived)"] == "South"

    client.get("/lang/nl")
    refresh()  # the test client shares the fixture's app context and Babel's cached locale
    response = client.get("/organiser/events/si/attendees.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][-5] == "Dieetwensen"
    column = values[0].index("Naam op je badge")
    badges = {row[1]: row[column] for row in values[1:]}
    assert badges["Ada"] == '=HYPERLINK("x")'  # text, never a formula
    ada_row = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "Ada")
    assert ada_row[column].data_type == "s"
    diets = {row[1]: row[column - 2] for row in values[1:]}
    assert diets["Ada"] == "Vegetarisch | Glutenvrij"
