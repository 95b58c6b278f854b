"""Attendees: the list (search, filter, pages), one attendee (edit, move, cancel, erase), the
waiting lists with manual promotion, and the CSV exports."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import insert

from ..extensions import db
from ..models import AuditEntry
from ..models.types import utcnow
from ..services import privacy
from ..services.backoffice import attendees as attendee_service
from ..services.backoffice import export, spreadsheet
from ..services.backoffice.attendees import AttendeeChanges, AttendeeFilter
from ..services.registration import answers as answer_service
from ..services.registration import waitlist
from ..services.registration.questions import questions_of
from ..services.validation import page_number
from ..web.access import event_role_required, safe_next_url
from ..web.attempt import attempt
from ..web.loading import event_or_404
from .attendee_forms import ActionForm, AttendeeForm, BulkForm, PromoteForm, SessionsForm
from .blueprint import bp


def _actor():
    """The signed-in organiser as a model instance, for the services' audit entries."""
    return current_user._get_current_object()


def _session_label(session, event) -> str:
    tz = event.tz
    times = f"{session.starts_at.astimezone(tz):%H:%M}–{session.ends_at.astimezone(tz):%H:%M}"
    room = f" · {session.room.name}" if session.room else ""
    seats = f" ({session.seats_taken}/{session.capacity})"
    return f"{times} {session.title}{room}{seats}"


@bp.get("/events/<slug>/attendees")
@event_role_required("organiser")
def attendees(slug: str):
    event = event_or_404(slug, drafts=True)
    wanted = AttendeeFilter.from_args(request.args)
    sessions = attendee_service.event_sessions(event)
    pagination = attendee_service.attendee_page(
        event, wanted, page_number(request.args.get("page"))
    )
    questions = questions_of(event)
    return render_template(
        "organiser/attendees/list.html",
        event=event,
        wanted=wanted,
        sessions=sessions,
        sessions_by_id={s.id: s for s in sessions},
        pagination=pagination,
        bulk_form=BulkForm(formdata=None),
        questions=questions,
        answers=answer_service.answers_of_many([a.id for a in pagination.items])
        if questions
        else {},
        answer_text=answer_service.answer_text,
    )


def _forms_for(attendee, event, sessions, *, edit=None, move=None):
    edit = edit or AttendeeForm(obj=attendee, formdata=None)
    if move is None:
        move = SessionsForm(formdata=None)
        move.sessions.data = [r.session_id for r in attendee.registrations if r.is_active]
    move.sessions.choices = [(s.id, _session_label(s, event)) for s in sessions if s.registrable]
    return edit, move


def _render_attendee(event, attendee, *, edit=None, move=None, status=200):
    sessions = attendee_service.event_sessions(event)
    edit, move = _forms_for(attendee, event, sessions, edit=edit, move=move)
    positions = waitlist.waitlist_positions(attendee.registrations)
    return render_template(
        "organiser/attendees/detail.html",
        event=event,
        attendee=attendee,
        registrations=sorted(
            attendee.registrations, key=lambda r: (r.session.starts_at, r.session_id)
        ),
        positions=positions,
        edit_form=edit,
        move_form=move,
        action_form=ActionForm(),
        messages=attendee_service.messages_to(attendee),
        answers=answer_service.answers_of(attendee),
        answer_text=answer_service.answer_text,
    ), status


def _attendee_or_404(event, attendee_id: int):
    return attendee_service.get_attendee(event, attendee_id)


@bp.get("/events/<slug>/attendees/<int:attendee_id>")
@event_role_required("organiser")
def attendee(slug: str, attendee_id: int):
    event = event_or_404(slug, drafts=True)
    return _render_attendee(event, _attendee_or_404(event, attendee_id))


@bp.post("/events/<slug>/attendees/<int:attendee_id>/edit")
@event_role_required("organiser")
def edit_attendee(slug: str, attendee_id: int):
    event = event_or_404(slug, drafts=True)
    person = _attendee_or_404(event, attendee_id)
    form = AttendeeForm()
    return _attendee_form_posted(
        event,
        person,
        form,
        lambda: attendee_service.update_attendee(
            person,
            AttendeeChanges(form.name.data, form.email.data, form.organisation.data or ""),
            _actor(),
        ),
        lambda: _("Saved the details of %(name)s.", name=person.name),
        slot="edit",
    )


@bp.post("/events/<slug>/attendees/<int:attendee_id>/sessions")
@event_role_required("organiser")
def move_attendee(slug: str, attendee_id: int):
    event = event_or_404(slug, drafts=True)
    person = _attendee_or_404(event, attendee_id)
    form = SessionsForm()
    form.sessions.choices = [
        (s.id, s.title) for s in attendee_service.event_sessions(event) if s.registrable
    ]
    return _attendee_form_posted(
        event,
        person,
        form,
        lambda: attendee_service.move_attendee(
            person,
            list(form.sessions.data or []),
            actor=_actor(),
            now=utcnow(),
            waitlist=bool(form.waitlist.data),
            override_capacity=bool(form.override_capacity.data),
        ),
        lambda: _("Changed the sessions of %(name)s.", name=person.name),
        slot="move",
    )


