"""Changing one's email address (issue 19.6): asked for on the private page, confirmed by a
link sent to the new address (services/registration/email_change.py). Seats stay as they
are; only the address changes, once its owner has opened the link and confirmed."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db, limiter
from ..models.types import utcnow
from ..services.errors import DomainError, InvalidInput, NotFound
from ..services.links import hash_token, manage_token
from ..services.registration import email_change
from .blueprint import bp
from .forms import ConfirmForm, EmailChangeForm
from .views import _render_page, load_attendee

# Each request that succeeds mails an address the requester typed: a private link must not
# be a way to flood someone's mailbox. Counted per private link, so that colleagues behind
# one office address (or the event's Wi-Fi) are not refused for one person's tries, and
# per client address more generously (one person with many registrations); a request
# refused for a typo mails nobody and does not count (failed requests have their own limit,
# ratelimits.PRIVATE_LINK_FAILED).
EMAIL_CHANGE_LIMIT = "5 per hour"
EMAIL_CHANGE_ADDRESS_LIMIT = "10 per minute;30 per hour"


def _link_sent(response) -> bool:
    return response.status_code == 303


def _this_registration() -> str:
    """The key of the per-link limit: the private link's hash (never the link itself)."""
    return "email-change/" + hash_token(str((request.view_args or {}).get("token", "")))


@bp.app_template_global()
def email_change_url(attendee) -> str:
    """The confirmation link, for templates/mail/email_change.*, made at send time."""
    token = email_change.email_change_token(attendee)
    return url_for("manage.confirm_email_change", change_token=token, _external=True)


@bp.post("/manage/<token>/email")
@limiter.limit(
    EMAIL_CHANGE_LIMIT, methods=["POST"], key_func=_this_registration, deduct_when=_link_sent
)
@limiter.limit(EMAIL_CHANGE_ADDRESS_LIMIT, methods=["POST"], deduct_when=_link_sent)
def request_email_change(token: str):
    attendee = load_attendee(token)
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            address = email_change.request_email_change(attendee, form.new_email.data, utcnow())
            db.session.commit()
        except InvalidInput as error:
            db.session.rollback()
            form.new_email.errors = list(form.new_email.errors) + error.fields.get(
                "new_email", [error.message]
            )
        except DomainError as error:
            db.session.rollback()
            form.new_email.errors = list(form.new_email.errors) + [error.message]
        else:
            flash(
                _(
                    "We have sent a link to %(email)s. Your address changes when you open it; "
                    "until then we keep writing to %(old)s.",
                    email=address,
                    old=attendee.email,
                ),
                "success",
            )
            return redirect(url_for("manage.page", token=token), code=303)
    return _render_page(attendee, token, email_form=form, status=422)


@bp.route("/email-change/<change_token>", methods=["GET", "POST"])
def confirm_email_change(change_token: str):
    """A page with a button, not a change on GET: mail scanners open links too."""
    try:
        attendee = email_change.find_email_change(change_token)
    except NotFound:
        return render_template("manage/invalid_link.html", events=[]), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            address = email_change.confirm_email_change(attendee, utcnow())
            db.session.commit()
        except DomainError as error:
            db.session.commit()  # an expired or clashing request is forgotten
            flash(error.message, "error")
        else:
            flash(_("Your email address is now %(email)s.", email=address), "success")
        return redirect(url_for("manage.page", token=manage_token(attendee)), code=303)
    if attendee.pending_email is None:
        abort(404)
    return render_template(
        "manage/email_confirm.html", event=attendee.event, attendee=attendee, form=form
    )
