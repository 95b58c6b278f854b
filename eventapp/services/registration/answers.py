"""Attendees' answers to the event's registration questions (issue 19.3): checked like every
other field of the registration, stored with it, changed through the private link.

One shape for every entry point: {question key: value}, where the value is text (short or
long text), a choice key (one choice), a list of choice keys (several choices) or true/false
(yes/no). None, "" and [] mean "not answered". A reason names its field `answers.<key>`,
so the form puts it beside the question and the API's 422 names it.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Answer, Attendee, Event, Question
from ..errors import InvalidInput, RegistrationClosed
from ..validation import FieldErrors, clean_text
from .questions import questions_of

SHORT_ANSWER_MAX = 200
LONG_ANSWER_MAX = 2000
NOT_ANSWERED = (None, "", [])


def field_name(question: Question) -> str:
    return f"answers.{question.key}"


def clean_answers(
    event: Event, raw: object, *, existing: dict | None = None, questions: list | None = None
) -> dict:
    """{question: value or None} for the event's current questions, from `raw` ({key:
    value}); what `raw` leaves out keeps its `existing` value ({question id: value}).
    InvalidInput naming each wrong answer, or a required one left unanswered.

    `questions`: the event's questions if the caller has them already (the form was built
    from them in this transaction), which saves reading them again."""
    errors = FieldErrors()
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise InvalidInput(
            _("Please correct the marked fields."), {"answers": [_("Must be an object.")]}
        )
    if questions is None:
        questions = questions_of(event)
    known = {q.key for q in questions}
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        errors.add("answers", _("Unknown question: %(keys)s.", keys=", ".join(unknown)))
    existing = existing or {}
    cleaned = {}
    for question in questions:
        if question.key in raw:
            value = _clean_value(question, raw[question.key], errors)
        else:
            value = existing.get(question.id)
        if value in NOT_ANSWERED and question.required and field_name(question) not in errors:
            errors.add(field_name(question), _("This field is required."))
        cleaned[question] = None if value in NOT_ANSWERED else value
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return cleaned


def _clean_value(question: Question, value: object, errors: FieldErrors) -> object:
    name = field_name(question)
    if value in NOT_ANSWERED:
        return None
    if question.kind == "short_text":
        return clean_text(value, name, errors, max_length=SHORT_ANSWER_MAX, required=False)
    if question.kind == "long_text":
        return _clean_long_text(value, name, errors)
    if question.kind == "yes_no":
        if not isinstance(value, bool):
            errors.add(name, _("Must be true or false."))
        return value
    keys = question.choice_keys
    if question.kind == "one_choice":
        if not isinstance(value, str) or value not in keys:
            errors.add(name, _("Choose one of the offered answers."))
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v in keys for v in value):
        errors.add(name, _("Choose among the offered answers."))
        return value
    return [key for key in keys if key in value]  # the choices' order, each once


def _clean_long_text(value: object, name: str, errors: FieldErrors) -> str:
    """Text that may span lines: CR LF and CR become LF, other control characters are
    refused as clean_text refuses them."""
    if not isinstance(value, str):
        return clean_text(value, name, errors, max_length=LONG_ANSWER_MAX, required=False)
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    clean_text(text.replace("\n", " "), name, errors, max_length=LONG_ANSWER_MAX, required=False)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n ")


def save_answers(attendee: Attendee, cleaned: dict, *, new: bool = False) -> None:
    """Write `cleaned` ({question: value or None}): one row per answer, none for no answer.
    A `new` attendee has none yet (no query to find them)."""
    rows = {} if new else {a.question_id: a for a in _answer_rows(attendee)}
    for question, value in cleaned.items():
        row = rows.get(question.id)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(Answer(attendee_id=attendee.id, question_id=question.id, value=value))
        elif row.value != value:
            row.value = value
    db.session.flush()


def change_answers(attendee: Attendee, raw: object, now: datetime) -> dict:
    """The attendee's own change (manage page, API): the answers sent replace theirs, the
    others stay; all of them must then satisfy the questions (a question made required
    since they registered must now be answered). Allowed until the event ends."""
    if attendee.anonymised_at is not None:
        raise RegistrationClosed(_("This registration has been deleted."))
    if now >= attendee.event.ends_at:
        raise RegistrationClosed(_("This event has ended."))
    existing = {a.question_id: a.value for a in _answer_rows(attendee)}
    cleaned = clean_answers(attendee.event, raw, existing=existing)
    save_answers(attendee, cleaned)
    return cleaned


def _answer_rows(attendee: Attendee) -> list[Answer]:
    if attendee.id is None:
        return []
    return list(db.session.scalars(select(Answer).where(Answer.attendee_id == attendee.id)))


def answers_of(attendee: Attendee) -> list[tuple[Question, object]]:
    """The attendee's answers with their questions (archived ones too), in the form's order."""
    rows = db.session.execute(
        select(Question, Answer.value)
        .join(Answer, Answer.question_id == Question.id)
        .where(Answer.attendee_id == attendee.id)
        .order_by(Question.archived_at.is_not(None), Question.position, Question.id)
    )
    return [(question, value) for question, value in rows.all()]


def answers_by_key(attendee: Attendee) -> dict[str, object]:
    """{question key: value}: the API's shape."""
    return {question.key: value for question, value in answers_of(attendee)}


def answers_of_many(attendee_ids: list[int]) -> dict[int, dict[int, object]]:
    """{attendee id: {question id: value}} for a page or an export, in one query."""
    found: dict[int, dict[int, object]] = {}
    if not attendee_ids:
        return found
    for attendee_id, question_id, value in db.session.execute(
        select(Answer.attendee_id, Answer.question_id, Answer.value).where(
            Answer.attendee_id.in_(attendee_ids)
        )
    ):
        found.setdefault(attendee_id, {})[question_id] = value
    return found


def event_answers(event: Event) -> dict[int, dict[int, object]]:
    """{attendee id: {question id: value}} for every attendee of the event, in one query."""
    found: dict[int, dict[int, object]] = {}
    for attendee_id, question_id, value in db.session.execute(
        select(Answer.attendee_id, Answer.question_id, Answer.value)
        .join(Question, Question.id == Answer.question_id)
        .where(Question.event_id == event.id)
    ):
        found.setdefault(attendee_id, {})[question_id] = value
    return found


def answer_text(question: Question, value: object, locale: str) -> str:
    """An answer as a reader sees it: choices by their label in `locale`, yes or no."""
    if value is None:
        return ""
    if question.kind == "yes_no":
        return _("yes") if value else _("no")
    if question.kind == "one_choice":
        return question.choice_label(str(value), locale)
    if question.kind == "several_choices" and isinstance(value, list):
        return " | ".join(question.choice_label(str(key), locale) for key in value)
    return str(value)


def export_answers(attendee: Attendee) -> list[dict]:
    """The attendee's answers for their data export, in their own language."""
    return [
        {
            "question": question.text(attendee.locale),
            "key": question.key,
            "value": value,
            "answer": answer_text(question, value, attendee.locale),
        }
        for question, value in answers_of(attendee)
    ]


def erase_answers(attendee: Attendee) -> None:
    db.session.execute(Answer.__table__.delete().where(Answer.attendee_id == attendee.id))
