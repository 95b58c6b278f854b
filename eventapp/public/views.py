"""Public pages: the events, a programme, the registration form and its confirmation."""

import time
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from .. import bot_challenge
from ..database import commit_without_expiring, reads_before_writing
from ..errors import follow_up_after_rollback
from ..extensions import db
from ..i18n import in_reader_language
from ..models import Attendee, Registration
from ..models.types import utcnow
from ..page_cache import shared_page
from ..ratelimits import registration_source
from ..services import links
from ..services.allocation import runs as allocation
from ..services.errors import DomainError
from ..services.programme import reading as programme
from ..services.registration import fallback
from ..services.registration import register as registration
from ..services.registration.questions import questions_of
from ..services.registration.register import RegistrationInput
from ..services.registration.waitlist import waitlist_positions
from ..web.access import safe_next_url
from ..web.consent import PRIVACY_NOTICE, consent_record
from ..web.fields import RANK_LABELS
from ..web.form_errors import show_on_form
from ..web.loading import event_or_404
from ..web.question_fields import show_answer_problems
from . import bot_checks, timetable
from .blueprint import bp
from .fallback_fields import chosen_fallbacks
from .forms import registration_form_for


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
    target = safe_next_url(request.args.get("next"), "/")
    if urlsplit(target).path.endswith("/confirmation") and _just_confirmed():
        # Reading one's confirmation again in the other language, right after registering,
        # is the same person: the page may show once more. Later it stays private.
        session["just_registered"] = session["registered_here"]
    return redirect(target)


# How long after the confirmation page was shown the language switch may show it again.
CONFIRMATION_RELANGUAGE_SECONDS = 600


def _just_confirmed() -> bool:
    shown_at = session.get("confirmation_shown_at")
    return (
        bool(session.get("registered_here"))
        and isinstance(shown_at, int | float)
        and 0 <= time.time() - shown_at <= CONFIRMATION_RELANGUAGE_SECONDS
    )


@bp.get("/events/<slug>/")
@shared_page()
def event_programme(slug: str):
    event = event_or_404(slug)
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
    waitlisted = {r.session_id for r in registrations if r.status in Registration.WAITING}
    return chosen, waitlisted


def _session_label(session) -> str:
    tz = session.event.tz
    times = f"{session.starts_at.astimezone(tz):%H:%M}–{session.ends_at.astimezone(tz):%H:%M}"
    if session.is_full:
        state = _("Full: join the waiting list")
    else:
        state = ngettext("%(num)d place left", "%(num)d places left", session.seats_left)
    room = f" · {in_reader_language(session.room, 'name')}" if session.room else ""
    return f"{times} {in_reader_language(session, 'title')}{room} ({state})"


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@shared_page("session")
@reads_before_writing
def register(slug: str):
    event = event_or_404(slug)
    sessions = programme.sessions_of(event)
    plenaries = [s for s in sessions if s.kind == "plenary" and s.registrable]
    ranked = allocation.collects_preferences(event)
    # Ranked rounds are the allocation's (a double session keeps the rounds apart).
    rounds = allocation.rounds_of(event) if ranked else programme.workshop_rounds(sessions)
    # A ranking's <select> shows each choice's label; the radio and checkbox options are
    # written out by the template (register.html) from the session itself, so there the
    # label is only the title, not a second rendering of the times and seats.
    label_for = _session_label if ranked else (lambda s: in_reader_language(s, "title"))
    questions = questions_of(event)
    form = registration_form_for(plenaries, rounds, label_for, ranked=ranked, questions=questions)
    if not ranked and not form.is_submitted():
        _preselect(form, plenaries, rounds, request.args.get("session", type=int))
    now = utcnow()
    closed_message = programme.closed_reason(event, now)

    if not form.is_submitted():
        form.started.data = bot_checks.stamp()
    valid = form.validate_on_submit()
    if form.is_submitted() and not valid:
        show_answer_problems(form, event)
    if (
        valid
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
            source=registration_source(event),
            public=True,
            answers=form.answers(),
            questions=questions,
        )
        try:
            result = registration.register(event, data, now)
            if not ranked:
                for waited, kept in chosen_fallbacks(form, rounds).items():
                    fallback.hold_fallback(result.attendee, waited, kept, now)
            # The redirect below reads the attendee's id and the event's slug: kept, not
            # read back (a plain commit expires them: two more statements per registration).
            commit_without_expiring()
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
        challenge_strings=bot_challenge.widget_strings(),
        waitlists=programme.waitlist_lengths(event),
    ), status


