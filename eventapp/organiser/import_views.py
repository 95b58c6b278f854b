"""Importing a programme from CSV or ICS: a dry run first, then all or nothing."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField

from ..extensions import db
from ..models.types import utcnow
from ..services.programme import importing as programme_import
from ..web.access import event_role_required
from ..web.loading import event_or_404
from .blueprint import bp


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or ICS file"))
    # After a dry run the file travels in the page, so "Import" writes what was checked.
    content = HiddenField()
    filename = HiddenField()
    confirm = BooleanField(_l("Import anyway: I have read the warnings above"))


@bp.route("/events/<slug>/import", methods=["GET", "POST"])
@event_role_required("organiser")
def import_programme(slug: str):
    event = event_or_404(slug, drafts=True)
    form = ImportForm()
    report = None
    committed = False
    if form.validate_on_submit():
        filename, text = _uploaded(form)
        if text is None:
            form.file.errors = [_("Choose a CSV or ICS file.")]
        else:
            form.content.data, form.filename.data = text, filename
            rows, problems = programme_import.parse(filename, text)
            report = programme_import.import_programme(
                current_user, event, rows, utcnow(), problems=problems
            )
            wants_import = request.form.get("action") == "import"
            if wants_import and report.can_commit(confirm=form.confirm.data):
                db.session.commit()
                committed = True
            else:
                db.session.rollback()  # a dry run, or a file that can't go in whole
    if committed:
        flash(
            _(
                "Imported %(sessions)d sessions and %(rooms)d new rooms.",
                sessions=report.sessions_created + report.sessions_updated,
                rooms=len(report.rooms_created),
            ),
            "success",
        )
        return redirect(url_for("organiser.programme", slug=event.slug))
    status = 200 if not form.is_submitted() or (report and not report.errors) else 422
    return render_template(
        "organiser/import.html", event=event_or_404(slug, drafts=True), form=form, report=report
    ), status


def _uploaded(form: ImportForm) -> tuple[str, str | None]:
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        return upload.filename, programme_import.decode(upload.read())
    if form.content.data:
        return form.filename.data or "", form.content.data
    return "", None
