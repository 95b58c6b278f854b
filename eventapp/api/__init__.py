"""The JSON API v1 blueprint: public, self-service and organiser endpoints."""

from . import allocation, openapi, organiser, public, questions
from .blueprint import bp

# Importing the view modules registers their routes on bp.
__all__ = ["bp", "allocation", "openapi", "organiser", "public", "questions"]
