"""registration fallback session (a seat kept while waiting for another in the same round);
attendee email change awaiting confirmation by a link to the new address

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('email_change_nonce', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_change_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('email_change_requested_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            'uq_attendee_email_change_hash', ['email_change_hash']
        )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_session_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            'ix_registration_fallback_session_id', ['fallback_session_id'], unique=False
        )
        batch_op.create_foreign_key(
            'fk_registration_fallback_session_id_event_session',
            'event_session',
            ['fallback_session_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('attendee', schema=None) as batch_op:
        batch_op.drop_constraint('uq_attendee_email_change_hash', type_='unique')
        batch_op.drop_column('email_change_requested_at')
        batch_op.drop_column('email_change_hash')
        batch_op.drop_column('email_change_nonce')
        batch_op.drop_column('pending_email')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(
            'fk_registration_fallback_session_id_event_session', type_='foreignkey'
        )
        batch_op.drop_index('ix_registration_fallback_session_id')
        batch_op.drop_column('fallback_session_id')
