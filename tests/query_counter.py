"""Counting the SQL statements a piece of code sends: for the query-count tests."""

from sqlalchemy import event as sa_event


class QueryCounter:
    """Counts statements sent to the database (ORM, Core and lazy loads alike)."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args):
        if not statement.startswith(("BEGIN", "COMMIT")):  # SQLite's transaction control
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self):
        sa_event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa_event.remove(self.engine, "before_cursor_execute", self._count)
