"""Build hook: the wheel carries the whole app, not only the Python modules.

Everything else about the build is declared in pyproject.toml. This file adds the one step
setuptools cannot declare: at `build_py` (run by `pip install .`, `pip wheel .` and
`python -m build`), copy the top-level templates/ and migrations/ into the package as
eventapp/templates/ and eventapp/migrations/ (and gunicorn.conf.py as
eventapp/gunicorn_conf.py), and compile the gettext catalogs
(eventapp/translations/*/LC_MESSAGES/messages.po) into the .mo files Flask-Babel reads.

Why a build_py step rather than the alternatives:
- `data-files` installs beside the virtualenv (<prefix>/templates), not inside the package,
  where the app cannot find it reliably, and setuptools documents it as discouraged;
- `package-dir` mapping (templates/ as the package eventapp.templates) needs every template
  folder listed as a package and confuses editable installs, which must keep reading the
  checkout's own top-level folders;
- .mo files are build output (never committed, see .gitignore), and no setuptools setting
  compiles them: Babel's own API does it here, as `pybabel compile` does for `make`.
Editable installs (`pip install -e .`, what `make` uses) skip the copy: there the app reads
templates/ and migrations/ from the checkout and `make translations` compiles the catalogs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo  # a build requirement (pyproject.toml)
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TOP_LEVEL_FOLDERS = ("templates", "migrations")
# gunicorn's settings, importable from the wheel: `gunicorn -c python:eventapp.gunicorn_conf`.
TOP_LEVEL_FILES = {"gunicorn.conf.py": "gunicorn_conf.py"}
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
# npm's output, copied in by `make static-vendor` and never committed: a wheel built from a
# fresh clone would lack them and serve the registration form without the bot check's widget
# (every browser registration refused), so the build stops instead.
VENDOR_FILES = ("jsQR.js", "interact.min.js", "altcha/altcha.min.js", "altcha/workers/sha.js")


def compile_catalogs(translations: Path) -> list[Path]:
    """Write messages.mo beside every messages.po under `translations`; fuzzy entries are left
    out, as `pybabel compile` does."""
    written = []
    for po_file in sorted(translations.glob("*/LC_MESSAGES/messages.po")):
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=po_file.parents[1].name)
        mo_file = po_file.with_suffix(".mo")
        with mo_file.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(mo_file)
    if not written:
        raise SystemExit(f"no catalogs found under {translations}")
    return written


def require_vendor_files(vendor: Path) -> None:
    missing = [name for name in VENDOR_FILES if not (vendor / name).is_file()]
    if missing:
        raise SystemExit(
            f"eventapp/static/vendor/ lacks {', '.join(missing)} (installed from npm, not in "
            "git): run `make static-vendor` (or `make install`) in the checkout, then build."
        )


class BuildWholeApp(build_py):
    """build_py, then templates/, migrations/ and compiled catalogs into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        package = Path(self.build_lib) / "eventapp"
        require_vendor_files(package / "static" / "vendor")
        for folder in TOP_LEVEL_FOLDERS:
            shutil.copytree(ROOT / folder, package / folder, ignore=SKIPPED, dirs_exist_ok=True)
        for source, target in TOP_LEVEL_FILES.items():
            shutil.copyfile(ROOT / source, package / target)
        compile_catalogs(package / "translations")


setup(cmdclass={"build_py": BuildWholeApp})
