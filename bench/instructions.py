"""Deterministic cost: instructions per operation, counted by cachegrind.

pyperf timings on a shared 2-core machine move by more than the one or two
percent a state-word check costs.  Instruction counts barely do: with a
fixed hash seed a whole run moves by a few tens of thousands of
instructions (one-off allocator and GC work).  Each operation runs N times
in a loop inside a function; the same loop with ``pass`` is counted too,
and the difference divided by N is the cost of one operation (interpreter
start-up and the loop itself cancel out, and the run-to-run movement
becomes a few instructions per operation; one operation is counted twice
to show it).

    python3 bench/instructions.py OUT.json NAME=PYTHON [NAME=PYTHON ...]

writes {"operations": [...], "counts": {NAME: {operation: instructions}}};

    python3 bench/instructions.py --markdown IN.json OUT.md

renders it as the tables the PEP cites.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile

__all__ = ["OPERATIONS", "WORKLOADS", "count", "markdown", "numbers", "main"]

LOOPS = 20_000

#: (name, setup, statement): unflagged operations first, then requests with
#: the new flags.  Setup and statement run inside one function, so names are
#: fast locals as in real code.
OPERATIONS: list[tuple[str, str, str]] = [
    ("memoryview(bytes).release()", "b = bytes(64)", "memoryview(b).release()"),
    ("memoryview(bytearray).release()", "b = bytearray(64)", "memoryview(b).release()"),
    ("memoryview(array).release()", "import array; a = array.array('B', bytes(64))",
     "memoryview(a).release()"),
    ("ba[3] = 1", "ba = bytearray(64)", "ba[3] = 1"),
    ("ba[3]", "ba = bytearray(64)", "ba[3]"),
    ("ba[8:24]", "ba = bytearray(64)", "ba[8:24]"),
    ("ba.find(b'z')", "ba = bytearray(64)", "ba.find(b'z')"),
    ("b''.join((ba,) * 4)", "ba = bytearray(64); t = (ba, ba, ba, ba)", "b''.join(t)"),
    ("ba == ba2", "ba = bytearray(64); ba2 = bytearray(64)", "ba == ba2"),
    ("ba.append(1); ba.pop()", "ba = bytearray(64)", "ba.append(1); ba.pop()"),
    ("ba += b'x'; del ba[-1]", "ba = bytearray(64)", "ba += b'x'; del ba[-1]"),
    ("bytes(ba)", "ba = bytearray(64)", "bytes(ba)"),
    ("ba.decode('latin-1')", "ba = bytearray(64)", "ba.decode('latin-1')"),
    ("a[3] = 1 (array)", "import array; a = array.array('B', bytes(64))", "a[3] = 1"),
    ("a[3] (array)", "import array; a = array.array('B', bytes(64))", "a[3]"),
    ("bytes.hex()", "b = bytes(64)", "b.hex()"),
    # requests with the new flags: only the patched interpreters grant them
    ("IMMUTABLE request (bytes)", "b = bytes(64); F = 0x400", "b.__buffer__(F).release()"),
    ("plain request (bytes)", "b = bytes(64); F = 0", "b.__buffer__(F).release()"),
    ("IMMUTABLE request (bytearray)", "b = bytearray(64); F = 0x400",
     "b.__buffer__(F).release()"),
    ("plain request (bytearray)", "b = bytearray(64); F = 0", "b.__buffer__(F).release()"),
]

FLAGGED = {"IMMUTABLE request (bytes)", "IMMUTABLE request (bytearray)"}

_WORKLOAD = "workload: "

#: Small programs in the style of the pyperformance subset of
#: `make bench-pyperformance` (not its code): whether whole workloads that
#: move bytes around run more instructions, which timings on this machine
#: cannot settle.  Reported in their own table, outside the geometric mean
#: of single operations.
WORKLOADS: list[tuple[str, str, str]] = [
    ("workload: pickle.dumps", "import pickle; o = [{'a': i, 'b': b'xy' * 8, 'c': 'text'} "
     "for i in range(10)]", "pickle.dumps(o, 4)"),
    ("workload: pickle.loads", "import pickle; d = pickle.dumps([{'a': i, 'b': b'xy' * 8, "
     "'c': 'text'} for i in range(10)], 4)", "pickle.loads(d)"),
    ("workload: json.dumps", "import json; o = {'k%d' % i: [i, 'v' * i, None] for i in range(10)}",
     "json.dumps(o)"),
    ("workload: json.loads", "import json; d = json.dumps({'k%d' % i: [i, 'v' * i, None] "
     "for i in range(10)})", "json.loads(d)"),
    ("workload: re.findall over bytes", "import re; r = re.compile(rb'[a-z]+[0-9]'); "
     "t = b'abc1 def2 ghi3 ' * 8", "r.findall(t)"),
    ("workload: io.BytesIO write/getvalue", "import io", "f = io.BytesIO(); f.write(b'x' * 64); "
     "f.write(bytearray(64)); f.getvalue()"),
    ("workload: unpack_sequence", "t = tuple(range(10))", "a, b, c, d, e, f, g, h, i, j = t"),
]
_LONG_WORKLOADS = {op for op, _, _ in WORKLOADS} - {"workload: unpack_sequence"}

#: What an immutable request costs over a plain one on the same (patched)
#: interpreter: (kind, flagged operation, plain operation).
_REQUEST_PAIRS = [
    ("bytes", "IMMUTABLE request (bytes)", "plain request (bytes)"),
    ("bytearray", "IMMUTABLE request (bytearray)", "plain request (bytearray)"),
]

_TEMPLATE = """\
def run():
    {setup}
    for _ in range({loops}):
        {stmt}
