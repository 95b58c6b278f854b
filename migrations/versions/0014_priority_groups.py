"""priority groups: attendees given priority in one workshop by the organiser

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:10:00

A priority group names a workshop (an event_session) and its members (attendees); members
who ranked the workshop get its seats before anyone else in the allocation (issue 23,
"Priority groups"). Deleting the event or the session deletes its groups, deleting a group
its members, and erasing an attendee takes them out of every group.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "priority_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_priority_group_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["event_session.id"],
            name=op.f("fk_priority_group_session_id_event_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_group")),
    )
    with op.batch_alter_table("priority_group", schema=None) as batch_op:
        batch_op.create_index("ix_priority_group_event_id", ["event_id"], unique=False)
        batch_op.create_index("ix_priority_group_session_id", ["session_id"], unique=False)

    op.create_table(
        "priority_group_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["attendee.id"],
            name=op.f("fk_priority_group_member_attendee_id_attendee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["priority_group.id"],
            name=op.f("fk_priority_group_member_group_id_priority_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_group_member")),
        sa.UniqueConstraint(
            "group_id", "attendee_id", name=op.f("uq_priority_group_member_group_id_attendee_id")
        ),
    )
    with op.batch_alter_table("priority_group_member", schema=None) as batch_op:
        batch_op.create_index("ix_priority_group_member_attendee_id", ["attendee_id"], unique=False)


def downgrade():
    with op.batch_alter_table("priority_group_member", schema=None) as batch_op:
        batch_op.drop_index("ix_priority_group_member_attendee_id")
    op.drop_table("priority_group_member")
    with op.batch_alter_table("priority_group", schema=None) as batch_op:
        batch_op.drop_index("ix_priority_group_session_id")
        batch_op.drop_index("ix_priority_group_event_id")
    op.drop_table("priority_group")
