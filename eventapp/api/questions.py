"""The organiser API for an event's registration questions (issue 19.3): list, add, edit,
remove. The same service as the organiser's page (services/registration/questions.py), so
the same rules: a question with answers keeps its kind and chosen choices, and removing it
archives it."""

from flask_login import current_user

from ..extensions import db
from ..models.types import utcnow
from ..services.programme import schedule
from ..services.registration import questions
from ..web.access import event_role_required
from .blueprint import bp
from .openapi import operation
from .replies import QuestionList, QuestionOut, QuestionRemoved
from .schemas import QuestionIn, QuestionPatch


def _reply(event, question) -> QuestionOut:
    return QuestionOut.of(question, questions.answer_counts(event).get(question.id, 0))


@bp.get("/events/<slug>/questions/all")
@event_role_required("organiser")
@operation((QuestionList, "Every question, archived ones too."), 404, organiser=True)
def list_all_questions(slug: str):
    """The event's questions with how many attendees answered each."""
    event = schedule.get_event_for_organiser(slug)
    counts = questions.answer_counts(event)
    found = questions.questions_of(event, archived=True)
    found.sort(key=lambda q: q.archived_at is not None)
    return QuestionList(questions=[QuestionOut.of(q, counts.get(q.id, 0)) for q in found])


@bp.post("/events/<slug>/questions")
@event_role_required("organiser")
@operation((QuestionOut, "The new question."), 404, status=201, organiser=True)
def create_question(slug: str, json: QuestionIn):
    """Add a question to the registration form (last, unless `position` says where)."""
    event = schedule.get_event_for_organiser(slug)
    sent = json.model_dump(exclude_unset=True)
    now = utcnow()
    question = questions.create_question(current_user, event, sent, now)
    if sent.get("position") is not None:
        questions.place_question(current_user, question, sent["position"], now)
    db.session.commit()
    return _reply(event, question), 201


@bp.patch("/events/<slug>/questions/<int:question_id>")
@event_role_required("organiser")
@operation((QuestionOut, "The question as saved."), 404, organiser=True)
def update_question(slug: str, question_id: int, json: QuestionPatch):
    """Reword, reorder or change a question; an archived one comes back on the form."""
    event = schedule.get_event_for_organiser(slug)
    question = questions.get_question(event, question_id)
    sent = json.model_dump(exclude_unset=True)
    now = utcnow()
    questions.update_question(current_user, question, sent, now)
    questions.restore_question(current_user, question, now)
    if sent.get("position") is not None:
        questions.place_question(current_user, question, sent["position"], now)
    db.session.commit()
    return _reply(event, question)


@bp.delete("/events/<slug>/questions/<int:question_id>")
@event_role_required("organiser")
@operation((QuestionRemoved, "Deleted, or archived when answered."), 404, organiser=True)
def remove_question(slug: str, question_id: int):
    """Take a question off the form: deleted if nobody answered it, else archived."""
    event = schedule.get_event_for_organiser(slug)
    question = questions.get_question(event, question_id)
    removed = QuestionRemoved(id=question.id, key=question.key, outcome="deleted")
    removed.outcome = questions.remove_question(current_user, question, utcnow())
    db.session.commit()
    return removed
