"""The event's registration questions (issue 19.3): the list with add, edit, remove and
reorder, behind the organiser role at the event. The rules (what answers forbid, archiving
instead of deleting) are the service's: services/registration/questions.py."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..models.types import utcnow
from ..services.errors import NotFound
from ..services.registration import questions
from ..web.access import event_role_required
from ..web.attempt import attempt
from ..web.loading import event_or_404
from .attendee_forms import ActionForm
from .blueprint import bp
from .question_forms import KIND_LABELS, question_form_for


def _actor():
    return current_user._get_current_object()


def _question_or_404(event, question_id: int):
    try:
        return questions.get_question(event, question_id)
    except NotFound:
        abort(404)


def _back(slug: str):
    return redirect(url_for("organiser.questions_page", slug=slug), code=303)


@bp.get("/events/<slug>/questions")
@event_role_required("organiser")
def questions_page(slug: str):
    event = event_or_404(slug, drafts=True)
    every = questions.questions_of(event, archived=True)
    return render_template(
        "organiser/questions.html",
        event=event,
        asked=[q for q in every if q.archived_at is None],
        archived=[q for q in every if q.archived_at is not None],
        counts=questions.answer_counts(event),
        kinds=KIND_LABELS,
        action_form=ActionForm(),
    )


def _save(event, question, form):
    if question is None:
        return questions.create_question(_actor(), event, form.service_data(), utcnow())
    return questions.update_question(_actor(), question, form.service_data(), utcnow())


def _question_form_page(event, question=None):
    form = question_form_for(question)
    if form.validate_on_submit():
        saved, _result = attempt(lambda: _save(event, question, form), form=form)
        if saved:
            flash(_("Question saved."), "success")
            return _back(event.slug)
    title = _("New question") if question is None else _("Edit question")
    status = 422 if form.is_submitted() else 200
    return render_template(
        "organiser/question_form.html", event=event, form=form, title=title
    ), status


@bp.route("/events/<slug>/questions/new", methods=["GET", "POST"])
@event_role_required("organiser")
def new_question(slug: str):
    return _question_form_page(event_or_404(slug, drafts=True))


@bp.route("/events/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@event_role_required("organiser")
def edit_question(slug: str, question_id: int):
    event = event_or_404(slug, drafts=True)
    return _question_form_page(event, _question_or_404(event, question_id))


def _act(slug: str, question_id: int, change) -> object:
    """One button's change to one question (CSRF-checked), then back to the list."""
    event = event_or_404(slug, drafts=True)
    question = _question_or_404(event, question_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    done, outcome = attempt(lambda: change(_actor(), question, utcnow()))
    return _back(slug), outcome if done else None


@bp.post("/events/<slug>/questions/<int:question_id>/up")
@event_role_required("organiser")
def question_up(slug: str, question_id: int):
    return _act(slug, question_id, lambda a, q, now: questions.move_question(a, q, -1, now))[0]


@bp.post("/events/<slug>/questions/<int:question_id>/down")
@event_role_required("organiser")
def question_down(slug: str, question_id: int):
    return _act(slug, question_id, lambda a, q, now: questions.move_question(a, q, +1, now))[0]


@bp.post("/events/<slug>/questions/<int:question_id>/remove")
@event_role_required("organiser")
def remove_question(slug: str, question_id: int):
    response, outcome = _act(slug, question_id, questions.remove_question)
    if outcome == "archived":
        flash(_("Attendees had answered it: the question is archived, their answers are kept."))
    elif outcome == "deleted":
        flash(_("Question deleted."), "success")
    return response


@bp.post("/events/<slug>/questions/<int:question_id>/restore")
@event_role_required("organiser")
def restore_question(slug: str, question_id: int):
    response, outcome = _act(slug, question_id, questions.restore_question)
    if outcome is not None:
        flash(_("The question is back on the form."), "success")
    return response
