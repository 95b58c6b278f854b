"""Every foreign key has an index that starts with its column.

Without one, two things scan the whole referencing table: a query for one parent's rows (an
attendee's messages, when a confirmation is rendered), and every delete of a parent row, which
must find the rows its ON DELETE rule changes (the retention purge deletes attendees by the
thousand). The exceptions are listed with their reason.
"""

from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

from eventapp.extensions import db

# Organisers are a handful of accounts, deleted by an admin now and then, not in bulk.
UNINDEXED_BY_CHOICE = {
    ("allocation_run", "organiser_id"),
    ("api_token", "organiser_id"),
    ("audit_entry", "organiser_id"),
}


def foreign_keys_without_an_index(metadata: MetaData) -> set[tuple[str, str]]:
    missing = set()
    for table in metadata.sorted_tables:
        leading = {index.columns.values()[0].name for index in table.indexes}
        for constraint in table.constraints:
            kind = constraint.__visit_name__
            if kind in ("unique_constraint", "primary_key_constraint") and len(constraint.columns):
                leading.add(constraint.columns.values()[0].name)
        for foreign_key in table.foreign_keys:
            if foreign_key.parent.name not in leading:
                missing.add((table.name, foreign_key.parent.name))
    return missing


def test_every_foreign_key_column_leads_an_index():
    assert foreign_keys_without_an_index(db.metadata) == UNINDEXED_BY_CHOICE


def test_control_a_foreign_key_without_an_index_is_found():
    metadata = MetaData()
    Table("parent", metadata, Column("id", Integer, primary_key=True))
    Table(
        "child",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", Integer, ForeignKey("parent.id")),
    )
    assert foreign_keys_without_an_index(metadata) == {("child", "parent_id")}
