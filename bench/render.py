"""Render bench/results/*.json into tables: bench/results/summary.md and the
generated blocks of pep-draft.md (between <!-- generated:NAME --> and
<!-- /generated:NAME --> comments).  Standard library only.

Every number the PEP's performance section cites is produced here, so the PEP
never carries a hand-typed number (tools/check_pep_numbers.py verifies it).
"""
from __future__ import annotations

import json
import math
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
PEP = os.path.join(ROOT, "pep-draft.md")
STOCK = ("3.11.7", "3.12.1", "3.13.0")

SIZES = ["64B", "256B", "1KiB", "4KiB", "16KiB", "64KiB", "1MiB", "16MiB", "64MiB"]
SIZE_BYTES = {"64B": 64, "256B": 256, "1KiB": 1 << 10, "4KiB": 4 << 10, "16KiB": 16 << 10,
              "64KiB": 64 << 10, "1MiB": 1 << 20, "16MiB": 16 << 20, "64MiB": 64 << 20}
MISSING = "n/m"   # not measured: see ENVIRONMENT.md


def load(name: str) -> dict[str, list[float]] | None:
    """{benchmark name: values (seconds)} from results/NAME.json, or None."""
    path = os.path.join(RESULTS, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        data = json.load(f)
    common = data.get("metadata", {})
    out = {}
    for bench in data["benchmarks"]:
        meta = bench.get("metadata", {})
        bname = meta.get("name") or common.get("name")
        values = [v for run in bench["runs"] for v in run.get("values", [])]
        if values:
            out[bname] = values
    return out


def mean(values):
    return statistics.fmean(values) if values else None


def fmt_time(sec: float | None) -> str:
    if sec is None:
        return MISSING
    for unit, scale in (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3)):
        if sec < scale * 1000:
            v = sec / scale
            return f"{v:.0f} {unit}" if v >= 100 else f"{v:.1f} {unit}" if v >= 10 else f"{v:.2f} {unit}"
    return f"{sec:.2f} s"


#: Every number the PEP may cite in prose, by key: written to
#: bench/results/numbers.json and resolved by tools/check_pep_numbers.py
#: (a number followed by <!--n:KEY--> must equal NUMBERS[KEY]).
NUMBERS: dict[str, str] = {}


def cite(key: str, text: str) -> str:
    """Record `text` under `key` and return it unchanged."""
    NUMBERS[key] = text
    return text


def fmt_ratio(r: float | None) -> str:
    return MISSING if r is None else f"{r:.2f}×"


def fmt_pct(r: float | None) -> str:
    return MISSING if r is None else f"{(r - 1) * 100:+.1f}%"


def ratio(a, b):
    if a is None or b is None:
        return None
    return a / b


def get(data, name):
    if data is None or name not in data:
        return None
    return mean(data[name])


def verdict(value, target, lower_is_better=True):
    if value is None:
        return "not measured"
    return "met" if value <= target else "**missed**"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- blocks

def block_acquire(base, pat, targets):
    out = []
    for tname, label in (("bytes", "`bytes`"),
                         ("locked", "locked bytearray (shim: `LockingBytearray`; native: `bytearray`)")):
        rows = []
        for size in SIZES:
            p = f"acquire/{tname}/{size}/"
            rows.append([size,
                         fmt_time(get(base, p + "memoryview")), fmt_time(get(base, p + "view")),
                         fmt_time(get(base, p + "copy")),
                         fmt_time(get(pat, p + "memoryview")), fmt_time(get(pat, p + "native")),
                         fmt_time(get(pat, p + "view")), fmt_time(get(pat, p + "copy"))])
        out.append(f"**{label}**, mean time per acquire+release (or per copy); "
                   "blank cells: the operation does not depend on the size and was timed at 64 B and 64 MiB only.\n")
        out.append(table(["size", "baseline `memoryview(x)`", "baseline shim `view(x, immutable=True)`",
                          "baseline `bytes(x)`", "patched `memoryview(x)`",
                          "patched native IMMUTABLE request", "patched `view(x, immutable=True)`",
                          "patched `bytes(x)`"],
                         [[c if c != MISSING or r[0] in ("64B", "64MiB") else "" for c in r]
                          for r in rows]))
        out.append("")
    # crossover: smallest size whose copy costs more than the (size-independent) view
    lines = []
    for tname in ("locked", "bytes"):
        for side, data, op, what in (("patched", pat, "native", "native IMMUTABLE request"),
                                     ("baseline", base, "view", "shim `view()`")):
            costs = [get(data, f"acquire/{tname}/{s}/{op}") for s in ("64B", "64MiB")]
            costs = [c for c in costs if c is not None]
            if not costs:
                lines.append(f"- {tname}, {side}: {what} not measured")
                targets[f"crossover/{tname}/{side}"] = None
                continue
            view_cost = max(costs)
            cross = next((s for s in SIZES
                          if (get(data, f"acquire/{tname}/{s}/copy") or 0) > view_cost), None)
            targets[f"crossover/{tname}/{side}"] = cross
            if tname == "bytes":
                lines.append(f"- {tname}, {side}: `bytes(x)` of a `bytes` object returns it unchanged "
                             f"(no copy); a {what} costs {fmt_time(view_cost)}, the copy stays below it "
                             f"at every size" if cross is None else
                             f"- {tname}, {side}: copy exceeds the {what} ({fmt_time(view_cost)}) from {cross}")
            else:
                lines.append(f"- {tname}, {side}: the {what} ({fmt_time(view_cost)}, the slower of 64 B "
                             f"and 64 MiB) beats `bytes(x)` from **{cross or 'no measured size'}** on")
    out.append("Where a view starts beating a copy:\n")
    out.extend(lines)
    return "\n".join(out)


