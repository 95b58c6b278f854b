"""event session import uid: re-importing a calendar file updates its sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 21:00:00

An ICS import remembers each VEVENT's UID on the session it made, so importing the same
file again (or a newer export of the same calendar) updates those sessions instead of
adding duplicates (issue 17, item 7). NULL for sessions made any other way; unique per
event (NULLs never clash, on SQLite and PostgreSQL alike).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_uid", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            "uq_event_session_event_id_import_uid", ["event_id", "import_uid"]
        )


def downgrade():
    with op.batch_alter_table("event_session", schema=None) as batch_op:
        batch_op.drop_constraint("uq_event_session_event_id_import_uid", type_="unique")
        batch_op.drop_column("import_uid")
