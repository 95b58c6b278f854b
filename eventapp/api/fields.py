"""The field types the API's schemas are built from, on the services' own field rules.

Each type validates with the function the HTML forms and the services use (services/
validation.py, services/programme/cleaning.py) and documents itself with the same constants,
so the form, the API and its OpenAPI document cannot disagree about a length or a format.
`invalid_input` turns pydantic's errors into our 422 `invalid` error, in one place.
"""

from collections.abc import Callable
from copy import copy
from datetime import datetime
from typing import Annotated, Any

from annotated_types import Interval, MaxLen
from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from ..services.allocation.runs import MAX_CHOICES
from ..services.errors import InvalidInput
from ..services.programme.cleaning import (
    NOTE_MAX,
    YEAR_MAX,
    YEAR_MIN,
    clean_description,
    clean_timezone,
    datetime_message,
    parse_datetime,
    refusal_message,
)
from ..services.validation import (
    DESCRIPTION_MAX,
    EMAIL_MAX,
    ID_MAX,
    FieldErrors,
    clean_email,
    clean_text,
    too_long,
)

# No control characters (the rule clean_text applies), and for required text one that is
# not white space: how the document says what clean_text checks.
_NO_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
TEXT_PATTERN = f"^[^{_NO_CONTROL}]*$"
REQUIRED_TEXT_PATTERN = f"^[^{_NO_CONTROL}]*[^\\s{_NO_CONTROL}][^{_NO_CONTROL}]*$"


class Input(BaseModel):
    """A request body or query: JSON types as sent (no "1" for 1, no "yes" for true)."""

    model_config = ConfigDict(strict=True)


class Output(BaseModel):
    """A response body, built from the models by a classmethod `of` on each schema."""

    @classmethod
    def from_row(cls, row, tz=None, **computed):
        """The schema's fields from the attributes of the same name on `row` (a model),
        times in the event's time zone `tz`; `computed` gives the fields that are not
        plain attributes (or not under that name)."""
        values = {name: getattr(row, name) for name in cls.model_fields.keys() - computed.keys()}
        if tz is not None:
            values = {
                name: value.astimezone(tz) if isinstance(value, datetime) else value
                for name, value in values.items()
            }
        return cls(**values, **computed)


def _by_rule(clean: Callable[[Any, FieldErrors], Any]) -> AfterValidator:
    """A pydantic validator from a service's `clean_*` rule: its value, or its first reason."""

    def validate(value):
        errors = FieldErrors()
        cleaned = clean(value, errors)
        if errors:
            reason = next(iter(errors.values()))[0]
            raise PydanticCustomError("field_rule", "{reason}", {"reason": reason})
        return cleaned

    return AfterValidator(validate)


def text(max_length: int, *, required: bool = False) -> Any:
    """Text of at most `max_length` characters, checked, trimmed and NFC-normalised by
    clean_text, as the forms do; the document states the same rule as a pattern."""
    schema = {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}
    if required:
        schema.update(minLength=1, pattern=REQUIRED_TEXT_PATTERN)
    return Annotated[
        str,
        _by_rule(
            lambda value, errors: clean_text(
                value, "field", errors, max_length=max_length, required=required
            )
        ),
        WithJsonSchema(schema),
    ]


Description = Annotated[
    str,
    _by_rule(lambda value, errors: clean_description(value, "field", errors)),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": DESCRIPTION_MAX,
            "description": "May span lines (CR LF and CR become LF); no other control characters.",
        }
    ),
]

Note = Annotated[
    str,
    _by_rule(lambda value, errors: clean_description(value, "field", errors, max_length=NOTE_MAX)),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": NOTE_MAX,
            "description": "Plain text that may span lines; no other control characters.",
        }
    ),
]


def _true_or_false(value: object) -> object:
    """A query string's flag: exactly "true" or "false" (what the document's boolean is sent
    as); pydantic's lax "yes", "on", "1" would be a second spelling of the same thing."""
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise PydanticCustomError("field_rule", "{reason}", {"reason": _("Must be true or false.")})


QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]

Email = Annotated[
    str,
    _by_rule(lambda value, errors: clean_email(value, "field", errors)),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX}),
]

TimeZone = Annotated[
    str,
    Field(examples=["Europe/Amsterdam"], description="An IANA time zone."),
    _by_rule(lambda value, errors: clean_timezone(value, "field", errors)),
]