def fmt_spread(values: list[float]) -> str:
    """Mean ± standard deviation, as pyperf reports them."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{fmt_time(mean(values))} ± {fmt_time(sd)}"


def not_significant(compare_md: str) -> set[str]:
    """Benchmarks `pyperf compare_to --table` hid as not significant."""
    m = re.search(r"hidden because not significant \(\d+\): (.*)", compare_md)
    return {name.strip() for name in m.group(1).split(", ")} if m else set()


def block_unflagged(base, pat, targets):
    if base is None or pat is None:
        targets["unflagged/geomean"] = None
        return "Not measured (see `bench/results/ENVIRONMENT.md`)."
    cmp_path = os.path.join(RESULTS, "unflagged-compare.md")
    cmp = ""
    if os.path.exists(cmp_path):
        with open(cmp_path) as f:
            cmp = f.read().strip()
    hidden = not_significant(cmp)
    rows, ratios = [], []
    for name in base:
        if name not in pat:
            continue
        r = ratio(mean(pat[name]), mean(base[name]))
        ratios.append(r)
        op = name.split('/', 1)[1]
        significant = "—" if not cmp else ("no" if name in hidden else "yes")
        rows.append([f"`{op}`", fmt_spread(base[name]), fmt_spread(pat[name]),
                     cite(f"unflagged/{op}", fmt_ratio(r)),
                     cite(f"unflagged/{op}/pct", fmt_pct(r)), significant])
    geo = math.exp(statistics.fmean(math.log(r) for r in ratios))
    targets["unflagged/geomean"] = geo
    targets["unflagged/spread"] = (f"{cite('unflagged/min', fmt_ratio(min(ratios)))} to "
                                   f"{cite('unflagged/max', fmt_ratio(max(ratios)))}")
    rows.append(["**geometric mean**", "", "", cite("unflagged/geomean", fmt_ratio(geo)),
                 cite("unflagged/geomean/pct", fmt_pct(geo)), ""])
    text = table(["operation (no new flags)", "baseline (mean ± sd)", "patched (mean ± sd)",
                  "patched / baseline", "change", "significant (pyperf t-test)"], rows)
    if cmp:
        text += ("\n\n`pyperf compare_to unflagged-baseline.json unflagged-patched.json --table` "
                 "(significance by pyperf's t-test):\n\n" + cmp)
        m = re.search(r"Geometric mean\s*\|\s*\(ref\)\s*\|\s*([^|]+)\|", cmp)
        targets["unflagged/pyperf-geomean"] = m.group(1).strip() if m else None
    return text


def block_native_view(base, pat, targets):
    rows = []
    for tname in ("bytes", "locked"):
        for size in ("64B", "64MiB"):
            p = f"acquire/{tname}/{size}/"
            plain, native, mv = get(pat, p + "native-plain"), get(pat, p + "native"), get(pat, p + "memoryview")
            rows.append([tname, size, fmt_time(mv), fmt_time(plain), fmt_time(native),
                         cite(f"native/{tname}/{size}/immutable-vs-plain",
                              fmt_ratio(ratio(native, plain))),
                         cite(f"native/{tname}/{size}/immutable-vs-memoryview",
                              fmt_ratio(ratio(native, mv)))])
            targets[f"native/{tname}/{size}"] = ratio(native, plain)
    return table(["type", "size", "`memoryview(x)`", "plain request (`_from_flags(x, FULL_RO)`)",
                  "IMMUTABLE request", "IMMUTABLE / plain", "IMMUTABLE / `memoryview(x)`"], rows)


def block_shim(stock, base, targets):
    rows = []
    for ver, data in stock.items():
        lb = ratio(get(data, "shim/memoryview(LockingBytearray) + release"),
                   get(data, "shim/memoryview(bytearray) + release"))
        vb = ratio(get(data, "shim/view(bytes, immutable=True) + release"),
                   get(data, "shim/memoryview(bytes) + release"))
        vl = ratio(get(data, "shim/view(LockingBytearray, immutable=True) + release"),
                   get(data, "shim/memoryview(bytearray) + release"))
        si = ratio(get(data, "shim/LockingBytearray[i] = v"), get(data, "shim/bytearray[i] = v"))
        targets[f"shim/lockingbytearray/{ver}"] = lb
        targets[f"shim/view-bytes/{ver}"] = vb
        rows.append([ver,
                     fmt_time(get(data, "shim/memoryview(bytearray) + release")),
                     fmt_time(get(data, "shim/memoryview(LockingBytearray) + release")), fmt_ratio(lb),
                     fmt_time(get(data, "shim/memoryview(bytes) + release")),
                     fmt_time(get(data, "shim/view(bytes, immutable=True) + release")), fmt_ratio(vb),
                     fmt_ratio(vl), fmt_ratio(si)])
    for tname in ("bytes", "locked"):
        r = ratio(get(base, f"acquire/{tname}/64B/view"), get(base, f"acquire/{tname}/64B/memoryview"))
        targets[f"shim/baseline-view/{tname}"] = r
    return table(["stock", "`memoryview(bytearray)`", "`memoryview(LockingBytearray)`", "ratio (≤1.5×)",
                  "`memoryview(bytes)`", "`view(bytes, immutable=True)`", "ratio (≤2×)",
                  "`view(LockingBytearray, immutable=True)` / `memoryview(bytearray)`",
                  "`LockingBytearray[i] = v` / `bytearray[i] = v`"], rows)


def block_contention(gil, ft, targets):
    rows = []
    for n in (1, 2, 4):
        rows.append([str(n)] + [fmt_time(get(d, f"contention/{op}/{n} threads"))
                                for d in (gil, ft) for op in ("immutable", "plain")])
    for d, side in ((gil, "gil"), (ft, "ft")):
        one, four = get(d, "contention/immutable/1 threads"), get(d, "contention/immutable/4 threads")
        targets[f"contention/{side}/4v1"] = ratio(four, one)
    return table(["threads", "GIL: IMMUTABLE", "GIL: plain `memoryview`",
                  "free-threaded: IMMUTABLE", "free-threaded: plain `memoryview`"], rows)


def block_targets(targets):
    def row(name, target, value_str, ok):
        return [name, target, value_str, ok]

    rows = []
    g = targets.get("unflagged/geomean")
    spread = targets.get("unflagged/spread")
    if g is not None and g < 0.99:
        # The series only adds work on these paths: a patched build that
        # measures faster means the run's noise is larger than the effect.
        g_verdict = "not resolved: patched measured faster, so load noise exceeds the effect"
    else:
        g_verdict = verdict(g, 1.01)
    rows.append(row("native checks on unflagged paths, geometric mean (patched / baseline)", "≤1.01×",
                    f"{fmt_ratio(g)} ({fmt_pct(g)}; pyperf: {targets.get('unflagged/pyperf-geomean') or MISSING}"
                    + (f"; per-operation ratios {spread}" if spread else "") + ")",
                    g_verdict))
    for tname in ("bytes", "locked"):
        r = targets.get(f"native/{tname}/64B")
        rows.append(row(f"native IMMUTABLE request / plain request, {tname}, 64 B", "≤1.10×",
                        fmt_ratio(r), verdict(r, 1.10)))
    for tname in ("bytes", "locked"):
        r = targets.get(f"shim/baseline-view/{tname}")
        rows.append(row(f"shim `view(x, immutable=True)` / `memoryview(x)` on baseline 3.13.15, {tname}",
                        "≤2×", fmt_ratio(r), verdict(r, 2.0)))
    for ver in STOCK:
        r = targets.get(f"shim/view-bytes/{ver}")
        rows.append(row(f"`view(bytes, immutable=True)` / `memoryview(bytes)`, stock {ver}", "≤2×",
                        fmt_ratio(r), verdict(r, 2.0)))
    for ver in STOCK:
        r = targets.get(f"shim/lockingbytearray/{ver}")
        rows.append(row(f"`memoryview(LockingBytearray)` / `memoryview(bytearray)`, stock {ver}", "≤1.5×",
                        fmt_ratio(r), verdict(r, 1.5)))
    cross = targets.get("crossover/locked/patched")
    rows.append(row("native view beats `bytes(x)` of a bytearray from", "≤1KiB",
                    cross or MISSING,
                    "not measured" if cross is None else
                    ("met" if SIZE_BYTES[cross] <= 1024 else "**missed**")))
    return table(["target", "goal", "measured", "verdict"], rows)


def block_conditions() -> str:
    """The Conditions paragraph, from ENVIRONMENT.md of the same run."""
    path = os.path.join(RESULTS, "ENVIRONMENT.md")
    if not os.path.exists(path):
        return "Not recorded (`bench/results/ENVIRONMENT.md` is missing)."
    with open(path) as f:
        env = f.read()

    def find(pattern: str) -> str:
        m = re.search(pattern, env, re.M)
        return m.group(1).strip() if m else MISSING
    run = find(r"^Generated by .*? at (.*?), project")
    commit = find(r"project commit `(\w+)`")
    cpu = find(r"^- CPU: (.*)$")
    load = find(r"^- Load average \(1/5/15 min\) at start: (.*)$")
    options = find(r"^`(--[^`]*)`")
    groups = ", ".join(re.findall(r"^- group (\w[\w-]*):", env, re.M)) or MISSING
    return (f"**Conditions** (from `bench/results/ENVIRONMENT.md` of this run): run {run} at "
            f"project commit `{commit}`, groups {groups}; {cpu}; load average (1/5/15 min) at "
            f"start {load}; pyperf `{options}`. Results of groups not run here are those of an "
            "earlier run: each pyperf file keeps its own date and interpreter versions in its "
            "metadata. Baseline and patched are CPython 3.13.15 built by "
            "`cpython-patch/build.sh` from the same source with the same default configure flags "
            "(no PGO or LTO); the free-threaded builds add `--disable-gil`.")


def block_instructions() -> str:
    """The instruction-count tables (bench/instructions.py), when measured."""
    path = os.path.join(RESULTS, "instructions.md")
    if not os.path.exists(path):
        return "Not measured (run `make bench`: group `instructions`)."
    with open(path) as f:
        text = f.read()
    # drop the file's own title (the PEP has its heading) and nest its
    # sections one level down, under the PEP's and summary.md's
    text = re.sub(r"\A# .*\n\n", "", text).strip()
    return re.sub(r"^## ", "### ", text, flags=re.M)


def main() -> int:
    base = load("acquire-baseline-shim")
    pat = load("acquire-patched-native")
    stock = {v: load(f"shim-{v}") for v in STOCK}
    targets: dict = {}
    blocks = {
        "acquire": block_acquire(base, pat, targets),
        "native-view": block_native_view(base, pat, targets),
        "unflagged": block_unflagged(load("unflagged-baseline"), load("unflagged-patched"), targets),
        "shim": block_shim(stock, base, targets),
        "contention": block_contention(load("contention-patched"), load("contention-patched-ft"), targets),
    }
    blocks["targets"] = block_targets(targets)
    blocks["conditions"] = block_conditions()
    blocks["instructions"] = block_instructions()
    summary = ["# Benchmark summary (generated by bench/render.py; do not edit)\n",
               "Conditions: see ENVIRONMENT.md. Times are pyperf means; ratios are ratios of means.\n",
               f"`{MISSING}` = not measured (the run log in ENVIRONMENT.md says why).\n"]
    for name in ("targets", "conditions", "instructions", "acquire", "native-view", "unflagged",
                 "shim", "contention"):
        summary.append(f"## {name}\n\n{blocks[name]}\n")
    with open(os.path.join(RESULTS, "summary.md"), "w") as f:
        f.write("\n".join(summary))
    with open(os.path.join(RESULTS, "targets.json"), "w") as f:
        json.dump(targets, f, indent=2, sort_keys=True)
        f.write("\n")
    # the instruction counts (bench/instructions.py) carry their own numbers
    instructions = os.path.join(RESULTS, "instructions.json")
    if os.path.exists(instructions):
        with open(instructions) as f:
            data = json.load(f)
        NUMBERS.update(data.get("numbers", {}))
        # Keys added since the run are derived from its counts, not measured again.
        from instructions import numbers
        NUMBERS.update(numbers(data["counts"], set(data["flagged"]), data.get("locking")))
    with open(os.path.join(RESULTS, "numbers.json"), "w") as f:
        json.dump(NUMBERS, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    if os.path.exists(PEP):
        with open(PEP) as f:
            before = f.read()
        text = before
        for name, body in blocks.items():
            pattern = re.compile(rf"(<!-- generated:{re.escape(name)} -->\n)(?:.*?\n)?(<!-- /generated:{re.escape(name)} -->)",
                                 re.S)
            text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
        # Others edit the PEP while results are re-rendered: a file whose
        # generated blocks are already current is left alone, not rewritten.
        if text != before:
            with open(PEP, "w") as f:
                f.write(text)
    print(f"render.py: wrote {os.path.relpath(RESULTS, ROOT)}/summary.md, targets.json, "
          "numbers.json and pep-draft.md tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
