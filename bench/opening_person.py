"""What a person in the bench's opening minute picks and sends: shared by the locust users
(locustfile.py) and the in-process CPU comparison (request_cpu.py), which must not import
locust (it patches the standard library for gevent)."""

from __future__ import annotations

import random
import re


def popular_choice(workshops: list[int]) -> int:
    """Popularity falls off steeply: the first workshop of a round draws the most people."""
    weights = [1 / (rank + 1) ** 1.3 for rank in range(len(workshops))]
    return random.choices(workshops, weights=weights)[0]


HIDDEN = re.compile(r'name="(csrf_token|started)" type="hidden" value="([^"]*)"')
CHOICE = re.compile(
    r'type="(radio|checkbox)" id="[^"]*" name="(plenary|round_[^"]+)" value="(\d+)"'
)


def form_answers(page: str, person: dict) -> list[tuple[str, str]]:
    """What a person sends: the form's hidden fields as served, their details, every plenary,
    a popular workshop in about half the rounds, the waiting list and the consent."""
    answers = [(name, value) for name, value in HIDDEN.findall(page)]
    rounds: dict[str, list[int]] = {}
    for _kind, name, value in CHOICE.findall(page):
        if name == "plenary":
            answers.append((name, value))
        else:
            rounds.setdefault(name, []).append(int(value))
    for name, workshops in rounds.items():
        if random.random() < 0.5:
            answers.append((name, str(popular_choice(workshops))))
    answers += [
        ("name", person["name"]),
        ("email", person["email"]),
        ("organisation", person["organisation"]),
        ("waitlist", "y"),
        ("consent", "y"),
    ]
    return answers
