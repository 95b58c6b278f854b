"""The attendee's private page, reached only through the link from their confirmation.

Every change is a POST with a CSRF token; what cannot be undone (cancelling, deleting
one's data) first shows a confirmation page. The rules live in the services: this module
parses the form, calls one service, commits or rolls back, and says what happened.
"""

import json

from flask import Response, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import in_reader_language
from ..models.types import utcnow
from ..services import links, privacy
from ..services.errors import NotFound
from ..services.programme import reading as programme
from ..services.registration import answers as answer_service
from ..services.registration import fallback as fallback_service
from ..services.registration import holds, self_service
from ..services.registration import register as registration
from ..services.registration import waitlist as waitlist_service
from ..services.registration.questions import questions_of
from ..services.registration.waitlist import waitlist_positions
from ..web.attempt import attempt
from ..web.loading import event_or_404
from .blueprint import bp
from .forms import (
    ConfirmForm,
    EmailChangeForm,
    answers_form_for,
    details_form_for,
    fallback_form_for,
    sessions_form_for,
)


def load_attendee(token: str):
    try:
        attendee = registration.find_by_token(token)
    except NotFound:
        abort(
            Response(
                render_template("manage/invalid_link.html", events=programme.published_events()),
                status=404,
            )
        )
    g.event = attendee.event
    g.attendee_locale = attendee.locale
    return attendee


def _active(attendee) -> list:
    registrations = [r for r in attendee.registrations if r.is_active]
    return sorted(registrations, key=lambda r: (r.session.starts_at, r.session_id))


def _sessions_form(attendee, **kwargs):
    sessions = programme.sessions_of(attendee.event)
    plenaries = [s for s in sessions if s.kind == "plenary" and s.registrable]
    rounds = programme.workshop_rounds(sessions)
    # A seat kept while waiting is not a choice of its own: the round shows the one waited for.
    fallbacks = {r.fallback_session_id for r in _active(attendee) if r.status == "waitlisted"}
    current = {r.session_id for r in _active(attendee)} - fallbacks
    if attendee.status == "cancelled":
        # Registering again starts as the registration form does: the plenaries with seats.
        current = {s.id for s in plenaries if not s.is_full}
    return sessions_form_for(plenaries, rounds, current, **kwargs), plenaries, rounds


def _fallback_forms(attendee, rounds, submitted=None) -> dict:
    """{waited session id: its "keep a place in" form}, for each waiting-list place in a
    workshop round with another workshop to keep (the submitted one as it was sent)."""
    forms = {}
    for r in _active(attendee):
        workshop_round = next((w for w in rounds if r.session in w.sessions), None)
        if r.status != "waitlisted" or workshop_round is None or len(workshop_round.sessions) < 2:
            continue
        if submitted is not None and submitted[0] == r.session_id:
            forms[r.session_id] = submitted[1]
        else:
            forms[r.session_id] = fallback_form_for(r, workshop_round, formdata=None)
    return forms


def _answers_form(attendee):
    """The questions and the attendee's answers; None for an event that asks nothing."""
    questions = questions_of(attendee.event)
    if not questions:
        return None
    return answers_form_for(questions, answer_service.answers_by_key(attendee))


def _render_page(
    attendee,
    token,
    *,
    sessions_form=None,
    details_form=None,
    email_form=None,
    fallback_form=None,
    answers_form=None,
    status=200,
):
    event = attendee.event
    now = utcnow()
    form, plenaries, rounds = _sessions_form(attendee)
    active = _active(attendee)
    closed_message = programme.closed_reason(event, now)
    fallback_forms = {} if closed_message else _fallback_forms(attendee, rounds, fallback_form)
    return render_template(
        "manage/page.html",
        event=event,
        attendee=attendee,
        token=token,
        registrations=active,
        positions=waitlist_positions(active),
        offers=[r for r in active if r.status == "offered"],
        sessions_form=sessions_form or form,
        plenaries=plenaries,
        rounds=rounds,
        held={r.session_id: r for r in active},
        waitlists=programme.waitlist_lengths(event),
        details_form=details_form or details_form_for(attendee, current_app.config["LANGUAGES"]),
        confirm_form=ConfirmForm(),
        closed_message=closed_message,
        fallback_forms=fallback_forms,
        event_over=now >= event.ends_at,
        qr_uri=links.ticket_qr_data_uri(attendee),
        email_form=email_form or EmailChangeForm(),
        answers_form=answers_form or _answers_form(attendee),
    ), status


