"""What the demo event says: its rooms, speakers, programme (in Dutch, with the English
texts beside it) and registration questions, as data; demo.py builds the event from them."""

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
