"""registration questions: an event's questions (two languages, choices) and the answers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:00:00

Issue 19.3. Two new tables, nothing existing changes. A question with answers is archived
rather than deleted (services/registration/questions.py); the answers go with their attendee
(ON DELETE CASCADE) and are deleted on erasure (services/privacy.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_nl", sa.String(length=300), nullable=False),
        sa.Column("text_en", sa.String(length=300), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('short_text', 'long_text', 'one_choice', 'several_choices', 'yes_no')",
            name=op.f("ck_question_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_question_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
        sa.UniqueConstraint("event_id", "key", name=op.f("uq_question_event_id_key")),
    )
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["attendee.id"],
            name=op.f("fk_answer_attendee_id_attendee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_answer_question_id_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
        sa.UniqueConstraint("attendee_id", "question_id", name=op.f("uq_answer_attendee_id_question_id")),
    )
    op.create_index("ix_answer_question_id", "answer", ["question_id"], unique=False)


def downgrade():
    op.drop_index("ix_answer_question_id", table_name="answer")
    op.drop_table("answer")
    op.drop_table("question")
