"""The allocation page of an event: demand per workshop, dry runs side by side, publish."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional

from ..extensions import db
from ..models.types import utcnow
from ..services.allocation import groups as priority_groups
from ..services.allocation import runs as allocation
from ..services.errors import DomainError, NotFound
from ..services.validation import database_id
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .blueprint import bp

# The methods in the order the page shows them, with their names for people.
METHOD_NAMES = {
    "optimal": _l("Fair allocation"),
    "first_come_first_served": _l("First come, first served"),
    "random_serial_dictatorship": _l("Random order"),
}
COLOURS = {"first": "#1b7a3d", "second": "#6aaa3a", "third": "#c8a600", "none": "#b3261e"}


class DryRunForm(FlaskForm):
    seed = IntegerField(
        _l("Lottery seed (empty: a random one)"),
        validators=[Optional(), NumberRange(min=0, max=allocation.SEED_MAX)],
    )


class PublishForm(FlaskForm):
    run_id = HiddenField(validators=[DataRequired()])
    confirm = BooleanField(
        _l("I understand: seats are confirmed and emails sent; this cannot be undone"),
        validators=[DataRequired()],
    )


@dataclass
class Segment:
    x: float
    width: float
    colour: str
    label: str
    value: int


@dataclass
class FillBar:
    y: float
    width: float
    percent: int
    method: str


def satisfaction_bars(stats: dict, width: float = 480) -> list[tuple[str, list[Segment]]]:
    """Per method: one stacked bar of 1st, 2nd, 3rd choice and none, scaled to the pairs."""
    rows = allocation.quality_rows(stats)
    total = max((r["first"] + r["second"] + r["third"] + r["none"] for r in rows), default=0)
    bars = []
    for row in rows:
        x, segments = 0.0, []
        for key in ("first", "second", "third", "none"):
            w = width * row[key] / total if total else 0
            segments.append(Segment(round(x, 2), round(w, 2), COLOURS[key], key, row[key]))
            x += w
        bars.append((row["method"], segments))
    return bars


def fill_groups(stats: dict, titles: dict[int, str], width: float = 300) -> list:
    """Per workshop: the fill rate each method would give, as three bars."""
    groups = []
    by_method = {m: {f["workshop_id"]: f for f in s["fill"]} for m, s in stats.items()}
    for workshop_id, title in titles.items():
        bars = []
        for i, method in enumerate(allocation.METHODS):
            fill = by_method.get(method, {}).get(workshop_id)
            if fill is None:
                continue
            percent = round(100 * fill["assigned"] / fill["capacity"]) if fill["capacity"] else 0
            bars.append(FillBar(i * 14, round(width * percent / 100, 2), percent, method))
        groups.append((title, bars))
    return groups


@bp.get("/events/<slug>/allocation")
@event_role_required("organiser")
def allocation_page(slug: str):
    event = event_or_404(slug, drafts=True)
    run = None
    run_id = request.args.get("run", type=int)
    try:
        run = allocation.get_run(event, run_id) if run_id else allocation.latest_run(event)
    except NotFound:
        run = None
    demand = allocation.demand(event)
    titles = {d.session.id: d.session.title for d in demand}
    publish_form = PublishForm(run_id=run.id if run else "")
    return render_template(
        "organiser/allocation.html",
        event=event,
        demand=demand,
        run=run,
        rows=allocation.quality_rows(run.stats) if run else [],
        satisfaction=satisfaction_bars(run.stats) if run else [],
        fills=fill_groups(run.stats, titles) if run else [],
        method_names=METHOD_NAMES,
        colours=COLOURS,
        dry_run_form=DryRunForm(),
        publish_form=publish_form,
        collecting=allocation.collects_preferences(event),
        failure=None if event.allocation_published_at else allocation.last_failure(event),
        priority=priority_groups.reports_of(run) if run else [],
    )


@bp.post("/events/<slug>/allocation/dry-run")
@event_role_required("organiser")
def allocation_dry_run(slug: str):
    event = event_or_404(slug, drafts=True)
    form = DryRunForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("organiser.allocation_page", slug=slug))
    try:
        run = allocation.dry_run(event, form.seed.data, now=utcnow(), actor=current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organiser.allocation_page", slug=slug))
    return redirect(url_for("organiser.allocation_page", slug=slug, run=run.id))


def _stale_message(run, fresh, difference) -> str:
    return _(
        "Not published: the programme or the rankings changed since run %(old)d "
        "(%(changes)s). Run %(new)d below is the same allocation run again with the same "
        "seed: %(moved)d place(s) differ. Check it, then publish it.",
        old=run.id,
        new=fresh.id,
        changes="; ".join(difference.inputs),
        moved=difference.moved,
    )


@bp.post("/events/<slug>/allocation/publish")
@event_role_required("organiser")
def allocation_publish(slug: str):
    event = event_or_404(slug, drafts=True)
    form = PublishForm()
    if not form.validate_on_submit() or database_id(form.run_id.data) is None:
        flash(_("Tick the box to confirm the publication."), "error")
        return redirect(url_for("organiser.allocation_page", slug=slug))
    now = utcnow()
    try:
        run = allocation.get_run(event, database_id(form.run_id.data))
        fresh, difference = allocation.rerun_if_stale(event, run, now=now, actor=current_user)
        if difference.inputs:
            db.session.commit()
            flash(_stale_message(run, fresh, difference), "error")
            return redirect(url_for("organiser.allocation_page", slug=slug, run=fresh.id))
        result = allocation.publish(event, run, now=now, actor=current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organiser.allocation_page", slug=slug))
    flash(
        _(
            "Allocation published: %(confirmed)d seats confirmed, %(waitlisted)d waiting-list "
            "places, %(emails)d emails queued.",
            confirmed=result.confirmed,
            waitlisted=result.waitlisted,
            emails=result.emails,
        ),
        "success",
    )
    return redirect(url_for("organiser.allocation_page", slug=slug, run=run.id))
