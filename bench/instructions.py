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

    python3 bench/instructions.py [--only REGEX] [--loops N] OUT.json NAME=PYTHON [NAME=PYTHON ...]

writes {"operations": [...], "counts": {NAME: {operation: instructions}}}
(None: the interpreter refused that flagged request);

    python3 bench/instructions.py --markdown IN.json OUT.md

renders it as the tables the PEP cites.  The names that matter are
baseline, patched, baseline-ft, patched-ft and patched-immutable (the series
up to Part 1, GIL): with patched-immutable counted, the GIL table and the
numbers split the series' price into Part 1 and Part 2 (STEPS).  --only and
--loops make a quick check of a few operations (e.g. of the rendering), not
a result to cite.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

__all__ = ["OPERATIONS", "WORKLOADS", "STEPS", "count", "markdown", "numbers", "main"]

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
    # Part 2's flag: the series up to Part 1 (patched-immutable) refuses it,
    # an unpatched interpreter ignores the bit and grants a plain request
    ("EXCLUSIVE request (bytearray)", "b = bytearray(64); F = 0x800",
     "b.__buffer__(F).release()"),
]

#: Requests carrying PyBUF_EXCLUSIVE (Part 2): refused on patched-immutable.
EXCLUSIVE_REQUESTS = {"EXCLUSIVE request (bytearray)"}

#: Requests with a new flag: out of every geometric mean (they measure the
#: flags' own service, not a price paid by code that does not use them),
#: and allowed to be refused (counted as None).
FLAGGED = {"IMMUTABLE request (bytes)", "IMMUTABLE request (bytearray)"} | EXCLUSIVE_REQUESTS

#: How a refused request shows in tables and in numbers.json.
REFUSED = "refused / n/a"

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
#: The same for Part 2's flag (the EXCLUSIVE requests).
_EXCLUSIVE_PAIRS = [
    ("bytearray", "EXCLUSIVE request (bytearray)", "plain request (bytearray)"),
]

#: The interpreter of the series up to Part 1 (GIL only): IMMUTABLE and the
#: reader/writer locking, without EXCLUSIVE.
PART1 = "patched-immutable"

#: The build pairs compared, as (base, changed, key in numbers.json).  "gil"
#: and "ft" price the whole series.  When PART1 was counted, the GIL price
#: splits into two steps whose ratios multiply to "gil" (row by row, and so
#: for the geometric means): "gil-immutable" is what Part 1 costs, and
#: "gil-exclusive" what Part 2 (EXCLUSIVE: the own-read checks and the
#: exclusive mode) adds on top of it, which is what a reader of the PEP needs
#: to weigh Part 2 separately.
STEPS: list[tuple[str, str, str]] = [
    ("baseline", "patched", "gil"),
    ("baseline", PART1, "gil-immutable"),
    (PART1, "patched", "gil-exclusive"),
    ("baseline-ft", "patched-ft", "ft"),
]

#: Column titles of the split GIL table, by step key.
_STEP_TITLES = {
    "gil-immutable": f"Part 1: {PART1} / baseline",
    "gil-exclusive": f"Part 2: patched / {PART1}",
    "gil": "both: patched / baseline",
}

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


def _is_flags_price(op: str) -> bool:
    """Whether an unflagged row's change is the price of the flags: decode()
    reads the contents directly now (0006) and memoryview() is constructed
    through vectorcall (0024), changes that pull the mean down without
    being part of what the flags cost; the PEP cites the mean without them."""
    return "decode" not in op and not op.startswith("memoryview(")


def _is_bytearray_or_array(op: str) -> bool:
    """Whether a row works on a bytearray or an array, the types the series locks."""
    return "ba" in op or "array" in op


def _fmt_count(value: float | None) -> str:
    return REFUSED if value is None else f"{value:.0f}"


