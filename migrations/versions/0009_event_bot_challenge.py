"""event bot challenge: the per-event switch of the proof-of-work challenge

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:40:00

Event.bot_challenge (eventapp/bot_challenge.py), on for every event, existing ones too.
A migration of its own: 0004 was already merged when the challenge came.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bot_challenge", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # The model supplies the default from here on; the server default only filled old rows.
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column("bot_challenge", server_default=None)


def downgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("bot_challenge")
