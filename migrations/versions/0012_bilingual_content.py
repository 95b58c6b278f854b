"""bilingual content: event, session and room texts in the event's other language

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:00:00

Today's columns (event.name/description, event_session.title/description, room.name) stay the
content in the event's own language (event.default_locale); the *_translated columns hold
the same texts in its other language, empty when not given (issue 19, item 2).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = {
    "event": [("name_translated", sa.String(200)), ("description_translated", sa.Text())],
    "event_session": [("title_translated", sa.String(300)), ("description_translated", sa.Text())],
    "room": [("name_translated", sa.String(120))],
}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                batch_op.add_column(
                    sa.Column(name, type_, nullable=False, server_default=sa.text("''"))
                )
        # The model supplies the default from here on; the server default only filled old rows.
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type in columns:
                batch_op.alter_column(name, server_default=None)


def downgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type in columns:
                batch_op.drop_column(name)
