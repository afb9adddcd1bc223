#!/usr/bin/env python3
"""Summarise tools/tsan.sh: ThreadSanitizer reports deduplicated by kind and
top frames, classified "ours" or "stock".  Writes OUT/summary.md; exit 1 if
any report is in our code.

usage: tsan_summary.py OUT_DIR PATCH_DIR
"""
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

# The files the series is about: a frame there is ours whatever function.
CORE_FILES = {"bytearrayobject.c", "arraymodule.c", "memoryobject.c", "abstract.c",
              "pycore_buflock.h", "pycore_bufferflags.h"}
TOP = 3  # frames of each stack looked at for classification and dedup

# "    #3 func /path/file.c:12:5 (python3.13+0x3e3118) (BuildId: ...)"; the
# line is missing for some frames, the file for library ones ("<null>")
FRAME = re.compile(r"^\s+#(\d+) (\S+) (?:(\S+?)(?::(\d+))?(?::\d+)? )?\((\S+)\)")


def patched_functions(patch_dir):
    """Functions whose bodies the series changes, by hunk header and by the
    definitions it adds (CPython style: the name at column 0)."""
    funcs = set()
    for p in sorted(Path(patch_dir).glob("[0-9][0-9][0-9][0-9]-*.patch")):
        cur_c = False
        for line in p.read_text(errors="replace").splitlines():
            if line.startswith("diff --git"):
                cur_c = line.endswith((".c", ".h"))
            elif not cur_c:
                continue
            elif line.startswith("@@"):
                m = re.search(r"@@[^@]*@@.*?(\w+)\s*\(", line)
                if m:
                    funcs.add(m.group(1))
            elif line.startswith("+") and not line.startswith("+++"):
                m = re.match(r"^\+(?:static\s+)?(?:inline\s+)?(?:[\w\s\*]+?\s\**)?(\w+)\(", line)
                if m and re.match(r"^\+(\w+)\(|^\+static inline", line):
                    funcs.add(m.group(1))
    funcs -= {"if", "for", "while", "switch", "return", "sizeof"}
    return funcs


def parse_reports(path):
    """Yield dicts: kind, stacks (list of list of (func, file, line)), text."""
    text = path.read_text(errors="replace")
    for block in re.split(r"^==================$", text, flags=re.M):
        m = re.search(r"^WARNING: ThreadSanitizer: (.+?)(?: \(pid=\d+\))?$", block, re.M)
        if not m:
            continue
        kind = m.group(1)
        stacks, cur, section = [], None, ""
        for line in block.splitlines():
            f = FRAME.match(line)
            if f:
                if cur is None:
                    cur = []
                    stacks.append((section, cur))
                cur.append((f.group(2), Path(f.group(3)).name if f.group(3) else f.group(5),
                            f.group(4) or ""))
            else:
                cur = None
                if line.strip():
                    section = line.strip()
        summary = re.search(r"^SUMMARY: ThreadSanitizer: (.*)$", block, re.M)
        summary = summary.group(1) if summary else kind
        summary = re.sub(r" \(BuildId: \w+\)", "", re.sub(r"/\S*/src/[\w-]+/", "", summary))
        yield dict(kind=kind, stacks=stacks, text=block.strip(), summary=summary)