def _request_ratios(counts: dict, interpreter: str,
                    pairs: list[tuple[str, str, str]]) -> list[tuple[str, float, float]]:
    """(kind, flagged count, plain count) of each request pair that
    `interpreter` granted: what a flag costs over a plain request."""
    own = counts.get(interpreter, {})
    rows = [(kind, own.get(f), own.get(p)) for kind, f, p in pairs]
    return [(kind, f, p) for kind, f, p in rows if f is not None and p]


def numbers(counts: dict[str, dict[str, float | None]], flagged: set[str],
            locking: dict | None = None) -> dict[str, str]:
    """The citable numbers, by key (tools/check_pep_numbers.py resolves
    them): per operation and build pair (STEPS) the ratio, and the
    geometric mean of the unflagged ratios."""
    out: dict[str, str] = {}
    for base, patched, build in STEPS:
        if base in counts and patched in counts:
            out.update(_step_numbers(counts, base, patched, build, flagged, locking or {}))
    return out


def _step_numbers(counts: dict[str, dict[str, float | None]], base: str, patched: str,
                  build: str, flagged: set[str], locking: dict) -> dict[str, str]:
    """numbers() of one build pair: `patched` against `base`."""
    out: dict[str, str] = {}
    ratios, net, workloads = [], [], []
    unflagged: list[str] = []
    for op, b in counts[base].items():
        if op not in counts[patched]:
            continue
        p = counts[patched][op]
        if b is None or p is None:
            # a request one side refuses (EXCLUSIVE on patched-immutable)
            # has no price to state: say so rather than leave a gap
            out[f"instructions/{build}/{op}"] = REFUSED
            out[f"instructions/{build}/{op}/count"] = f"{_fmt_count(b)} → {_fmt_count(p)}"
            continue
        if b <= 0:
            continue
        out[f"instructions/{build}/{op}"] = f"{p / b:.3f}×"
        out[f"instructions/{build}/{op}/count"] = f"{b:.0f} → {p:.0f}"
        r = _net_of_locking(locking, base, patched, op, b, p)
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
        kept = [(op, r) for op, r in zip(unflagged, ratios) if _is_flags_price(op)]
        out[f"instructions/{build}/geomean/flags-cost"] = (
            f"{_geomean([r for _, r in kept]):.3f}×")
        own = [r for op, r in kept if _is_bytearray_or_array(op)]
        out[f"instructions/{build}/geomean/bytearray-array"] = f"{_geomean(own):.3f}×"
    if net and len(net) == len(ratios):
        out[f"instructions/{build}/geomean/net-of-locking"] = f"{_geomean(net):.3f}×"
        out[f"instructions/{build}/max/net-of-locking"] = f"{max(net):.3f}×"
    if base.startswith("baseline"):
        # What a flag costs over a plain request is the changed
        # interpreter's own: the Part 2 step would repeat patched's.
        for kind, f, p in _request_ratios(counts, patched, _REQUEST_PAIRS):
            out[f"instructions/{build}/immutable-vs-plain/{kind}"] = f"{f / p:.3f}×"
        for kind, f, p in _request_ratios(counts, patched, _EXCLUSIVE_PAIRS):
            out[f"instructions/{build}/exclusive-vs-plain/{kind}"] = f"{f / p:.3f}×"
    return out


def _title(data: dict) -> list[str]:
    """The file's heading and method paragraph, with the run's repeat."""
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
    if data.get("only"):
        lines[-1] += f" Only the operations matching `{data['only']}` were counted."
    return lines


def _pair_section(data: dict, base: str, patched: str, title: str) -> list[str]:
    """One build pair side by side, per operation, with the geometric mean
    of the unflagged ratios (and, when counted, net of critical sections)."""
    counts = data["counts"]
    locking = data.get("locking", {})
    split = base in locking and patched in locking
    head = f"| operation | {base} | {patched} | ratio |"
    rule = "|---|---|---|---|"
    if split:
        head += " of which critical sections | ratio net of critical sections |"
        rule += "---|---|"
    lines = ["", f"## {title}: {base} vs {patched}", "", head, rule]
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
    pairs = _request_ratios(counts, patched, _REQUEST_PAIRS)
    if pairs:
        lines += ["", f"An immutable request against a plain one on {patched}: "
                  + "; ".join(f"{kind} {f:.1f} / {p:.1f} = {f / p:.3f}"
                              for kind, f, p in pairs) + "."]
    return lines


