"""POST /api/v1/events/<slug>/allocation: a dry run or the publication of the fair allocation."""

from flask_login import current_user

from ..extensions import db
from ..models.types import utcnow
from ..services.allocation import runs as allocation
from ..services.programme import schedule
from ..web.access import event_role_required
from .blueprint import bp
from .openapi import Error, operation
from .replies import AllocationRunOut, PublishedAllocation
from .schemas import AllocationIn


@bp.post("/events/<slug>/allocation")
@event_role_required("organiser")
@operation(
    (AllocationRunOut, "The run and its figures."),
    404,
    organiser=True,
    HTTP_409=(
        Error,
        "`not_preference_mode`, `already_published`, or `stale` (preferences or seats "
        "changed during the request).",
    ),
)
def allocate_event(slug: str, json: AllocationIn):
    """Fair workshop allocation from ranked preferences: dry run or publish.

    Runs the fair optimum beside first come, first served and a random serial order, and
    stores the run (seed and inputs); nothing else changes. With `"dry_run": false` the
    optimum is published in the same request: seats confirmed, the rest waitlisted,
    confirmation emails queued; or a 409 that writes nothing (a second publication too).
    """
    event = schedule.get_event_for_organiser(slug)
    now = utcnow()
    run = allocation.dry_run(event, json.seed, now=now, actor=current_user)
    published = None
    if not json.dry_run:
        published = allocation.publish(event, run, now=now, actor=current_user)
    db.session.commit()
    return AllocationRunOut(
        run_id=run.id,
        seed=run.seed,
        status=run.status,
        stats=run.stats,
        published=None
        if published is None
        else PublishedAllocation(
            confirmed=published.confirmed,
            waitlisted=published.waitlisted,
            emails=published.emails,
        ),
    )
