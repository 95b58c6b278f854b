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

DEMO_SLUG = "smart-industry-jaarevent"
TZ = ZoneInfo("Europe/Amsterdam")
DAY = date(2027, 3, 18)

ROOMS = {
    "Grote Zaal": 600,
    "Studio 1": 80,
    "Studio 2": 40,
    "Studio 3": 24,
    "Fieldlab Demohal": 30,
    "Lab 4": 12,
}

SPEAKERS = {
    "Ineke Dezentjé Hamming-Bluemink": "FME / Smart Industry",
    "Mona Keijzer": "Ministerie van Economische Zaken en Klimaat",
    "Anton Duisterwinkel": "Provincie Zuid-Holland / SMITZH",
    "TNO": "TNO",
    "SMITZH": "Smart Industry hub Zuid-Holland",
    "Fieldlab Flexible Manufacturing": "Fieldlab",
    "Fieldlab Smart Connected Supplier Network": "Fieldlab",
    "Fieldlab Campione": "Fieldlab",
    "Fieldlab Zero Defect Manufacturing": "Fieldlab",
}

# (start, end, kind, room, title, description, speakers, capacity or None for the room's)
PROGRAMME = [
    ("09:00", "09:30", "other", None, "Ontvangst met koffie / Welcome coffee", "", [], None),
    (
        "09:30",
        "10:30",
        "plenary",
        "Grote Zaal",
        "Plenaire opening",
        "Opening van het Smart Industry Jaarevent en ondertekening van de Smart Industry "
        "Declaration. “Ga als ondernemer nu al nadenken over hoe je de productiviteit op peil "
        "houdt: van ‘lean management’ naar ‘smart management’.”",
        ["Ineke Dezentjé Hamming-Bluemink", "Mona Keijzer"],
        None,
    ),
    (
        "10:30",
        "11:15",
        "plenary",
        "Grote Zaal",
        "De regionale Smart Industry hubs",
        "Resultaten en toekomstplannen van de vijf Smart Industry hubs: samenwerking tussen de "
        "hubs, evenementen, en verbindingen met fieldlabs, regionaal en nationaal.",
        ["Mona Keijzer", "Anton Duisterwinkel"],
        None,
    ),
    ("11:15", "11:30", "other", None, "Pauze / Break", "", [], None),
    # Round 1
    (
        "11:30",
        "12:30",
        "workshop",
        "Studio 1",
        "Van lean naar smart management",
        "Hoe houd je de productiviteit op peil en betrek je iedereen in je bedrijf bij de "
        "digitalisering? Workshop in het Nederlands.",
        ["SMITZH"],
        None,
    ),
    (
        "11:30",
        "12:30",
        "workshop",
        "Studio 2",
        "Scholing en omscholing: leren in de fabriek",
        "Kennis van vandaag is morgen achterhaald. Praktijkvoorbeelden van bijscholing in de "
        "maakindustrie.",
        ["TNO"],
        None,
    ),
    (
        "11:30",
        "12:30",
        "workshop",
        "Lab 4",
        "Fieldlab demo: Flexible Manufacturing",
        "Hands-on demo in a small group: robots that switch products without stopping the line. "
        "Demo in English.",
        ["Fieldlab Flexible Manufacturing"],
        None,
    ),
    (
        "11:30",
        "12:30",
        "workshop",
        "Studio 3",
        "Internationale samenwerking met Duitsland",
        "Actiepunt uit de Smart Industry Declaration 2019: samenwerken over de grens. "
        "Session in English and Dutch.",
        ["SMITZH"],
        None,
    ),
    (
        "11:30",
        "12:30",
        "workshop",
        "Fieldlab Demohal",
        "Fieldlab demo: Zero Defect Manufacturing",
        "Kwaliteitscontrole met sensoren en data: minder uitval, minder verspilling.",
        ["Fieldlab Zero Defect Manufacturing"],
        None,
    ),
    ("12:30", "13:30", "other", None, "Lunch", "", [], None),
    # Round 2
    (
        "13:30",
        "14:30",
        "workshop",
        "Studio 1",
        "Smart Connected Supplier Network",
        "Data delen in de keten zonder maatwerkkoppelingen: ervaringen uit het fieldlab.",
        ["Fieldlab Smart Connected Supplier Network"],
        None,
    ),
    (
        "13:30",
        "14:30",
        "workshop",
        "Studio 2",
        "Digital twins voor het mkb",
        "Wat kost het, wat levert het op? Praktijkcases uit drie fieldlabs.",
        ["TNO"],
        None,
    ),
    (
        "13:30",
        "14:30",
        "workshop",
        "Lab 4",
        "Fieldlab demo: Campione, onderhoud op afstand",
        "Predictive maintenance in de procesindustrie. Kleine groep, hands-on.",
        ["Fieldlab Campione"],
        None,
    ),
    (
        "13:30",
        "14:30",
        "workshop",
        "Studio 3",
        "Hubs in de regio: waar vind ik hulp?",
        "Speeddates met de vijf Smart Industry hubs en hun regionale fieldlabs.",
        ["Anton Duisterwinkel", "SMITZH"],
        None,
    ),
    (
        "13:30",
        "14:30",
        "workshop",
        "Fieldlab Demohal",
        "Cobots op de werkvloer",
        "Collaborative robots: veilig samenwerken met mensen. Demo in English.",
        ["Fieldlab Flexible Manufacturing"],
        20,
    ),
    ("14:30", "14:45", "other", None, "Pauze / Break", "", [], None),
    # Round 3
    (
        "14:45",
        "15:45",
        "workshop",
        "Studio 1",
        "Personeelstekort? Automatiseren en opleiden",
        "Om- en bijscholing als antwoord op personeelstekorten: overheid en bedrijfsleven samen.",
        ["TNO"],
        None,
    ),
    (
        "14:45",
        "15:45",
        "workshop",
        "Studio 2",
        "Cybersecurity in de slimme fabriek",
        "Verbonden machines, nieuwe risico's: praktische maatregelen voor productiebedrijven.",
        ["Fieldlab Smart Connected Supplier Network"],
        None,
    ),
    (
        "14:45",
        "15:45",
        "workshop",
        "Lab 4",
        "Fieldlab demo: 3D-printen van metaal",
        "Van ontwerp tot onderdeel in één middag. Small group, hands-on.",
        ["Fieldlab Zero Defect Manufacturing"],
        None,
    ),
    (
        "14:45",
        "15:45",
        "workshop",
        "Studio 3",
        "Business cases voor Smart Industry",
        "Nieuwe technologie, nieuwe materialen, nieuwe businesscases: samen met andere bedrijven "
        "oplossingen bedenken die je in je eigen bedrijf toepast.",
        ["SMITZH"],
        None,
    ),
    ("15:45", "16:00", "other", None, "Pauze / Break", "", [], None),
    (
        "16:00",
        "16:45",
        "plenary",
        "Grote Zaal",
        "Plenaire afsluiting: Fieldlabs 2018",
        "Presentatie van de publicatie “Fieldlabs 2018, Resultaten en impact van 35 "
        "innovatieversnellers” van TNO: 240 miljoen euro aan investeringen, 600 bedrijven, "
        "430 directe banen. Twaalf fieldlabs vertellen in een video wat een fieldlab voor hen "
        "betekent.",
        ["TNO", "Ineke Dezentjé Hamming-Bluemink"],
        None,
    ),
    ("16:45", "18:00", "other", None, "Netwerkborrel / Networking drinks", "", [], None),
]


