#!/usr/bin/env python3
"""Check that pep-draft.md cites only numbers and result files that exist.

Fails (exit 1) when pep-draft.md
  * cites a ratio ("1.03×", "1.03x") anywhere, or a percentage or a time
    ("+0.4%", "152 ns") in its Performance section, that does not appear in
    any file under bench/results/ (targets written as "≤1.10×" are goals,
    not results, and are not checked);
  * names a result file (bench/results/NAME or NAME.json) that does not exist;
  * carries a generated table block (<!-- generated:NAME -->) that differs
    from bench/results/summary.md, i.e. a table edited by hand or left stale.
Standard library only; run from anywhere: python3 tools/check_pep_numbers.py
"""
from __future__ import annotations

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
GENERATED = re.compile(r"<!-- generated:([\w\-]+) -->\n(.*?)\n<!-- /generated:\1 -->", re.S)
TARGET_PREFIX = ("≤", "≥", "<", ">", "<=", ">=", "~", "≈")


def results_text() -> str:
    chunks = []
    for dirpath, _, files in os.walk(RESULTS):
        for name in files:
            if name.endswith((".md", ".json", ".txt")):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    chunks.append(f.read())
    return "\n".join(chunks).replace("µs", "us")


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


def found(number: str, unit_pattern: str, corpus: str) -> bool:
    if number[0] in "+-":   # a signed change must match with its sign
        return re.search(rf"(?<![\d.]){re.escape(number)}\s?(?:{unit_pattern})", corpus) is not None
    bare = number
    return re.search(rf"(?<![\d.]){re.escape(bare)}\s?(?:{unit_pattern})", corpus) is not None


def main() -> int:
    errors: list[str] = []
    if not os.path.exists(PEP):
        print("check_pep_numbers: pep-draft.md is missing")
        return 1
    if not os.path.isdir(RESULTS):
        print("check_pep_numbers: bench/results/ is missing (run make bench)")
        return 1
    with open(PEP, encoding="utf-8") as f:
        pep = f.read()
    corpus = results_text()

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
    checks = [(RATIO, prose, "×|x", "ratio"),
              (PERCENT, perf, "%", "percentage"),
              (TIME, perf.replace("µs", "us"), None, "time")]
    for pattern, text, unit, kind in checks:
        for m in pattern.finditer(text):
            if is_target(text, m.start()):
                continue
            if kind == "time":
                ok = found(m.group(1), re.escape(m.group(2)), corpus)
            else:
                ok = found(m.group(1), unit, corpus)
            if not ok:
                line = text[:m.start()].count("\n") + 1
                errors.append(f"{kind} {m.group(0)!r} (near: {text[max(0, m.start()-40):m.end()+10]!r}) "
                              "is not in bench/results/")

    # 3. result files named anywhere must exist
    for m in FILE_REF.finditer(pep):
        name = m.group(1) or m.group(2)
        name = name.rstrip(".")
        if not os.path.exists(os.path.join(RESULTS, name)):
            errors.append(f"result file {name!r} does not exist in bench/results/")

    if errors:
        print("check_pep_numbers: FAILED")
        for e in errors:
            print("  -", e)
        return 1
    print("check_pep_numbers: ok (every cited number and result file is in bench/results/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
