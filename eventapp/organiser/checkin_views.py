"""The door: check attendees in by code (typed or scanned) or by name, for the event or for
one session, and see who is expected and who has not come. Built for a phone."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import Attendee
from ..models.types import utcnow
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice import checkin
from ..services.errors import NotFound
from ..services.validation import database_id, page_number
from ..web.access import event_role_required
from ..web.attempt import attempt
from ..web.loading import event_or_404
from .attendee_forms import ActionForm
from .blueprint import bp


class CodeForm(FlaskForm):
    code = StringField(_l("Check-in code"), validators=[DataRequired(), Length(max=200)])


def _session_from(event, value):
    """The session chosen on the page (an id in the query or form), or None for the event."""
    session_id = database_id(value)
    if session_id is None:
        return None, attendee_service.event_sessions(event)
    sessions = attendee_service.event_sessions(event)
    chosen = next((s for s in sessions if s.id == session_id), None)
    if chosen is None:
        abort(404)
    return chosen, sessions


def _back(event, session, **extra):
    args = {"slug": event.slug, **extra}
    if session is not None:
        args["session"] = session.id
    return redirect(url_for("organiser.checkin", **args))


def day_label(day) -> str:
    """ "Thursday 19 March": the day an event over several days is counted for, on the
    check-in pages (services/backoffice/checkin.door_day); "" for the whole event."""
    return format_date(day, "EEEE d MMMM") if day else ""


def _report(result: checkin.CheckinResult) -> None:
    event = result.attendee.event
    at = result.checked_in_at.astimezone(event.tz).strftime("%H:%M")
    where = f" · {result.session.title}" if result.session else ""
    if result.already:
        flash(
            _(
                "Already checked in at %(time)s: %(name)s%(where)s",
                time=at,
                name=result.attendee.name,
                where=where,
            ),
            "warning",
        )
    else:
        flash(_("Checked in: %(name)s%(where)s", name=result.attendee.name, where=where), "success")


# The endpoint is `organiser.checkin`; the function has another name, as `checkin` is the service.
@bp.get("/events/<slug>/checkin", endpoint="checkin")
@event_role_required("checkin", "organiser")
def checkin_page(slug: str):
    event = event_or_404(slug, drafts=True)
    session, sessions = _session_from(event, request.args.get("session"))
    day = checkin.door_day(event, utcnow())
    term = (request.args.get("q") or "").strip()[:200]
    last = None
    if (last_id := database_id(request.args.get("last"))) is not None:
        last = db.session.get(Attendee, last_id)
        if last is not None and last.event_id != event.id:
            last = None
    return render_template(
        "organiser/checkin/index.html",
        event=event,
        session=session,
        sessions=[s for s in sessions if s.registrable],
        sessions_by_id={s.id: s for s in sessions},
        term=term,
        results=checkin.search(event, term) if term else [],
        day=day_label(day) if session is None else "",
        attendance=checkin.attendance(event, session, day),
        recent=checkin.recently_arrived(event, session, day=day),
        last=last,
        code_form=CodeForm(formdata=None),
        action_form=ActionForm(),
    )


@bp.post("/events/<slug>/checkin/code")
@event_role_required("checkin", "organiser")
def checkin_code(slug: str):
    event = event_or_404(slug, drafts=True)
    session, _sessions = _session_from(event, request.form.get("session"))
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Type or scan a check-in code."), "error")
        return _back(event, session)
    typed = form.code.data.strip()
    if not checkin.looks_like_code(typed):
        return _back(event, session, q=typed)  # a name: show the people it fits
    try:
        person = checkin.find_by_code(event, typed)
    except NotFound as missing:
        if checkin.search(event, typed):  # "Hendriks" is no code, but it is a name
            return _back(event, session, q=typed)
        flash(missing.message, "error")
        return _back(event, session)
    return _check_in_and_back(event, session, lambda: person)


@bp.post("/events/<slug>/checkin/<int:attendee_id>")
@event_role_required("checkin", "organiser")
def checkin_attendee(slug: str, attendee_id: int):
    event, session, person = _posted_for(slug, attendee_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return _back(event, session)
    return _check_in_and_back(event, session, lambda: person, last=person.id)


def _posted_for(slug: str, attendee_id: int):
    """The event, the session chosen on the page (or None) and the attendee a door form is
    about."""
    event = event_or_404(slug, drafts=True)
    session, _sessions = _session_from(event, request.form.get("session"))
    return event, session, attendee_service.get_attendee(event, attendee_id)


def _check_in_and_back(event, session, find_person, *, last=None):
    """Check in the attendee `find_person()` names, say how it went, and go back to the
    door page (with the attendee's card when there is one to show)."""
    done, result = attempt(
        lambda: checkin.check_in(
            find_person(), now=utcnow(), actor=current_user._get_current_object(), session=session
        )
    )
    if done:
        _report(result)
    return _back(event, session, last=result.attendee.id if done else last)


@bp.post("/events/<slug>/checkin/<int:attendee_id>/undo")
@event_role_required("checkin", "organiser")
def checkin_undo(slug: str, attendee_id: int):
    event, session, person = _posted_for(slug, attendee_id)
    if ActionForm().validate_on_submit():
        checkin.undo_check_in(person, actor=current_user._get_current_object(), session=session)
        db.session.commit()
        flash(_("Check-in taken back: %(name)s", name=person.name), "success")
    return _back(event, session, last=person.id)


@bp.get("/events/<slug>/checkin/missing")
@event_role_required("checkin", "organiser")
def checkin_missing(slug: str):
    event = event_or_404(slug, drafts=True)
    session, sessions = _session_from(event, request.args.get("session"))
    day = checkin.door_day(event, utcnow())
    page = page_number(request.args.get("page"))
    return render_template(
        "organiser/checkin/missing.html",
        event=event,
        session=session,
        day=day_label(day) if session is None else "",
        attendance=checkin.attendance(event, session, day),
        pagination=checkin.not_arrived(event, session, page=page, day=day),
        action_form=ActionForm(),
    )
