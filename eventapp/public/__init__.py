"""The public blueprint: the programme, session pages and the registration form."""

from . import session_views, site_views, views
from .blueprint import bp

# Importing the view modules registers their routes on bp.
__all__ = ["bp", "session_views", "site_views", "views"]
