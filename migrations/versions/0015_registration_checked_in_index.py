"""registration checked-in index: the dashboard counts checked-in seats without a full read

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:30:00

A partial index of the registrations checked in, by session: the organiser's dashboard counts
them per session from it instead of reading every registration of the event (none are in it
before the doors open). Its seats come from the sessions' seats_taken counters and its waiting
lists from ix_registration_session_id_status.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_registration_session_id_checked_in",
        "registration",
        ["session_id"],
        unique=False,
        postgresql_where=sa.text("checked_in_at IS NOT NULL"),
        sqlite_where=sa.text("checked_in_at IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_registration_session_id_checked_in", table_name="registration")
