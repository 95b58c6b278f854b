"""Messages to attendees: write, preview with the number of recipients, then send."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

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


class MessageForm(FlaskForm):
    audience = SelectField(_l("To"), validators=[DataRequired()])
    subject = StringField(
        _l("Subject"), validators=[DataRequired(), Length(max=messages.SUBJECT_MAX)]
    )
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=messages.BODY_MAX)],
        render_kw={"rows": 12},
    )
    # The count the organiser saw in the preview; sending is refused if it changed since.
    expected_count = HiddenField()


def _audience_choices(event) -> list[tuple[str, str]]:
    choices = [("all", str(_("All attendees")))]
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


# The endpoint is `organiser.messages`; the function is named apart from the service module.
@bp.route("/events/<slug>/messages", methods=["GET", "POST"], endpoint="messages")
@event_role_required("organiser")
def messages_page(slug: str):
    event = event_or_404(slug, drafts=True)
    form = MessageForm()
    form.audience.choices = _audience_choices(event)
    preview = None
    status = 200
    if form.validate_on_submit():
        sending = whole_number(form.expected_count.data) is not None and (
            "send" in _submitted_actions()
        )
        try:
            audience = messages.Audience.parse(event, form.audience.data)
            if sending:
                count = messages.send_message(
                    event,
                    audience,
                    form.subject.data,
                    form.body.data,
                    actor=current_user._get_current_object(),
                    now=utcnow(),
                    expected_count=whole_number(form.expected_count.data),
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
                return redirect(url_for("organiser.messages", slug=slug))
            preview = messages.preview(event, audience, form.subject.data, form.body.data)
            form.expected_count.data = str(preview.count)
        except messages.AudienceChanged as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            preview = messages.preview(
                event,
                messages.Audience.parse(event, form.audience.data),
                form.subject.data,
                form.body.data,
            )
            form.expected_count.data = str(preview.count)
            status = 409
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "organiser/messages/index.html",
        event=event,
        form=form,
        preview=preview,
        sent=messages.sent_messages(event),
    ), status


def _submitted_actions() -> set[str]:
    return set(request.form.getlist("action"))
