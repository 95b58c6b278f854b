"""How models look in the JSON API: times in ISO 8601 with the event's offset."""

from flask import url_for

from ..models import Attendee, Event, EventSession, Registration
from ..services import links
from ..services.allocation.runs import preferences_of
from ..services.registration.waitlist import waitlist_position


def iso(value, tz) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def event_json(event: Event) -> dict:
    tz = event.tz
    return {
        "slug": event.slug,
        "name": event.name,
        "description": event.description,
        "venue": event.venue,
        "organiser_email": event.organiser_email,
        "timezone": event.timezone,
        "starts_at": iso(event.starts_at, tz),
        "ends_at": iso(event.ends_at, tz),
        "registration_opens_at": iso(event.registration_opens_at, tz),
        "registration_closes_at": iso(event.registration_closes_at, tz),
        "status": event.status,
        "promotion_mode": event.promotion_mode,
        "allocation_mode": event.allocation_mode,
        "allocation_published_at": iso(event.allocation_published_at, tz),
        "offer_hours": event.offer_hours,
        "reminder_hours": event.reminder_hours,
        "retention_days": event.retention_days,
        "url": url_for("public.event_programme", slug=event.slug, _external=True),
    }


def session_json(session: EventSession, waitlist_length: int = 0) -> dict:
    tz = session.event.tz
    return {
        "id": session.id,
        "title": session.title,
        "description": session.description,
        "kind": session.kind,
        "starts_at": iso(session.starts_at, tz),
        "ends_at": iso(session.ends_at, tz),
        "room": session.room.name if session.room else None,
        "room_id": session.room_id,
        "speakers": [speaker.name for speaker in session.speakers],
        "capacity": session.capacity,
        "seats_taken": session.seats_taken,
        "seats_left": session.seats_left,
        "waitlist_length": waitlist_length,
        "status": session.status,
    }


def registration_json(registration: Registration) -> dict:
    return {
        "id": registration.session_id,
        "title": registration.session.title,
        "status": registration.status,
        "waitlist_position": waitlist_position(registration),
        "offer_expires_at": iso(registration.offer_expires_at, registration.session.event.tz),
    }


def attendee_json(attendee: Attendee, *, with_links: bool = True) -> dict:
    body = {
        "reference": attendee.reference,
        "name": attendee.name,
        "email": attendee.email,
        "organisation": attendee.organisation,
        "job_role": attendee.job_role,
        "locale": attendee.locale,
        "status": attendee.status,
        "sessions": [
            registration_json(r) for r in attendee.registrations if r.status != "cancelled"
        ],
    }
    if attendee.event.allocation_mode == "preferences":
        # Ranked workshops per round, until (and after) the allocation is published.
        body["preferences"] = preferences_of(attendee)
    if with_links:
        body["manage_url"] = url_for(
            "manage.page", token=links.manage_token(attendee), _external=True
        )
        body["calendar_url"] = url_for(
            "calendar.personal_feed",
            token=links.feed_token(attendee),
            _external=True,
        )
    return body
