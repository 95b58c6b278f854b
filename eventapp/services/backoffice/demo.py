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
from ..programme import reading as programme
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
    ("09:00", "09:30", "other", None, "Ontvangst met koffie", "", [], None),
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
    ("11:15", "11:30", "other", None, "Pauze", "", [], None),
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
        "Hands-on demo in een kleine groep: robots die van product wisselen zonder de lijn stil "
        "te zetten. Demo in het Engels.",
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
        "Sessie in het Engels en Nederlands.",
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
        "Collaborative robots: veilig samenwerken met mensen. Demo in het Engels.",
        ["Fieldlab Flexible Manufacturing"],
        20,
    ),
    ("14:30", "14:45", "other", None, "Pauze", "", [], None),
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
        "Van ontwerp tot onderdeel in één middag. Kleine groep, hands-on.",
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
    ("15:45", "16:00", "other", None, "Pauze", "", [], None),
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
    ("16:45", "18:00", "other", None, "Netwerkborrel", "", [], None),
]

# The programme in English: Dutch title -> (English title, English description). The event
# is Dutch (default_locale "nl"); English readers see these (models.event.Bilingual).
ROOMS_EN = {"Grote Zaal": "Main Hall", "Fieldlab Demohal": "Fieldlab Demo Hall"}
ENGLISH = {
    "Ontvangst met koffie": ("Welcome coffee", ""),
    "Pauze": ("Break", ""),
    "Netwerkborrel": ("Networking drinks", ""),
    "Plenaire opening": (
        "Plenary opening",
        "Opening of the Smart Industry annual event and signing of the Smart Industry "
        "Declaration. “As an entrepreneur, start thinking now about how to keep productivity "
        "up: from ‘lean management’ to ‘smart management’.”",
    ),
    "De regionale Smart Industry hubs": (
        "The regional Smart Industry hubs",
        "Results and plans of the five Smart Industry hubs: working together, events, and "
        "links with fieldlabs, regionally and nationally.",
    ),
    "Van lean naar smart management": (
        "From lean to smart management",
        "How do you keep productivity up and involve everyone in your company in going "
        "digital? Workshop in Dutch.",
    ),
    "Scholing en omscholing: leren in de fabriek": (
        "Training and retraining: learning on the shop floor",
        "Today's knowledge is outdated tomorrow. Examples of upskilling in manufacturing.",
    ),
    "Internationale samenwerking met Duitsland": (
        "Working together with Germany",
        "An action point of the Smart Industry Declaration 2019: cooperation across the "
        "border. Session in English and Dutch.",
    ),
    "Fieldlab demo: Flexible Manufacturing": (
        "Fieldlab demo: Flexible Manufacturing",
        "Hands-on demo in a small group: robots that switch products without stopping the line. "
        "Demo in English.",
    ),
    "Fieldlab demo: Zero Defect Manufacturing": (
        "Fieldlab demo: Zero Defect Manufacturing",
        "Quality control with sensors and data: fewer rejects, less waste.",
    ),
    "Smart Connected Supplier Network": (
        "Smart Connected Supplier Network",
        "Sharing data along the supply chain without custom interfaces: lessons from the fieldlab.",
    ),
    "Digital twins voor het mkb": (
        "Digital twins for small businesses",
        "What does it cost, what does it bring? Cases from three fieldlabs.",
    ),
    "Fieldlab demo: Campione, onderhoud op afstand": (
        "Fieldlab demo: Campione, remote maintenance",
        "Predictive maintenance in the process industry. Small group, hands-on.",
    ),
    "Hubs in de regio: waar vind ik hulp?": (
        "Hubs in the regions: where do I find help?",
        "Speed dates with the five Smart Industry hubs and their regional fieldlabs.",
    ),
    "Cobots op de werkvloer": (
        "Cobots on the shop floor",
        "Collaborative robots: working safely alongside people. Demo in English.",
    ),
    "Personeelstekort? Automatiseren en opleiden": (
        "Short of staff? Automate and train",
        "Retraining and upskilling as an answer to staff shortages: government and industry "
        "together.",
    ),
    "Cybersecurity in de slimme fabriek": (
        "Cybersecurity in the smart factory",
        "Connected machines, new risks: practical measures for manufacturers.",
    ),
    "Fieldlab demo: 3D-printen van metaal": (
        "Fieldlab demo: 3D printing in metal",
        "From design to part in one afternoon. Small group, hands-on.",
    ),
    "Business cases voor Smart Industry": (
        "Business cases for Smart Industry",
        "New technology, new materials, new business cases: devise solutions together with "
        "other companies and apply them in your own.",
    ),
    "Plenaire afsluiting: Fieldlabs 2018": (
        "Closing plenary: Fieldlabs 2018",
        "Presentation of TNO's publication “Fieldlabs 2018, results and impact of 35 "
        "innovation accelerators”: 240 million euros invested, 600 companies, 430 direct "
        "jobs. Twelve fieldlabs tell in a video what a fieldlab means to them.",
    ),
}


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
