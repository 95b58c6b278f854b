"""An event's registration questions and the attendees' answers (issue 19.3).

A question keeps a stable `key` (the API's name for it, and the exports'), its text in Dutch
and English, and for the choice kinds a list of choices, each with a stable key and a label
in both languages: answers store keys, so rewording a question or a choice keeps them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    exists,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from .event import Event
from .types import UTCDateTime, utcnow

QUESTION_KINDS = ("short_text", "long_text", "one_choice", "several_choices", "yes_no")
CHOICE_KINDS = ("one_choice", "several_choices")


def in_language(texts: dict, locale: str) -> str:
    """The text in `locale`, else the other language's (a question may have only one)."""
    first, second = ("en", "nl") if str(locale).startswith("en") else ("nl", "en")
    return texts.get(first) or texts.get(second) or ""


class Question(db.Model):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    text_nl: Mapped[str] = mapped_column(String(300), default="")
    text_en: Mapped[str] = mapped_column(String(300), default="")
    # [{"key": "vegetarian", "nl": "Vegetarisch", "en": "Vegetarian"}, ...]; [] for the others.
    choices: Mapped[list] = mapped_column(JSON, default=list)
    # A question removed while attendees had answered it: off the forms, answers kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()

    __table_args__ = (
        UniqueConstraint("event_id", "key"),
        CheckConstraint(
            "kind IN ('short_text', 'long_text', 'one_choice', 'several_choices', 'yes_no')",
            name="kind",
        ),
    )

    def text(self, locale: str) -> str:
        return in_language({"nl": self.text_nl, "en": self.text_en}, locale)

    @property
    def choice_keys(self) -> list[str]:
        return [choice["key"] for choice in self.choices or []]

    def choice_label(self, key: str, locale: str) -> str:
        for choice in self.choices or []:
            if choice["key"] == key:
                return in_language(choice, locale)
        return key

    def __repr__(self) -> str:
        return f"<Question {self.key}>"


# Whether the event asks any question on its forms: loaded only where asked for (deferred),
# by the queries that read an event by its slug (services/programme/reading.py), so the
# registration form and a registration need no statement to find out that there are none
# (questions_of).
Event.asks_questions = column_property(
    exists().where(Question.event_id == Event.id, Question.archived_at.is_(None)),
    deferred=True,
)


class Answer(db.Model):
    """One attendee's answer to one question: text, a choice key, a list of choice keys,
    or true/false, as the question's kind says (services/registration/answers.py)."""

    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    question: Mapped[Question] = relationship()

    __table_args__ = (
        UniqueConstraint("attendee_id", "question_id"),
        Index("ix_answer_question_id", "question_id"),
    )
