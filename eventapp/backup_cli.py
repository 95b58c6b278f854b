"""`flask --app eventapp backup PATH`: a consistent copy of the database while the app runs.

SQLite: the online backup API (sqlite3.Connection.backup) copies the database page by page
under a read transaction, so writers carry on and the copy is one consistent moment, WAL
included; the copy is then checked with PRAGMA integrity_check.
PostgreSQL: pg_dump in its custom format (restore with pg_restore), also one consistent
snapshot without stopping the app. Restoring is described in docs/OPERATIONS.md.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.engine import make_url

from .extensions import db


def backup_sqlite(database: str, target: Path) -> None:
    """Copy the SQLite database file `database` to `target` with the online backup API."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise click.ClickException(f"the copy failed its integrity check: {verdict}")
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            copy.close()
    finally:
        source.close()
    partial.replace(target)


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... as the plain postgresql://... that pg_dump understands."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def backup_postgresql(sqlalchemy_url: str, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException("pg_dump is not installed (apt-get install postgresql-client)")
    partial = target.with_name(target.name + ".partial")
    result = subprocess.run(  # noqa: S603 - fixed program, our own URL
        [
            pg_dump,
            "--format=custom",
            "--no-owner",
            f"--file={partial}",
            f"--dbname={libpq_url(sqlalchemy_url)}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
    partial.replace(target)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(path: Path) -> None:
    """Write a consistent copy of the database to PATH, while the app keeps running.

    SQLite: a database file (open it with sqlite3, or put it back in place to restore).
    PostgreSQL: a pg_dump custom-format archive (restore with pg_restore).
    """
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    dialect = db.engine.dialect.name
    path.parent.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        database = make_url(uri).database
        if not database or database == ":memory:":
            raise click.ClickException("an in-memory database can't be backed up")
        backup_sqlite(database, path)
    elif dialect == "postgresql":
        backup_postgresql(uri, path)
    else:
        raise click.ClickException(f"no backup method for {dialect}")
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