run()
"""

_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


#: Where the critical sections' instructions are counted: the lock that
#: every bytearray and array operation takes on the free-threaded build
#: (CPython 3.14 takes the same ones; unpatched 3.13.15 takes none), inlined
#: from these files, plus the byte-sized atomics that only PyMutex uses.
_LOCK_FILES = ("/pycore_critical_section.h", "/cpython/lock.h", "/pycore_lock.h",
               "/Python/critical_section.c", "/Python/lock.c")
_LOCK_ATOMICS = re.compile(r"^(_Py_atomic_\w+_uint8)\(")


def _atomic_uint8_lines(path: str) -> set[int]:
    """Lines of pyatomic_gcc.h inside the uint8 atomics (PyMutex's)."""
    lines, inside = set(), False
    with open(path) as f:
        for number, text in enumerate(f, 1):
            if text.startswith("_Py_atomic_"):
                inside = bool(_LOCK_ATOMICS.match(text))
            if inside:
                lines.add(number)
    return lines


def _lock_share(outfile: str) -> int:
    """Instructions a cachegrind output file attributes to locking."""
    names: dict[str, str] = {}
    current, total, atomics = "", 0, {}
    with open(outfile) as f:
        for line in f:
            if line[:3] in ("fl=", "fi=", "fe="):
                ref = line[3:].strip()
                if ref.startswith("("):
                    key, _, name = ref.partition(")")
                    if name.strip():
                        names[key] = name.strip()
                    ref = names.get(key, "")
                current = ref
                if current.endswith("/pyatomic_gcc.h") and current not in atomics:
                    atomics[current] = (_atomic_uint8_lines(current)
                                        if os.path.exists(current) else set())
            elif line[:1].isdigit():
                number, _, cost = line.partition(" ")
                if current.endswith(_LOCK_FILES) or int(number) in atomics.get(current, ()):
                    total += int(cost.split()[0])
    return total


def _instructions(python: str, source: str, locks: bool = False) -> tuple[int, int]:
    """Instructions cachegrind counts for one run of `source`, and (with
    `locks`) how many of them are locking."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    out = f.name + ".cg"
    try:
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no",
             f"--cachegrind-out-file={out if locks else '/dev/null'}",
             python, "-I", "-S", f.name],
            env=env, capture_output=True, text=True, check=False)
        match = _IREFS.search(proc.stderr)
        if proc.returncode != 0 or match is None:
            raise RuntimeError(f"{python}: cachegrind failed:\n{proc.stderr[-2000:]}")
        return (int(match.group(1).replace(",", "")),
                _lock_share(out) if locks else 0)
    finally:
        os.unlink(f.name)
        if os.path.exists(out):
            os.unlink(out)


def count(python: str, setup: str, stmt: str, loops: int = LOOPS,
          locks: bool = False) -> tuple[float, float]:
    """Instructions of one `stmt`, net of the same loop running `pass`, and
    (with `locks`) how many of them are locking."""
    full = _instructions(python, _TEMPLATE.format(setup=setup, stmt=stmt, loops=loops), locks)
    empty = _instructions(python, _TEMPLATE.format(setup=setup, stmt="pass", loops=loops), locks)
    return (full[0] - empty[0]) / loops, (full[1] - empty[1]) / loops


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _net_of_locking(locking: dict, base: str, patched: str, op: str,
                    b: float, p: float) -> float | None:
    """patched / base with the critical sections' instructions taken out
    of both (None when they were not counted)."""
    lb, lp = locking.get(base, {}).get(op), locking.get(patched, {}).get(op)
    if lb is None or lp is None:
        return None
    return (p - lp) / (b - lb)


def numbers(counts: dict[str, dict[str, float | None]], flagged: set[str],
            locking: dict | None = None) -> dict[str, str]:
    """The citable numbers, by key (tools/check_pep_numbers.py resolves
    them): per operation and build pair the ratio, and the geometric mean
    of the unflagged ratios."""
    out: dict[str, str] = {}
    for base, patched, build in (("baseline", "patched", "gil"),
                                 ("baseline-ft", "patched-ft", "ft")):
        if base not in counts or patched not in counts:
            continue
        ratios, net, workloads = [], [], []
        unflagged: list[str] = []
        for op, b in counts[base].items():
            p = counts[patched].get(op)
            if b is None or p is None or b <= 0:
                continue
            out[f"instructions/{build}/{op}"] = f"{p / b:.3f}×"
            out[f"instructions/{build}/{op}/count"] = f"{b:.0f} → {p:.0f}"
            r = _net_of_locking(locking or {}, base, patched, op, b, p)
            if r is not None:
                out[f"instructions/{build}/{op}/net-of-locking"] = f"{r:.3f}×"
            if op.startswith(_WORKLOAD):
                workloads.append(p / b)
            elif op not in flagged:
                ratios.append(p / b)
                unflagged.append(op)
                if r is not None:
                    net.append(r)
        if workloads:
            out[f"instructions/{build}/workloads/geomean"] = f"{_geomean(workloads):.3f}×"
            out[f"instructions/{build}/workloads/max"] = f"{max(workloads):.3f}×"
        if ratios:
            out[f"instructions/{build}/geomean"] = f"{_geomean(ratios):.3f}×"
            out[f"instructions/{build}/max"] = f"{max(ratios):.3f}×"
            # Rows whose change is not the price of the flags pull the mean
            # down: decode() reads the contents directly now (0006) and
            # memoryview() is constructed through vectorcall (0024).  The PEP
            # cites the mean without them, and over bytearray/array alone.
            kept = [(op, r) for op, r in zip(unflagged, ratios)
                    if "decode" not in op and not op.startswith("memoryview(")]
            out[f"instructions/{build}/geomean/flags-cost"] = (
                f"{_geomean([r for _, r in kept]):.3f}×")
            own = [r for op, r in kept if "ba" in op or "array" in op]
            out[f"instructions/{build}/geomean/bytearray-array"] = f"{_geomean(own):.3f}×"
        if net and len(net) == len(ratios):
            out[f"instructions/{build}/geomean/net-of-locking"] = f"{_geomean(net):.3f}×"
            out[f"instructions/{build}/max/net-of-locking"] = f"{max(net):.3f}×"
        for kind, flagged_op, plain_op in _REQUEST_PAIRS:
            f, p = counts[patched].get(flagged_op), counts[patched].get(plain_op)
            if f is not None and p:
                out[f"instructions/{build}/immutable-vs-plain/{kind}"] = f"{f / p:.3f}×"
    return out


def markdown(data: dict) -> str:
    """The tables bench/results/instructions.md holds: each build pair
    (baseline vs patched, GIL and free-threaded) side by side, per
    operation, with the geometric mean of the unflagged ratios."""
    counts = data["counts"]
    lines = [
        "# Instructions per operation (cachegrind)",
        "",
        f"`valgrind --tool=cachegrind --cache-sim=no`, `PYTHONHASHSEED=0`, each statement "
        f"{data['loops']:,} times in a loop inside a function, minus the same loop running "
        "`pass`; written by `bench/instructions.py` (`make bench`, group `instructions`). "
    ]
    rep = data.get("repeat")
    if rep:
        pairs = "; ".join(f"{name} {a} and {b}" for name, (a, b) in rep["counts"].items())
        lines[-1] += (f" Repeatability: `{rep['operation']}` counted twice on each interpreter "
                      f"in this run: {pairs}.")
    for base, patched, title in (("baseline", "patched", "GIL build"),
                                 ("baseline-ft", "patched-ft", "free-threaded build")):
        if base not in counts or patched not in counts:
            continue
        locking = data.get("locking", {})
        split = base in locking and patched in locking
        head = f"| operation | {base} | {patched} | ratio |"
        rule = "|---|---|---|---|"
        if split:
            head += " of which critical sections | ratio net of critical sections |"
            rule += "---|---|"
        lines += ["", f"## {title}: {base} vs {patched}", "", head, rule]
        ratios, net = [], []
        for op in data["operations"]:
            b, p = counts[base].get(op), counts[patched].get(op)
            if b is None or p is None:
                continue
            r = p / b if b > 0 else float("nan")
            row = f"| `{op}` | {b:.1f} | {p:.1f} | {r:.3f} |"
            n = _net_of_locking(locking, base, patched, op, b, p) if split else None
            if split:
                row += (f" {locking[base][op]:.1f} / {locking[patched][op]:.1f} | "
                        f"{n:.3f} |")
            if op not in data["flagged"] and b > 0:
                ratios.append(r)
                if n is not None:
                    net.append(n)
            lines.append(row)
        total = (f"| **geometric mean, {len(ratios)} unflagged operations** | | | "
                 f"**{_geomean(ratios):.3f}** |")
        if split:
            total += f" | **{_geomean(net):.3f}** |"
        lines.append(total)
        if split:
            lines += ["", "Critical sections: the instructions inlined from "
                      "`pycore_critical_section.h`, `cpython/lock.h` and `pycore_lock.h`, run in "
                      "`Python/critical_section.c` and `Python/lock.c`, and the byte-sized atomics "
                      "only `PyMutex` uses. CPython 3.14 takes the same critical sections around "
                      "`bytearray` and `array` operations; unpatched 3.13.15 takes none."]
        rows = [(op, counts[base].get(op), counts[patched].get(op))
                for op in data.get("workloads", [])]
        rows = [(op, b, p) for op, b, p in rows if b and p is not None]
        if rows:
            lines += ["", f"Workloads in the style of the pyperformance subset, {base} vs {patched}:",
                      "", f"| workload | {base} | {patched} | ratio |", "|---|---|---|---|"]
            lines += [f"| `{op[len(_WORKLOAD):]}` | {b:.1f} | {p:.1f} | {p / b:.3f} |"
                      for op, b, p in rows]
            lines.append(f"| **geometric mean, {len(rows)} workloads** | | | "
                         f"**{_geomean([p / b for _, b, p in rows]):.3f}** |")
        pairs = [(kind, counts[patched].get(f), counts[patched].get(p))
                 for kind, f, p in _REQUEST_PAIRS]
        pairs = [(kind, f, p) for kind, f, p in pairs if f is not None and p]
        if pairs:
            lines += ["", f"An immutable request against a plain one on {patched}: "
                      + "; ".join(f"{kind} {f:.1f} / {p:.1f} = {f / p:.3f}"
                                  for kind, f, p in pairs) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "--markdown":
        with open(argv[2]) as f:
            data = json.load(f)
        with open(argv[3], "w") as f:
            f.write(markdown(data))
        return 0
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, pairs = argv[1], [a.split("=", 1) for a in argv[2:]]
    counts: dict[str, dict[str, float]] = {}
    locking: dict[str, dict[str, float]] = {}
    for name, python in pairs:
        counts[name] = {}
        for op, setup, stmt in OPERATIONS + WORKLOADS:
            try:
                # A run's count moves by some 50,000 instructions from run
                # to run (one-off allocator and GC work), so each statement
                # loops LOOPS times; a workload of tens of thousands of
                # instructions needs a tenth of that.
                loops = LOOPS // 10 if op in _LONG_WORKLOADS else LOOPS
                total, lock = count(python, setup, stmt, loops, locks=name.endswith("-ft"))
                counts[name][op] = round(total, 1)
                if name.endswith("-ft"):
                    locking.setdefault(name, {})[op] = round(lock, 1)
            except RuntimeError as e:
                # an interpreter without the flags refuses the flagged request
                if op not in FLAGGED:
                    raise
                counts[name][op] = None
                print(f"{name}: {op}: not available ({str(e).splitlines()[-1]})",
                      file=sys.stderr)
            print(f"{name:12} {op:36} {counts[name][op]}", file=sys.stderr)
    # The claim "deterministic" is measured, not assumed: every interpreter
    # counts one operation a second time.
    op, setup, stmt = OPERATIONS[3]
    repeat = {"operation": op,
              "counts": {name: [counts[name][op], round(count(python, setup, stmt)[0], 1)]
                         for name, python in pairs}}
    with open(out, "w") as f:
        json.dump({"loops": LOOPS, "hash_seed": 0, "repeat": repeat,
                   "numbers": numbers(counts, FLAGGED, locking),
                   "operations": [op for op, _, _ in OPERATIONS],
                   "workloads": [op for op, _, _ in WORKLOADS],
                   "flagged": sorted(FLAGGED), "counts": counts,
                   "locking": locking}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
