"""Public pages: the events, a programme, the registration form and its confirmation."""

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import bot_challenge
from ..database import reads_before_writing
from ..errors import follow_up_after_rollback
from ..extensions import db
from ..models import Attendee, Registration
from ..models.types import utcnow
from ..ratelimits import registration_source
from ..security import local_path_or
from ..services import links
from ..services.allocation import runs as allocation
from ..services.errors import DomainError, InvalidInput, NotFound
from ..services.programme import reading as programme
from ..services.registration import register as registration
from ..services.registration.register import RegistrationInput
from . import bot_checks, timetable
from .blueprint import bp
from .forms import PRIVACY_NOTICE, RANK_LABELS, consent_record, registration_form_for


@bp.get("/")
def index():
    events = programme.published_events()
    if len(events) == 1:
        return redirect(url_for("public.event_programme", slug=events[0].slug))
    return render_template("public/index.html", events=events)


@bp.get("/lang/<code>")
def switch_language(code: str):
    """Remember the chosen language, then go back where the visitor was (same site only)."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(local_path_or(request.args.get("next"), "/"))


def _load_event(slug: str):
    try:
        g.event = programme.get_event(slug)
    except NotFound:
        abort(404)
    g.event_locale = g.event.default_locale
    return g.event


@bp.get("/events/<slug>/")
def event_programme(slug: str):
    event = _load_event(slug)
    sessions = programme.sessions_of(event)
    rooms = programme.rooms_in_use(sessions)
    chosen, waitlisted = _visitor_choices(event)
    return render_template(
        "public/programme.html",
        event=event,
        days=programme.group_by_day(sessions, event.tz),
        rooms=rooms,
        timetables=timetable.build(
            sessions, rooms, event.tz, timetable.session_states(sessions, chosen, waitlisted)
        ),
        waitlists=programme.waitlist_lengths(event),
        registration_open=programme.is_registration_open(event, utcnow()),
    )


def _visitor_choices(event) -> tuple[set[int], set[int]]:
    """The sessions this browser's attendee (just registered here) holds or waits for."""
    attendee_id = session.get("just_registered") or session.get("registered_here")
    attendee = db.session.get(Attendee, attendee_id) if attendee_id else None
    if attendee is None or attendee.event_id != event.id:
        return set(), set()
    registrations: list[Registration] = attendee.registrations
    chosen = {r.session_id for r in registrations if r.status == "confirmed"}
    waitlisted = {r.session_id for r in registrations if r.status in ("waitlisted", "offered")}
    return chosen, waitlisted


def _session_label(session) -> str:
    tz = session.event.tz
    times = f"{session.starts_at.astimezone(tz):%H:%M}–{session.ends_at.astimezone(tz):%H:%M}"
    if session.is_full:
        state = _("Full: join the waiting list")
    else:
        state = _("%(n)d places left", n=session.seats_left)
    room = f" · {session.room.name}" if session.room else ""
    return f"{times} {session.title}{room} ({state})"


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@reads_before_writing
def register(slug: str):
    event = _load_event(slug)
    sessions = programme.sessions_of(event)
    plenaries = [s for s in sessions if s.kind == "plenary" and s.registrable]
    rounds = programme.workshop_rounds(sessions)
    ranked = allocation.collects_preferences(event)
    # A ranking's <select> shows each choice's label; the radio and checkbox options are
    # written out by the template (register.html) from the session itself, so there the
    # label is only the title, not a second rendering of the times and seats.
    label_for = _session_label if ranked else (lambda session: session.title)
    form = registration_form_for(plenaries, rounds, label_for, ranked=ranked)
    now = utcnow()
    closed_message = programme.closed_reason(event, now)

    if not form.is_submitted():
        form.started.data = bot_checks.stamp()
    if (
        form.validate_on_submit()
        and not closed_message
        and not bot_checks.stop_bots(event, form, request.form.get("altcha"))
    ):
        data = RegistrationInput(
            name=form.name.data,
            email=form.email.data,
            organisation=form.organisation.data or "",
            job_role=form.job_role.data or "",
            session_ids=form.chosen_session_ids(),
            waitlist=bool(form.waitlist.data),
            consent=bool(form.consent.data),
            locale=_current_locale(),
            consent_text=consent_record("form", _current_locale()),
            preferences=form.ranked_preferences() if ranked else None,
            source=registration_source(),
        )
        try:
            result = registration.register(event, data, now)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            follow_up_after_rollback(error)
            _show_error_on_form(form, error)
        else:
            session["just_registered"] = result.attendee.id
            return redirect(url_for("public.confirmation", slug=event.slug))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "public/register.html",
        event=event,
        form=form,
        plenaries=plenaries,
        rounds=rounds,
        ranked=ranked,
        closed_message=closed_message,
        privacy_notice=PRIVACY_NOTICE,
        challenge_required=bot_challenge.required(event),
        waitlists=programme.waitlist_lengths(event),
    ), status


def _current_locale() -> str:

    return str(get_locale())


def _show_error_on_form(form, error: DomainError) -> None:
    """Put each domain error next to the field it concerns, in plain words."""
    if isinstance(error, InvalidInput):
        for field_name, reasons in error.fields.items():
            target = form._fields.get(field_name)
            if target is None:
                form.form_errors.extend(reasons)
            else:
                target.errors = list(target.errors) + reasons
        return
    # The sessions a conflict or a full session names are marked in the form too.
    form.problem_code = error.code
    form.problem_session_ids = {s["id"] for s in error.details.get("sessions", [])}
    if error.code == "already_registered":
        form.email.errors = list(form.email.errors) + [error.message]
        return
    form.form_errors.append(error.message)


def _ranked_titles(attendee) -> list[str]:
    """The attendee's ranked workshops, in round and rank order, while they wait."""
    if not allocation.collects_preferences(attendee.event):
        return []
    titles = {s.id: s.title for r in allocation.rounds_of(attendee.event) for s in r.sessions}
    ranked = allocation.preferences_of(attendee)
    return [
        f"{titles[i]} ({RANK_LABELS[rank - 1]})"
        for ids in ranked.values()
        for rank, i in enumerate(ids, start=1)
        if i in titles
    ]


@bp.get("/events/<slug>/confirmation")
def confirmation(slug: str):
    event = _load_event(slug)
    # Shown once: the next person at a shared computer (a kiosk at the door, a library PC)
    # must not find someone's private links by opening the page again; the links are in the
    # confirmation email too. The programme keeps marking the sessions chosen here.
    attendee_id = session.pop("just_registered", None)
    if attendee_id:
        session["registered_here"] = attendee_id
    attendee = db.session.get(Attendee, attendee_id) if attendee_id else None
    if attendee is None or attendee.event_id != event.id:
        return redirect(url_for("public.event_programme", slug=slug))
    return render_template(
        "public/confirmation.html",
        event=event,
        attendee=attendee,
        preferences=_ranked_titles(attendee),
        manage_url=url_for("manage.page", token=links.manage_token(attendee), _external=True),
        feed_url=url_for(
            "calendar.personal_feed", token=links.feed_token(attendee), _external=True
        ),
    )
