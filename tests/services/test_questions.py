"""Registration questions (issue 19.3): the organiser's definitions and the attendees'
answers, checked by the one registration path and kept or refused as the rules say."""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Answer, Attendee, Question
from eventapp.services import privacy
from eventapp.services.errors import InvalidInput, RegistrationClosed
from eventapp.services.registration import answers, questions
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.questions_support import GOOD_ANSWERS, QUESTIONS, add_questions


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


def person(session_ids, answers_given, email="ada@example.org"):
    return RegistrationInput(
        name="Ada Lovelace",
        email=email,
        session_ids=session_ids,
        consent=True,
        answers=answers_given,
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def event_with_questions(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    add_questions(event, now)
    return event, session


def test_a_question_added_after_the_event_was_read_is_asked(make_event, make_session, now):
    """The registration's event query knows whether the event asks questions, so an event
    without any needs no query for them; a question created in the same transaction after
    that read is still asked (create_question expires what the read knew)."""
    from eventapp.services.programme import reading

    event = make_event()
    session = make_session(event)
    db.session.commit()
    loaded = reading.get_event(event.slug, with_sessions=[session.id])
    assert questions.questions_of(loaded) == []

    hub = next(spec for spec in QUESTIONS if spec["key"] == "hub")  # a required question
    questions.create_question(None, loaded, dict(hub), now)  # no commit: the same transaction
    with pytest.raises(InvalidInput) as refused:
        service.register(loaded, person([session.id], {}), now)
    assert "answers.hub" in refused.value.fields


def test_answers_are_stored_with_the_registration(event_with_questions, now):
    event, session = event_with_questions
    given = {**GOOD_ANSWERS, "diet": ["gluten-free", "vegan"], "access": "Ramp\r\nplease "}
    result = service.register(event, person([session.id], given), now)
    db.session.commit()

    assert answers.answers_by_key(result.attendee) == {
        "hub": "south",
        "diet": ["vegan", "gluten-free"],  # in the choices' order
        "photos": False,  # "no" is an answer, not a missing one
        "access": "Ramp\nplease",
    }


@pytest.mark.parametrize(
    ("given", "field", "reason"),
    [
        ({"diet": ["vegan"], "photos": True}, "answers.hub", "This field is required."),
        ({**GOOD_ANSWERS, "hub": "west"}, "answers.hub", "Choose one of the offered answers."),
        ({**GOOD_ANSWERS, "hub": ["south"]}, "answers.hub", "Choose one of the offered answers."),
        ({**GOOD_ANSWERS, "diet": ["meat"]}, "answers.diet", "Choose among the offered answers."),
        ({**GOOD_ANSWERS, "diet": "vegan"}, "answers.diet", "Choose among the offered answers."),
        ({**GOOD_ANSWERS, "photos": "yes"}, "answers.photos", "Must be true or false."),
        ({**GOOD_ANSWERS, "photos": None}, "answers.photos", "This field is required."),
        ({**GOOD_ANSWERS, "badge": "x" * 201}, "answers.badge", "At most 200 characters."),
        ({**GOOD_ANSWERS, "badge": "a\x00b"}, "answers.badge", "not allowed"),
        ({**GOOD_ANSWERS, "access": "x" * 2001}, "answers.access", "At most 2000 characters."),
        ({**GOOD_ANSWERS, "shoe": "42"}, "answers", "Unknown question: shoe."),
        ("hub=south", "answers", "Must be an object."),
    ],
)
def test_a_wrong_answer_names_its_field_and_writes_nothing(
    event_with_questions, now, given, field, reason
):
    event, session = event_with_questions
    with pytest.raises(InvalidInput) as raised:
        service.register(event, person([session.id], given), now)
    db.session.rollback()

    assert reason in " ".join(raised.value.fields[field])
    assert count(Attendee) == 0 and count(Answer) == 0


def test_answer_errors_come_with_the_other_field_errors(event_with_questions, now):
    event, session = event_with_questions
    data = RegistrationInput(
        name="", email="ada@example.org", session_ids=[session.id], consent=True, answers={}
    )
    with pytest.raises(InvalidInput) as raised:
        service.register(event, data, now)
    assert {"name", "answers.hub", "answers.photos"} <= set(raised.value.fields)


def test_an_event_without_questions_takes_no_answers(make_event, make_session, now):
    event = make_event()
    session = make_session(event)
    with pytest.raises(InvalidInput) as raised:
        service.register(event, person([session.id], {"hub": "north"}), now)
    assert raised.value.fields == {"answers": ["Unknown question: hub."]}
    service.register(event, person([session.id], None), now)  # nothing asked, nothing needed


def test_changing_answers_replaces_the_sent_ones_and_keeps_the_rest(event_with_questions, now):
    event, session = event_with_questions
    attendee = service.register(event, person([session.id], GOOD_ANSWERS), now).attendee
    db.session.commit()

    answers.change_answers(attendee, {"diet": [], "badge": "Ada"}, now)
    db.session.commit()

    assert answers.answers_by_key(attendee) == {"hub": "south", "photos": False, "badge": "Ada"}
    with pytest.raises(InvalidInput) as raised:
        answers.change_answers(attendee, {"hub": None}, now)
    assert raised.value.fields == {"answers.hub": ["This field is required."]}


def test_a_question_made_required_later_must_be_answered_at_the_next_change(
    event_with_questions, now
):
    event, session = event_with_questions
    attendee = service.register(event, person([session.id], GOOD_ANSWERS), now).attendee
    badge = questions.get_question(event, _question(event, "badge").id)
    questions.update_question(None, badge, {"required": True}, now)
    db.session.commit()

    with pytest.raises(InvalidInput) as raised:
        answers.change_answers(attendee, {"diet": ["vegan"]}, now)
    assert raised.value.fields == {"answers.badge": ["This field is required."]}
    answers.change_answers(attendee, {"badge": "Ada L."}, now)


def test_no_changes_after_the_event(event_with_questions, now):
    event, session = event_with_questions
    attendee = service.register(event, person([session.id], GOOD_ANSWERS), now).attendee
    with pytest.raises(RegistrationClosed):
        answers.change_answers(attendee, {"badge": "late"}, event.ends_at)


def _question(event, key) -> Question:
    return next(q for q in questions.questions_of(event, archived=True) if q.key == key)


def test_a_question_gets_a_key_from_its_text_and_keeps_it(make_event, now):
    event = make_event()
    made = questions.create_question(
        None, event, {"kind": "short_text", "text_nl": "Uw functie?", "text_en": "Your role?"}, now
    )
    again = questions.create_question(
        None, event, {"kind": "short_text", "text_en": "Your role?"}, now
    )
    assert (made.key, again.key) == ("your-role", "your-role-2")
    assert again.text("nl") == "Your role?"  # the other language as the fallback
    with pytest.raises(InvalidInput) as raised:
        questions.update_question(None, made, {"key": "role"}, now)
    assert "key" in raised.value.fields


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "essay", "text_en": "Q"}, "kind"),
        ({"kind": "short_text"}, "text_nl"),
        ({"kind": "short_text", "text_en": "x" * 301}, "text_en"),
        ({"kind": "short_text", "text_en": "Q", "required": "yes"}, "required"),
        ({"kind": "one_choice", "text_en": "Q", "choices": [{"nl": "Een"}]}, "choices"),
        ({"kind": "one_choice", "text_en": "Q", "choices": [{"nl": ""}, {"en": "B"}]}, "choices"),
        ({"kind": "one_choice", "text_en": "Q", "choices": "a, b"}, "choices"),
        ({"kind": "short_text", "text_en": "Q", "key": "Not A Key"}, "key"),
        ({"kind": "short_text", "text_en": "Q", "key": "hub"}, "key"),
    ],
)
def test_a_wrong_question_names_its_field(event_with_questions, now, data, field):
    event, _session = event_with_questions
    before = count(Question)
    with pytest.raises(InvalidInput) as raised:
        questions.create_question(None, event, data, now)
    db.session.rollback()
    assert field in raised.value.fields
    assert count(Question) == before


