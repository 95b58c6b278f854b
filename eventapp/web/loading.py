"""The event a URL names, loaded once the same way for every blueprint."""

from flask import abort, g

from ..models import Event
from ..services.errors import NotFound
from ..services.programme import reading as programme


def event_or_404(slug: str, *, drafts: bool = False) -> Event:
    """The event named in the URL, or 404; the page's times then show in its timezone.

    Public pages (`drafts=False`) see only published and closed events and speak the event's
    language when the visitor chose none; the organiser's pages (`drafts=True`) see drafts
    too and keep the organiser's language.
    """
    try:
        event = programme.get_event(slug, public=not drafts)
    except NotFound:
        abort(404)
    g.event = event  # eventapp.i18n.select_timezone
    if not drafts:
        g.event_locale = event.default_locale  # eventapp.i18n.select_locale's last resort
    return event


def or_404(load):
    """What `load()` finds, or a 404 page when the service says there is no such thing."""
    try:
        return load()
    except NotFound:
        abort(404)
