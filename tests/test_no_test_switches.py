"""No test or benchmark hooks in production code (issue 15): the race tests open their
windows from outside (tests/race_windows.py, monkeypatch), and the benchmark's endpoints
live in bench/, mounted only by bench/wsgi_bench.py."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOOK_NAMES = re.compile(r"Race|Switch|_unguarded|BENCH_BASELINE")


def hooks_in(folder: Path) -> list[str]:
    """Each `file:line` under `folder` (its text files) that names a test or bench hook."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in {".py", ".po", ".html", ".txt", ".cfg"}:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if HOOK_NAMES.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def test_production_code_has_no_test_switches():
    assert hooks_in(ROOT / "eventapp") == []


def test_a_planted_switch_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "module.py").write_text("class RaceSwitches:\n    pause_seconds = 0.0\n")
    assert hooks_in(tmp_path) == ["module.py:1"]
