"""Building the programme: events, rooms, speakers, sessions; moving and cancelling."""

import hashlib

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..extensions import db
from ..models import Speaker
from ..models.types import utcnow
from ..services.allocation import preferences as allocation_preferences
from ..services.errors import DomainError
from ..services.programme import conflicts, schedule
from ..services.programme import reading as programme
from ..web.access import event_role_required, role_required
from ..web.loading import event_or_404, or_404
from .blueprint import bp
from .common import show_error
from .programme_forms import (
    CancelEventForm,
    CancelForm,
    EventForm,
    MoveEventForm,
    MoveForm,
    RoomForm,
    SessionForm,
    SpeakerForm,
    local_naive,
    room_choices,
    unchanged_instant,
    with_chosen_pass,
)


def _render_form(form, *, title: str, report=None, event=None, status=200, impact=None, **context):
    if form.is_submitted() and status == 200 and impact is None:
        status = 409 if report else 422
    return render_template(
        "organiser/form.html",
        form=form,
        title=title,
        report=report,
        event=event,
        impact=impact,
        **context,
    ), status


def _saved(message: str, slug: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("organiser.programme", slug=slug))


def _form_page(form, save, *, saved, title: str, event=None, preview=None, **context):
    """One programme change's form page: on a valid POST call `save()`, then commit and go
    back to the programme saying `saved` (a text, or a function of what save returned);
    else the form again, with its errors or the conflict report (Conflict) to confirm.

    A change that emails people (`preview()`, a schedule.impact Impact) is first shown with
    "this emails N people", the note and the choice not to notify; it is saved when the form
    comes back with what the organiser saw in `reviewed` and the change still does that."""
    report = None
    if form.validate_on_submit():
        try:
            impact = _unreviewed(form, preview)
            if impact is not None:
                return _render_form(form, title=title, event=event, impact=impact, **context)
            result = save()
        except DomainError as error:
            report = show_error(form, error)
        else:
            message = saved(result) if callable(saved) else saved
            return _saved(message, (event or result).slug)
    return _render_form(form, title=title, report=report, event=event, **context)


def _unreviewed(form, preview):
    """The change's impact when the organiser has yet to see it: not shown yet, or the
    change or its count differ from what was shown (`reviewed` holds a digest of both)."""
    if preview is None:
        return None
    impact = preview()
    seen = _digest(form, impact)
    if not impact.needs_review or form.reviewed.data == seen:
        return None
    form.reviewed.data = seen
    return impact


# What the organiser says about telling people: not part of the change itself.
_TELLING_FIELDS = frozenset({"csrf_token", "reviewed", "notify", "note", "clash_fix", "confirm"})


def _digest(form, impact) -> str:
    """What was shown: this page (the session or event), the change, who it emails."""
    change = sorted((f.name, repr(f.data)) for f in form if f.name not in _TELLING_FIELDS)
    return shown_digest(repr((request.path, change, impact.recipients, len(impact.clashes))))


DIGEST_LENGTH = 16  # hex characters


def shown_digest(text: str) -> str:
    """A short digest of what a review showed (the form's `reviewed`, the timetable's
    `fingerprint`): a confirm of anything else than the current review is asked again."""
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


@bp.get("/events/<slug>/programme", endpoint="programme")
@event_role_required("organiser")
def programme_page(slug: str):
    event = event_or_404(slug, drafts=True)
    return render_template(
        "organiser/programme.html",
        event=event,
        sessions=programme.sessions_of(event),
        speakers=sorted(_speakers(event), key=lambda s: s.name.lower()),
        waitlists=programme.waitlist_lengths(event),
        conflict_items=conflicts.event_conflicts(event),
    )


def _speakers(event):
    return db.session.scalars(db.select(Speaker).where(Speaker.event_id == event.id)).all()


@bp.get("/events/<slug>/conflicts", endpoint="conflicts")
@event_role_required("organiser")
def conflicts_page(slug: str):
    event = event_or_404(slug, drafts=True)
    return render_template(
        "organiser/conflicts.html", event=event, conflict_items=conflicts.event_conflicts(event)
    )


@bp.route("/events/new", methods=["GET", "POST"])
@role_required("organiser")
def new_event():
    form = EventForm()
    return _form_page(
        form,
        lambda: schedule.create_event(current_user, _event_data(form), utcnow()),
        saved=_("Event created."),
        title=_("New event"),
    )


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@event_role_required("organiser")
def edit_event(slug: str):
    event = event_or_404(slug, drafts=True)
    form = EventForm(obj=None if request.method == "POST" else _event_values(event))
    return _form_page(
        form,
        lambda: schedule.update_event(
            current_user,
            event,
            _event_data(form),
            utcnow(),
            confirm=form.confirm.data,
            telling=form.telling(),
        ),
        saved=_("Event saved."),
        title=_("Edit event"),
        event=event,
        preview=lambda: schedule.impact.event_change(event, _event_data(form)),
    )