# ------------------------------------------------- the Part 1 / Part 2 split

#: The interpreters of the split GIL table, in series order.
_SPLIT = ("baseline", PART1, "patched")


def _step_ratio(counts: dict, step: str, op: str) -> float | None:
    """The ratio of one operation in one step, None when a side refused it."""
    base, changed = {key: (b, c) for b, c, key in STEPS}[step]
    b, c = counts[base].get(op), counts[changed].get(op)
    if b is None or c is None or b <= 0:
        return None
    return c / b


def _split_cells(counts: dict, op: str) -> list[str]:
    """The count columns and the three step ratios of one row."""
    cells = [REFUSED if counts[name].get(op) is None else f"{counts[name][op]:.1f}"
             for name in _SPLIT]
    for step in _STEP_TITLES:
        r = _step_ratio(counts, step, op)
        cells.append(REFUSED if r is None else f"{r:.3f}")
    return cells


def _split_means(counts: dict, ops: list[str], label: str) -> str:
    """A bold row of each step's geometric mean over `ops` (unflagged, so
    counted on all three interpreters)."""
    means = [_geomean([_step_ratio(counts, step, op) for op in ops]) for step in _STEP_TITLES]
    return (f"| **{label}** | | | | "
            + " | ".join(f"**{m:.3f}**" for m in means) + " |")


def _counted_everywhere(counts: dict, ops: list[str]) -> list[str]:
    """The operations of `ops` all three interpreters of the split counted."""
    return [op for op in ops if all(counts[name].get(op) is not None for name in _SPLIT)
            and counts["baseline"][op] > 0 and counts[PART1][op] > 0]


def _largest_part2(counts: dict, ops: list[str], top: int = 5) -> list[tuple[str, float, float]]:
    """The `top` operations Part 2 makes dearest: (operation, ratio,
    instructions added), by ratio; only those it makes dearer at all."""
    rows = [(op, counts["patched"][op] / counts[PART1][op],
             counts["patched"][op] - counts[PART1][op])
            for op in _counted_everywhere(counts, ops)]
    dearer = [row for row in rows if row[1] > 1]
    return sorted(dearer, key=lambda row: row[1], reverse=True)[:top]


def _split_section(data: dict) -> list[str]:
    """The GIL build as the series' two parts: baseline → patched-immutable
    is the price of Part 1, patched-immutable → patched that of Part 2, and
    baseline → patched both; a request patched-immutable refuses
    (EXCLUSIVE) has no Part 1 or Part 2 price and says so."""
    counts, flagged = data["counts"], set(data["flagged"])
    head = "| operation | " + " | ".join(_SPLIT) + " | " + " | ".join(_STEP_TITLES.values()) + " |"
    lines = ["", f"## GIL build: baseline vs {PART1} (Part 1) vs patched (Parts 1 and 2)", "",
             f"`{PART1}` is the series up to Part 1 (`PyBUF_IMMUTABLE` and the reader/writer "
             "locking); `patched` adds Part 2 (`PyBUF_EXCLUSIVE`: the exclusive mode and the "
             "checks that refuse an object's own reads under it). Each step's ratio is its "
             "interpreter's count over the previous one's, so Part 1 × Part 2 = both, row by row "
             f"and for the geometric means. `{REFUSED}`: the interpreter refuses the request "
             f"(`{PART1}` fails closed on `PyBUF_EXCLUSIVE`).",
             "", head, "|---" * (1 + len(_SPLIT) + len(_STEP_TITLES)) + "|"]
    lines += [f"| `{op}` | " + " | ".join(_split_cells(counts, op)) + " |"
              for op in data["operations"] if all(op in counts[name] for name in _SPLIT)]
    unflagged = _counted_everywhere(
        counts, [op for op in data["operations"] if op not in flagged])
    if unflagged:
        price = [op for op in unflagged if _is_flags_price(op)]
        own = [op for op in price if _is_bytearray_or_array(op)]
        lines.append(_split_means(counts, unflagged,
                                  f"geometric mean, {len(unflagged)} unflagged operations"))
        if price:
            lines.append(_split_means(
                counts, price, f"geometric mean, {len(price)} operations whose change is the "
                "flags' price (without `decode` and `memoryview()`: key `geomean/flags-cost`)"))
        if own:
            lines.append(_split_means(
                counts, own, f"geometric mean, the {len(own)} `bytearray` and `array` ones "
                "among them (key `geomean/bytearray-array`)"))
    lines += _split_workloads(data)
    lines += _split_requests(counts)
    dearest = _largest_part2(counts, data["operations"])
    if dearest:
        lines += ["", f"Part 2's largest costs per operation (patched / {PART1}, instructions "
                  "added): " + "; ".join(f"`{op}` {r:.3f} ({d:+.1f})" for op, r, d in dearest)
                  + "."]
    return lines


