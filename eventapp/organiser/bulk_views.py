"""The attendee list's bulk actions (message, cancel, move to a session, resend the
confirmation) and "resend confirmation" on one attendee's page.

Plain form posts, so they work without JavaScript; static/attendee_list.js only adds the
"select all" checkbox. Cancelling asks first, naming the count; every action ends on a
report of what happened to each attendee.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models.types import utcnow
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice import bulk
from ..services.backoffice.attendees import AttendeeFilter
from ..services.errors import DomainError
from ..services.validation import ID_MAX
from ..web.access import event_role_required
from ..web.attempt import attempt
from ..web.loading import event_or_404
from .attendee_forms import ActionForm, BulkForm, ConfirmCancelForm
from .blueprint import bp
from .message_views import message_form, render_composer


def _actor():
    return current_user._get_current_object()


def _back_to_list(event, wanted: AttendeeFilter):
    return redirect(url_for("organiser.attendees", slug=event.slug, **wanted.as_args()))


def _ids(field) -> tuple[int, ...] | None:
    """The ticked ids, or None when one is not a database id (a forged form)."""
    ids = tuple(dict.fromkeys(field.data or []))
    return ids if all(0 < i <= ID_MAX for i in ids) else None


def _selection(form: BulkForm, wanted: AttendeeFilter) -> bulk.Selection | None:
    if form.scope.data == "matching":
        return bulk.Selection(matching=wanted)
    ids = _ids(form.attendee)
    return None if ids is None else bulk.Selection(ids=ids)


@bp.post("/events/<slug>/attendees/bulk")
@event_role_required("organiser")
def bulk_action(slug: str):
    event = event_or_404(slug, drafts=True)
    wanted = AttendeeFilter.from_args(request.form)
    form = BulkForm()
    if not form.validate_on_submit():
        flash(_("The form expired or was incomplete; please try again."), "error")
        return _back_to_list(event, wanted)
    selection = _selection(form, wanted)
    if selection is None or selection.empty:
        flash(_("Tick at least one attendee first."), "error")
        return _back_to_list(event, wanted)
    try:
        attendees = bulk.selected_attendees(event, selection)
        return _ACTIONS[form.action.data](event, form, attendees, wanted)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back_to_list(event, wanted)


def _message(event, form, attendees, wanted):
    """Into the composer, with the selection as the audience (cancelled ones get nothing)."""
    active = bulk.active_only(attendees)
    if not active:
        flash(_("None of the selected attendees has an active registration."), "error")
        return _back_to_list(event, wanted)
    return render_composer(event, message_form(event, selected=",".join(_of(active, str))))


def _cancel(event, form, attendees, wanted):
    """The confirmation step: who would be cancelled, and how many."""
    active = bulk.active_only(attendees)
    if not active:
        flash(_("None of the selected attendees has an active registration."), "error")
        return _back_to_list(event, wanted)
    return render_template(
        "organiser/attendees/bulk_cancel.html",
        event=event,
        attendees=active,
        skipped=len(attendees) - len(active),
        form=ConfirmCancelForm(formdata=None),
        wanted=wanted,
    )


def _move(event, form, attendees, wanted):
    session = bulk.move_target(event, form.move_to.data or None)
    outcomes = bulk.bulk_move(event, bulk.Selection(ids=_of(attendees)), session, **_now())
    db.session.commit()
    title = _("Move to “%(title)s”", title=session.title)
    return _report(event, title, outcomes, wanted, summary=bulk.move_summary(outcomes))


def _resend(event, form, attendees, wanted):
    outcomes = bulk.bulk_resend(event, bulk.Selection(ids=_of(attendees)), **_now())
    db.session.commit()
    return _report(event, _("Resend the confirmation"), outcomes, wanted)


_ACTIONS = {"message": _message, "cancel": _cancel, "move": _move, "resend": _resend}


def _of(attendees, kind=int) -> tuple:
    return tuple(kind(a.id) for a in attendees)


def _now() -> dict:
    return {"actor": _actor(), "now": utcnow()}


def _report(event, title: str, outcomes, wanted, status: int = 200, summary: str = ""):
    """The report page; `summary` replaces the plain "Done for n of m" where an action says
    more (the bulk move counts why attendees were not moved)."""
    return render_template(
        "organiser/attendees/bulk_report.html",
        event=event,
        title=title,
        outcomes=outcomes,
        done=sum(1 for o in outcomes if o.done),
        summary=summary,
        wanted=wanted,
    ), status


@bp.post("/events/<slug>/attendees/bulk/cancel")
@event_role_required("organiser")
def bulk_cancel(slug: str):
    event = event_or_404(slug, drafts=True)
    wanted = AttendeeFilter.from_args(request.form)
    form = ConfirmCancelForm()
    ids = _ids(form.attendee) if form.validate_on_submit() else None
    if not ids:
        flash(_("The form expired or was incomplete; please try again."), "error")
        return _back_to_list(event, wanted)
    try:
        outcomes = bulk.bulk_cancel(
            event, bulk.Selection(ids=ids), expected_count=form.expected_count.data, **_now()
        )
    except bulk.SelectionChanged as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back_to_list(event, wanted)
    db.session.commit()
    return _report(event, _("Cancel registrations"), outcomes, wanted)


@bp.post("/events/<slug>/attendees/<int:attendee_id>/resend")
@event_role_required("organiser")
def resend_confirmation(slug: str, attendee_id: int):
    event = event_or_404(slug, drafts=True)
    person = attendee_service.get_attendee(event, attendee_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    elif attempt(lambda: bulk.resend_confirmation(person, **_now()))[0]:
        flash(_("A fresh confirmation is on its way to %(email)s.", email=person.email), "success")
    return redirect(url_for("organiser.attendee", slug=slug, attendee_id=attendee_id))