def _preselect(form, plenaries, rounds, session_id: int | None) -> None:
    """`?session=<id>` from a session's page: that session ticked (its round's choice), and
    the waiting list ticked too when it is full, as the page's button said."""
    for workshop_round, round_field in zip(rounds, form.round_fields(), strict=True):
        chosen = next((s for s in workshop_round.sessions if s.id == session_id), None)
        if chosen is not None:
            round_field.data = str(chosen.id)
            form.waitlist.data = form.waitlist.data or chosen.is_full
    plenary = next((s for s in plenaries if s.id == session_id), None)
    if plenary is not None and plenary.id not in form.plenary.data:
        form.plenary.data = [*form.plenary.data, plenary.id]
        form.waitlist.data = form.waitlist.data or plenary.is_full


def _current_locale() -> str:

    return str(get_locale())


def _show_error_on_form(form, error: DomainError) -> None:
    """Put each domain error next to the field it concerns, in plain words; the sessions a
    conflict or a full session names are marked in the form too."""
    form.problem_code = error.code
    form.problem_session_ids = {s["id"] for s in error.details.get("sessions", [])}
    if error.code == "already_registered":
        form.email.errors = list(form.email.errors) + [error.message]
        return
    show_on_form(form, error)


def _ranked_titles(attendee) -> list[str]:
    """The attendee's ranked workshops, in round and rank order, while they wait."""
    if not allocation.collects_preferences(attendee.event):
        return []
    titles = {
        s.id: in_reader_language(s, "title")
        for r in allocation.rounds_of(attendee.event)
        for s in r.sessions
    }
    ranked = allocation.preferences_of(attendee)
    return [
        f"{titles[i]} ({RANK_LABELS[rank - 1]})"
        for ids in ranked.values()
        for rank, i in enumerate(ids, start=1)
        if i in titles
    ]


@bp.get("/events/<slug>/confirmation")
def confirmation(slug: str):
    event = event_or_404(slug)
    # Shown once: the next person at a shared computer (a kiosk at the door, a library PC)
    # must not find someone's private links by opening the page again; the links are in the
    # confirmation email too. The programme keeps marking the sessions chosen here.
    attendee_id = session.pop("just_registered", None)
    if attendee_id:
        session["registered_here"] = attendee_id
        session["confirmation_shown_at"] = time.time()
    attendee = registration.registered_attendee(attendee_id) if attendee_id else None
    if attendee is None or attendee.event_id != event.id:
        return redirect(url_for("public.event_programme", slug=slug))
    return render_template(
        "public/confirmation.html",
        event=event,
        attendee=attendee,
        preferences=_ranked_titles(attendee),
        positions=waitlist_positions(attendee.registrations),
        **({} if attendee.on_hold else _private_links(attendee)),
    )


def _private_links(attendee) -> dict:
    """The confirmation page's private links and ticket. Not for seats held until the email
    is confirmed (services/registration/holds.py): the mailbox must be the only way in."""
    return {
        "manage_url": url_for("manage.page", token=links.manage_token(attendee), _external=True),
        "token": links.manage_token(attendee),
        "qr_uri": links.ticket_qr_data_uri(attendee),
        "feed_url": url_for(
            "calendar.personal_feed", token=links.feed_token(attendee), _external=True
        ),
    }
