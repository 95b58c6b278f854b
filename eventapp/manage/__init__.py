"""The attendee's private pages, reached by their manage link."""

from . import email_views, lost_link, preference_views, ticket_views, views
from .blueprint import bp

# Importing the view modules registers their routes on bp.
__all__ = ["bp", "email_views", "lost_link", "preference_views", "ticket_views", "views"]
