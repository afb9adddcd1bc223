"""bench/instructions.py renders its counts into the tables and numbers the
PEP cites: a run without patched-immutable renders as before (the PEP's
keys keep their values), and a run with it splits the GIL price into Part 1
and Part 2, showing a refused EXCLUSIVE request as refused, not as a number.
Counts only, nothing is measured here (no valgrind, no timings)."""
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import instructions  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def _committed() -> dict:
    return json.loads((RESULTS / "instructions.json").read_text())


def _with_part1(data: dict) -> dict:
    """The committed run plus a patched-immutable halfway between baseline
    and patched, which refuses the EXCLUSIVE request."""
    data = copy.deepcopy(data)
    base, patched = data["counts"]["baseline"], data["counts"]["patched"]
    op = "EXCLUSIVE request (bytearray)"
    base.setdefault(op, base["plain request (bytearray)"])
    patched.setdefault(op, patched["IMMUTABLE request (bytearray)"])
    part1 = {name: (base[name] * patched[name]) ** 0.5 for name in base}
    part1[op] = None
    data["counts"]["patched-immutable"] = part1
    data["operations"] = data["operations"] + [op] * (op not in data["operations"])
    data["flagged"] = sorted(instructions.FLAGGED)
    return data


def test_a_run_without_part1_renders_as_before():
    data = _committed()
    if "patched-immutable" in data["counts"]:
        del data["counts"]["patched-immutable"]
    numbers = instructions.numbers(data["counts"], set(data["flagged"]), data.get("locking"))
    for key, value in data["numbers"].items():
        if not key.startswith(("instructions/gil-immutable/", "instructions/gil-exclusive/")):
            assert numbers[key] == value, key
    assert not any("gil-immutable" in key or "gil-exclusive" in key for key in numbers)
    if "patched-immutable" not in _committed()["counts"]:
        assert instructions.markdown(data) == (RESULTS / "instructions.md").read_text()


def test_part1_splits_the_gil_price():
    data = _with_part1(_committed())
    numbers = instructions.numbers(data["counts"], set(data["flagged"]), data.get("locking"))
    ratio = {step: float(numbers[f"instructions/{step}/geomean/flags-cost"].rstrip("×"))
             for step in ("gil", "gil-immutable", "gil-exclusive")}
    assert abs(ratio["gil-immutable"] * ratio["gil-exclusive"] - ratio["gil"]) < 0.002
    assert numbers["instructions/gil/geomean/flags-cost"] == _committed()["numbers"][
        "instructions/gil/geomean/flags-cost"]
    refused = "instructions/gil-immutable/EXCLUSIVE request (bytearray)"
    assert numbers[refused] == instructions.REFUSED
    assert numbers["instructions/gil-exclusive/EXCLUSIVE request (bytearray)"] == instructions.REFUSED
    text = instructions.markdown(data)
    assert "Part 2: patched / patched-immutable" in text
    row = next(line for line in text.splitlines() if line.startswith("| `EXCLUSIVE request"))
    assert row.count(instructions.REFUSED) == 3          # the count and both steps
    assert "## free-threaded build: baseline-ft vs patched-ft" in text