def test_answered_questions_keep_their_kind_and_chosen_choices(event_with_questions, now):
    event, session = event_with_questions
    service.register(event, person([session.id], GOOD_ANSWERS), now)
    db.session.commit()
    hub = _question(event, "hub")

    with pytest.raises(InvalidInput) as raised:
        questions.update_question(None, hub, {"kind": "short_text"}, now)
    assert "kind" in raised.value.fields
    without_south = [c for c in hub.choices if c["key"] != "south"]
    with pytest.raises(InvalidInput) as raised:
        questions.update_question(None, hub, {"choices": without_south}, now)
    assert "Zuid" in raised.value.fields["choices"][0]
    db.session.rollback()

    # Rewording a choice and dropping one nobody chose are fine; the answer keeps its key.
    reworded = [
        {**c, "en": "South (Rotterdam)"} if c["key"] == "south" else c
        for c in hub.choices
        if c["key"] != "east"
    ]
    questions.update_question(None, hub, {"choices": reworded, "text_en": "Your hub?"}, now)
    db.session.commit()
    attendee = db.session.scalar(select(Attendee))
    [(question, value)] = [(q, v) for q, v in answers.answers_of(attendee) if q.key == "hub"]
    assert answers.answer_text(question, value, "en") == "South (Rotterdam)"
    assert answers.answer_text(question, value, "nl") == "Zuid"


