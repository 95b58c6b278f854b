"""Forms for building the programme. Times are typed in the event's own timezone."""

from zoneinfo import ZoneInfo

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..labels import label
from ..models.event import CONTENT_LOCALES, other_locale
from ..services.errors import InvalidInput
from ..services.programme import schedule
from ..services.programme.cleaning import (
    CAPACITY_MAX,
    HOLD_MINUTES_MAX,
    HOLD_MINUTES_MIN,
    HOURS_MAX,
    NOTE_MAX,
    RETENTION_DAYS_MAX,
    repeated_hour_passes,
)

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
NO_ROOM = 0


def _when(label):
    return DateTimeLocalField(label, format=LOCAL_FORMAT, validators=[InputRequired()])


def _maybe_when(label):
    return DateTimeLocalField(label, format=LOCAL_FORMAT, validators=[Optional()])


FIRST_PASS, SECOND_PASS = "first", "second"


class RepeatedHourMixin:
    """A time typed in the repeated autumn hour (02:00-02:59 the night the clocks go back)
    happens twice, and a datetime-local field has no offset to say which: this choice says
    it, for every such time of the form. Shown once such a time was typed
    (organiser/form.html; programme_views.with_chosen_pass)."""

    repeated_hour = RadioField(
        _l("Which of the two do you mean?"),
        choices=[
            (FIRST_PASS, _l("The first time (before the clocks go back)")),
            (SECOND_PASS, _l("The second time (after the clocks go back)")),
        ],
        validators=[Optional()],
        validate_choice=False,
    )
    asks_repeated_hour = False  # set when a time typed in that hour awaits the choice


class ConfirmMixin:
    confirm = BooleanField(_l("Save anyway: I have read the warnings above"))


