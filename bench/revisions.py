"""A git revision of this repository as a folder, for the benchmarks that measure it in turns
with this checkout (outbox_cpu.py, request_cpu.py)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export_revision(revision: str) -> str:
    target = tempfile.mkdtemp(prefix="eventapp-baseline-")
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    # Compiled catalogs are not in git; without them the baseline would skip translating.
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([pybabel, "-q", "compile", "-d", f"{target}/eventapp/translations"], check=True)
    return target
