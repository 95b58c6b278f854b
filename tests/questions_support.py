"""Registration questions for tests (issue 19.3): one of every kind, made by the service."""

from eventapp.extensions import db
from eventapp.services.registration import questions

HUBS = [
    {"key": "north", "nl": "Noord", "en": "North"},
    {"key": "south", "nl": "Zuid", "en": "South"},
    {"key": "east", "nl": "Oost", "en": "East"},
]
DIETS = [
    {"key": "vegetarian", "nl": "Vegetarisch", "en": "Vegetarian"},
    {"key": "vegan", "nl": "Veganistisch", "en": "Vegan"},
    {"key": "gluten-free", "nl": "Glutenvrij", "en": "Gluten-free"},
]
QUESTIONS = [
    dict(
        key="hub",
        kind="one_choice",
        required=True,
        text_nl="Bij welke hub hoor je?",
        text_en="Which hub do you belong to?",
        choices=HUBS,
    ),
    dict(
        key="diet",
        kind="several_choices",
        text_nl="Dieetwensen",
        text_en="Dietary needs",
        choices=DIETS,
    ),
    dict(
        key="photos",
        kind="yes_no",
        required=True,
        text_nl="Mogen we foto's van je maken?",
        text_en="May we take photos of you?",
    ),
    dict(key="badge", kind="short_text", text_nl="Naam op je badge", text_en="Name on your badge"),
    dict(
        key="access",
        kind="long_text",
        text_nl="Toegankelijkheid: wat heb je nodig?",
        text_en="Accessibility: what do you need?",
    ),
]
GOOD_ANSWERS = {"hub": "south", "diet": ["vegan"], "photos": False}


def add_questions(event, now, which=("hub", "diet", "photos", "badge", "access")):
    """The questions named in `which`, in that order, committed."""
    made = [
        questions.create_question(None, event, dict(spec), now)
        for spec in QUESTIONS
        if spec["key"] in which
    ]
    db.session.commit()
    return made


def event_asking(make_event, make_session, now):
    """An event "si" with a plenary session and the questions above: (event, session)."""
    event = make_event(slug="si")
    session = make_session(event, kind="plenary", capacity=100, title="Opening")
    add_questions(event, now)
    return event, session
