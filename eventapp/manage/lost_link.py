"""“Send me my link again”: the same answer whether or not the address is registered.

The POST always takes the same path (look the address up, commit, redirect to one fixed
page) and sends nothing itself: a registered address only gets an outbox row, mailed later
by the worker, so neither the page, the status, the headers nor the time taken tells who
registered. Requests are limited per client (eventapp/ratelimits.py, by this endpoint's
name, RATELIMIT_LOST_LINK_REQUESTS), each one counted whatever address it names.

Links sent are limited per email address and per client (below), so the form can't be used
to flood someone's mailbox. Those limits count only links actually queued: an attendee who
mistyped their address (an unknown address) or sent a refused form has used up nothing. And
they refuse in silence, with the same answer as always and no mail: a 429 that only
registered addresses can earn would tell who registered.
"""

import hashlib

from flask import current_app, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from limits import parse_many

from ..extensions import db, limiter
from ..services.registration import self_service
from ..services.validation import normalize_email
from ..web.loading import event_or_404
from .blueprint import bp
from .forms import LostLinkForm

# Links sent per email address, whichever client asks; overridable as
# FLASK_RATELIMIT_LOST_LINK_PER_EMAIL. Per client: RATELIMIT_LOST_LINK (ratelimits.DEFAULTS).
DEFAULT_PER_EMAIL = "3 per 15 minutes;10 per day"


def per_email_limit() -> str:
    return current_app.config.get("RATELIMIT_LOST_LINK_PER_EMAIL", DEFAULT_PER_EMAIL)


def email_key() -> str:
    """The limiter key: a hash of the normalised address (no addresses in the limit store)."""
    email = request.form.get("email", "")
    digest = hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()
    return f"lost-link-email:{digest}"


def _links_sent_limits() -> list[tuple]:
    """(limit, key) pairs for the links this request would send: per address, per client."""
    pairs = [(limit, email_key()) for limit in parse_many(per_email_limit())]
    client = f"lost-link-client:{get_remote_address()}"
    pairs += [(limit, client) for limit in parse_many(current_app.config["RATELIMIT_LOST_LINK"])]
    return pairs


def _may_send_link() -> bool:
    """True while neither the address nor the client has had all the links it may have.
    Fails open: a limit store that does not answer must not cost attendees their link."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    try:
        return all(limiter.limiter.test(limit, key, "sent") for limit, key in _links_sent_limits())
    except Exception:  # noqa: BLE001 - any storage error; Flask-Limiter swallows them too
        current_app.logger.exception("lost-link limit store unavailable")
        return True


def _count_link_sent() -> None:
    """One link queued: it counts against the address and the client."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    try:
        for limit, key in _links_sent_limits():
            limiter.limiter.hit(limit, key, "sent")
    except Exception:  # noqa: BLE001 - as in _may_send_link
        current_app.logger.exception("lost-link limit store unavailable")


@bp.route("/events/<slug>/lost-link", methods=["GET", "POST"])
def lost_link(slug: str):
    event = event_or_404(slug)
    form = LostLinkForm()
    if form.validate_on_submit():
        # The same path either way (the answer must not tell); only the queuing is skipped.
        if _may_send_link() and self_service.send_lost_link(event, form.email.data):
            _count_link_sent()
        db.session.commit()
        return redirect(url_for("manage.lost_link_sent", slug=event.slug), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("manage/lost_link.html", event=event, form=form), status


@bp.get("/events/<slug>/lost-link/sent")
def lost_link_sent(slug: str):
    return render_template("manage/lost_link_sent.html", event=event_or_404(slug))
