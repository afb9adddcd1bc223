"""The fuzz loop: generate, run on each interpreter, compare, minimise, classify.

Used by the CLI (``python -m tools.fuzz``) and by
tests/stress/test_differential.py; both size a run by a program count and a
deadline so the same code serves ``make test`` (seconds) and ``make stress``.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from tools.fuzz.compare import Finding, Verdict, compare_runs, flag_violations
from tools.fuzz.generator import generate
from tools.fuzz.known import classify
from tools.fuzz.minimise import minimise
from tools.fuzz.runner import SHIM, Interpreter, run_program

__all__ = ["Report", "Result", "check", "fuzz", "find_interpreters", "ROOT"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_interpreters(build: str | None = None) -> dict[str, Interpreter]:
    """The four builds under build/cpython/ that exist, by name."""
    base = build or os.path.join(ROOT, "build", "cpython")
    out = {}
    for name in ("baseline", "patched", "baseline-ft", "patched-ft"):
        path = os.path.join(base, name, "bin", "python3")
        if os.access(path, os.X_OK):
            out[name] = Interpreter(name, path, SHIM if name.startswith("patched") else None)
    return out


def check(lines: list[str], interps: list[Interpreter], flags: bool, messages: bool = False,
          timeout: float = 20.0) -> Verdict:
    """Run one program: two interpreters compared, or one checked for §3."""
    src = "\n".join(lines) + "\n"
    if flags:
        return flag_violations(lines, run_program(interps[0], src, flags=True, timeout=timeout))
    base, pat = (run_program(i, src, timeout=timeout) for i in interps)
    return compare_runs(lines, base, pat, messages)


@dataclass
class Result:
    """A finding, with the seed that found it and its minimised reproducer."""
    seed: int
    finding: Finding
    original: list[str]
    reproducer: list[str]
    minimised_finding: Finding
    known: str

    def render(self) -> str:
        return "seed %d: %s [%s]\n%s\n--- reproducer (%d of %d statements):\n%s\n" % (
            self.seed, self.minimised_finding.kind, self.known, self.minimised_finding.detail,
            len(self.reproducer), len(self.original), "\n".join(self.reproducer))


@dataclass
class Report:
    programs: int = 0
    statements: int = 0
    allowed: dict[str, int] = field(default_factory=dict)
    inconclusive: int = 0
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for r in self.results:
            kinds[r.known] = kinds.get(r.known, 0) + 1
        return ("%d programs (%d statements) in %.1f s; allowed differences %s; inconclusive %d; findings %d %s"
                % (self.programs, self.statements, self.seconds, dict(sorted(self.allowed.items())),
                   self.inconclusive, len(self.results), dict(sorted(kinds.items()))))


def fuzz(seeds: range, interps: list[Interpreter], flags: bool = False, shim: bool = False,
         deadline: float | None = None, jobs: int = 1, do_minimise: bool = True, messages: bool = False,
         max_findings: int = 20, minimise_known: bool = True, timeout: float = 20.0,
         log: Callable[[str], None] = lambda s: None) -> Report:
    """Run every seed (until `deadline`, a time.monotonic() value), minimising
    each finding; stops collecting after max_findings."""
    t0 = time.monotonic()
    rep = Report()
    seen: set[tuple[str, str]] = set()

    def one(seed: int) -> tuple[int, list[str], Verdict] | None:
        if deadline is not None and time.monotonic() > deadline:
            return None
        prog = generate(seed, flags=flags, shim=shim)
        return seed, prog.lines, check(prog.lines, interps, flags, messages, timeout=timeout)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for out in pool.map(one, seeds):
            if out is None:
                continue
            seed, lines, verdict = out
            rep.programs += 1
            rep.statements += len(lines)
            for a in verdict.allowed:
                rep.allowed[a] = rep.allowed.get(a, 0) + 1
            rep.inconclusive += bool(verdict.inconclusive)
            for f in verdict.findings[:1]:
                if len(rep.results) >= max_findings:
                    do_minimise = False      # still counted and printed, not minimised
                log("seed %d: %s %s" % (seed, f.kind, f.detail.splitlines()[0]))
                # A known class already minimised once, judged by the failing
                # statement alone, is counted without minimising it again.
                pre = classify([lines[f.index]], f) if 0 <= f.index < len(lines) else "new"
                if pre != "new" and ((pre, f.kind) in seen or not minimise_known):
                    rep.results.append(Result(seed, f, lines, lines, f, pre + " (again)"))
                    continue
                small, fmin = lines, f
                if do_minimise:
                    small, fmin = _minimise(lines, f, interps, flags, messages)
                known = classify(small, fmin)
                key = (known, fmin.kind) if known != "new" else (known, "\n".join(small))
                if key in seen:
                    rep.results.append(Result(seed, f, lines, small, fmin, known + " (again)"))
                    continue
                seen.add(key)
                rep.results.append(Result(seed, f, lines, small, fmin, known))
                log(rep.results[-1].render())
    rep.seconds = time.monotonic() - t0
    return rep


def _minimise(lines: list[str], f: Finding, interps: list[Interpreter], flags: bool,
              messages: bool) -> tuple[list[str], Finding]:
    last: dict[str, Finding] = {}

    def fails(cand: list[str]) -> bool:
        v = check(cand, interps, flags, messages, timeout=20.0)
        for g in v.findings:
            if g.signature == f.signature:
                last["f"] = g
                return True
        return False

    small = minimise(lines, fails)
    if not fails(small):          # re-establish the detail of the final program
        return lines, f
    return small, last.get("f", f)
