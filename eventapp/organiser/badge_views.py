"""Name badges: a preview of the label sheet, and the PDF to print (all or selected attendees)."""

from flask import Response, render_template, request
from markupsafe import Markup

from ..services.backoffice import badges
from ..services.backoffice.attendees import AttendeeFilter
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .attendee_views import log_export
from .blueprint import bp


def _chosen_sheet() -> badges.Sheet:
    return badges.sheet_named(request.args.get("sheet"))


def _selection(event):
    wanted = AttendeeFilter.from_args(request.args)
    chosen = badges.selected_attendees(event, wanted, request.args.getlist("attendee"))
    return wanted, badges.badges_for(chosen)


@bp.get("/events/<slug>/badges")
@event_role_required("organiser")
def badge_preview(slug: str):
    event = event_or_404(slug, drafts=True)
    wanted, selected = _selection(event)
    sheet = _chosen_sheet()
    args = {**wanted.as_args(), "attendee": request.args.getlist("attendee")}
    return render_template(
        "organiser/badges.html",
        event=event,
        badges=selected,
        qr={b.code: Markup(badges.qr_svg(b.code)) for b in selected},  # noqa: S704  (segno's SVG of our own code)
        sheet=sheet,
        sheets=badges.SHEETS,
        args={key: value for key, value in args.items() if value},
    )


@bp.get("/events/<slug>/badges.pdf")
@event_role_required("organiser")
def badge_pdf(slug: str):
    event = event_or_404(slug, drafts=True)
    wanted, selected = _selection(event)
    sheet = _chosen_sheet().key
    data = badges.badges_pdf(event, selected, sheet)
    log_export("badges.export", event, event, {"filter": wanted.as_args(), "count": len(selected)})
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-badges-{sheet}.pdf"',
            "Cache-Control": "no-store",
        },
    )
