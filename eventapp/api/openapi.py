"""The OpenAPI 3.1 document of the whole JSON API, served at /api/v1/openapi.json.

Written by hand next to the routes; tests/web/test_openapi.py fails when a route under
/api/v1 is missing here or a documented one no longer exists. Add a path here with every
new endpoint.
"""

from flask import jsonify

from ..services.validation import ID_MAX
from .blueprint import bp

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

DATE_TIME_OUT = {"type": "string", "format": "date-time"}
DATE_TIME_OUT_NULLABLE = {"type": ["string", "null"], "format": "date-time"}
# ISO 8601 as the server reads it (years 2000-2999; 29 February left out for brevity).
_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    "|(?:0[13578]|1[02])-31)"
)
_CLOCK = "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?)?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
DATE_TIME_PATTERN = f"^2[0-9]{{3}}-{_DAY}T{_CLOCK}{_OFFSET}$"
DATE_TIME_IN = {
    "type": "string",
    "pattern": DATE_TIME_PATTERN,
    "description": "ISO 8601; without an offset the time is local to the event's timezone "
    "(2027-03-18T09:30 or 2027-03-18T09:30:00+01:00).",
    "examples": ["2027-03-18T09:30:00+01:00"],
}
DATE_TIME_IN_NULLABLE = {**DATE_TIME_IN, "type": ["string", "null"]}
ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
# Text is trimmed and must hold no control characters; required text must not be blank.
_NO_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
TEXT_PATTERN = f"^[^{_NO_CONTROL}]*$"
REQUIRED_TEXT_PATTERN = f"^[^{_NO_CONTROL}]*[^\\s{_NO_CONTROL}][^{_NO_CONTROL}]*$"


def _text(max_length: int, *, required: bool = False) -> dict:
    return {
        "type": "string",
        "maxLength": max_length,
        "pattern": REQUIRED_TEXT_PATTERN if required else TEXT_PATTERN,
        **({"minLength": 1} if required else {}),
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_schema(extra: dict | None = None, required_extra: tuple = ()) -> dict:
    return {
        "type": "object",
        "required": ["error", "message", *required_extra],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            **(extra or {}),
        },
    }


SESSION_REF = {
    "type": "object",
    "required": ["id", "title", "starts_at", "ends_at"],
    "properties": {
        "id": {"type": ["integer", "null"]},
        "title": {"type": "string"},
        "starts_at": DATE_TIME_OUT,
        "ends_at": DATE_TIME_OUT,
    },
}

