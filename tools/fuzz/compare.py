"""Compares two runs of one program: baseline vs patched (differential mode),
or reads one run's §3 violations (flags mode).

A difference stops the comparison of that program: what follows is usually its
consequence, and the minimiser wants the first one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.fuzz.allowlist import ALLOWED, _norm_cb, same_exc
from tools.fuzz.runner import Run

__all__ = ["Finding", "Verdict", "compare_runs", "flag_violations"]


@dataclass
class Finding:
    """One difference, crash or violation; `signature` is what the minimiser keeps."""
    kind: str                  # crash | timeout | result | state | final | violation
    index: int                 # statement index (-1: end of program)
    detail: str

    @property
    def signature(self) -> tuple[str, str]:
        # A crash is the same finding whatever the signal; a difference keeps
        # its kind (and a violation its first words) so minimising keeps it.
        if self.kind in ("crash", "violation"):
            return (self.kind, self.detail.split(":")[0] if self.kind == "violation" else "")
        return (self.kind, "")


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    inconclusive: str = ""


def _outcome(step: dict[str, Any], messages: bool) -> tuple[Any, ...]:
    if "exc" in step:
        return ("exc", step["exc"], step["msg"] if messages else "")
    return ("ok", step["ok"])


def _same_outcome(b: dict[str, Any], p: dict[str, Any], messages: bool) -> bool:
    ob, op = _outcome(b, messages), _outcome(p, messages)
    if ob[0] != op[0]:
        return False
    if ob[0] == "exc":
        return same_exc(ob[1], op[1]) and ob[2] == op[2]
    return ob == op


def _show(step: dict[str, Any]) -> str:
    o = ("%s(%r)" % (step["exc"], step["msg"])) if "exc" in step else "-> %s" % step["ok"]
    return "%s cb=%s st=%s" % (o, step.get("cb"), step.get("st"))


def compare_runs(lines: list[str], base: Run, pat: Run, messages: bool = False) -> Verdict:
    """Baseline vs patched: identical except ALLOWED/EXC_EQUIVALENT, no crash."""
    v = Verdict()
    for name, run in (("baseline", base), ("patched", pat)):
        if run.crashed:
            v.findings.append(Finding("crash", run.started, "%s %s at statement %d: %s" % (
                name, run.describe_exit(), run.started, lines[run.started] if 0 <= run.started < len(lines) else "?")))
    if v.findings:
        return v
    if base.timed_out and pat.timed_out:
        v.inconclusive = "both timed out"
        return v
    if base.timed_out != pat.timed_out:
        who = "baseline" if base.timed_out else "patched"
        v.findings.append(Finding("timeout", max(base.started, pat.started), "%s timed out at statement %d" % (
            who, (base if base.timed_out else pat).started)))
        return v
    if base.end is None or pat.end is None:
        v.findings.append(Finding("crash", -1, "no final record: baseline %s, patched %s\n%s" % (
            base.describe_exit(), pat.describe_exit(), (pat.stderr or base.stderr)[-600:])))
        return v
    for b, p in zip(base.steps, pat.steps):
        i = b["i"]
        same = _same_outcome(b, p, messages) and _norm_cb(b["cb"]) == _norm_cb(p["cb"])
        if same and b.get("st") == p.get("st"):
            continue
        entry = next((e for e in ALLOWED if e.test(lines[i], b, p)), None)
        if entry is not None:
            v.allowed.append(entry.id)
            if b.get("st") == p.get("st"):
                continue
            return v
        kind = "result" if not same else "state"
        v.findings.append(Finding(kind, i, "statement %d: %s\n  baseline: %s\n  patched:  %s" % (
            i, lines[i], _show(b), _show(p))))
        return v
    if len(base.steps) != len(pat.steps):
        v.findings.append(Finding("crash", -1, "trace lengths differ: %d vs %d" % (len(base.steps), len(pat.steps))))
        return v
    rb, rp = base.end.get("resizable", {}), pat.end.get("resizable", {})
    resizable_same = rb.keys() == rp.keys() and all(same_exc(rb[k], rp[k]) for k in rb)
    for key in ("final", "resizable"):
        if key == "resizable" and resizable_same:
            continue
        if base.end.get(key) != pat.end.get(key):
            v.findings.append(Finding("final", -1, "%s: baseline %s, patched %s" % (
                key, base.end.get(key), pat.end.get(key))))
            return v
    return v


def flag_violations(lines: list[str], run: Run) -> Verdict:
    """Flags mode: a crash, a timeout or any §3 violation the runtime recorded."""
    v = Verdict()
    if run.crashed or run.end is None:
        v.findings.append(Finding("crash" if run.crashed else ("timeout" if run.timed_out else "crash"),
                                  run.started, "%s at statement %d: %s\n%s" % (
                                      run.describe_exit(), run.started,
                                      lines[run.started] if 0 <= run.started < len(lines) else "?", run.stderr[-600:])))
        return v
    for step in run.steps:
        for msg in step.get("viol", []):
            v.findings.append(Finding("violation", step["i"], "%s  [statement %d: %s]" % (msg, step["i"], lines[step["i"]])))
            return v
    for msg in run.end.get("viol", []):
        v.findings.append(Finding("violation", -1, msg))
        return v
    return v