def test_removing_an_answered_question_archives_it_and_keeps_the_answers(event_with_questions, now):
    event, session = event_with_questions
    attendee = service.register(event, person([session.id], GOOD_ANSWERS), now).attendee
    db.session.commit()

    assert questions.remove_question(None, _question(event, "badge"), now) == "deleted"
    assert questions.remove_question(None, _question(event, "hub"), now) == "archived"
    db.session.commit()

    assert [q.key for q in questions.questions_of(event)] == ["diet", "photos", "access"]
    assert answers.answers_by_key(attendee)["hub"] == "south"
    # Off the forms: no longer asked, no longer required, no longer accepted.
    other = person([session.id], {"photos": True}, email="bob@example.org")
    service.register(event, other, now)
    with pytest.raises(InvalidInput):
        answers.change_answers(attendee, {"hub": "north"}, now)

    questions.restore_question(None, _question(event, "hub"), now)
    assert [q.key for q in questions.questions_of(event)][-1] == "hub"


def test_questions_move_up_and_down(event_with_questions, now):
    event, _session = event_with_questions
    questions.move_question(None, _question(event, "photos"), -1, now)
    questions.move_question(None, _question(event, "hub"), -1, now)  # already first
    questions.move_question(None, _question(event, "access"), +1, now)  # already last
    assert [q.key for q in questions.questions_of(event)] == [
        "hub",
        "photos",
        "diet",
        "badge",
        "access",
    ]


def test_choice_lines_round_trip_and_keep_keys(event_with_questions):
    event, _session = event_with_questions
    hub = _question(event, "hub")
    lines = questions.choice_lines(hub)
    assert lines.splitlines()[0] == "north = Noord | North"
    parsed = questions.choices_from_lines(lines + "\nWest\n\nMidden | Centre")
    assert parsed[:3] == hub.choices
    assert parsed[3:] == [
        {"key": "", "nl": "West", "en": "West"},
        {"key": "", "nl": "Midden", "en": "Centre"},
    ]


def test_answers_go_into_the_data_export_and_are_erased(event_with_questions, now):
    event, session = event_with_questions
    attendee = service.register(
        event, person([session.id], {**GOOD_ANSWERS, "badge": "=HYPERLINK()"}), now
    ).attendee
    attendee.locale = "nl"
    db.session.commit()

    exported = privacy.export_data(attendee, now)["answers"]
    assert {
        "question": "Bij welke hub hoor je?",
        "key": "hub",
        "value": "south",
        "answer": "Zuid",
    } in exported
    assert len(exported) == 4

    privacy.erase_attendee(attendee, now)
    db.session.commit()
    assert count(Answer) == 0
    assert count(Question) == 5  # the event's questions stay
