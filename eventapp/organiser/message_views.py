"""Messages to attendees: write (a version per language), preview with the number of
recipients and the greeting they get, test to oneself, then send."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..extensions import db
from ..models.types import utcnow
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice import messages
from ..services.errors import DomainError
from ..services.validation import whole_number
from ..web.access import event_role_required
from ..web.form_errors import show_on_form
from ..web.loading import event_or_404
from .blueprint import bp

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


class MessageForm(FlaskForm):
    audience = SelectField(_l("To"), validators=[DataRequired()])
    # The attendees ticked on the attendee list ("12,15,31"), for the audience "selected".
    selected = HiddenField()
    subject = StringField(
        _l("Subject"), validators=[DataRequired(), Length(max=messages.SUBJECT_MAX)]
    )
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=messages.BODY_MAX)],
        render_kw={"rows": 12},
    )
    other_subject = StringField(
        _l("Subject"), validators=[Optional(), Length(max=messages.SUBJECT_MAX)]
    )
    other_body = TextAreaField(
        _l("Message"),
        validators=[Optional(), Length(max=messages.BODY_MAX)],
        render_kw={"rows": 8},
    )
    # The count the organiser saw in the preview; sending is refused if it changed since.
    expected_count = HiddenField()


def _audience_choices(event, selected: str) -> list[tuple[str, str]]:
    choices = [("all", str(_("All attendees")))]
    ids = messages.selected_ids(selected)
    if ids:
        choices.insert(0, ("selected", messages.Audience("selected", attendee_ids=ids).describe()))
    tz = event.tz
    for session in attendee_service.event_sessions(event):
        if not session.registrable:
            continue
        when = session.starts_at.astimezone(tz).strftime("%H:%M")
        choices.append((f"session:{session.id}", f"{when} {session.title}"))
        choices.append(
            (f"waitlist:{session.id}", str(_("Waiting list of %(title)s", title=session.title)))
        )
    return choices


def message_form(event, selected: str | None = None) -> MessageForm:
    """The composer, with the audience choices of the event and of a selection: the posted
    one, or `selected` ("12,15,31") from the attendee list, which starts a new message."""
    if selected is None:
        form = MessageForm()
    else:
        form = MessageForm(formdata=None, selected=selected, audience="selected")
    form.audience.choices = _audience_choices(event, form.selected.data)
    for prefix, locale in (("", event.default_locale), ("other_", messages.other_locale(event))):
        language = LANGUAGE_NAMES.get(locale, locale)
        form[f"{prefix}subject"].label.text = f"{_('Subject')} ({language})"
        form[f"{prefix}body"].label.text = f"{_('Message')} ({language})"
    return form


def _draft(event, form: MessageForm) -> messages.Draft:
    return messages.draft(
        event, form.subject.data, form.body.data, form.other_subject.data, form.other_body.data
    )


def render_composer(event, form: MessageForm, preview=None, status: int = 200):
    """The composer page; the attendee list's "message the selected" lands here too."""
    return render_template(
        "organiser/messages/index.html",
        event=event,
        form=form,
        preview=preview,
        sent=messages.sent_messages(event),
        language_names=LANGUAGE_NAMES,
        event_language=event.default_locale,
        other_language=messages.other_locale(event),
        greeting=messages.greeting(event.default_locale),
        other_greeting=messages.greeting(messages.other_locale(event)),
    ), status


# The endpoint is `organiser.messages`; the function is named apart from the service module.
@bp.route("/events/<slug>/messages", methods=["GET", "POST"], endpoint="messages")
@event_role_required("organiser")
def messages_page(slug: str):
    event = event_or_404(slug, drafts=True)
    form = message_form(event)
    if not form.validate_on_submit():
        return render_composer(event, form, status=422 if form.is_submitted() else 200)
    action = request.form.get("action", "preview")
    if action == "strip_greeting":
        form.body.data = messages.without_own_greeting(form.body.data or "")
        form.other_body.data = messages.without_own_greeting(form.other_body.data or "")
    try:
        audience = messages.Audience.parse(event, form.audience.data, form.selected.data)
        draft = _draft(event, form)
        if action == "send" and whole_number(form.expected_count.data) is not None:
            return _send(event, audience, draft, whole_number(form.expected_count.data))
        if action == "test":
            _send_test(event, audience, draft)
        return _preview(event, form, audience, draft)
    except messages.AudienceChanged as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _preview(event, form, audience, draft, status=409)
    except DomainError as error:
        db.session.rollback()
        show_on_form(form, error)
        return render_composer(event, form, status=422)


def _preview(event, form, audience, draft, status: int = 200):
    preview = messages.preview(event, audience, draft)
    form.expected_count.data = str(preview.count)
    return render_composer(event, form, preview, status)


def _send(event, audience, draft, expected_count: int):
    count = messages.send_message(
        event,
        audience,
        draft,
        actor=current_user._get_current_object(),
        now=utcnow(),
        expected_count=expected_count,
    )
    db.session.commit()
    flash(
        ngettext(
            "The message is on its way to %(num)d attendee.",
            "The message is on its way to %(num)d attendees.",
            count,
        ),
        "success",
    )
    return redirect(url_for("organiser.messages", slug=event.slug))


def _send_test(event, audience, draft) -> None:
    organiser = current_user._get_current_object()
    count = messages.send_test(event, audience, draft, actor=organiser)
    db.session.commit()
    flash(
        ngettext(
            "A test is on its way to %(email)s. Nothing was sent to attendees.",
            "%(num)d tests (one per language) are on their way to %(email)s. Nothing was "
            "sent to attendees.",
            count,
            email=organiser.email,
        ),
        "success",
    )
