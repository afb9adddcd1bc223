"""CLI: ``python -m tools.fuzz --differential|--flags [options]`` from the repo root.

Exit status 1 if any finding (crash, unexplained difference, §3 violation)
was not classified as already known in issue 19 (``--strict``: if any).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from tools.fuzz.driver import ROOT, find_interpreters, fuzz
from tools.fuzz.generator import generate
from tools.fuzz.runner import Interpreter

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--differential", action="store_true", help="baseline vs patched, no flags requested")
    mode.add_argument("--flags", action="store_true", help="views with the new flags, §3 invariants")
    ap.add_argument("--show", type=int, metavar="SEED", help="print the program of SEED and exit")
    ap.add_argument("--ft", action="store_true", help="the free-threaded builds (baseline-ft/patched-ft)")
    ap.add_argument("--python", help="--flags: this interpreter (default build/cpython/patched)")
    ap.add_argument("--shim", action="store_true", help="--flags on a stock venv: LockingBytearray objects")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("-n", "--count", type=int, default=100, help="number of programs")
    ap.add_argument("--seconds", type=float, default=None, help="stop starting programs after this long")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--no-minimise", action="store_true")
    ap.add_argument("--messages", action="store_true", help="compare exception messages too")
    ap.add_argument("--inject", choices=["find", "crash"], help="self-test: plant a difference in the patched run")
    ap.add_argument("--strict", action="store_true", help="fail on known issue-19 findings too")
    ap.add_argument("--allowlist", action="store_true", help="print the documented differences and exit")
    ap.add_argument("--replay", metavar="FILE", help="run one program file (one statement a line) and print findings")
    args = ap.parse_args(argv)

    if args.allowlist:
        from tools.fuzz.allowlist import ALLOWED, EXC_EQUIVALENT
        for (b, p), why in EXC_EQUIVALENT.items():
            print("%s == %s: %s" % (b, p, why))
        for entry in ALLOWED:
            print("%s: %s" % (entry.id, entry.reference))
        return 0
    if args.show is not None:
        print(generate(args.show, flags=args.flags, shim=args.shim).source(), end="")
        return 0
    if not (args.differential or args.flags):
        ap.error("one of --differential, --flags, --show is required")
    builds = find_interpreters()
    sfx = "-ft" if args.ft else ""
    if args.flags:
        if args.python:
            interps = [Interpreter("custom", os.path.abspath(args.python), None if args.shim else os.path.join(ROOT, "shim"))]
        else:
            interps = [builds["patched" + sfx]]
    else:
        missing = [n for n in ("baseline" + sfx, "patched" + sfx) if n not in builds]
        if missing:
            print("fuzz: missing %s under build/cpython (cpython-patch/build.sh)" % missing, file=sys.stderr)
            return 2
        interps = [builds["baseline" + sfx], builds["patched" + sfx]]
    if args.inject:
        last = interps[-1]
        interps[-1] = Interpreter(last.name + "+inject", last.path, last.shim_path, ("--inject", args.inject))
    if args.replay:
        from tools.fuzz.driver import check
        with open(args.replay, encoding="utf-8") as f:
            lines = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
        v = check(lines, interps, args.flags, args.messages)
        for f_ in v.findings:
            print("%s: %s" % (f_.kind, f_.detail))
        print("allowed: %s" % v.allowed if v.allowed else ("no findings" if not v.findings else ""))
        return 1 if v.findings else 0

    deadline = time.monotonic() + args.seconds if args.seconds else None
    print("fuzz: %s on %s, seeds %d..%d" % ("flags" if args.flags else "differential",
                                           " vs ".join(i.path for i in interps), args.seed, args.seed + args.count - 1))
    rep = fuzz(range(args.seed, args.seed + args.count), interps, flags=args.flags, shim=args.shim,
               deadline=deadline, jobs=args.jobs, do_minimise=not args.no_minimise, messages=args.messages,
               log=lambda s: print(s, flush=True))
    print("\n=== findings")
    for r in rep.results:
        if not r.known.endswith("(again)"):
            print(r.render())
    print("fuzz:", rep.summary())
    bad = [r for r in rep.results if args.strict or r.known.startswith("new")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
