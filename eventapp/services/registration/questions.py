"""The organiser's registration questions of an event (issue 19.3): define, edit, order, remove.

What a question may become once attendees have answered it, decided here so the organiser's
pages and the API agree:
- its text (both languages), `required` and its place may change at any time; a question
  made required binds new registrations and every later change of one's answers;
- its `key` never changes (the API and the exports name it by that key), nor, once it has
  answers, its kind (the stored answers would no longer fit);
- a choice that attendees chose cannot be dropped (its label may be reworded: answers keep
  the choice's key);
- removing a question with answers archives it: it leaves the forms and the API's list,
  its answers stay in the attendee pages, the exports and the attendee's data export until
  the attendee is erased, and it can be restored. A question nobody answered is deleted.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...extensions import db
from ...models import Answer, Event, Organiser, Question
from ...models.question import CHOICE_KINDS, QUESTION_KINDS
from .. import audit
from ..errors import InvalidInput, NotFound
from ..validation import FieldErrors, clean_text

QUESTION_TEXT_MAX = 300
CHOICE_LABEL_MAX = 200
CHOICES_MAX = 50
QUESTIONS_MAX = 50
KEY_MAX = 40
KEY_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
FIELDS = ("kind", "required", "text_nl", "text_en", "choices")


def questions_of(event: Event, *, archived: bool = False) -> list[Question]:
    """The event's questions in their order; with `archived`, the archived ones too.

    None at all, without a query, when the event was loaded knowing it asks none (reading
    an event by its slug loads `asks_questions`; create and restore below expire it)."""
    if not archived and event.__dict__.get("asks_questions") is False:
        return []
    query = select(Question).where(Question.event_id == event.id)
    if not archived:
        query = query.where(Question.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(Question.position, Question.id)))


def get_question(event: Event, question_id: object) -> Question:
    question = db.session.get(Question, question_id) if isinstance(question_id, int) else None
    if question is None or question.event_id != event.id:
        raise NotFound(_("No such question."))
    return question


def answer_counts(event: Event) -> dict[int, int]:
    """{question id: how many attendees answered it}, in one query."""
    rows = db.session.execute(
        select(Answer.question_id, func.count())
        .join(Question, Question.id == Answer.question_id)
        .where(Question.event_id == event.id)
        .group_by(Answer.question_id)
    )
    return dict(rows.all())


def _answered(question: Question) -> bool:
    return question.id is not None and bool(
        db.session.scalar(select(Answer.id).where(Answer.question_id == question.id).limit(1))
    )


def slug_key(text: str) -> str:
    """A key from a question's or choice's text: "Dietary needs?" -> "dietary-needs"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", plain)
    key = "-".join(words)[:KEY_MAX].strip("-")
    return key or "question"


def _unique_key(wanted: str, taken: set[str]) -> str:
    key, number = wanted, 2
    while key in taken:
        suffix = f"-{number}"
        key = wanted[: KEY_MAX - len(suffix)] + suffix
        number += 1
    return key


def _clean_choices(value, errors: FieldErrors, kind: str) -> list[dict]:
    """[{"key", "nl", "en"}]: each with a label in one language at least; keys unique, made
    from the label where none is given."""
    if kind not in CHOICE_KINDS:
        return []
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        errors.add("choices", _("Must be a list of choices."))
        return []
    if len(value) > CHOICES_MAX:
        errors.add("choices", _("At most %(n)d items.", n=CHOICES_MAX))
        return []
    cleaned, taken = [], set()
    for raw in value:
        labels = {
            language: clean_text(
                raw.get(language), "choices", errors, max_length=CHOICE_LABEL_MAX, required=False
            )
            for language in ("nl", "en")
        }
        if not labels["nl"] and not labels["en"]:
            errors.add("choices", _("Every choice needs a label in Dutch or English."))
            continue
        key = raw.get("key") or slug_key(labels["en"] or labels["nl"])
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            errors.add("choices", _("A choice key is lower-case letters, digits, - and _."))
            continue
        if raw.get("key") and key in taken:
            errors.add("choices", _("Two choices have the key “%(key)s”.", key=key))
            continue
        key = _unique_key(key, taken)
        taken.add(key)
        cleaned.append({"key": key, **labels})
    if len(cleaned) < 2 and "choices" not in errors:
        errors.add("choices", _("Give at least two choices."))
    return cleaned


def clean_question(data: dict, existing: Question | None = None) -> dict:
    """The question's fields from `data` (only those given, for an edit), or InvalidInput
    naming each wrong field."""
    errors = FieldErrors()
    merged = {name: getattr(existing, name) for name in FIELDS} if existing else {}
    merged.update({name: data[name] for name in FIELDS if name in data})
    kind = merged.get("kind")
    if kind not in QUESTION_KINDS:
        errors.add("kind", _("Must be one of: %(choices)s.", choices=", ".join(QUESTION_KINDS)))
    required = merged.get("required", False)
    if not isinstance(required, bool):
        errors.add("required", _("Must be true or false."))
    texts = {
        name: clean_text(
            merged.get(name), name, errors, max_length=QUESTION_TEXT_MAX, required=False
        )
        for name in ("text_nl", "text_en")
    }
    if not texts["text_nl"] and not texts["text_en"] and "text_nl" not in errors:
        errors.add("text_nl", _("Write the question in Dutch, English or both."))
    choices = _clean_choices(merged.get("choices", []), errors, kind)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    return {"kind": kind, "required": required, **texts, "choices": choices}