def _event_data(form) -> dict:
    """The form's values, a time in the repeated autumn hour as the pass chosen for it."""
    data = form.service_data()
    return with_chosen_pass(form, data, data.get("timezone"))


class _Values:
    def __init__(self, **values):
        self.__dict__.update(values)


def _event_values(event):
    tz = event.tz
    return _Values(
        name=event.name,
        name_translated=event.name_translated,
        default_locale=event.default_locale,
        slug=event.slug,
        venue=event.venue,
        organiser_email=event.organiser_email,
        timezone=event.timezone,
        starts_at=local_naive(event.starts_at, tz),
        ends_at=local_naive(event.ends_at, tz),
        registration_opens_at=local_naive(event.registration_opens_at, tz),
        registration_closes_at=local_naive(event.registration_closes_at, tz),
        status=event.status,
        description=event.description,
        description_translated=event.description_translated,
        promotion_mode=event.promotion_mode,
        allocation_mode=event.allocation_mode,
        offer_hours=event.offer_hours,
        reminder_hours=event.reminder_hours,
        retention_days=event.retention_days,
        bot_challenge=event.bot_challenge,
        bot_form_checks=event.bot_form_checks,
        max_registrations_per_address=event.max_registrations_per_address,
        max_registrations_per_domain=event.max_registrations_per_domain,
        confirm_email_first=event.confirm_email_first,
        hold_minutes=event.hold_minutes,
        confirm=False,
    )


@bp.route("/events/<slug>/rooms/new", methods=["GET", "POST"])
@event_role_required("organiser")
def new_room(slug: str):
    event = event_or_404(slug, drafts=True)
    form = RoomForm()
    return _form_page(
        form,
        lambda: schedule.create_room(current_user, event, form.service_data(), utcnow()),
        saved=_("Room added."),
        title=_("New room"),
        event=event,
    )


