"""The organiser's dashboard: every event at a glance, and one event in detail.

Per session the fill rate, the waiting list and the status; the event's totals, its
registrations over time (an SVG chart drawn on the server), its programme conflicts and its
outbox. Each page costs the same number of queries whatever the number of attendees.
"""

from flask import g, render_template, request, url_for
from flask_babel import format_date, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..i18n import time_formatter
from ..models.types import utcnow
from ..services.backoffice import accounts, dashboard
from ..services.programme import conflicts
from ..services.programme import reading as programme
from ..web.access import event_role_required, role_required
from ..web.loading import event_or_404
from .blueprint import bp
from .charts import timeline_chart
from .dashboard_copies import figures_copy


@bp.get("/", endpoint="dashboard")
@role_required("organiser", "checkin")
def all_events():
    """All events with their headline figures; with a single event, that event's dashboard.

    The check-in role sees only the way to each event's check-in page.
    """
    allowed = accounts.event_ids_of(current_user)  # None: an admin, every event
    summaries = [s for s in dashboard.all_events() if allowed is None or s.event.id in allowed]
    if current_user.role == "checkin":
        return render_template("organiser/checkin_events.html", summaries=summaries)
    if len(summaries) == 1:
        return _event_dashboard(summaries[0].event, summaries)
    return render_template("organiser/dashboard.html", summaries=summaries)


@bp.get("/events/<slug>/")
@event_role_required("organiser")
def event_dashboard(slug: str):
    return _event_dashboard(event_or_404(slug, drafts=True))


def _event_dashboard(event, summaries=None):
    """The event's dashboard: the page per request, the figures from a copy at most
    DASHBOARD_FIGURES_MAX_AGE seconds old (dashboard_copies.py), their time on the page."""
    g.event = event
    day = request.args.get("day")
    copy = figures_copy(event.id, day, lambda: _figures_html(event, day))
    return render_template(
        "organiser/event_dashboard.html", event=event, summaries=summaries, figures_copy=copy
    )


def _figures_html(event, day: str | None) -> Markup:
    """The figures; the session table shows one day of the programme (`day`: ?day=, by
    default today during the event, else the first day; "all": every day)."""
    now = utcnow()
    sessions = programme.sessions_of(event)  # loaded once for the figures and the conflicts
    figures = dashboard.event_figures(event, now, sessions)
    days = dashboard.days_of(event, figures.sessions)
    shown = dashboard.day_to_show(days, day, event.local(now).date())
    event_conflicts = conflicts.event_conflicts(event, sessions)
    rows = shown.sessions if shown else figures.sessions
    # Our own template's output, escaped by Jinja as it rendered: served as it is.
    return Markup(  # noqa: S704
        render_template(
            "organiser/_event_figures.html",
            event=event,
            figures=figures,
            days=days,
            shown_day=shown,
            rows=rows,
            times=_session_times(event, rows),
            seat_labels=_seat_labels(rows),
            day_labels={d.day: format_date(d.day, "EEE d MMM") for d in days},
            lists_prefix=_session_lists_prefix(event),
            chart=timeline_chart(figures.timeline),
            conflicts=event_conflicts,
            hard_conflicts=sum(1 for c in event_conflicts if c.is_hard),
            row_text=_row_text(),
        )
    )


def _row_text() -> dict[str, str]:
    """The session table's per-row labels, translated once per page and filled in per row
    by the template: a 200-session table asked gettext for them 600 times. (The seats
    label is a plural, ngettext per row.)"""
    return {
        "csv": _("CSV list of %(title)s"),
        "xlsx": _("XLSX list of %(title)s"),
        "cancelled": _("Cancelled"),
        "no_registration": _("No registration"),
        "full": _("Full"),
        "almost_full": _("Almost full"),
        "open": _("Open"),
    }


def _session_times(event, rows) -> dict[int, tuple[str, str]]:
    """Each row's start and end as the event_time filter writes them, formatted with the
    page's language and timezone looked up once."""
    as_time = time_formatter(event.timezone)
    return {f.session.id: (as_time(f.session.starts_at), as_time(f.session.ends_at)) for f in rows}


def _seat_labels(rows) -> dict[int, str]:
    """The fill meters' labels ("12 of 30 seats taken"): the plural form chosen once per
    capacity, not asked of Flask-Babel per row."""
    translations = get_translations()
    patterns: dict[int, str] = {}
    labels = {}
    for f in rows:
        if f.capacity not in patterns:
            patterns[f.capacity] = translations.ngettext(
                "%(n)d of %(num)d seat taken", "%(n)d of %(num)d seats taken", f.capacity
            )
        labels[f.session.id] = patterns[f.capacity] % {"n": f.confirmed, "num": f.capacity}
    return labels


def _session_lists_prefix(event) -> str:
    """The start of every session's list download (".../sessions/"), built by url_for
    once: the table adds "<id>/attendees.csv" per row instead of two url_for calls."""
    example = url_for("organiser.export_session", slug=event.slug, session_id=0, fmt="csv")
    return example.removesuffix("0/attendees.csv")
