"""The audit log of an event: who changed what, when, before and after."""

from flask import render_template, request

from ..services import audit
from ..services.validation import page_number
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .blueprint import bp

PER_PAGE = 50


@bp.get("/events/<slug>/audit")
@event_role_required("organiser")
def audit_log(slug: str):
    event = event_or_404(slug, drafts=True)
    page = page_number(request.args.get("page"))
    entries, total = audit.entries_for(event, page=max(page, 1), per_page=PER_PAGE)
    return render_template(
        "organiser/audit.html",
        event=event,
        entries=entries,
        page=max(page, 1),
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        total=total,
    )
