"""Suspicious bursts of registrations (services/backoffice/bursts.py) and their bulk cancel."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from ..extensions import db
from ..models.types import utcnow
from ..services.backoffice import bursts
from ..services.errors import DomainError
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .blueprint import bp


class CancelBurstForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    key = HiddenField(validators=[DataRequired()])
    confirm = BooleanField(
        _l("Yes, cancel these registrations"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


@bp.get("/events/<slug>/bursts")
@event_role_required("organiser")
def bursts_page(slug: str):
    event = event_or_404(slug, drafts=True)
    found = bursts.recent_bursts(event, utcnow())
    forms = [CancelBurstForm(formdata=None, kind=b.kind, key=b.key) for b in found]
    return render_template(
        "organiser/bursts.html",
        event=event,
        bursts=list(zip(found, forms, strict=True)),
        threshold=bursts.THRESHOLD,
    )


@bp.post("/events/<slug>/bursts/cancel")
@event_role_required("organiser")
def cancel_burst(slug: str):
    event = event_or_404(slug, drafts=True)
    form = CancelBurstForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return redirect(url_for("organiser.bursts_page", slug=slug))
    try:
        count = bursts.cancel_burst(event, form.kind.data, form.key.data, utcnow(), current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organiser.bursts_page", slug=slug))
    flash(
        ngettext(
            "%(num)d registration cancelled; its seats went back.",
            "%(num)d registrations cancelled; their seats went back.",
            count,
        ),
        "success",
    )
    return redirect(url_for("organiser.bursts_page", slug=slug))
