"""The public blueprint: the programme, session pages and the registration form."""

from . import challenge_views, session_views, site_views, views
from .blueprint import bp

# Importing the view modules registers their routes on bp.
__all__ = ["bp", "challenge_views", "session_views", "site_views", "views"]
