"""POST /api/v1/events/<slug>/allocation: a dry run or the publication of the fair allocation."""

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models.types import utcnow
from ..organiser.access import event_role_required
from ..services.allocation import runs as allocation
from ..services.errors import InvalidInput
from ..services.programme import schedule
from .blueprint import bp
from .public import json_body


@bp.post("/events/<slug>/allocation")
@event_role_required("organiser")
def allocate_event(slug: str):
    """Body `{"dry_run": bool (default true), "seed": int (optional)}`: the run's figures.

    A dry run stores the run and writes nothing else; `"dry_run": false` runs and publishes
    in one go (seats, waiting lists, emails), or refuses with 409 and writes nothing.
    """
    event = schedule.get_event_for_organiser(slug)
    body = json_body()
    dry_run = body.get("dry_run", True)
    if not isinstance(dry_run, bool):
        raise InvalidInput(
            _("Please correct the marked fields."), {"dry_run": [_("Must be true or false.")]}
        )
    now = utcnow()
    run = allocation.dry_run(event, body.get("seed"), now=now, actor=current_user)
    published = None
    if not dry_run:
        published = allocation.publish(event, run, now=now, actor=current_user)
    db.session.commit()
    reply = {
        "run_id": run.id,
        "seed": run.seed,
        "status": run.status,
        "stats": run.stats,
        "published": None,
    }
    if published is not None:
        reply["published"] = {
            "confirmed": published.confirmed,
            "waitlisted": published.waitlisted,
            "emails": published.emails,
        }
    return jsonify(reply)
