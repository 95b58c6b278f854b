"""Calendar downloads and subscribed feeds (ICS)."""

from . import views
from .blueprint import bp

# Importing the view modules registers their routes on bp.
__all__ = ["bp", "views"]
