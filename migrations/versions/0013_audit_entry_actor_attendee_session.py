"""audit entry actor, attendee and session: a readable, filterable audit log

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:00:00

AuditEntry.actor_kind says who acted (an organiser, the attendee through their private link,
or the system: promotions, offer expiry, allocation); attendee_id and session_id name what
the entry concerns, so the organiser's log filters by attendee and by session (issue 20,
item 8). Existing rows are filled from what they already say: entries without an organiser
were automatic, an attendee's or a registration's entry names its attendee, a session's or a
registration's entry its session.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "actor_kind", sa.String(length=16), nullable=False, server_default="organiser"
            )
        )
        batch_op.add_column(sa.Column("attendee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_entry_attendee_id_attendee"),
            "attendee",
            ["attendee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_entry_session_id_event_session"),
            "event_session",
            ["session_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_audit_entry_attendee_id_created_at", ["attendee_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_entry_session_id_created_at", ["session_id", "created_at"], unique=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_audit_entry_actor_kind"),
            "actor_kind IN ('organiser', 'attendee', 'system')",
        )
    op.execute("UPDATE audit_entry SET actor_kind = 'system' WHERE organiser_id IS NULL")
    op.execute(
        "UPDATE audit_entry SET attendee_id = object_id WHERE object_type = 'attendee' "
        "AND object_id IN (SELECT id FROM attendee)"
    )
    op.execute(
        "UPDATE audit_entry SET session_id = object_id WHERE object_type = 'event_session' "
        "AND object_id IN (SELECT id FROM event_session)"
    )
    op.execute(
        "UPDATE audit_entry SET "
        "attendee_id = (SELECT attendee_id FROM registration WHERE registration.id = object_id), "
        "session_id = (SELECT session_id FROM registration WHERE registration.id = object_id) "
        "WHERE object_type = 'registration'"
    )
    # The model supplies the default from here on; the server default only filled old rows.
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("actor_kind", server_default=None)


def downgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_audit_entry_actor_kind"), type_="check")
        batch_op.drop_index("ix_audit_entry_session_id_created_at")
        batch_op.drop_index("ix_audit_entry_attendee_id_created_at")
        batch_op.drop_constraint(
            batch_op.f("fk_audit_entry_session_id_event_session"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_audit_entry_attendee_id_attendee"), type_="foreignkey"
        )
        batch_op.drop_column("session_id")
        batch_op.drop_column("attendee_id")
        batch_op.drop_column("actor_kind")