SCHEMAS = {
    "Error": _error_schema(),
    "InvalidError": _error_schema(
        {
            "error": {"const": "invalid"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        ("fields",),
    ),
    "AlreadyExistsError": _error_schema(
        {
            "error": {"const": "already_exists"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        ("fields",),
    ),
    "SessionsError": _error_schema({"sessions": {"type": "array", "items": _ref("SessionRef")}}),
    "ConflictError": _error_schema(
        {
            "error": {"const": "conflict"},
            "conflicts": {"type": "array", "items": _ref("Conflict")},
            "confirm_required": {
                "type": "boolean",
                "description": 'True when only warnings clash: repeat with "confirm": true.',
            },
        },
        ("conflicts",),
    ),
    "SessionRef": SESSION_REF,
    "AttendeeRef": {
        "type": "object",
        "required": ["id", "reference", "name", "email"],
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": "string"},
        },
    },
    "Conflict": {
        "type": "object",
        "required": ["kind", "severity", "message", "sessions"],
        "description": 'Hard conflicts block; soft ones (warnings) need "confirm": true.',
        "properties": {
            "kind": {
                "enum": [
                    "room_double_booked",
                    "capacity_below_taken",
                    "attendee_overlap",
                    "speaker_double_booked",
                    "outside_event_hours",
                    "capacity_above_room",
                ]
            },
            "severity": {"enum": ["hard", "soft"]},
            "message": {"type": "string"},
            "sessions": {"type": "array", "items": _ref("SessionRef")},
            "room": {"type": "string"},
            "room_id": {"type": ["integer", "null"]},
            "speaker": {"type": "string"},
            "capacity": {"type": "integer"},
            "room_capacity": {"type": "integer"},
            "seats_taken": {"type": "integer"},
            "count": {"type": "integer", "description": "attendee_overlap: how many"},
            "attendees": {"type": "array", "items": _ref("AttendeeRef")},
            "event_starts_at": DATE_TIME_OUT,
            "event_ends_at": DATE_TIME_OUT,
        },
    },
    "Event": {
        "type": "object",
        "required": ["slug", "name", "timezone", "starts_at", "ends_at", "status"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "venue": {"type": "string"},
            "organiser_email": {"type": "string", "format": "email"},
            "timezone": {"type": "string"},
            "starts_at": DATE_TIME_OUT,
            "ends_at": DATE_TIME_OUT,
            "registration_opens_at": DATE_TIME_OUT_NULLABLE,
            "registration_closes_at": DATE_TIME_OUT_NULLABLE,
            "status": {"enum": ["draft", "published", "closed"]},
            "promotion_mode": {"enum": ["auto", "offer"]},
            "allocation_mode": {"enum": ["fcfs", "preferences"]},
            "allocation_published_at": DATE_TIME_OUT_NULLABLE,
            "offer_hours": {"type": "integer"},
            "reminder_hours": {"type": "integer"},
            "retention_days": {"type": ["integer", "null"]},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "EventInput": {
        "type": "object",
        "required": ["slug", "name", "starts_at", "ends_at"],
        "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"},
            "name": _text(200, required=True),
            "description": _text(10000),
            "venue": _text(200),
            "organiser_email": {
                "type": "string",
                "format": "email",
                "maxLength": 254,
                "description": "The event's contact address: ORGANIZER of its calendar "
                "invitations, Reply-To of its emails and the questions address in them.",
            },
            "timezone": {"type": "string", "default": "Europe/Amsterdam"},
            "starts_at": DATE_TIME_IN,
            "ends_at": DATE_TIME_IN,
            "registration_opens_at": DATE_TIME_IN_NULLABLE,
            "registration_closes_at": DATE_TIME_IN_NULLABLE,
            "status": {"enum": ["draft", "published", "closed"], "default": "draft"},
            "promotion_mode": {
                "enum": ["auto", "offer"],
                "default": "auto",
                "description": "A freed seat goes to the waiting list at once, or as an offer.",
            },
            "allocation_mode": {
                "enum": ["fcfs", "preferences"],
                "default": "fcfs",
                "description": "Workshops first come, first served, or ranked and then allocated.",
            },
            "offer_hours": {"type": "integer", "minimum": 1, "maximum": 720, "default": 24},
            "reminder_hours": {"type": "integer", "minimum": 1, "maximum": 720, "default": 24},
            "retention_days": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 3650,
                "description": "Anonymise attendees this many days after the end; null: keep.",
            },
            "confirm": {"type": "boolean", "default": False},
        },
    },
    "Room": {
        "type": "object",
        "required": ["id", "name", "capacity"],
        "properties": {"id": ID, "name": {"type": "string"}, "capacity": {"type": "integer"}},
    },
    "RoomInput": {
        "type": "object",
        "required": ["name", "capacity"],
        "properties": {
            "name": _text(120, required=True),
            "capacity": {"type": "integer", "minimum": 0, "maximum": 100000},
        },
    },
    "Session": {
        "type": "object",
        "required": [
            "id",
            "title",
            "kind",
            "starts_at",
            "ends_at",
            "room",
            "capacity",
            "seats_taken",
            "seats_left",
            "waitlist_length",
            "status",
        ],
        "properties": {
            "id": ID,
            "title": {"type": "string"},
            "description": {"type": "string"},
            "kind": {"enum": ["plenary", "workshop", "other"]},
            "starts_at": DATE_TIME_OUT,
            "ends_at": DATE_TIME_OUT,
            "room": {"type": ["string", "null"]},
            "room_id": {"type": ["integer", "null"]},
            "speakers": {"type": "array", "items": {"type": "string"}},
            "capacity": {"type": "integer"},
            "seats_taken": {"type": "integer"},
            "seats_left": {"type": "integer"},
            "waitlist_length": {"type": "integer"},
            "status": {"enum": ["scheduled", "cancelled"]},
        },
    },
    "SessionChange": {
        "allOf": [
            _ref("Session"),
            {
                "type": "object",
                "required": ["warnings", "promoted"],
                "properties": {
                    "warnings": {
                        "type": "array",
                        "items": _ref("Conflict"),
                        "description": 'Warnings accepted with "confirm": true.',
                    },
                    "promoted": {
                        "type": "integer",
                        "description": "Attendees moved up from the waiting list.",
                    },
                },
            },
        ]
    },
    "SessionInput": {
        "type": "object",
        "required": ["title", "starts_at", "ends_at"],
        "description": "capacity defaults to the room's; without a room it is required "
        '(except for kind "other").',
        "properties": {
            "title": _text(300, required=True),
            "description": _text(10000),
            "kind": {"enum": ["plenary", "workshop", "other"], "default": "workshop"},
            "starts_at": DATE_TIME_IN,
            "ends_at": DATE_TIME_IN,
            "room_id": {"type": ["integer", "null"], "minimum": 1},
            "capacity": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000},
            "speakers": {
                "type": "array",
                "maxItems": 50,
                "items": _text(200, required=True),
            },
            "confirm": {"type": "boolean", "default": False},
        },
    },
    "SessionPatch": {
        "type": "object",
        "description": "Any fields of a session. Changing starts_at, ends_at or room_id "
        'moves it (attendees are emailed); status "cancelled" cancels it, "scheduled" '
        "restores a cancelled one.",
        "properties": {
            "title": _text(300, required=True),
            "description": _text(10000),
            "kind": {"enum": ["plenary", "workshop", "other"]},
            "starts_at": DATE_TIME_IN,
            "ends_at": DATE_TIME_IN,
            "room_id": {"type": ["integer", "null"], "minimum": 1},
            "capacity": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000},
            "speakers": {
                "type": "array",
                "maxItems": 50,
                "items": _text(200, required=True),
            },
            "status": {"enum": ["scheduled", "cancelled"]},
            "confirm": {"type": "boolean", "default": False},
        },
    },
    "ConflictList": {
        "type": "object",
        "required": ["conflicts", "hard", "soft"],
        "properties": {
            "conflicts": {"type": "array", "items": _ref("Conflict")},
            "hard": {"type": "integer"},
            "soft": {"type": "integer"},
        },
    },
    "AttendeeRegistrations": {
        "type": "object",
        "required": ["reference", "name", "email", "status", "sessions"],
        "properties": {
            "reference": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "organisation": {"type": "string"},
            "status": {"enum": ["active", "cancelled"]},
            "created_at": DATE_TIME_OUT,
            "checked_in_at": DATE_TIME_OUT_NULLABLE,
            "sessions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "integer"},
                        "status": {"enum": ["confirmed", "waitlisted", "offered", "cancelled"]},
                    },
                },
            },
        },
    },
    "RegistrationPage": {
        "type": "object",
        "required": ["registrations", "page", "per_page", "total"],
        "properties": {
            "registrations": {"type": "array", "items": _ref("AttendeeRegistrations")},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "Waitlist": {
        "type": "object",
        "required": ["session_id", "capacity", "seats_taken", "waitlist"],
        "properties": {
            "session_id": {"type": "integer"},
            "capacity": {"type": "integer"},
            "seats_taken": {"type": "integer"},
            "waitlist": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["position", "reference", "name", "email", "waitlisted_at"],
                    "properties": {
                        "position": {"type": "integer", "minimum": 1},
                        "reference": {"type": "string"},
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "waitlisted_at": DATE_TIME_OUT_NULLABLE,
                    },
                },
            },
        },
    },
    "RegistrationInput": {
        "type": "object",
        "required": ["name", "email", "session_ids", "consent"],
        "properties": {
            "name": _text(200, required=True),
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "organisation": _text(200),
            "job_role": _text(200),
            "session_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": 100},
            "waitlist": {"type": "boolean", "default": False},
            "consent": {"const": True},
            "locale": {"enum": ["nl", "en"]},
            "preferences": {
                "type": "object",
                "description": "Events in preference mode, until the allocation is published: "
                "per round key, up to three workshop ids, best first (workshops then do not go "
                "in session_ids). Ignored by other events.",
                "additionalProperties": {"type": "array", "items": ID, "maxItems": 3},
            },
        },
    },
    "RegistrationPatch": {
        "type": "object",
        "description": "Change sessions, workshop preferences and/or details; all of it or, "
        "on an error, none.",
        "properties": {
            "name": _text(200, required=True),
            "organisation": _text(200),
            "locale": {"enum": ["nl", "en"]},
            "session_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": 100},
            "waitlist": {"type": "boolean", "default": False},
            "preferences": {
                "type": "object",
                "description": "Events in preference mode, until the allocation is published: "
                "the new ranking, per round key up to three workshop ids, best first; it "
                "replaces the old one. Other events answer 409 `not_collecting`.",
                "additionalProperties": {"type": "array", "items": ID, "maxItems": 3},
            },
        },
    },
    "Registration": {
        "type": "object",
        "required": ["reference", "name", "email", "status", "sessions"],
        "properties": {
            "reference": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "organisation": {"type": "string"},
            "job_role": {"type": "string"},
            "locale": {"type": "string"},
            "status": {"type": "string"},
            "sessions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "status": {"enum": ["confirmed", "waitlisted", "offered", "cancelled"]},
                        "waitlist_position": {"type": ["integer", "null"]},
                        "offer_expires_at": DATE_TIME_OUT_NULLABLE,
                    },
                },
            },
            "manage_url": {"type": "string", "format": "uri"},
            "calendar_url": {"type": "string", "format": "uri"},
        },
    },
}


