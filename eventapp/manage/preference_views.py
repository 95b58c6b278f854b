"""The attendee's ranking of workshops, changeable on their private page until allocation."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..i18n import in_reader_language
from ..models.types import utcnow
from ..services.allocation import outcome
from ..services.allocation import runs as allocation
from ..web.attempt import attempt
from ..web.fields import preferences_form_for
from .blueprint import bp
from .views import load_attendee


def _label(session) -> str:
    tz = session.event.tz
    starts, ends = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
    return f"{starts:%H:%M}–{ends:%H:%M} {in_reader_language(session, 'title')}"


@bp.route("/manage/<token>/preferences", methods=["GET", "POST"])
def preferences(token: str):
    attendee = load_attendee(token)
    event = attendee.event
    if not allocation.collects_preferences(event) or attendee.status != "active":
        return redirect(url_for("manage.page", token=token), code=303)
    rounds = allocation.rounds_of(event)
    form = preferences_form_for(rounds, _label, allocation.preferences_of(attendee))
    if form.validate_on_submit():
        changed, _none = attempt(
            lambda: allocation.change_preferences(attendee, form.ranked_preferences(), utcnow()),
            form=form,
        )
        if changed:
            flash(_("Your workshop preferences are saved."), "success")
            return redirect(url_for("manage.page", token=token), code=303)
    page = _attendee_page("manage/preferences.html", attendee, token, form=form, rounds=rounds)
    return page, 422 if form.is_submitted() else 200


@bp.get("/manage/<token>/allocation")
def allocation_outcome(token: str):
    """After publication: per round, which of their choices the attendee got, and where they
    got none, how oversubscribed their choices were (demand against seats)."""
    attendee = load_attendee(token)
    event = attendee.event
    if event.allocation_published_at is None:
        return redirect(url_for("manage.page", token=token), code=303)
    return _attendee_page(
        "manage/allocation.html", attendee, token, rounds=outcome.outcome_for(attendee)
    )


def _attendee_page(template: str, attendee, token: str, **values) -> str:
    """One of the attendee's own pages, with what every such page shows."""
    return render_template(template, event=attendee.event, attendee=attendee, token=token, **values)
