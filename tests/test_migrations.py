"""Every model change comes with a migration: the migrated schema is the models' schema.

The test database is built by the migrations (conftest.py runs `flask db upgrade`); Alembic's
autogenerate comparison against the models must then find nothing to do, with the same
options `flask db migrate` uses (migrations/env.py: types compared too).
"""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData

from eventapp.extensions import db


def schema_differences(metadata: MetaData) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_the_migrations_build_exactly_the_models_schema(app):
    assert schema_differences(db.metadata) == []


def test_control_a_column_the_migrations_lack_is_found(app):
    """On a copy of the models' metadata, so the real one stays as it is."""
    models = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["room"].append_column(Column("not_migrated", Integer))
    differences = schema_differences(models)
    assert [d[0] for d in differences] == ["add_column"]
    assert differences[0][3].name == "not_migrated"