# The registration questions (issue 19.3): which hub, and what the caterer needs to know.
# Both optional, so a demo registration (and every test that fills in the demo's form)
# needs no answer; tests/questions_support.py has required ones.
HUBS = (
    ("noord", "Hub Noord", "Hub North"),
    ("oost", "Hub Oost", "Hub East"),
    ("zuid", "Hub Zuid", "Hub South"),
    ("smitzh", "SMITZH (Zuid-Holland)", "SMITZH (South Holland)"),
    ("noordwest", "Hub Noordwest", "Hub North-West"),
    ("geen", "Geen hub", "No hub"),
)
DIETS = (
    ("vegetarisch", "Vegetarisch", "Vegetarian"),
    ("veganistisch", "Veganistisch", "Vegan"),
    ("glutenvrij", "Glutenvrij", "Gluten-free"),
    ("lactosevrij", "Lactosevrij", "Lactose-free"),
    ("halal", "Halal", "Halal"),
)
QUESTIONS = (
    {
        "key": "hub",
        "kind": "one_choice",
        "required": False,
        "text_nl": "Bij welke Smart Industry hub hoor je?",
        "text_en": "Which Smart Industry hub do you belong to?",
        "choices": [{"key": k, "nl": nl, "en": en} for k, nl, en in HUBS],
    },
    {
        "key": "dieet",
        "kind": "several_choices",
        "required": False,
        "text_nl": "Dieetwensen voor de lunch",
        "text_en": "Dietary needs for lunch",
        "choices": [{"key": k, "nl": nl, "en": en} for k, nl, en in DIETS],
    },
)


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
        description=(
            "Het landelijke Smart Industry Jaarevent helpt bedrijven uit de industrie verder te "
            "digitaliseren met praktijkvoorbeelden, workshops en fieldlab-demo's. "
            "The national Smart Industry annual event: practical examples, workshops and "
            "fieldlab demos."
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
    )
    db.session.add(event)
    rooms = {name: Room(event=event, name=name, capacity=cap) for name, cap in ROOMS.items()}
    speakers = {
        name: Speaker(event=event, name=name, organisation=org) for name, org in SPEAKERS.items()
    }
    db.session.add_all([*rooms.values(), *speakers.values()])
    for start, end, kind, room, title, description, names, capacity in PROGRAMME:
        room_obj = rooms.get(room) if room else None
        db.session.add(
            EventSession(
                event=event,
                kind=kind,
                room=room_obj,
                title=title,
                description=description,
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
