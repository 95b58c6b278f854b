"""periodic_run: one row per periodic job and tick, so each job runs once per tick

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import eventapp.models.types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'periodic_run',
        sa.Column('job', sa.String(length=64), nullable=False),
        sa.Column('tick', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('node', sa.String(length=200), nullable=False),
        sa.Column('started_at', eventapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', eventapp.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('job', 'tick', name=op.f('pk_periodic_run')),
    )


def downgrade():
    op.drop_table('periodic_run')
