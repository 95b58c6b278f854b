"""The audit log of an event: who changed what, when, before and after, in words."""

from flask import render_template, request

from ..services.backoffice import audit_log
from ..services.backoffice.attendees import SEARCH_MAX_LENGTH
from ..services.validation import database_id, page_number
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .blueprint import bp

PER_PAGE = 50


@bp.get("/events/<slug>/audit", endpoint="audit_log")
@event_role_required("organiser")
def audit_log_page(slug: str):
    event = event_or_404(slug, drafts=True)
    page = max(page_number(request.args.get("page")), 1)
    attendee = audit_log.attendee_of(event, database_id(request.args.get("attendee")))
    sessions = audit_log.filter_sessions(event)
    session_id = database_id(request.args.get("session"))
    session = next((s for s in sessions if s.id == session_id), None)
    search = (request.args.get("q") or "").strip()[:SEARCH_MAX_LENGTH]
    lines, total = audit_log.page_of(
        event,
        attendee_id=attendee.id if attendee else None,
        session_id=session.id if session else None,
        search=search,
        page=page,
        per_page=PER_PAGE,
    )
    filters = {
        "attendee": attendee and attendee.id,
        "session": session and session.id,
        "q": search or None,
    }
    return render_template(
        "organiser/audit.html",
        event=event,
        lines=lines,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        total=total,
        sessions=sessions,
        attendee=attendee,
        session=session,
        search=search,
        filters={k: v for k, v in filters.items() if v is not None},
    )