def _attendee_form_posted(event, person, form, change, saved_message, *, slot: str):
    """A form of the attendee's page was sent: make the change and go back to the page
    saying so, or show the page again with the errors on that form (`slot`: edit, move)."""
    if form.validate_on_submit() and attempt(change, form=form)[0]:
        flash(saved_message(), "success")
        return redirect(url_for("organiser.attendee", slug=event.slug, attendee_id=person.id))
    person = _attendee_or_404(event, person.id)
    return _render_attendee(event, person, status=422, **{slot: form})


@bp.post("/events/<slug>/attendees/<int:attendee_id>/cancel")
@event_role_required("organiser")
def cancel_attendee(slug: str, attendee_id: int):
    event = event_or_404(slug, drafts=True)
    person = _attendee_or_404(event, attendee_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    elif attempt(lambda: attendee_service.cancel_attendee(person, actor=_actor(), now=utcnow()))[0]:
        flash(_("Cancelled the registration of %(name)s.", name=person.name), "success")
    return redirect(url_for("organiser.attendee", slug=slug, attendee_id=attendee_id))


@bp.post("/events/<slug>/attendees/<int:attendee_id>/erase")
@event_role_required("organiser")
def erase_attendee(slug: str, attendee_id: int):
    """Delete an attendee's personal data on their request (by mail or phone, say): the
    same erasure as their own "delete my data", their calendar told first."""
    event = event_or_404(slug, drafts=True)
    person = _attendee_or_404(event, attendee_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    elif attempt(lambda: privacy.erase_attendee(person, utcnow(), actor=_actor()))[0]:
        flash(_("Deleted the personal data of this attendee."), "success")
    return redirect(url_for("organiser.attendee", slug=slug, attendee_id=attendee_id))


@bp.get("/events/<slug>/waitlists")
@event_role_required("organiser")
def waitlists(slug: str):
    event = event_or_404(slug, drafts=True)
    return render_template(
        "organiser/attendees/waitlists.html",
        event=event,
        lists=[(s, regs) for s, regs in attendee_service.waiting_lists(event) if regs],
        promote_form=PromoteForm(),
    )


@bp.post("/events/<slug>/registrations/<int:registration_id>/promote")
@event_role_required("organiser")
def promote(slug: str, registration_id: int):
    event = event_or_404(slug, drafts=True)
    registration = attendee_service.get_registration(event, registration_id)
    form = PromoteForm()
    back = safe_next_url(request.form.get("next"), url_for("organiser.waitlists", slug=slug))
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(back)
    promoted, _none = attempt(
        lambda: waitlist.promote_registration(
            registration, utcnow(), _actor(), override_capacity=bool(form.override_capacity.data)
        )
    )
    if promoted:
        flash(
            _(
                "%(name)s now has a seat in “%(title)s”.",
                name=registration.attendee.name,
                title=registration.session.title,
            ),
            "success",
        )
    return redirect(back)


def _delimiter() -> str:
    return export.DELIMITERS.get(request.args.get("delimiter", ""), export.DEFAULT_DELIMITER)


def log_export(action: str, obj, event, after: dict) -> None:
    """Personal data left the system: record who took it, and which selection.

    In its own short transaction that writes first: a GET reads in a snapshot without the
    write lock on SQLite (eventapp/database.py), and turning that snapshot into a write fails
    if someone registered meanwhile; a transaction that starts with its write just queues.
    """
    values = {
        "organiser_id": current_user.id,
        "event_id": event.id,
        "action": action,
        "object_type": obj.__tablename__,
        "object_id": obj.id,
        "after": after,
        "created_at": utcnow(),
    }
    db.session.commit()  # ends the read snapshot (nothing was written)
    db.session.execute(insert(AuditEntry).values(**values))
    db.session.commit()


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table_response(table: export.Table, fmt: str, name: str) -> Response:
    """The export as CSV (Excel's regional separator, see services/backoffice/export.py) or
    as an XLSX workbook; never cached, since it holds personal data."""
    if fmt == "xlsx":
        data, mimetype = spreadsheet.to_xlsx(table), XLSX_MIMETYPE
    else:
        data, mimetype = export.to_csv(table.header, table.rows, _delimiter()), "text/csv"
    content_type = f"{mimetype}; charset=utf-8" if fmt == "csv" else mimetype
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/events/<slug>/attendees.<any(csv, xlsx):fmt>")
@event_role_required("organiser")
def export_attendees(slug: str, fmt: str):
    event = event_or_404(slug, drafts=True)
    wanted = AttendeeFilter.from_args(request.args)
    table = export.attendee_table(event, wanted)
    # Personal data left the system: who took it, and which selection.
    log_export("attendees.export", event, event, {"filter": wanted.as_args(), "format": fmt})
    return _table_response(table, fmt, export.filename(event, "attendees"))


@bp.get("/events/<slug>/sessions/<int:session_id>/attendees.<any(csv, xlsx):fmt>")
@event_role_required("organiser")
def export_session(slug: str, session_id: int, fmt: str):
    event = event_or_404(slug, drafts=True)
    session = next((s for s in attendee_service.event_sessions(event) if s.id == session_id), None)
    if session is None:
        abort(404)
    table = export.session_table(session)
    log_export("session.export", session, event, {"session_id": session.id, "format": fmt})
    return _table_response(table, fmt, export.filename(event, f"session-{session.id}"))
