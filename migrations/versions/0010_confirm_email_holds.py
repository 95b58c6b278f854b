"""confirm email before seats are held: the event setting and the attendee's hold

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00

Event.confirm_email_first and Event.hold_minutes (services/registration/holds.py), and
Attendee.hold_expires_at. Existing events keep registering as before (the setting off):
switching it on changes what their public answers and emails say, which is the organiser's
call, not a migration's. New events get it on from the form, the API and the demo.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "confirm_email_first", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("hold_minutes", sa.Integer(), nullable=False, server_default="30")
        )
    # The model supplies the defaults from here on; the server defaults only filled old rows.
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column("confirm_email_first", server_default=None)
        batch_op.alter_column("hold_minutes", server_default=None)
    with op.batch_alter_table("attendee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_attendee_status_hold_expires_at", ["status", "hold_expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("attendee", schema=None) as batch_op:
        batch_op.drop_index("ix_attendee_status_hold_expires_at")
        batch_op.drop_column("hold_expires_at")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("hold_minutes")
        batch_op.drop_column("confirm_email_first")