@bp.route("/events/<slug>/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@event_role_required("organiser")
def edit_room(slug: str, room_id: int):
    event = event_or_404(slug, drafts=True)
    room = or_404(lambda: schedule.get_room(event, room_id))
    form = RoomForm(obj=None if request.method == "POST" else room)
    return _form_page(
        form,
        lambda: schedule.update_room(
            current_user, room, form.service_data(), utcnow(), confirm=form.confirm.data
        ),
        saved=_("Room saved."),
        title=_("Edit room"),
        event=event,
    )


@bp.route("/events/<slug>/speakers/new", methods=["GET", "POST"])
@event_role_required("organiser")
def new_speaker(slug: str):
    event = event_or_404(slug, drafts=True)
    form = SpeakerForm()
    return _form_page(
        form,
        lambda: schedule.create_speaker(current_user, event, form.service_data(), utcnow()),
        saved=_("Speaker added."),
        title=_("New speaker"),
        event=event,
    )


@bp.route("/events/<slug>/speakers/<int:speaker_id>/edit", methods=["GET", "POST"])
@event_role_required("organiser")
def edit_speaker(slug: str, speaker_id: int):
    event = event_or_404(slug, drafts=True)
    speaker = db.session.get(Speaker, speaker_id)
    if speaker is None or speaker.event_id != event.id:
        abort(404)
    form = SpeakerForm(obj=None if request.method == "POST" else speaker)
    return _form_page(
        form,
        lambda: schedule.update_speaker(current_user, speaker, form.service_data(), utcnow()),
        saved=_("Speaker saved."),
        title=_("Edit speaker"),
        event=event,
    )


@bp.route("/events/<slug>/sessions/new", methods=["GET", "POST"])
@event_role_required("organiser")
def new_session(slug: str):
    event = event_or_404(slug, drafts=True)
    form = SessionForm()
    form.room_id.choices = room_choices(event)
    return _form_page(
        form,
        lambda: schedule.create_session(
            current_user,
            event,
            with_chosen_pass(form, form.service_data(), event.timezone),
            utcnow(),
            confirm=form.confirm.data,
        ),
        saved=_("Session added."),
        title=_("New session"),
        event=event,
    )


def _session_values(session):
    tz = session.event.tz
    return _Values(
        title=session.title,
        title_translated=session.title_translated,
        kind=session.kind,
        starts_at=local_naive(session.starts_at, tz),
        ends_at=local_naive(session.ends_at, tz),
        room_id=session.room_id or 0,
        capacity=session.capacity,
        speakers="\n".join(s.name for s in session.speakers),
        description=session.description,
        description_translated=session.description_translated,
        confirm=False,
    )


@bp.route("/events/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@event_role_required("organiser")
def edit_session(slug: str, session_id: int):
    return _session_change_page(slug, session_id, SessionForm, lambda session: _("Edit session"))


@bp.route("/events/<slug>/sessions/<int:session_id>/move", methods=["GET", "POST"])
@event_role_required("organiser")
def move_session(slug: str, session_id: int):
    return _session_change_page(
        slug, session_id, MoveForm, lambda session: _("Move “%(title)s”", title=session.title)
    )


def _session_change_page(slug: str, session_id: int, form_class, title_for):
    """Editing a session and moving it: one service call, different forms."""
    event = event_or_404(slug, drafts=True)
    session = or_404(lambda: schedule.get_session(session_id, event))
    form = form_class(obj=None if request.method == "POST" else _session_values(session))
    form.room_id.choices = room_choices(event)
    return _form_page(
        form,
        lambda: schedule.update_session(
            current_user,
            session,
            _session_data(form, session),
            utcnow(),
            confirm=form.confirm.data,
            telling=form.telling(),
            clash_fix=form.clash_fix.data,
        ),
        saved=_change_message,
        title=title_for(session),
        event=event,
        session=session,
        preview=lambda: schedule.impact.session_change(session, _session_data(form, session)),
    )


def _session_data(form, session) -> dict:
    """The form's values, an unchanged start or end as the instant it stood for (a time in
    the repeated autumn hour would otherwise read as ambiguous: `unchanged_instant`), a
    changed one there as the pass chosen for it (`with_chosen_pass`)."""
    data = form.service_data()
    for name in ("starts_at", "ends_at"):
        data[name] = unchanged_instant(data[name], getattr(session, name), session.event.tz)
    return with_chosen_pass(form, data, session.event.timezone)


def _change_message(change) -> str:
    message = _("Session saved.")
    if change.notified:
        message += " " + ngettext(
            "%(num)d person is emailed about the change.",
            "%(num)d people are emailed about the change.",
            change.notified,
        )
    if change.promoted:
        message += " " + ngettext(
            "%(num)d person moved up from the waiting list.",
            "%(num)d people moved up from the waiting list.",
            len(change.promoted),
        )
    return message


@bp.route("/events/<slug>/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@event_role_required("organiser")
def cancel_session(slug: str, session_id: int):
    event = event_or_404(slug, drafts=True)
    session = or_404(lambda: schedule.get_session(session_id, event))
    form = CancelForm()
    if form.validate_on_submit():
        try:
            change = schedule.cancel_session(
                current_user, session, utcnow(), telling=form.telling()
            )
        except DomainError as error:
            show_error(form, error)
        else:
            db.session.commit()
            flash(_cancelled_message(change.notified), "success")
            return redirect(url_for("organiser.programme", slug=event.slug))
    return render_template(
        "organiser/cancel_session.html",
        event=event,
        session=session,
        form=form,
        impact=schedule.impact.session_cancel(session),
        ranked=len(allocation_preferences.rankers_of(session)),
    ), (422 if form.is_submitted() else 200)


def _cancelled_message(notified: int) -> str:
    if not notified:
        return _("Session cancelled; nobody is emailed.")
    return ngettext(
        "Session cancelled; %(num)d person is emailed.",
        "Session cancelled; %(num)d people are emailed.",
        notified,
    )


@bp.route("/events/<slug>/move", methods=["GET", "POST"])
@event_role_required("organiser")
def move_event(slug: str):
    event = event_or_404(slug, drafts=True)
    form = MoveEventForm(
        obj=None
        if request.method == "POST"
        else _Values(starts_at=local_naive(event.starts_at, event.tz))
    )
    return _form_page(
        form,
        lambda: schedule.move_event(
            current_user, event, form.starts_at.data, utcnow(), telling=form.telling()
        ),
        saved=lambda moved: _event_moved_message(len(moved), form.notify.data != "no"),
        title=_("Move the event"),
        event=event,
        preview=lambda: schedule.impact.event_move(event, form.starts_at.data),
    )


def _event_moved_message(sessions: int, notified: bool) -> str:
    if notified:
        return ngettext(
            "Event moved; the attendees of %(num)d session are emailed.",
            "Event moved; the attendees of %(num)d sessions are emailed.",
            sessions,
        )
    return ngettext(
        "Event moved (%(num)d session); nobody is emailed.",
        "Event moved (%(num)d sessions); nobody is emailed.",
        sessions,
    )


@bp.route("/events/<slug>/cancel", methods=["GET", "POST"])
@event_role_required("organiser")
def cancel_event(slug: str):
    event = event_or_404(slug, drafts=True)
    form = CancelEventForm()
    return _form_page(
        form,
        lambda: schedule.cancel_event(current_user, event, utcnow()),
        saved=lambda cancelled: ngettext(
            "Event cancelled: %(num)d session; its attendees are emailed.",
            "Event cancelled: %(num)d sessions; their attendees are emailed.",
            len(cancelled),
        ),
        title=_("Cancel the event"),
        event=event,
    )