def _back(token: str):
    return redirect(url_for("manage.page", token=token), code=303)


@bp.get("/manage/<token>")
def page(token: str):
    attendee = load_attendee(token)
    if attendee.on_hold:
        # The email's link: opening it confirms nothing (mail filters open links too);
        # the button does, with a POST (holds.py).
        return render_template(
            "manage/confirm_hold.html",
            event=attendee.event,
            attendee=attendee,
            token=token,
            registrations=_active(attendee),
            positions=waitlist_positions(_active(attendee)),
            form=ConfirmForm(),
        )
    return _render_page(attendee, token)


@bp.post("/manage/<token>/confirm")
def confirm_hold(token: str):
    """Confirm the email address: the held seats become the attendee's."""
    attendee = load_attendee(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done, confirmed = attempt(lambda: holds.confirm_hold(attendee, utcnow()))
    if done and confirmed:
        flash(_("Your registration is confirmed. We have sent you the confirmation."), "success")
    return _back(token)


@bp.post("/manage/<token>/sessions")
def change_sessions(token: str):
    """Replace the choices; if a new seat can't be had, nothing changes (one transaction)."""
    attendee = load_attendee(token)
    form, _plenaries, _rounds = _sessions_form(attendee)
    if form.validate_on_submit():
        changed, _none = attempt(
            lambda: self_service.change_choices(
                attendee,
                form.chosen_session_ids(),
                waitlist=bool(form.waitlist.data),
                now=utcnow(),
            ),
            form=form,
        )
        if changed:
            flash(_("Your sessions have been changed. We have sent you an email."), "success")
            return _back(token)
    return _render_page(attendee, token, sessions_form=form, status=422)


@bp.post("/manage/<token>/fallback/<int:session_id>")
def change_fallback(token: str, session_id: int):
    """Choose, change or drop the workshop kept while waiting for `session_id`."""
    attendee = load_attendee(token)
    held = next((r for r in _active(attendee) if r.session_id == session_id), None)
    rounds = programme.workshop_rounds(programme.sessions_of(attendee.event))
    workshop_round = next((w for w in rounds if held and held.session in w.sessions), None)
    if held is None or workshop_round is None:
        abort(404)
    form = fallback_form_for(held, workshop_round)
    if form.validate_on_submit():
        chosen = int(form.fallback.data) if form.fallback.data else None
        changed, _none = attempt(
            lambda: fallback_service.change_fallback(attendee, session_id, chosen, utcnow()),
            form=form,
        )
        if changed:
            flash(_("Your choice while you wait has been saved."), "success")
            return _back(token)
    return _render_page(attendee, token, fallback_form=(session_id, form), status=422)


@bp.post("/manage/<token>/details")
def change_details(token: str):
    attendee = load_attendee(token)
    form = details_form_for(attendee, current_app.config["LANGUAGES"])
    if form.validate_on_submit():
        saved, _none = attempt(
            lambda: self_service.update_details(
                attendee,
                name=form.name.data,
                organisation=form.organisation.data or "",
                locale=form.locale.data,
            ),
            form=form,
        )
        if saved:
            flash(_("Your details have been saved."), "success")
            return _back(token)
    return _render_page(attendee, token, details_form=form, status=422)


@bp.post("/manage/<token>/answers")
def change_answers(token: str):
    """The answers to the event's questions: all of them or, on an error, none."""
    attendee = load_attendee(token)
    form = _answers_form(attendee)
    if form is None:
        abort(404)
    if form.validate_on_submit():
        saved, _none = attempt(
            lambda: answer_service.change_answers(attendee, form.answers(), utcnow()), form=form
        )
        if saved:
            flash(_("Your answers have been saved."), "success")
            return _back(token)
    return _render_page(attendee, token, answers_form=form, status=422)


def _confirm_page(attendee, token, *, title, question, button, form, danger=True):
    return render_template(
        "manage/confirm.html",
        event=attendee.event,
        attendee=attendee,
        token=token,
        title=title,
        question=question,
        button=button,
        form=form,
        danger=danger,
    )


def _attempt(token: str, action, success: str):
    """Run a service call, commit, flash the outcome, and go back to the page."""
    if attempt(action)[0]:
        flash(success, "success")
    return _back(token)


@bp.route("/manage/<token>/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
def cancel_session(token: str, session_id: int):
    attendee = load_attendee(token)
    held = next((r for r in _active(attendee) if r.session_id == session_id), None)
    if held is None:
        abort(404)
    form = ConfirmForm()
    title = in_reader_language(held.session, "title")
    if form.validate_on_submit():
        return _attempt(
            token,
            lambda: self_service.drop_session(attendee, session_id, utcnow()),
            _("You are no longer registered for “%(title)s”.", title=title),
        )
    if held.status == "confirmed":
        question = _(
            "Give up your place in “%(title)s”? It goes to the next person on the "
            "waiting list and you may not get it back.",
            title=title,
        )
    else:
        question = _("Leave the waiting list of “%(title)s”?", title=title)
    return _confirm_page(
        attendee,
        token,
        title=_("Cancel “%(title)s”", title=title),
        question=question,
        button=_("Yes, cancel this session"),
        form=form,
    )


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    attendee = load_attendee(token)
    form = ConfirmForm()
    if form.validate_on_submit():
        return _attempt(
            token,
            lambda: self_service.cancel(attendee, utcnow()),
            _("Your registration has been cancelled. We have sent you an email."),
        )
    return _confirm_page(
        attendee,
        token,
        title=_("Cancel your registration"),
        question=_(
            "Cancel your whole registration? Your places go to the people on the "
            "waiting lists. You can register again later while registration is open, "
            "if places are left."
        ),
        button=_("Yes, cancel my registration"),
        form=form,
    )


OFFER_ACCEPTED = _l("The place is yours. We have sent you a confirmation.")
OFFER_DECLINED = _l("You declined the place; it goes to the next person on the waiting list.")


@bp.post("/manage/<token>/offers/<int:session_id>/accept")
def accept_offer(token: str, session_id: int):
    return _answer_offer(token, session_id, waitlist_service.accept_offer, OFFER_ACCEPTED)


@bp.post("/manage/<token>/offers/<int:session_id>/decline")
def decline_offer(token: str, session_id: int):
    return _answer_offer(token, session_id, waitlist_service.decline_offer, OFFER_DECLINED)


def _answer_offer(token: str, session_id: int, answer, success):
    """The attendee's answer to a waiting-list offer (the buttons carry only the CSRF token).

    `success` is put in words after load_attendee, which sets the attendee's language."""
    attendee = load_attendee(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    said = str(success)
    return _attempt(token, lambda: answer(attendee, session_id, utcnow()), said)


@bp.get("/manage/<token>/data.json")
def export(token: str):
    """Everything stored about the attendee, as a JSON download."""
    attendee = load_attendee(token)
    data = privacy.export_data(attendee, utcnow())
    filename = f"{attendee.event.slug}-{attendee.reference}.json"
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/manage/<token>/delete", methods=["GET", "POST"])
def erase(token: str):
    attendee = load_attendee(token)
    form = ConfirmForm()
    if form.validate_on_submit():
        slug = attendee.event.slug
        if not attempt(lambda: privacy.erase_attendee(attendee, utcnow()))[0]:
            return _back(token)
        return redirect(url_for("manage.data_deleted", slug=slug), code=303)
    return _confirm_page(
        attendee,
        token,
        title=_("Delete your data"),
        question=_(
            "Delete your registration and your personal data? Your places go to the "
            "people on the waiting lists, this link stops working, and we cannot "
            "undo it. Download your data first if you want a copy."
        ),
        button=_("Yes, delete my data"),
        form=form,
    )


@bp.get("/events/<slug>/data-deleted")
def data_deleted(slug: str):
    return render_template("manage/data_deleted.html", event=event_or_404(slug))
