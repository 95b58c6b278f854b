"""The demo event: the Smart Industry annual event described in the seed article.

A plenary opening by Ineke Dezentjé Hamming-Bluemink (chair of FME and Smart Industry) and
state secretary Mona Keijzer, a plenary on the regional Smart Industry hubs with Anton
Duisterwinkel for SMITZH, three rounds of parallel workshops and fieldlab demos, breaks,
and a closing plenary presenting TNO's publication on the fieldlabs.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ...extensions import db
from ...models import Attendee, Event, EventSession, Room, Speaker
from ...models.types import utcnow
from ..programme import reading as programme
from ..registration import questions
from ..registration import register as registration
from ..registration.register import RegistrationInput
from .demo_content import (
    DIETS,
    ENGLISH,
    HUBS,
    PROGRAMME,
    QUESTIONS,
    ROOMS,
    ROOMS_EN,
    SPEAKERS,
)

DEMO_SLUG = "smart-industry-jaarevent"
TZ = ZoneInfo("Europe/Amsterdam")
DAY = date(2027, 3, 18)


def at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(DAY, time(hour, minute), TZ)


def load_demo_event() -> tuple[Event, bool]:
    """Create the demo event unless it exists; returns (event, created)."""
    existing = db.session.scalar(select(Event).where(Event.slug == DEMO_SLUG))
    if existing is not None:
        return existing, False
    event = Event(
        slug=DEMO_SLUG,
        name="Smart Industry Jaarevent 2027",
        name_translated="Smart Industry Annual Event 2027",
        description=(
            "Het landelijke Smart Industry Jaarevent helpt bedrijven uit de industrie verder te "
            "digitaliseren met praktijkvoorbeelden, workshops en fieldlab-demo's."
        ),
        description_translated=(
            "The national Smart Industry annual event helps manufacturers go further digital "
            "with practical examples, workshops and fieldlab demos."
        ),
        venue="Hilversum",
        timezone="Europe/Amsterdam",
        starts_at=at("09:00"),
        ends_at=at("18:00"),
        registration_opens_at=datetime(2026, 10, 1, 9, 0, tzinfo=TZ),
        registration_closes_at=datetime(2027, 3, 17, 12, 0, tzinfo=TZ),
        status="published",
        default_locale="nl",
        organiser_email="info@smartindustry.example",
        confirm_email_first=True,  # as every new event through the form or the API
    )
    db.session.add(event)
    rooms = {
        name: Room(event=event, name=name, name_translated=ROOMS_EN.get(name, ""), capacity=cap)
        for name, cap in ROOMS.items()
    }
    speakers = {
        name: Speaker(event=event, name=name, organisation=org) for name, org in SPEAKERS.items()
    }
    db.session.add_all([*rooms.values(), *speakers.values()])
    for start, end, kind, room, title, description, names, capacity in PROGRAMME:
        room_obj = rooms.get(room) if room else None
        title_en, description_en = ENGLISH.get(title, ("", ""))
        db.session.add(
            EventSession(
                event=event,
                kind=kind,
                room=room_obj,
                title=title,
                title_translated=title_en,
                description=description,
                description_translated=description_en,
                starts_at=at(start),
                ends_at=at(end),
                capacity=capacity or (room_obj.capacity if room_obj else 0),
                speakers=[speakers[n] for n in names],
            )
        )
    db.session.flush()
    for spec in QUESTIONS:
        questions.create_question(None, event, dict(spec), utcnow())
    return event, True


# --- demo registrations: a product that shows itself -------------------------------------------

DEMO_ATTENDEES = 60
# Lab 4's demo in the first round (12 seats) is the one most people want: it fills up early
# and the later ones wait for it, so the waiting list has people on it.
POPULAR_WORKSHOP = "Fieldlab demo: Flexible Manufacturing"
FIRST_NAMES = (
    "Anne", "Bram", "Chantal", "Daan", "Eva", "Fleur", "Hamza", "Ilse", "Jeroen", "Kim",
    "Lotte", "Mehmet", "Noor", "Olaf", "Priya", "Ruben", "Sanne", "Thijs", "Yara", "Zoë",
)  # fmt: skip
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
    "Yılmaz", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "El Amrani", "Dekker",
)  # fmt: skip
ORGANISATIONS = (
    "Metaalbedrijf Oost", "Kunststof Twente", "Brainport Machines", "Fieldlab Campione",
    "Hogeschool Utrecht", "Precisie Delft", "Food Tech Venlo", "",
)  # fmt: skip


@dataclass(frozen=True)
class DemoRegistrations:
    attendees: int
    full_session: str
    waiting: int


def load_demo_registrations(event: Event, now: datetime) -> DemoRegistrations | None:
    """Register DEMO_ATTENDEES people through the real registration service, spread over the
    registration period, so the programme shows seats taken, one workshop full with a
    waiting list, and the dashboard has figures and a chart. Addresses are @example.org
    (reserved: their confirmations reach nobody). None if the event has attendees already.
    """
    if db.session.scalar(select(func.count(Attendee.id)).where(Attendee.event_id == event.id)):
        return None
    rng = random.Random(2027)  # the same demo every time
    answering = random.Random(193)  # its own, so the answers leave the seats as they were
    sessions = programme.sessions_of(event)
    plenaries = [s.id for s in sessions if s.kind == "plenary" and s.registrable]
    rounds = programme.workshop_rounds(sessions)
    first = event.registration_opens_at or now
    last = min(now, event.registration_closes_at or now)
    span = max((last - first).total_seconds(), 0)
    moments = sorted(first + timedelta(seconds=span * rng.random()) for _ in range(DEMO_ATTENDEES))
    for number, moment in enumerate(moments):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        chosen = list(plenaries) + [_demo_choice(workshop_round, rng) for workshop_round in rounds]
        registration.register(
            event,
            RegistrationInput(
                name=name,
                email=f"demo{number + 1:03d}@example.org",
                organisation=rng.choice(ORGANISATIONS),
                session_ids=[i for i in chosen if i is not None],
                waitlist=True,
                consent=True,
                consent_text="demo data",
                locale="en" if rng.random() < 0.2 else "nl",
                answers=_demo_answers(answering),
            ),
            moment,
        )
    popular = next(s for s in sessions if s.title == POPULAR_WORKSHOP)
    waiting = programme.waitlist_lengths(event).get(popular.id, 0)
    return DemoRegistrations(DEMO_ATTENDEES, popular.title, waiting)


def _demo_choice(workshop_round, rng: random.Random) -> int | None:
    """Most people pick a workshop per round: the popular one twice as often as the others,
    the other small labs less often (so that one workshop is full, not all of Lab 4's)."""
    if rng.random() < 0.15:
        return None
    weights = [
        2 if s.title == POPULAR_WORKSHOP else 0.6 if s.capacity < 20 else 1
        for s in workshop_round.sessions
    ]
    return rng.choices(workshop_round.sessions, weights=weights)[0].id


def _demo_answers(rng: random.Random) -> dict:
    """A hub for most, a diet for about one in three."""
    diets = [key for key, _nl, _en in DIETS if rng.random() < 0.08]
    return {"hub": rng.choice(HUBS)[0] if rng.random() < 0.9 else None, "dieet": diets}