def main():
    out, patch_dir = Path(sys.argv[1]), Path(sys.argv[2])
    funcs = patched_functions(patch_dir)
    groups = {}
    counts = Counter()
    per_run = Counter()
    control = 0
    for f in sorted((out / "reports").glob("*")):
        run = f.name.split(".")[0]
        if run == "control":
            n = sum(1 for _ in parse_reports(f))
            control += n
            per_run[run] += n
            continue
        for r in parse_reports(f):
            # the access stacks (not "Thread T1 created by", not "Location is")
            access = [s for sec, s in r["stacks"]
                      if not sec.startswith(("Thread ", "Mutex ", "Location"))]
            tops = tuple(tuple(fr[0] for fr in s[:TOP]) for s in access[:2])
            key = (r["kind"], tuple(sorted(tops)))
            per_run[run] += 1
            counts[key] += 1
            if key not in groups:
                frames = [fr for s in access[:2] for fr in s[:TOP]]
                ours = [fr for fr in frames if fr[1] in CORE_FILES or fr[0] in funcs]
                groups[key] = dict(report=r, ours=ours, first=f.name, access=access)
    key = (out / "key").read_text().strip() if (out / "key").exists() else "?"
    key_end = (out / "key-end").read_text().strip() if (out / "key-end").exists() else "?"
    ours_keys = [k for k in groups if groups[k]["ours"]]
    stock_keys = [k for k in groups if not groups[k]["ours"]]
    md = ["# make tsan: the threaded tests under ThreadSanitizer", ""]
    md.append(f"Interpreter `build/cpython/patched-tsan` (clang, `--disable-gil --with-thread-sanitizer`), "
              f"key `{key[:16]}`" + ("" if key_end == key else f" (**changed** during the run to `{key_end[:16]}`)") + ".")
    md.append("Written by `tools/tsan.sh` (`tools/tsan_summary.py`); raw reports in `build/tsan/reports/`, "
              "test output in `build/tsan/<run>.log`.")
    md.append("")
    md.append("| run | exit status | seconds | reports |")
    md.append("|---|---|---|---|")
    for rc in sorted(out.glob("*.rc")):
        run = rc.stem
        code, secs = (rc.read_text().split() + ["?", "?"])[:2]
        log = out / f"{run}.log"
        tail = ""
        if log.exists():
            lines = [l for l in log.read_text(errors="replace").splitlines() if l.strip()]
            res = [l for l in lines if re.search(r"\b(passed|failed|Result:|Tests result)\b", l)]
            tail = (res[-1] if res else lines[-1] if lines else "").strip()
        md.append(f"| {run} (`{tail[:90]}`) | {code} | {secs} | {per_run.get(run, 0)} |")
    md.append("")
    md.append(f"Positive control (two threads writing one bytearray through two writable "
              f"memoryviews: racy on every build; not counted below): {control} report(s)"
              + ("." if control else " -- **ThreadSanitizer reported nothing: the run proves nothing**."))
    md.append("")
    total = sum(counts.values())
    md.append(f"**{total} reports, {len(groups)} distinct** (deduplicated by kind and the top {TOP} "
              f"frames of the two access stacks): **{len(ours_keys)} distinct in our code** "
              f"({sum(counts[k] for k in ours_keys)} reports), {len(stock_keys)} stock "
              f"({sum(counts[k] for k in stock_keys)} reports).")
    md.append("")
    md.append(f"\"Ours\": a top-{TOP} frame of either access stack in {', '.join(sorted(CORE_FILES))}, "
              f"or in one of the {len(funcs)} functions the series' hunks change in other files. "
              "Everything else is \"stock\".")
    for title, keys in (("In our code", ours_keys), ("Stock", stock_keys)):
        md.append("")
        md.append(f"## {title}")
        md.append("")
        if not keys:
            md.append("None.")
        for k in sorted(keys, key=lambda k: -counts[k]):
            g = groups[k]
            where = next((f"{fr[0]} ({fr[1]}:{fr[2]})" for s in g["access"][:1] for fr in s
                          if fr[1].endswith((".c", ".h"))), g["report"]["summary"])
            md.append(f"- **{k[0]}** ×{counts[k]} in `{where}` (first in `reports/{g['first']}`)")
            for i, s in enumerate(g["access"][:2]):
                md.append(f"  - stack {i + 1}: " + " ← ".join(f"`{fr[0]}` ({fr[1]}:{fr[2]})" for fr in s[:5]))
            if g["ours"]:
                md.append("  - ours because of: " + ", ".join(sorted({f'`{fr[0]}`' for fr in g['ours']})))
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 1 if ours_keys else 0


if __name__ == "__main__":
    sys.exit(main())