_ALLOCATION_STATS = {
    "type": "object",
    "required": ["method", "by_rank", "none", "assigned", "fill"],
    "properties": {
        "method": {"type": "string"},
        "by_rank": {"type": "array", "items": {"type": "integer"}},
        "none": {"type": "integer", "description": "Pairs left with nothing they ranked."},
        "unranked": {"type": "integer"},
        "assigned": {"type": "integer"},
        "fill": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "workshop_id": ID,
                    "assigned": {"type": "integer"},
                    "capacity": {"type": "integer"},
                },
            },
        },
        "total_attendees": {"type": "integer"},
        "wall_time_s": {"type": "number"},
    },
}
SCHEMAS["AllocationInput"] = {
    "type": "object",
    "properties": {
        "dry_run": {"type": "boolean", "default": True},
        "seed": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2**63 - 1,
            "description": "Lottery seed for ties; random when left out.",
        },
    },
}
SCHEMAS["AllocationRun"] = {
    "type": "object",
    "required": ["run_id", "seed", "status", "stats"],
    "properties": {
        "run_id": ID,
        "seed": {"type": "integer"},
        "status": {"enum": ["dry_run", "published"]},
        "stats": {
            "type": "object",
            "properties": {
                "optimal": _ALLOCATION_STATS,
                "first_come_first_served": _ALLOCATION_STATS,
                "random_serial_dictatorship": _ALLOCATION_STATS,
            },
        },
        "published": {
            "type": ["object", "null"],
            "properties": {
                "confirmed": {"type": "integer"},
                "waitlisted": {"type": "integer"},
                "emails": {"type": "integer"},
            },
        },
    },
}
SCHEMAS["EventPatch"] = {
    "type": "object",
    "description": "Any fields of an event.",
    "properties": SCHEMAS["EventInput"]["properties"],
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "The body is not a JSON object (`bad_request`)."),
    "401": _json(_ref("Error"), "No valid bearer token (`unauthorized`)."),
    "403": _json(_ref("Error"), "The token's organiser lacks the role (`forbidden`)."),
    "404": _json(_ref("Error"), "No such event, session or registration (`not_found`)."),
    "405": _json(_ref("Error"), "Method not allowed (`method_not_allowed`)."),
    "409": _json(
        {"oneOf": [_ref("ConflictError"), _ref("AlreadyExistsError")]},
        "The change clashes with the programme (`conflict`), or a unique name (slug, room "
        "name) is taken (`already_exists`).",
    ),
    "413": _json(_ref("Error"), "The body is too large (`too_large`)."),
    "422": _json(_ref("InvalidError"), "A field breaks a rule (`invalid`), per field."),
    "429": _json(_ref("Error"), "Too many requests (`rate_limited`)."),
    "503": _json(_ref("Error"), "The database is briefly unavailable (`unavailable`)."),
}