def _split_workloads(data: dict) -> list[str]:
    """The workloads table of the split GIL build."""
    counts = data["counts"]
    ops = _counted_everywhere(counts, [op for op in data.get("workloads", [])
                                       if all(op in counts[name] for name in _SPLIT)])
    if not ops:
        return []
    head = "| workload | " + " | ".join(_SPLIT) + " | " + " | ".join(_STEP_TITLES.values()) + " |"
    lines = ["", "Workloads in the style of the pyperformance subset, GIL build:", "", head,
             "|---" * (1 + len(_SPLIT) + len(_STEP_TITLES)) + "|"]
    lines += [f"| `{op[len(_WORKLOAD):]}` | " + " | ".join(_split_cells(counts, op)) + " |"
              for op in ops]
    lines.append(_split_means(counts, ops, f"geometric mean, {len(ops)} workloads"))
    return lines


def _split_requests(counts: dict) -> list[str]:
    """What each flag costs over a plain request on the interpreters that grant it."""
    lines = []
    for flag, pairs in (("immutable", _REQUEST_PAIRS), ("exclusive", _EXCLUSIVE_PAIRS)):
        said = []
        for name in (PART1, "patched"):
            granted = _request_ratios(counts, name, pairs)
            if granted:
                said.append(f"on {name}, " + ", ".join(
                    f"{kind} {f:.1f} / {p:.1f} = {f / p:.3f}" for kind, f, p in granted))
            elif any(counts[name].get(f, 0) is None for _, f, _ in pairs):
                said.append(f"on {name}, {REFUSED}")
        if said:
            lines += ["", f"An {flag} request against a plain one: " + "; ".join(said) + "."]
    return lines


def markdown(data: dict) -> str:
    """The tables bench/results/instructions.md holds: each build pair
    (baseline vs patched, GIL and free-threaded) side by side, per
    operation, with the geometric mean of the unflagged ratios; when
    patched-immutable was counted, the GIL build as Part 1 and Part 2."""
    counts = data["counts"]
    lines = _title(data)
    if all(name in counts for name in _SPLIT):
        lines += _split_section(data)
    elif "baseline" in counts and "patched" in counts:
        lines += _pair_section(data, "baseline", "patched", "GIL build")
    if "baseline-ft" in counts and "patched-ft" in counts:
        lines += _pair_section(data, "baseline-ft", "patched-ft", "free-threaded build")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------- counting

def _selected(only: str | None) -> list[tuple[str, str, str]]:
    """The operations and workloads a run counts (all, or those matching --only)."""
    chosen = OPERATIONS + WORKLOADS
    if only:
        chosen = [row for row in chosen if re.search(only, row[0])]
    return chosen


def _python_error(report: str) -> str:
    """The line of a failed run that says why (the exception, not valgrind's
    summary that ends its output)."""
    lines = [line for line in report.splitlines() if line and not line.startswith("==")]
    return lines[-1] if lines else report.strip()