def _clean_key(event: Event, data: dict, texts: dict, errors: FieldErrors) -> str:
    taken = {q.key for q in questions_of(event, archived=True)}
    given = data.get("key")
    if given in (None, ""):
        return _unique_key(slug_key(texts["text_en"] or texts["text_nl"]), taken)
    if not isinstance(given, str) or not KEY_PATTERN.match(given):
        errors.add("key", _("A key is lower-case letters, digits, - and _ (at most 40)."))
    elif given in taken:
        errors.add("key", _("This event already has a question with this key."))
    return given


def create_question(actor: Organiser | None, event: Event, data: dict, now: datetime) -> Question:
    """A new question, last in the order unless `data` gives a position."""
    fields = clean_question(data)
    errors = FieldErrors()
    key = _clean_key(event, data, fields, errors)
    current = questions_of(event, archived=True)
    if len(current) >= QUESTIONS_MAX:
        errors.add("kind", _("An event has at most %(n)d questions.", n=QUESTIONS_MAX))
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)
    question = Question(
        event_id=event.id,
        key=key,
        position=max((q.position for q in current), default=0) + 1,
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.session.add(question)
    db.session.flush()
    db.session.expire(event, ["asks_questions"])
    audit.record(actor, "question.created", question, None, audit.snapshot(question), now=now)
    return question


def update_question(
    actor: Organiser | None, question: Question, data: dict, now: datetime
) -> Question:
    """Change the given fields; see the module's docstring for what answers forbid."""
    if "key" in data and data["key"] != question.key:
        raise InvalidInput(
            _("Please correct the marked fields."),
            {"key": [_("A question's key cannot change: the API and the exports use it.")]},
        )
    fields = clean_question(data, question)
    if _answered(question):
        _ensure_answers_still_fit(question, fields)
    before = audit.snapshot(question)
    changed = {name: value for name, value in fields.items() if getattr(question, name) != value}
    if not changed:
        return question
    for name, value in changed.items():
        setattr(question, name, value)
    question.updated_at = now
    db.session.flush()
    audit.record(
        actor,
        "question.changed",
        question,
        *audit.changed_only(before, audit.snapshot(question)),
        now=now,
    )
    return question


def _ensure_answers_still_fit(question: Question, fields: dict) -> None:
    errors = FieldErrors()
    if fields["kind"] != question.kind:
        errors.add("kind", _("Attendees answered this question: its kind cannot change."))
    if question.kind in CHOICE_KINDS:
        kept = {c["key"] for c in fields["choices"]}
        chosen = _chosen_keys(question)
        for choice in question.choices:
            if choice["key"] in chosen and choice["key"] not in kept:
                errors.add(
                    "choices",
                    _(
                        "Attendees chose “%(choice)s”: keep it (its wording may change), or "
                        "remove the whole question.",
                        choice=choice.get("nl") or choice.get("en"),
                    ),
                )
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), errors)


def _chosen_keys(question: Question) -> set[str]:
    chosen = set()
    for value in db.session.scalars(select(Answer.value).where(Answer.question_id == question.id)):
        chosen.update(value if isinstance(value, list) else [value])
    return chosen


def remove_question(actor: Organiser | None, question: Question, now: datetime) -> str:
    """ "deleted" when nobody answered it, else "archived" (the answers stay)."""
    before = audit.snapshot(question)
    if _answered(question):
        question.archived_at = question.archived_at or now
        db.session.flush()
        audit.record(
            actor, "question.archived", question, before, audit.snapshot(question), now=now
        )
        return "archived"
    audit.record(actor, "question.deleted", question, before, None, now=now)
    db.session.delete(question)
    db.session.flush()
    return "deleted"


def restore_question(actor: Organiser | None, question: Question, now: datetime) -> Question:
    """An archived question back on the forms, last in the order."""
    if question.archived_at is not None:
        question.archived_at = None
        question.position = max((q.position for q in questions_of(question.event)), default=0) + 1
        db.session.flush()
        db.session.expire(question.event, ["asks_questions"])
        audit.record(actor, "question.restored", question, None, audit.snapshot(question), now=now)
    return question


def move_question(actor: Organiser | None, question: Question, step: int, now: datetime) -> None:
    """One place up (step -1) or down (+1) among the event's questions on the form."""
    order = questions_of(question.event)
    if question in order:
        place_question(actor, question, order.index(question) + 1 + step, now)


def place_question(
    actor: Organiser | None, question: Question, position: object, now: datetime
) -> None:
    """Put the question at `position` (1 is first) among those on the form; the others keep
    their order. A place past either end means the end."""
    if isinstance(position, bool) or not isinstance(position, int):
        raise InvalidInput(
            _("Please correct the marked fields."), {"position": [_("Must be a whole number.")]}
        )
    order = [q for q in questions_of(question.event) if q is not question]
    if question.archived_at is not None:
        return
    index = min(max(position, 1), len(order) + 1) - 1
    order.insert(index, question)
    if all(each.position == place for place, each in enumerate(order, start=1)):
        return
    for place, each in enumerate(order, start=1):
        each.position = place
    db.session.flush()
    audit.record(actor, "question.moved", question, None, {"position": question.position}, now=now)


def choices_from_lines(text: str) -> list[dict]:
    """The organiser form's choices, one a line: "Nederlands | English", optionally after
    "key =" (how the form shows existing choices, so editing a label keeps the key)."""
    choices = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        key = ""
        head, sep, rest = line.partition("=")
        if sep and KEY_PATTERN.match(head.strip()):
            key, line = head.strip(), rest
        dutch, bar, english = line.partition("|")
        choices.append({"key": key, "nl": dutch.strip(), "en": (english if bar else dutch).strip()})
    return choices


def choice_lines(question: Question) -> str:
    return "\n".join(f"{c['key']} = {c['nl']} | {c['en']}" for c in question.choices or [])