def _whole_number(value):
    """JSON's 5.0 is the integer 5, as the services read it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Id = Annotated[int, Interval(ge=1, le=ID_MAX), BeforeValidator(_whole_number)]
SessionIds = Annotated[list[Id], MaxLen(100)]
# Per round key, up to three workshop ids, best first.
Ranking = dict[str, Annotated[list[Id], MaxLen(MAX_CHOICES)]]


# {question key: answer}; the answers themselves are checked by the registration service
# against the event's questions (services/registration/answers.py), which names each field.
Answers = Annotated[
    dict[str, str | bool | list[str] | None],
    MaxLen(50),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": 50,
            "additionalProperties": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "boolean"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "null"},
                ]
            },
        }
    ),
]


def _local_time(value):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        reason = refusal_message(value) if isinstance(value, str) else datetime_message()
        raise PydanticCustomError("field_rule", "{reason}", {"reason": reason})
    return parsed


LocalTime = Annotated[
    datetime,
    BeforeValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            # The shape only (as datetime.fromisoformat reads it); whether the day exists is
            # the server's to say, so the document never refuses a date the server takes.
            "pattern": f"^[{str(YEAR_MIN)[0]}-{str(YEAR_MAX)[0]}][0-9]{{3}}-[0-9]{{2}}-[0-9]{{2}}"
            "T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$",
            "description": f"ISO 8601, years {YEAR_MIN} to {YEAR_MAX}; without an offset the "
            "time is local to the event's time zone (2027-03-18T09:30 or "
            "2027-03-18T09:30:00+01:00).",
            "examples": ["2027-03-18T09:30:00+01:00", "2027-03-18T09:30"],
        },
        mode="validation",
    ),
]


def _blank_is_none(value):
    return None if value == "" else value


OptionalLocalTime = Annotated[LocalTime | None, BeforeValidator(_blank_is_none)]

# Out: an aware time in the event's zone, written with its offset (2027-03-18T09:30:00+01:00).
Instant = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def iso(value: datetime | None, tz) -> datetime | None:
    """`value` in the event's time zone `tz` (None stays None)."""
    return value.astimezone(tz) if value else None


def invalid_input(error: ValidationError) -> InvalidInput:
    """pydantic's errors as our 422 `invalid`, per top-level field, in the request's language."""
    fields = FieldErrors()
    for problem in error.errors(include_url=False):
        field = (problem.get("ctx") or {}).get("field")
        field = field or (str(problem["loc"][0]) if problem["loc"] else "body")
        fields.add(field, _reason(problem))
    return InvalidInput(_("Please correct the marked fields."), dict(fields))


def _reason(problem: dict) -> str:
    kind, context = problem["type"], problem.get("ctx") or {}
    if kind == "field_rule":
        return context["reason"]
    simple = {
        "missing": lambda: _("This field is required."),
        "string_type": lambda: _("Must be text."),
        "bool_type": lambda: _("Must be true or false."),
        "int_type": lambda: _("Must be a whole number."),
        "int_parsing": lambda: _("Must be a whole number."),
        "string_pattern_mismatch": lambda: _("Contains characters that are not allowed."),
        "list_type": lambda: _("Must be a list."),
        "dict_type": lambda: _("Must be an object."),
    }
    if kind in simple:
        return simple[kind]()
    if kind == "string_too_long":
        return too_long(context["max_length"])
    if kind == "string_too_short":
        return _("This field is required.")
    if kind == "too_long":
        return ngettext("At most %(num)d item.", "At most %(num)d items.", context["max_length"])
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = context.get("ge", context.get("le"))
        if kind == "greater_than_equal":
            return _("At least %(n)s.", n=bound)
        return _("At most %(n)s.", n=bound)
    if kind == "literal_error":
        return _("Must be one of: %(choices)s.", choices=context["expected"])
    return problem["msg"]


def partial(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """`model` with every field optional and no defaults: a PATCH, where what is left out
    stays as it is (the views pass on only the fields sent)."""
    fields = {}
    for field_name, info in model.model_fields.items():
        info = copy(info)
        info.default = None
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        info.json_schema_extra = _without_default(extra)
        fields[field_name] = (info.annotation, info)
    return create_model(name, __base__=model.__base__, __doc__=doc, **fields)


def _without_default(extra: dict) -> Callable[[dict], None]:
    def adjust(schema: dict) -> None:
        schema.pop("default", None)
        schema.update(extra)

    return adjust