def _count_interpreter(name: str, python: str, chosen: list[tuple[str, str, str]],
                       loops: int) -> tuple[dict[str, float | None], dict[str, float]]:
    """Counts (and, on a free-threaded interpreter, locking) of one
    interpreter; a flagged request it refuses is counted as None."""
    counts: dict[str, float | None] = {}
    locking: dict[str, float] = {}
    free_threaded = name.endswith("-ft")
    for op, setup, stmt in chosen:
        try:
            # A run's count moves by some 50,000 instructions from run
            # to run (one-off allocator and GC work), so each statement
            # loops `loops` times; a workload of tens of thousands of
            # instructions needs a tenth of that.
            n = max(1, loops // 10) if op in _LONG_WORKLOADS else loops
            total, lock = count(python, setup, stmt, n, locks=free_threaded)
            counts[op] = round(total, 1)
            if free_threaded:
                locking[op] = round(lock, 1)
        except RuntimeError as e:
            # an interpreter without the flags refuses the flagged request
            if op not in FLAGGED:
                raise
            counts[op] = None
            print(f"{name}: {op}: not available ({_python_error(str(e))})", file=sys.stderr)
        print(f"{name:12} {op:36} {counts[op]}", file=sys.stderr)
    if name == PART1:
        granted = sorted(op for op in EXCLUSIVE_REQUESTS if counts.get(op) is not None)
        if granted:
            print(f"{name}: WARNING: granted {', '.join(granted)}; the series up to Part 1 "
                  "must refuse PyBUF_EXCLUSIVE (is this interpreter the whole series?)",
                  file=sys.stderr)
    return counts, locking


def _repeat(pairs: list[tuple[str, str]], chosen: list[tuple[str, str, str]],
            counts: dict, loops: int) -> dict:
    """The claim "deterministic" is measured, not assumed: every
    interpreter counts one operation (`ba[3] = 1` unless --only left it
    out) a second time."""
    default = OPERATIONS[3]
    op, setup, stmt = default if default in chosen else chosen[0]
    return {"operation": op,
            "counts": {name: [counts[name][op],
                              round(count(python, setup, stmt, loops)[0], 1)]
                       for name, python in pairs}}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="instructions.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the JSON file to write")
    parser.add_argument("interpreters", nargs="+", metavar="NAME=PYTHON")
    parser.add_argument("--only", metavar="REGEX",
                        help="count only the operations and workloads whose name matches "
                             "(re.search); a quick check, not a result to cite")
    parser.add_argument("--loops", type=int, default=LOOPS,
                        help=f"times each statement runs (default {LOOPS:,}; fewer loops "
                             "let the run-to-run movement show in the counts)")
    args = parser.parse_args(argv)
    for spec in args.interpreters:
        if "=" not in spec:
            parser.error(f"{spec!r} is not NAME=PYTHON")
    return args


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
    args = _parse(argv[1:])
    pairs = [tuple(a.split("=", 1)) for a in args.interpreters]
    chosen = _selected(args.only)
    if not chosen:
        print(f"instructions.py: --only {args.only!r} matches no operation", file=sys.stderr)
        return 2
    counts: dict[str, dict[str, float | None]] = {}
    locking: dict[str, dict[str, float]] = {}
    for name, python in pairs:
        counts[name], own_locking = _count_interpreter(name, python, chosen, args.loops)
        if own_locking:
            locking[name] = own_locking
    names = {op for op, _, _ in chosen}
    data = {"loops": args.loops, "hash_seed": 0,
            "repeat": _repeat(pairs, chosen, counts, args.loops),
            "numbers": numbers(counts, FLAGGED, locking),
            "operations": [op for op, _, _ in OPERATIONS if op in names],
            "workloads": [op for op, _, _ in WORKLOADS if op in names],
            "flagged": sorted(FLAGGED), "counts": counts,
            "locking": locking}
    if args.only:
        data["only"] = args.only
    with open(args.out, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
