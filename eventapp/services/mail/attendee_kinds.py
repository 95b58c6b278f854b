"""The kinds of the attendee self-service issue: waiting-list offers, the lost link, reminders.

Templates: templates/mail/<kind>.txt and .html. Queued by services/waitlist.py ("offer",
"offer_expired"), services/self_service.py ("lost_link") and services/reminders.py
("reminder"). None carries calendar data: an offer is not a seat yet, and the reminder's
sessions are already in the attendee's calendar from their confirmations.
"""

from flask_babel import gettext as _

from .render import MailContext, mail_kind


def _titles(context: MailContext) -> str:
    return ", ".join(s.title for s in context.sessions)


mail_kind(
    "offer",
    subject=lambda c: _("A place is free for you: %(titles)s", titles=_titles(c)),
)
mail_kind(
    "offer_expired",
    subject=lambda c: _("The offered place has passed on: %(titles)s", titles=_titles(c)),
)
mail_kind(
    "lost_link",
    subject=lambda c: _("Your personal link for %(event)s", event=c.event.name),
)
mail_kind(
    "reminder",
    subject=lambda c: _("Soon: %(event)s, your schedule", event=c.event.name),
    qr_code=True,
)
