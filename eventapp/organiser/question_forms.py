"""The form of a registration question (issue 19.3): its kind, its text in both languages,
whether it must be answered, and its choices one a line."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from ..services.registration.questions import choice_lines, choices_from_lines
from ..web.fields import strip

KIND_LABELS = {
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "one_choice": _l("One choice"),
    "several_choices": _l("Several choices"),
    "yes_no": _l("Yes or no"),
}


class QuestionForm(FlaskForm):
    text_nl = StringField(_l("Question in Dutch"), filters=[strip], validators=[Optional()])
    text_en = StringField(_l("Question in English"), filters=[strip], validators=[Optional()])
    kind = SelectField(
        _l("Kind of answer"), choices=list(KIND_LABELS.items()), validate_choice=False
    )
    choices = TextAreaField(
        _l("Choices (for one or several choices)"), filters=[strip], validators=[Optional()]
    )
    required = BooleanField(_l("An answer is required"))

    def service_data(self) -> dict:
        """The fields as the service takes them (services/registration/questions.py)."""
        return {
            "text_nl": self.text_nl.data or "",
            "text_en": self.text_en.data or "",
            "kind": self.kind.data,
            "required": bool(self.required.data),
            "choices": choices_from_lines(self.choices.data or ""),
        }


class NewQuestionForm(QuestionForm):
    key = StringField(_l("Key (optional)"), filters=[strip], validators=[Optional()])

    def service_data(self) -> dict:
        return {**super().service_data(), "key": self.key.data or ""}


def question_form_for(question=None, **kwargs) -> QuestionForm:
    """The form for a new question, or for `question` with its values filled in."""
    if question is None:
        return NewQuestionForm(**kwargs)
    form = QuestionForm(**kwargs)
    if not form.is_submitted():
        form.text_nl.data = question.text_nl
        form.text_en.data = question.text_en
        form.kind.data = question.kind
        form.required.data = question.required
        form.choices.data = choice_lines(question)
    return form
