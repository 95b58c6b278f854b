"""Priority groups of an event's allocation: create a group for a workshop with members
pasted as email addresses, add members, remove one member or a group
(services/allocation/groups.py). Behind the organiser role at the event, like the allocation
page that links here."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from ..models.types import utcnow
from ..services.allocation import groups
from ..services.errors import NotFound
from ..web.access import event_role_required
from ..web.attempt import attempt
from ..web.loading import event_or_404
from .attendee_forms import ActionForm
from .blueprint import bp

EMAILS_HINT = _l("One email address per line, as the attendees registered with.")


class GroupForm(FlaskForm):
    name = StringField(_l("Name of the group"))
    session_id = SelectField(_l("Workshop"), choices=[], validate_choice=False)
    emails = TextAreaField(_l("Members' email addresses"), render_kw={"rows": 6})


class MembersForm(FlaskForm):
    emails = TextAreaField(_l("Add members"), render_kw={"rows": 3})


def _actor():
    return current_user._get_current_object()


def _page(event, form=None, members_forms=None, status=200):
    form = form or GroupForm()
    form.session_id.choices = [(str(s.id), s.title) for s in groups.workshop_choices(event)]
    every = groups.groups_of(event)
    members_forms = members_forms or {}
    for group in every:
        members_forms.setdefault(group.id, MembersForm(prefix=f"g{group.id}"))
    return render_template(
        "organiser/priority_groups.html",
        event=event,
        groups=every,
        members={group.id: groups.members_by_name(group) for group in every},
        not_applied={group.id: groups.not_applied_reason(group) for group in every},
        form=form,
        members_forms=members_forms,
        action_form=ActionForm(),
        emails_hint=EMAILS_HINT,
        editable=event.allocation_mode == "preferences" and not event.allocation_published_at,
    ), status


def _group_or_404(event, group_id: int):
    try:
        return groups.get_group(event, group_id)
    except NotFound:
        abort(404)


def _back(slug: str):
    return redirect(url_for("organiser.priority_groups_page", slug=slug), code=303)


@bp.get("/events/<slug>/allocation/priority")
@event_role_required("organiser")
def priority_groups_page(slug: str):
    return _page(event_or_404(slug, drafts=True))


@bp.post("/events/<slug>/allocation/priority")
@event_role_required("organiser")
def create_priority_group(slug: str):
    event = event_or_404(slug, drafts=True)
    form = GroupForm()
    if not form.validate_on_submit():
        return _page(event, form, status=422)
    done, group = attempt(
        lambda: groups.create_group(
            event,
            _actor(),
            session_id=form.session_id.data,
            name=form.name.data,
            emails=form.emails.data,
            now=utcnow(),
        ),
        form=form,
    )
    if not done:
        return _page(event, form, status=422)
    flash(
        ngettext(
            "Priority group “%(name)s” saved with %(num)d member.",
            "Priority group “%(name)s” saved with %(num)d members.",
            len(group.members),
            name=group.name,
        ),
        "success",
    )
    return _back(slug)


@bp.post("/events/<slug>/allocation/priority/<int:group_id>/members")
@event_role_required("organiser")
def add_priority_members(slug: str, group_id: int):
    event = event_or_404(slug, drafts=True)
    _group_or_404(event, group_id)
    form = MembersForm(prefix=f"g{group_id}")
    if not form.validate_on_submit():
        return _page(event, members_forms={group_id: form}, status=422)
    done, added = attempt(
        lambda: groups.add_members(
            event, _actor(), group_id, emails=form.emails.data, now=utcnow()
        ),
        form=form,
    )
    if not done:
        return _page(event, members_forms={group_id: form}, status=422)
    flash(ngettext("%(num)d member added.", "%(num)d members added.", added), "success")
    return _back(slug)


@bp.post("/events/<slug>/allocation/priority/<int:group_id>/members/<int:attendee_id>/remove")
@event_role_required("organiser")
def remove_priority_member(slug: str, group_id: int, attendee_id: int):
    event = event_or_404(slug, drafts=True)
    _group_or_404(event, group_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form had expired. Please submit it again."), "error")
        return _back(slug)
    done, removed = attempt(
        lambda: groups.remove_member(event, _actor(), group_id, attendee_id, now=utcnow())
    )
    if done:
        flash(
            _("%(name)s removed from the priority group.", name=removed.name or removed.email),
            "success",
        )
    return _back(slug)


@bp.post("/events/<slug>/allocation/priority/<int:group_id>/delete")
@event_role_required("organiser")
def delete_priority_group(slug: str, group_id: int):
    event = event_or_404(slug, drafts=True)
    _group_or_404(event, group_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form had expired. Please submit it again."), "error")
        return _back(slug)
    done, _result = attempt(lambda: groups.delete_group(event, _actor(), group_id, now=utcnow()))
    if done:
        flash(_("Priority group removed."), "success")
    return _back(slug)
