"""The event's registration questions as form fields (issue 19.3), one per question, for the
registration form (public) and the attendee's private page (manage).

Each field is named `answers.<key>`, the name the services give a wrong answer's reason
(services/registration/answers.py), so the reason lands beside its question. The fields
only parse: whether an answer is required or one of the choices is the service's rule, the
same for the form and the API. Optional questions say so in their label, as "Organisation
(optional)" does.
"""

from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import Optional

from ..services.errors import InvalidInput
from ..services.registration.answers import clean_answers, field_name
from .fields import CheckboxListField, strip
from .form_errors import show_on_form

NO_ANSWER = ""
YES, NO = "yes", "no"


def _label(question, locale: str) -> str:
    text = question.text(locale)
    return text if question.required else _("%(question)s (optional)", question=text)


def _choices(question, locale: str) -> list[tuple[str, str]]:
    if question.kind == "yes_no":
        choices = [(YES, _("Yes")), (NO, _("No"))]
    else:
        choices = [(c["key"], question.choice_label(c["key"], locale)) for c in question.choices]
    if not question.required and question.kind != "several_choices":
        choices.append((NO_ANSWER, _("No answer")))
    return choices


def _field(question, locale: str):
    label = _label(question, locale)
    if question.kind == "short_text":
        return StringField(label, filters=[strip], validators=[Optional()])
    if question.kind == "long_text":
        return TextAreaField(label, filters=[strip], validators=[Optional()])
    if question.kind == "several_choices":
        return CheckboxListField(label, choices=_choices(question, locale), validate_choice=False)
    default = None if question.required else NO_ANSWER
    return RadioField(
        label, choices=_choices(question, locale), default=default, validate_choice=False
    )


class QuestionsMixin:
    """A form with one field per question (add_question_fields)."""

    _questions: list = []  # (field name, question key, kind)

    def question_fields(self):
        return [self[name] for name, _key, _kind in self._questions]

    def answers(self) -> dict[str, object]:
        """{question key: value} in the API's shape (services/registration/answers.py)."""
        found = {}
        for name, key, kind in self._questions:
            data = self[name].data
            if kind == "yes_no":
                found[key] = {YES: True, NO: False}.get(data)
            else:
                found[key] = data or None
        return found

    def fill_answers(self, values: dict[str, object]) -> None:
        """Show the attendee's current answers ({key: value})."""
        for name, key, kind in self._questions:
            value = values.get(key)
            if kind == "yes_no" and value is not None:
                value = YES if value else NO
            if value is not None:
                self[name].data = value


def add_question_fields(form_class, questions) -> None:
    """One field per question on `form_class`, labelled in the reader's language."""
    locale = str(get_locale())
    names = []
    for question in questions:
        name = field_name(question)
        setattr(form_class, name, _field(question, locale))
        names.append((name, question.key, question.kind))
    form_class._questions = names


def show_answer_problems(form, event) -> None:
    """When the form's own fields already failed (so the service was not asked), the
    answers' problems too: one submit shows every mistake, as the service would."""
    try:
        clean_answers(event, form.answers())
    except InvalidInput as error:
        show_on_form(form, error)
