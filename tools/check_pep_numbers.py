#!/usr/bin/env python3
"""Check that every number pep-draft.md cites is the result it names.

Fails (exit 1) when pep-draft.md
  * cites a ratio ("1.03×", "1.03x") anywhere, or a percentage or a time
    ("+0.4%", "152 ns") in its Performance section, outside a generated
    block, without naming its source right after it: ``1.03×<!--n:KEY-->``,
    where KEY is a key of bench/results/numbers.json (written by
    bench/render.py, with bench/instructions.py's keys) whose value is
    exactly the number cited.  So a number swapped with another, or left
    stale by a new run, fails.  Targets written as "≤1.10×" are goals, not
    results, and are not checked;
  * names a result file (bench/results/NAME or NAME.json) that does not exist;
  * carries a generated table block (<!-- generated:NAME -->) that differs
    from bench/results/summary.md, i.e. a table edited by hand or left stale.
Standard library only; run from anywhere: python3 tools/check_pep_numbers.py
(--self-test: also check that swapping two cited numbers makes it fail).
"""
from __future__ import annotations

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEP = os.path.join(ROOT, "pep-draft.md")
RESULTS = os.path.join(ROOT, "bench", "results")

RATIO = re.compile(r"(?<![\w.])([+-]?\d+(?:\.\d+)?)\s?(?:×|x(?![\w]))")
PERCENT = re.compile(r"(?<![\w.])([+-]?\d+(?:\.\d+)?)\s?%")
TIME = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(ns|µs|us|ms)\b")
FILE_REF = re.compile(r"bench/results/([\w.\-]+)|(?<![\w/.\-])([\w\-]+\.json)\b")
MARKER = re.compile(r"\s?<!--n:([^>]+?)-->")
GENERATED = re.compile(r"<!-- generated:([\w\-]+) -->\n(.*?)\n<!-- /generated:\1 -->", re.S)
TARGET_PREFIX = ("≤", "≥", "<", ">", "<=", ">=", "~", "≈")


def is_target(text: str, start: int) -> bool:
    before = text[max(0, start - 3):start].rstrip()
    return before.endswith(TARGET_PREFIX)


def strip_generated(text: str) -> str:
    return GENERATED.sub("", text)


def performance_section(text: str) -> str:
    """From the Performance heading to the next heading of the same or a higher level."""
    m = re.search(r"^(#+)\s*Performance\s*$", text, re.M)
    if not m:
        return ""
    level = len(m.group(1))
    end = re.compile(rf"^#{{1,{level}}}\s", re.M).search(text, m.end())
    return text[m.end():end.start() if end else len(text)]


def load_numbers() -> dict[str, str]:
    path = os.path.join(RESULTS, "numbers.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check(pep: str) -> list[str]:
    """Every error in `pep` (the text of pep-draft.md)."""
    errors: list[str] = []
    numbers = load_numbers()

    # 1. generated blocks match bench/results/summary.md
    summary_path = os.path.join(RESULTS, "summary.md")
    summary = open(summary_path, encoding="utf-8").read() if os.path.exists(summary_path) else ""
    sections = dict(re.findall(r"^## ([\w\-]+)\n\n(.*?)\n(?=^## |\Z)", summary, re.S | re.M))
    for name, body in GENERATED.findall(pep):
        if name not in sections:
            errors.append(f"generated block {name!r} is not in bench/results/summary.md")
        elif body.strip() != sections[name].strip():
            errors.append(f"generated block {name!r} differs from bench/results/summary.md "
                          "(edited by hand or stale: run python3 bench/render.py)")

    # 2. numbers cited in prose (generated blocks are checked above)
    prose = strip_generated(pep)
    perf = strip_generated(performance_section(pep))
    checks = [(RATIO, prose, "ratio"),
              (PERCENT, perf, "percentage"),
              (TIME, perf.replace("µs", "us"), "time")]
    for pattern, text, kind in checks:
        for m in pattern.finditer(text):
            if is_target(text, m.start()):
                continue
            near = text[max(0, m.start() - 40):m.end() + 10]
            marker = MARKER.match(text, m.end())
            if marker is None:
                errors.append(f"{kind} {m.group(0)!r} (near: {near!r}) names no result: "
                              "write it as NUMBER<!--n:KEY--> with a key of "
                              "bench/results/numbers.json")
                continue
            key = marker.group(1).strip()
            if key not in numbers:
                errors.append(f"{kind} {m.group(0)!r} cites {key!r}, which is not a key of "
                              "bench/results/numbers.json")
            elif normal(numbers[key]) != normal(m.group(0)):
                errors.append(f"{kind} {m.group(0)!r} cites {key!r}, whose value is "
                              f"{numbers[key]!r} (swapped or stale: rerun make bench, or fix the text)")

    # 3. result files named anywhere must exist
    for m in FILE_REF.finditer(pep):
        name = m.group(1) or m.group(2)
        name = name.rstrip(".")
        if not os.path.exists(os.path.join(RESULTS, name)):
            errors.append(f"result file {name!r} does not exist in bench/results/")

    return errors


def normal(number: str) -> str:
    """A cited number as text, spacing and ASCII spellings aside."""
    return number.replace(" ", "").replace("x", "×").replace("µs", "us")


def self_test(pep: str) -> list[str]:
    """Swap two different cited numbers in place: the check must fail."""
    cited = [m for m in RATIO.finditer(pep) if MARKER.match(pep, m.end())]
    pair = next(((a, b) for a in cited for b in cited
                 if a.start() < b.start() and normal(a.group(0)) != normal(b.group(0))), None)
    if pair is None:
        return ["self-test: the PEP cites fewer than two different numbers"]
    a, b = pair
    swapped = (pep[:a.start()] + b.group(0) + pep[a.end():b.start()] + a.group(0)
               + pep[b.end():])
    if not check(swapped):
        return [f"self-test: swapping {a.group(0)} and {b.group(0)} was not detected"]
    return []


def main() -> int:
    if not os.path.exists(PEP):
        print("check_pep_numbers: pep-draft.md is missing")
        return 1
    if not os.path.isdir(RESULTS):
        print("check_pep_numbers: bench/results/ is missing (run make bench)")
        return 1
    with open(PEP, encoding="utf-8") as f:
        pep = f.read()
    errors = check(pep)
    if "--self-test" in sys.argv[1:] and not errors:
        errors = self_test(pep)
    if errors:
        print("check_pep_numbers: FAILED")
        for e in errors:
            print("  -", e)
        return 1
    print("check_pep_numbers: ok (every cited number is the result it names"
          + (", and a swap is caught" if "--self-test" in sys.argv[1:] else "") + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
