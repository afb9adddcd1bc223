"""bench/plots.py draws the figures of `make bench` from the results alone
(issue 17): run on a copy of bench/results it writes every PNG and SVG, and
a changed result changes the figure (nothing is drawn by hand).  Skipped,
saying so, where matplotlib is not installed (the bench extra installs it)."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["instructions", "acquire", "contention"]


def _plot(results):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "plots.py"),
                           str(results)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {name: (results / "figures" / f"{name}.svg").read_text()
            for name in NAMES}


def test_figures_from_results(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed: "
                        "bench figures NOT checked (pip install '.[bench]')")
    results = tmp_path / "results"
    shutil.copytree(ROOT / "bench" / "results", results,
                    ignore=shutil.ignore_patterns("figures"))
    first = _plot(results)
    for name in NAMES:
        assert (results / "figures" / f"{name}.png").stat().st_size > 0
        assert first[name].lstrip().startswith("<?xml")
    assert _plot(results) == first                       # deterministic
    data = json.loads((results / "instructions.json").read_text())
    data["counts"]["patched"]["ba[3]"] *= 3
    (results / "instructions.json").write_text(json.dumps(data))
    changed = _plot(results)
    assert changed["instructions"] != first["instructions"]
    assert changed["acquire"] == first["acquire"]


def test_committed_figures_are_current(tmp_path):
    """The figures in bench/results/figures are what plots.py draws from the
    committed results."""
    matplotlib = pytest.importorskip(
        "matplotlib", reason="matplotlib is not installed: bench figures NOT "
        "checked (pip install '.[bench]')")
    svg = (ROOT / "bench" / "results" / "figures" / "instructions.svg").read_text()
    drawn_by = re.search(r"Matplotlib v([\w.]+)", svg).group(1)
    if drawn_by != matplotlib.__version__:
        pytest.skip(f"the figures were drawn by matplotlib {drawn_by}, this is "
                    f"{matplotlib.__version__}: the SVG text differs; NOT compared")
    results = tmp_path / "results"
    shutil.copytree(ROOT / "bench" / "results", results,
                    ignore=shutil.ignore_patterns("figures"))
    drawn = _plot(results)
    for name in NAMES:
        committed = ROOT / "bench" / "results" / "figures" / f"{name}.svg"
        assert committed.read_text() == drawn[name], (
            f"{committed} is not what bench/plots.py draws: run it")