def _errors(*codes: str) -> dict:
    return {code: ERRORS[code] for code in codes}


def _body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema_name)}}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
SESSION_ID = {"name": "session_id", "in": "path", "required": True, "schema": ID}
TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The attendee's private token from the manage link.",
}
BEARER = [{"bearerAuth": []}]
PUBLIC_READ = ("404", "405", "503")
ORGANISER = ("401", "403", "405", "503")
WRITE = ("400", "413", "422")

PUBLIC_REGISTRATION_409 = _json(
    _ref("SessionsError"),
    "`full` or `schedule_conflict` (naming the sessions), `already_registered`, or "
    "`registration_closed`.",
)

PATHS = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "tags": ["meta"],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}},
                **_errors("405"),
            },
        }
    },
    "/api/v1/events": {
        "get": {
            "operationId": "list_events",
            "summary": "Published (and closed) events.",
            "tags": ["public"],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["events"],
                        "properties": {"events": {"type": "array", "items": _ref("Event")}},
                    },
                    "The events.",
                ),
                **_errors("405", "503"),
            },
        },
        "post": {
            "operationId": "create_event",
            "summary": "Create an event (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": _body("EventInput"),
            "responses": {
                "201": _json(_ref("Event"), "The new event."),
                **_errors(*WRITE, *ORGANISER, "409"),
            },
        },
    },
    "/api/v1/events/{slug}": {
        "parameters": [SLUG],
        "get": {
            "operationId": "show_event",
            "summary": "One published event (with an organiser's bearer token, drafts too).",
            "tags": ["public"],
            "responses": {"200": _json(_ref("Event"), "The event."), **_errors(*PUBLIC_READ)},
        },
        "patch": {
            "operationId": "update_event",
            "summary": "Change an event (organisers); new hours that leave sessions outside "
            'them need "confirm": true.',
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": _body("EventPatch"),
            "responses": {
                "200": _json(_ref("Event"), "The event as saved."),
                **_errors(*WRITE, *ORGANISER, "404", "409"),
            },
        },
    },
    "/api/v1/events/{slug}/move": {
        "parameters": [SLUG],
        "post": {
            "operationId": "move_event",
            "summary": "Move the whole event to a new start; every session keeps its time "
            "relative to it and its attendees are emailed (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["starts_at"],
                            "properties": {"starts_at": DATE_TIME_IN},
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    {
                        "allOf": [
                            _ref("Event"),
                            {
                                "type": "object",
                                "required": ["sessions_moved"],
                                "properties": {"sessions_moved": {"type": "integer"}},
                            },
                        ]
                    },
                    "The moved event.",
                ),
                **_errors(*WRITE, *ORGANISER, "404"),
            },
        },
    },
    "/api/v1/events/{slug}/cancel": {
        "parameters": [SLUG],
        "post": {
            "operationId": "cancel_event",
            "summary": "Cancel every session (attendees are emailed) and close the event "
            "(organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "responses": {
                "200": _json(
                    {
                        "allOf": [
                            _ref("Event"),
                            {
                                "type": "object",
                                "required": ["sessions_cancelled"],
                                "properties": {"sessions_cancelled": {"type": "integer"}},
                            },
                        ]
                    },
                    "The cancelled event (status closed).",
                ),
                **_errors(*ORGANISER, "404"),
            },
        },
    },
    "/api/v1/events/{slug}/sessions": {
        "parameters": [SLUG],
        "get": {
            "operationId": "list_sessions",
            "summary": "The programme of a published event, with seats (with an organiser's "
            "bearer token, of drafts too).",
            "tags": ["public"],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["sessions"],
                        "properties": {"sessions": {"type": "array", "items": _ref("Session")}},
                    },
                    "The sessions.",
                ),
                **_errors(*PUBLIC_READ),
            },
        },
        "post": {
            "operationId": "create_session",
            "summary": "Add a session (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": _body("SessionInput"),
            "responses": {
                "201": _json(_ref("SessionChange"), "The new session."),
                **_errors(*WRITE, *ORGANISER, "404", "409"),
            },
        },
    },
    "/api/v1/events/{slug}/registrations": {
        "parameters": [SLUG],
        "post": {
            "operationId": "create_registration",
            "summary": "Register for sessions of a published event.",
            "tags": ["public"],
            "requestBody": _body("RegistrationInput"),
            "responses": {
                "201": _json(_ref("Registration"), "Registered (confirmed or waitlisted)."),
                "409": PUBLIC_REGISTRATION_409,
                **_errors(*WRITE, *PUBLIC_READ, "429"),
            },
        },
        "get": {
            "operationId": "list_registrations",
            "summary": "Attendees and their registrations, a page at a time (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "parameters": [
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000000},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "Name, email, organisation or reference containing this "
                    "text, or this check-in code.",
                },
                {
                    "name": "session_id",
                    "in": "query",
                    "schema": ID,
                    "description": "Attendees registered for this session: confirmed, "
                    "waitlisted or offered, or cancelled with status=cancelled.",
                },
                {
                    "name": "status",
                    "in": "query",
                    "schema": {
                        "enum": ["active", "cancelled", "confirmed", "waitlisted", "offered"]
                    },
                    "description": "active, cancelled: the attendee's own status; "
                    "confirmed, waitlisted, offered: an active attendee with a registration "
                    "in that status. With session_id, each applies to the registration for "
                    "that session (active: not cancelled, of an active attendee).",
                },
                {
                    "name": "checked_in",
                    "in": "query",
                    "schema": {"enum": ["yes", "no"]},
                    "description": "Checked in at the event, or at session_id's session.",
                },
            ],
            "description": "Oldest registration first. The filters are those of the "
            "organiser's attendee page (/organiser/events/{slug}/attendees, where session_id "
            "is called session) and find the same attendees.",
            "responses": {
                "200": _json(_ref("RegistrationPage"), "One page."),
                **_errors(*ORGANISER, "404", "422"),
            },
        },
    },
    "/api/v1/events/{slug}/rooms": {
        "parameters": [SLUG],
        "post": {
            "operationId": "create_room",
            "summary": "Add a room (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": _body("RoomInput"),
            "responses": {
                "201": _json(_ref("Room"), "The new room."),
                **_errors(*WRITE, *ORGANISER, "404", "409"),
            },
        },
    },
    "/api/v1/events/{slug}/conflicts": {
        "parameters": [SLUG],
        "get": {
            "operationId": "list_conflicts",
            "summary": "Every current conflict of the event, warnings too (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "responses": {
                "200": _json(_ref("ConflictList"), "Hard conflicts first."),
                **_errors(*ORGANISER, "404"),
            },
        },
    },
    "/api/v1/events/{slug}/allocation": {
        "parameters": [SLUG],
        "post": {
            "operationId": "allocate_event",
            "summary": "Fair workshop allocation from ranked preferences: dry run or publish.",
            "description": "Runs the fair optimum beside first come, first served and a random "
            "serial order, and stores the run (seed and inputs). With `dry_run: false` the "
            "optimum is published in the same request: seats confirmed, the rest waitlisted, "
            "confirmation emails queued; a second publication is a 409.",
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": _body("AllocationInput"),
            "responses": {
                "200": _json(_ref("AllocationRun"), "The run and its figures."),
                "409": _json(
                    _ref("Error"),
                    "`not_preference_mode`, `already_published`, or `stale` (preferences or "
                    "seats changed during the request).",
                ),
                **_errors(*WRITE, *ORGANISER, "404"),
            },
        },
    },
    "/api/v1/sessions/{session_id}": {
        "parameters": [SESSION_ID],
        "patch": {
            "operationId": "update_session",
            "summary": "Edit, move, resize, cancel or restore a session (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "requestBody": _body("SessionPatch"),
            "responses": {
                "200": _json(_ref("SessionChange"), "The session as saved."),
                **_errors(*WRITE, *ORGANISER, "404", "409"),
            },
        },
        "delete": {
            "operationId": "cancel_session",
            "summary": "Cancel a session; its attendees are emailed (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "responses": {
                "200": _json(_ref("SessionChange"), "The cancelled session."),
                **_errors(*ORGANISER, "404"),
            },
        },
    },
    "/api/v1/sessions/{session_id}/waitlist": {
        "parameters": [SESSION_ID],
        "get": {
            "operationId": "session_waitlist",
            "summary": "A session's waiting list in order (organisers).",
            "tags": ["organiser"],
            "security": BEARER,
            "responses": {
                "200": _json(_ref("Waitlist"), "First in line first."),
                **_errors(*ORGANISER, "404"),
            },
        },
    },
    "/api/v1/registrations/{token}": {
        "parameters": [TOKEN],
        "get": {
            "operationId": "show_registration",
            "summary": "One's own registration.",
            "tags": ["public"],
            "responses": {
                "200": _json(_ref("Registration"), "The registration."),
                **_errors(*PUBLIC_READ, "429"),
            },
        },
        "patch": {
            "operationId": "change_registration",
            "summary": "Change one's sessions (all or nothing).",
            "tags": ["public"],
            "requestBody": _body("RegistrationPatch"),
            "responses": {
                "200": _json(_ref("Registration"), "The registration as changed."),
                "409": PUBLIC_REGISTRATION_409,
                **_errors(*WRITE, *PUBLIC_READ, "429"),
            },
        },
        "delete": {
            "operationId": "cancel_registration",
            "summary": "Cancel one's registration.",
            "tags": ["public"],
            "responses": {
                "200": _json(_ref("Registration"), "The cancelled registration."),
                "409": _json(_ref("Error"), "Already cancelled (`registration_closed`)."),
                **_errors(*PUBLIC_READ, "429"),
            },
        },
    },
    "/api/v1/registrations/{token}/offers/{session_id}/accept": {
        "parameters": [TOKEN, SESSION_ID],
        "post": {
            "operationId": "accept_offer",
            "summary": "Accept a waiting-list offer of a seat before it expires.",
            "tags": ["public"],
            "responses": {
                "200": _json(_ref("Registration"), "The registration with the seat."),
                "409": _json(
                    _ref("SessionsError"),
                    "`offer_expired`, or `schedule_conflict` naming the clashing sessions.",
                ),
                **_errors(*PUBLIC_READ, "429"),
            },
        },
    },
    "/api/v1/registrations/{token}/offers/{session_id}/decline": {
        "parameters": [TOKEN, SESSION_ID],
        "post": {
            "operationId": "decline_offer",
            "summary": "Decline a waiting-list offer; the seat goes to the next in line.",
            "tags": ["public"],
            "responses": {
                "200": _json(_ref("Registration"), "The registration without the offer."),
                **_errors(*PUBLIC_READ, "429"),
            },
        },
    },
    "/api/v1/registrations/{token}/export": {
        "parameters": [TOKEN],
        "get": {
            "operationId": "export_registration",
            "summary": "Everything stored about the attendee (right of access).",
            "tags": ["public"],
            "responses": {
                "200": _json({"type": "object"}, "The attendee's data as JSON."),
                **_errors(*PUBLIC_READ, "429"),
            },
        },
    },
    "/api/v1/registrations/{token}/data": {
        "parameters": [TOKEN],
        "delete": {
            "operationId": "erase_registration",
            "summary": "Cancel (before the event) and erase the attendee's personal data.",
            "tags": ["public"],
            "responses": {
                "204": {"description": "Erased; the private link stops working."},
                "409": _json(_ref("Error"), "Already erased (`registration_closed`)."),
                **_errors(*PUBLIC_READ, "429"),
            },
        },
    },
}


def openapi_document() -> dict:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "eventapp API",
            "version": API_VERSION,
            "description": "Events, sessions and registrations; organiser endpoints need "
            "`Authorization: Bearer <token>` (`flask --app eventapp organiser token EMAIL`). "
            'Errors are `{"error": CODE, "message": TEXT, ...}`.',
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