class TranslatedTextsMixin:
    """The `*_translated` fields hold the texts in the event's other language: their labels
    name it ("Title in English") from the event being edited (g.event), or from the language
    chosen on the event form itself. Empty means "show the other language's"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        event = g.get("event")
        main = event.default_locale if event is not None else CONTENT_LOCALES[0]
        if "default_locale" in self._fields and self.default_locale.data in CONTENT_LOCALES:
            main = self.default_locale.data
        language = label("language", other_locale(main))
        for name, field in self._fields.items():
            if name.endswith("_translated"):
                main_label = self._fields[name.removesuffix("_translated")].label.text
                field.label.text = _(
                    "%(field)s in %(language)s (optional)", field=main_label, language=language
                )


def translated_text(max_length: int):
    return StringField(validators=[Optional(), Length(max=max_length)])


def translated_description():
    return TextAreaField(validators=[Optional(), Length(max=10_000)])


class TellingMixin:
    """What the attendees hear of a change: shown once the page has said how many people it
    emails (`reviewed` holds what the organiser saw, organiser/programme_views.py)."""

    notify = RadioField(
        _l("Tell the attendees"),
        choices=[
            ("yes", _l("Email them about the change")),
            ("no", _l("Don't notify (their calendars still update through the feeds)")),
        ],
        default="yes",
    )
    note = TextAreaField(
        _l("A note in the email (optional, plain text)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
    )
    reviewed = HiddenField()

    def telling(self) -> schedule.Telling:
        return schedule.Telling.of(notify=self.notify.data != "no", note=self.note.data or "")


class ClashFixMixin(TellingMixin):
    clash_fix = RadioField(
        _l("Attendees the change would give two sessions at once"),
        choices=[
            (schedule.BLOCK, _l("Don't save: I'll move them myself")),
            (schedule.ALTERNATIVE, _l("Give each a free workshop in the round the session leaves")),
            (schedule.WAITLIST, _l("Put them on this session's waiting list")),
        ],
        default=schedule.BLOCK,
    )


class EventForm(TranslatedTextsMixin, ConfirmMixin, TellingMixin, RepeatedHourMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    name_translated = translated_text(200)
    default_locale = SelectField(
        _l("Language of the name and description"),
        choices=[(code, label("language", code)) for code in CONTENT_LOCALES],
        default=CONTENT_LOCALES[0],
    )
    slug = StringField(
        _l("Short name in links (slug)"), validators=[DataRequired(), Length(max=80)]
    )
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    organiser_email = EmailField(
        _l("Contact address (questions, replies to invitations)"),
        validators=[Optional(), Length(max=254)],
    )
    timezone = StringField(
        _l("Time zone"), default="Europe/Amsterdam", validators=[DataRequired(), Length(max=64)]
    )
    starts_at = _when(_l("Starts"))
    ends_at = _when(_l("Ends"))
    registration_opens_at = _maybe_when(_l("Registration opens"))
    registration_closes_at = _maybe_when(_l("Registration closes"))
    status = SelectField(
        _l("Status"),
        choices=[("draft", _l("Draft")), ("published", _l("Published")), ("closed", _l("Closed"))],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    description_translated = translated_description()
    promotion_mode = SelectField(
        _l("When a place frees up"),
        choices=[
            ("auto", _l("Give it to the first on the waiting list at once")),
            ("offer", _l("Offer it to the first on the waiting list, to accept in time")),
        ],
        default="auto",
    )
    allocation_mode = SelectField(
        _l("Workshop places"),
        choices=[
            ("fcfs", _l("First come, first served")),
            ("preferences", _l("Attendees rank their choices; a fair allocation assigns them")),
        ],
        default="fcfs",
    )
    offer_hours = IntegerField(
        _l("Hours to accept an offer"),
        default=24,
        validators=[Optional(), NumberRange(min=1, max=HOURS_MAX)],
    )
    reminder_hours = IntegerField(
        _l("Reminder email, hours before the event"),
        default=24,
        validators=[Optional(), NumberRange(min=1, max=HOURS_MAX)],
    )
    retention_days = IntegerField(
        _l("Anonymise attendees this many days after the event (empty: keep)"),
        validators=[Optional(), NumberRange(min=0, max=RETENTION_DAYS_MAX)],
    )
    bot_challenge = BooleanField(
        _l("Ask for a proof-of-work check against bots (self-hosted, no third party)"),
        default=True,
    )
    bot_form_checks = BooleanField(
        _l("Refuse forms filled in by bots (a hidden field, a minimum time to fill in)"),
        default=True,
    )
    max_registrations_per_address = IntegerField(
        _l("At most this many registrations per hour from one network address (empty: no limit)"),
        default=30,
        validators=[Optional(), NumberRange(min=1, max=100_000)],
    )
    max_registrations_per_domain = IntegerField(
        _l("At most this many registrations per hour from one email domain (empty: no limit)"),
        default=50,
        validators=[Optional(), NumberRange(min=1, max=100_000)],
    )
    confirm_email_first = BooleanField(
        _l("Hold the seats of a registration until its email address is confirmed"),
        default=True,
    )
    hold_minutes = IntegerField(
        _l("Minutes to confirm before the held seats go back"),
        default=30,
        validators=[Optional(), NumberRange(min=HOLD_MINUTES_MIN, max=HOLD_MINUTES_MAX)],
    )

    def service_data(self) -> dict:
        data = {
            key: getattr(self, key).data
            for key in (
                "name",
                "name_translated",
                "default_locale",
                "slug",
                "venue",
                "organiser_email",
                "timezone",
                "starts_at",
                "ends_at",
                "status",
                "description",
                "description_translated",
                "promotion_mode",
                "allocation_mode",
                "offer_hours",
                "reminder_hours",
                "retention_days",
                "bot_challenge",
                "bot_form_checks",
                "max_registrations_per_address",
                "max_registrations_per_domain",
                "confirm_email_first",
                "hold_minutes",
            )
        }
        data["registration_opens_at"] = self.registration_opens_at.data
        data["registration_closes_at"] = self.registration_closes_at.data
        data["venue"] = data["venue"] or ""
        for key in ("name_translated", "description", "description_translated"):
            data[key] = data[key] or ""
        data["organiser_email"] = data["organiser_email"] or None  # empty: keep the current
        for key in ("offer_hours", "reminder_hours", "hold_minutes"):
            if data[key] is None:  # left empty: keep the event's current setting
                del data[key]
        return data


class RoomForm(TranslatedTextsMixin, ConfirmMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    name_translated = translated_text(120)
    capacity = IntegerField(
        _l("Capacity (people)"), validators=[InputRequired(), NumberRange(0, CAPACITY_MAX)]
    )

    def service_data(self) -> dict:
        return {
            "name": self.name.data,
            "name_translated": self.name_translated.data or "",
            "capacity": self.capacity.data,
        }


class SpeakerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])

    def service_data(self) -> dict:
        return {"name": self.name.data, "organisation": self.organisation.data or ""}


class SessionForm(TranslatedTextsMixin, ConfirmMixin, ClashFixMixin, RepeatedHourMixin, FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    title_translated = translated_text(300)
    kind = SelectField(
        _l("Kind"),
        choices=[("workshop", _l("Workshop")), ("plenary", _l("Plenary")), ("other", _l("Break"))],
    )
    starts_at = _when(_l("Starts"))
    ends_at = _when(_l("Ends"))
    room_id = SelectField(_l("Room"), coerce=int, default=NO_ROOM)
    capacity = IntegerField(
        _l("Capacity (empty: the room's)"),
        validators=[Optional(), NumberRange(0, CAPACITY_MAX)],
    )
    speakers = TextAreaField(_l("Speakers, one per line"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    description_translated = translated_description()

    def service_data(self) -> dict:
        data = {
            "title": self.title.data,
            "title_translated": self.title_translated.data or "",
            "description_translated": self.description_translated.data or "",
            "kind": self.kind.data,
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "room_id": self.room_id.data or None,
            "speakers": speaker_lines(self.speakers.data),
            "description": self.description.data or "",
        }
        if self.capacity.data is not None:
            data["capacity"] = self.capacity.data
        return data


class MoveForm(ConfirmMixin, ClashFixMixin, RepeatedHourMixin, FlaskForm):
    starts_at = _when(_l("Starts"))
    ends_at = _when(_l("Ends"))
    room_id = SelectField(_l("Room"), coerce=int, default=NO_ROOM)

    def service_data(self) -> dict:
        return {
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "room_id": self.room_id.data or None,
        }


class MoveEventForm(TellingMixin, FlaskForm):
    starts_at = _when(_l("New start (every session keeps its time relative to it)"))


class CancelEventForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, cancel every session of this event and email the attendees"),
        validators=[DataRequired()],
    )


class CancelForm(TellingMixin, FlaskForm):
    """The CSRF token, an explicit yes, and what the attendees hear."""

    confirm = BooleanField(_l("Yes, cancel this session"), validators=[DataRequired()])


def speaker_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def room_choices(event) -> list[tuple[int, str]]:
    return [(NO_ROOM, str(_l("No room")))] + [
        (room.id, f"{room.name} ({room.capacity})") for room in event.rooms
    ]


def local_naive(value, tz):
    """An aware instant as the wall-clock time a datetime-local field shows."""
    return value.astimezone(tz).replace(tzinfo=None) if value else None


def unchanged_instant(shown, stored, tz):
    """The form's wall-clock time `shown`, or the `stored` instant when it is the time the
    field was filled with. A datetime-local field cannot say which of the two 02:30s of the
    night the clocks go back it shows, so an unchanged time in the repeated hour would read
    as ambiguous and be refused (docs/CALENDAR.md, "Daylight saving"): the session could not
    be edited at all. Unchanged, it keeps the instant it stood for."""
    if shown is not None and stored is not None and local_naive(stored, tz) == shown:
        return stored
    return shown


TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


def with_chosen_pass(form, data: dict, tz: str | None) -> dict:
    """`data` with each time typed in the repeated autumn hour as the instant of the pass
    the form's `repeated_hour` names. Without a choice, InvalidInput names those fields and
    says what to choose, and the form shows the choice (not "give the offset", which a
    datetime-local field cannot). Times already instants (unchanged_instant) stay."""
    choice = form.repeated_hour.data
    waiting = {}
    for name in TIME_FIELDS:
        passes = repeated_hour_passes(data.get(name), tz)
        if passes is None:
            continue
        if choice in (FIRST_PASS, SECOND_PASS):
            data[name] = passes[choice == SECOND_PASS]
        else:
            waiting[name] = [_repeated_hour_message(data[name], passes, tz)]
    if waiting:
        form.asks_repeated_hour = True
        raise InvalidInput(_("Please correct the marked fields."), waiting)
    return data


def _repeated_hour_message(shown, passes, tz: str) -> str:
    first, second = (instant.astimezone(ZoneInfo(tz)).strftime("%z") for instant in passes)
    return _(
        "%(time)s happens twice in %(zone)s: the clocks go back that night. Choose below "
        "whether you mean the first time (%(first)s) or the second (%(second)s).",
        time=shown.strftime("%Y-%m-%d %H:%M"),
        zone=tz,
        first=f"{first[:3]}:{first[3:]}",
        second=f"{second[:3]}:{second[3:]}",
    )
