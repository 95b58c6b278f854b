"""The translation catalogs for tests: compile them when stale (as `make translations` does),
and extract the messages the way `make translations-update` does (same babel.cfg and keywords)."""

import re
import shlex
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "eventapp" / "translations"


def compile_catalogs() -> None:
    """Write each messages.mo that is missing or older than its messages.po."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp_path.replace(mo_path)  # atomic: parallel test workers never read half a file


def makefile_keywords() -> list[str]:
    """The -k options of `make translations-update`, read from the Makefile itself."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^BABEL_KEYWORDS\s*:?=\s*(.+)$", makefile, re.MULTILINE)
    assert match, "Makefile has no BABEL_KEYWORDS line"
    return shlex.split(match.group(1))


def extract_messages(pot_path: Path, monkeypatch) -> None:
    """Run `pybabel extract` over the project into pot_path, as the Makefile does."""
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            *makefile_keywords(),
            "--add-location=file",
            "-o",
            str(pot_path),
            ".",
        ]
    )


def read_catalog(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)
