"""event roles and bot defences

Roles per event (event_role): an organiser or check-in account covers only the events it
has a role at; admins stay global. Existing non-admin accounts get their role at every
existing event, so nobody loses access through the upgrade; events created later are
granted one by one (`flask organiser grant`), and whoever creates an event gets it.

Bot defences per event (event.bot_form_checks, max_registrations_per_address,
max_registrations_per_domain) and where a public registration came from
(attendee.source: a keyed hash of the client address; attendee.email_domain).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 20:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'event_role',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('organiser_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('organiser', 'checkin')", name=op.f('ck_event_role_event_role')),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_role_event_id_event'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_event_role_organiser_id_organiser'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_role')),
        sa.UniqueConstraint('organiser_id', 'event_id', name='uq_event_role_organiser_id_event_id'),
    )
    with op.batch_alter_table('event_role', schema=None) as batch_op:
        batch_op.create_index('ix_event_role_event_id', ['event_id'], unique=False)
    op.execute(
        "INSERT INTO event_role (event_id, organiser_id, role, created_at) "
        "SELECT event.id, organiser.id, organiser.role, CURRENT_TIMESTAMP "
        "FROM event CROSS JOIN organiser WHERE organiser.role IN ('organiser', 'checkin')"
    )

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot_form_checks', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('max_registrations_per_address', sa.Integer(), nullable=True, server_default='30'))
        batch_op.add_column(sa.Column('max_registrations_per_domain', sa.Integer(), nullable=True, server_default='50'))
    # The model supplies the defaults from here on; the server defaults only filled old rows.
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('bot_form_checks', server_default=None)
        batch_op.alter_column('max_registrations_per_address', server_default=None)
        batch_op.alter_column('max_registrations_per_domain', server_default=None)

    with op.batch_alter_table('attendee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_domain', sa.String(length=254), nullable=True))
        batch_op.create_index('ix_attendee_event_id_source_created_at', ['event_id', 'source', 'created_at'], unique=False)
        batch_op.create_index('ix_attendee_event_id_email_domain_created_at', ['event_id', 'email_domain', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('attendee', schema=None) as batch_op:
        batch_op.drop_index('ix_attendee_event_id_email_domain_created_at')
        batch_op.drop_index('ix_attendee_event_id_source_created_at')
        batch_op.drop_column('email_domain')
        batch_op.drop_column('source')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('max_registrations_per_domain')
        batch_op.drop_column('max_registrations_per_address')
        batch_op.drop_column('bot_form_checks')
    with op.batch_alter_table('event_role', schema=None) as batch_op:
        batch_op.drop_index('ix_event_role_event_id')
    op.drop_table('event_role')
