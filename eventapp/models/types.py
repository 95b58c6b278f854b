"""Column types shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator


def utcnow() -> datetime:
    """The current instant, timezone-aware; passed as a callable so it is evaluated per row."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores instants in UTC and always hands back aware datetimes.

    SQLite keeps no offset, so without this a value read back would be naive and compare
    wrongly with aware ones; PostgreSQL gets a real `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are stored as aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
