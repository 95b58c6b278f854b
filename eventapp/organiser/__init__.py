"""The organiser's pages: login, dashboard, programme, attendees, check-in, messages.

Every view module of the blueprint is imported here, so registering `bp` registers them all."""

from . import (
    allocation_views,
    attendee_views,
    audit_views,
    auth_views,
    badge_views,
    bulk_views,
    burst_views,
    checkin_views,
    dashboard,
    door_views,
    import_views,
    message_views,
    priority_views,
    programme_views,
    question_views,
    timetable_views,
    views,
)
from .blueprint import bp

# Importing the view modules registers their routes on bp.
__all__ = [
    "bp",
    "allocation_views",
    "attendee_views",
    "audit_views",
    "auth_views",
    "badge_views",
    "bulk_views",
    "burst_views",
    "checkin_views",
    "dashboard",
    "door_views",
    "import_views",
    "message_views",
    "priority_views",
    "programme_views",
    "question_views",
    "timetable_views",
    "views",
]
