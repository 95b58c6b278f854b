"""An event collecting ranked workshop preferences, with people who ranked both workshops."""

from eventapp.extensions import db
from eventapp.services.allocation import runs as allocation
from eventapp.services.registration.register import RegistrationInput, register


def preference_event(make_event, make_session, now, *, people: int, workshops: dict):
    """`workshops` is {title: capacity}, all in one round; everyone ranks them in that order."""
    event = make_event(allocation_mode="preferences")
    ranked = [
        make_session(event, start=2, capacity=seats, title=title).id
        for title, seats in workshops.items()
    ]
    key = allocation.rounds_of(event)[0].key
    for i in range(people):
        register(
            event,
            RegistrationInput(
                name=f"P{i}", email=f"p{i}@example.org", consent=True, preferences={key: ranked}
            ),
            now,
        )
    db.session.commit()
    return event
