"""“Send me my link again”: the same answer whether or not the address is registered.

The POST always takes the same path (look the address up, commit, redirect to one fixed
page) and sends nothing itself: a registered address only gets an outbox row, mailed later
by the worker, so neither the page, the status, the headers nor the time taken tells who
registered. Limited per client (eventapp/ratelimits.py, by this endpoint's name) and per
email address (below), so the form can't be used to flood someone's mailbox.
"""

import hashlib

from flask import current_app, redirect, render_template, request, url_for

from ..extensions import db, limiter
from ..services.registration import self_service
from ..services.validation import normalize_email
from ..web.loading import event_or_404
from .blueprint import bp
from .forms import LostLinkForm

# Per email address, whichever client asks; overridable as FLASK_RATELIMIT_LOST_LINK_PER_EMAIL.
DEFAULT_PER_EMAIL = "3 per 15 minutes;10 per day"


def per_email_limit() -> str:
    return current_app.config.get("RATELIMIT_LOST_LINK_PER_EMAIL", DEFAULT_PER_EMAIL)


def email_key() -> str:
    """The limiter key: a hash of the normalised address (no addresses in the limit store)."""
    email = request.form.get("email", "")
    digest = hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()
    return f"lost-link-email:{digest}"


@bp.route("/events/<slug>/lost-link", methods=["GET", "POST"])
@limiter.limit(per_email_limit, key_func=email_key, methods=["POST"])
def lost_link(slug: str):
    event = event_or_404(slug)
    form = LostLinkForm()
    if form.validate_on_submit():
        self_service.send_lost_link(event, form.email.data)
        db.session.commit()
        return redirect(url_for("manage.lost_link_sent", slug=event.slug), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("manage/lost_link.html", event=event, form=form), status


@bp.get("/events/<slug>/lost-link/sent")
def lost_link_sent(slug: str):
    return render_template("manage/lost_link_sent.html", event=event_or_404(slug))
